// `ccburst verify --tee nvidia`: offline verification of NVIDIA Hopper GPU device evidence
// (evidence/nvidia) for operators: an SPDM report with its device certificate chain against the
// shipped NVIDIA Device Identity CA and an expected nonce, or (without --evidence) a certificate
// chain alone, optionally against an expected FWID; with --rim, NVIDIA RIMs (signed SWID tags of
// golden measurements) verified against a RIM root and compared with the report's measurements.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/nvidia/rim.h"

namespace ccburst::apps {

struct NvidiaVerifyArgs {
  std::string evidence_file;  // the report: raw bytes or hex text; empty: check the chain only
  std::string cert_chain;     // PEM chain file, leaf first (required)
  std::string nonce_hex;      // expected SPDM nonce (report data; first 32 bytes used)
  std::string fwid_hex;       // chain only: the FWID the leaf must carry
  std::string trusted_root;   // PEM root instead of NVIDIA's (test hierarchies)
  std::string at;             // RFC 3339; empty means now
  bool json = false;
  std::vector<std::string> rim_files;  // RIMs whose golden measurements the report must match
  std::string rim_root;                // PEM RIM trust anchor (required with rim_files)
};

// Prints the verdict (human: the verdict line, the report facts, the measurements, the opaque
// data and the claims; --json: {verified, tee, result, failed_check, report, measurements,
// opaque_data, claims, checks, error}) with `result` "valid" or "invalid-<check>" as
// ../shared/testdata/nvidia names them. With RIMs the output also has `rim` {result,
// failed_check, rims: [{file, tag_id, version}], reference_measurements, mismatched_indices,
// error}; a RIM that fails is "invalid-rim-<check>" (RimCheckName), a report measurement that
// differs from a golden one "invalid-rim-measurements". Without --cert-chain only the RIMs are
// verified and their reference measurements printed. Returns 0 verified, 1 not, 2 usage.
int VerifyNvidia(const NvidiaVerifyArgs& args);

// Reads and verifies each RIM file against `rim_root` (PEM file) at `at` and merges their golden
// measurements into one `nvidia_measurements` value; the first failure names the file and check
// ("<file>: nvidia rim: ..."). `*failed` receives the failed check.
struct RimReference {
  boost::json::object measurements;
  boost::json::array rims;  // [{file, tag_id, name, version, signer}]
};
absl::StatusOr<RimReference> VerifyRimFiles(const std::vector<std::string>& rim_files,
                                            const std::string& rim_root, core::TimePoint at,
                                            evidence::nvidia::RimCheck* failed);

}  // namespace ccburst::apps
