// The two Azure Instance Metadata Service (IMDS) calls the vTPM attesters make, as the reference
// az-cvm-vtpm crates do: on a TDX CVM the TDREPORT from the HCL report is turned into a TD quote
// (POST /acc/tdquote {"report": base64url} -> {"quote": base64url}); on an SNP CVM the VCEK comes
// from the host's certificate cache (GET /metadata/THIM/amd/certification with "Metadata: true"
// -> {"vcekCert": PEM, "certificateChain": PEM}). The base URL is a parameter so tests point it
// at a stand-in.
//
// The response parsers are pure and bounded (outside bytes): InvalidArgument "imds: ..." naming
// the member. Transport failures and non-200 answers are Unavailable "imds: ...".
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::agent::vtpm {

inline constexpr std::string_view kDefaultImdsUrl = "http://169.254.169.254";
// A TD quote or certificate answer larger than this is refused.
inline constexpr size_t kMaxImdsResponse = 64 * 1024;

// {"quote": "<base64url>"} -> the TD quote bytes (non-empty).
absl::StatusOr<std::string> ParseTdQuoteResponse(std::string_view body);
// {"vcekCert": "<PEM>", ...} -> the VCEK certificate as DER (the first certificate of the PEM).
absl::StatusOr<std::string> ParseCertificationResponse(std::string_view body);

class Imds {
 public:
  explicit Imds(std::string base_url = std::string(kDefaultImdsUrl))
      : base_url_(std::move(base_url)) {}

  // The TD quote for `td_report` (the 1024-byte TDREPORT).
  absl::StatusOr<std::string> TdQuote(std::string_view td_report) const;
  // The VCEK (DER) of the host the SNP CVM runs on.
  absl::StatusOr<std::string> VcekDer() const;

 private:
  std::string base_url_;
};

}  // namespace ccburst::agent::vtpm
