// `ccburst verify`: offline TDX / SNP evidence verification for operators, at a given time, with
// vendor data from local files (a DCAP collateral directory, a directory of AMD certificates and
// CRLs). The same entry points for both TEEs: Verify<Tee>Evidence over bytes and a vendor-data
// source, Verify<Tee>Files over the operator's files. Results are JSON objects
// {"verified": bool, ..., "claims": {...}|null, "error": string|null}; the functions never fail,
// every failure is reported in `error`.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/command.h"
#include "core/clock.h"
#include "evidence/dcap/certificates.h"
#include "evidence/dcap/collateral.h"
#include "evidence/snp/verifier.h"

namespace ccburst::apps {

// Verifies `evidence` (a raw quote, or the evidence JSON) with `source` at `at` and returns
// {"verified": bool, "tcb_status": string|null, "advisory_ids": [...], "claims": {...}|null,
//  "error": string (only when not verified)}. A Revoked TCB or a TCB matching no level is not
// verified.
boost::json::object VerifyTdxEvidence(
    std::string_view evidence, std::shared_ptr<const evidence::dcap::CollateralSource> source,
    const evidence::dcap::TrustAnchor& anchor, core::TimePoint at);

// `--tee tdx --evidence FILE --collateral DIR`: reads FILE and the offline collateral directory
// (collateral/dcap's layout) and returns VerifyTdxEvidence's object; file errors are reported in
// `error`. `anchor_pem` optionally names a PEM root certificate/public key to trust instead of
// Intel's.
boost::json::object VerifyTdxFiles(const std::string& evidence_file,
                                   const std::string& collateral_dir, core::TimePoint at,
                                   const std::optional<std::string>& anchor_pem = std::nullopt);

// Verifies `evidence_bytes` (a raw 1184-byte report or either evidence JSON) at `at`, without a
// session binding. `extra_certs` are the operator's certificate files (DER or PEM): an
// ASK/ASVK/ARK among them is used when the evidence has none, a VCEK/VLEK through
// evidence::snp::NewStaticCertSource, and a CRL is checked as SnpVerifierOptions::crls. Returns
// {"verified": bool, "claims": {...} | null, "error": "<message>" | null}; with `verified` true,
// "tee":"snp", "report_version", "processor_generation", "signing_key" are added.
boost::json::object VerifySnpEvidence(std::string_view evidence_bytes,
                                      const std::vector<std::string>& extra_certs,
                                      core::TimePoint at,
                                      evidence::snp::SnpVerifierOptions options = {});

// `--tee snp --evidence FILE [--certs DIR]`: `evidence_bytes` is FILE's content; DIR's
// certificates and CRL files (*.crl, or DER/PEM CRLs under the certificate extensions) go to
// VerifySnpEvidence. An unreadable DIR is reported in `error`.
boost::json::object VerifySnpFiles(std::string_view evidence_bytes,
                                   const std::optional<std::string>& certs_dir, core::TimePoint at,
                                   evidence::snp::SnpVerifierOptions options = {});

// The `verify` subcommand: exit 0 when verified, 1 when not, 2 on usage errors.
std::vector<Subcommand> VerifyCommands();

}  // namespace ccburst::apps
