// The `tdx` verifier as a deployment configures it: Trustee's
// [attestation_service.verifier_config.dcap_verifier] section (QcnlConfig names), parsed and
// turned into a TdxVerifier over Caching(PCS/PCCS) or Caching(offline directory). This is the TDX
// line of attestation/'s verifier registry; nothing above it knows these names.
#pragma once

#include <toml++/toml.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "evidence/dcap/certificates.h"
#include "evidence/dcap/collateral.h"
#include "evidence/verifier.h"
#include "net/fetch_gate.h"

namespace ccburst::collateral::dcap {

struct DcapVerifierConfig {
  // Intel PCS or a PCCS (`https://host[:port]/sgx/certification/v4/`), or `file:///dir`, an
  // offline collateral directory in collateral/dcap's layout.
  std::string collateral_service = "https://api.trustedservices.intel.com/sgx/certification/v4/";
  // Set (resolved) when collateral_service is a file:// URL.
  std::optional<std::string> collateral_dir;
  // "early" or "standard": the TCB recovery channel requested from PCS/PCCS (`update=`).
  // Empty when not configured (standard).
  std::string tcb_update_type;
  std::optional<std::string> cache_dir;        // on-disk collateral cache
  std::optional<std::string> trusted_root_ca;  // TEST ONLY: PEM root instead of Intel's
  // How PCS/PCCS (or the directory) is asked (rate, concurrency, negative cache, Retry-After).
  net::FetchGateOptions limits;
};

// Reads the section `where` (its full dotted name, for messages) into `out`; relative paths are
// resolved against `base_dir`. Strict: unknown keys and bad values are InvalidArgument "config:
// ..." naming the key. Insecure settings add a line to `warnings`.
absl::Status ParseDcapVerifierConfig(const toml::table& t, std::string_view where,
                                     const std::string& base_dir, DcapVerifierConfig& out,
                                     std::vector<std::string>& warnings);

// The cached DCAP collateral source `config` names (Caching(offline directory) or
// Caching(PCS/PCCS)), shared by every verifier of a DCAP quote (`tdx`, `az-tdx-vtpm`). A bad
// `tcb_update_type` is InvalidArgument "<where>.tcb_update_type: ...".
absl::StatusOr<std::shared_ptr<const evidence::dcap::CollateralSource>> NewDcapCollateralSource(
    const DcapVerifierConfig& config, std::string_view where);

// The trust anchor `config` names: unset for Intel's root, or the TEST ONLY `trusted_root_ca`. An
// unreadable file is InvalidArgument "<where>.trusted_root_ca `file`: ...".
absl::StatusOr<std::optional<evidence::dcap::TrustAnchor>> LoadDcapTrustAnchor(
    const DcapVerifierConfig& config, std::string_view where);

// The `tdx` verifier for `config`. Only local files are read (the test root); no network I/O
// happens until the first attestation needs collateral. An unreadable or unparseable
// `trusted_root_ca` is InvalidArgument "<where>.trusted_root_ca `file`: ...".
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewDcapTdxVerifier(
    const DcapVerifierConfig& config, std::string_view where);

}  // namespace ccburst::collateral::dcap
