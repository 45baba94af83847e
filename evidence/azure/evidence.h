// Azure vTPM evidence as the reference attester (guest-components `az-snp-vtpm` / `az-tdx-vtpm`)
// sends it, in the three formats Trustee accepts:
//  - v0 (no `version`): raw bytes as JSON arrays of integers. az-snp-vtpm: {"quote": {"signature",
//    "message", "pcrs": [[32 bytes] x 24]}, "report": HCL report, "vcek": PEM text}; az-tdx-vtpm:
//    {"tpm_quote": {...as quote...}, "hcl_report", "td_quote"}.
//  - v1 / v2 ("version": 1 | 2): {"tpm_quote": {"signature": hex, "message": hex, "pcrs": [hex x
//    24]}, "hcl_report": base64url, and "vcek": base64url DER (SNP) or "td_quote": base64url
//    (TDX)}. v2 is v1 whose HCL `user-data` starts with the report data.
// Parsing is strict: an unknown version, a missing or unknown member, a wrong encoding or a PCR
// that is not 32 bytes is InvalidArgument naming the member ("evidence: `tpm_quote.pcrs[3]` is
// 31 bytes, expected 32").
#pragma once

#include <boost/json.hpp>
#include <string>

#include "core/status.h"
#include "evidence/azure/tpm.h"

namespace ccburst::evidence::azure {

enum class Platform { kSnp, kTdx };
// "az-snp-vtpm", "az-tdx-vtpm".
std::string_view TeeName(Platform p);

struct TpmQuote {
  std::string signature;
  std::string message;  // the marshalled TPMS_ATTEST
  Pcrs pcrs;
};

struct Evidence {
  int version = 0;  // 0, 1 or 2
  TpmQuote tpm_quote;
  std::string hcl_report;
  std::string vcek;      // SNP: PEM (v0) or DER (v1+)
  std::string td_quote;  // TDX
};

absl::StatusOr<Evidence> ParseEvidence(const boost::json::value& evidence, Platform platform);

// The JSON the reference attester would send for `evidence` in format `evidence.version` (test
// generators, tools). For v0 SNP `vcek` must already be PEM.
boost::json::object EvidenceToJson(const Evidence& evidence, Platform platform);

}  // namespace ccburst::evidence::azure
