// The TEE names of the KBS protocol (Trustee's `Tee` enum, as sent in /auth's `tee`).
#pragma once

#include <algorithm>
#include <array>
#include <string_view>

namespace ccburst::attestation {

// `hygondcu` is the reference's spelling; `hygon-dcu`, ours before, stays accepted.
inline constexpr std::array<std::string_view, 14> kProtocolTees = {
    "tdx", "snp", "sgx",      "az-snp-vtpm", "az-tdx-vtpm", "tpm",    "cca",
    "se",  "csv", "hygondcu", "hygon-dcu",   "nvidia",      "sample", "sampledevice"};

// Whether the protocol defines `tee`, with or without a verifier in this build. A request naming
// anything else is malformed; a defined TEE without a verifier fails as unsupported instead.
inline bool IsProtocolTee(std::string_view tee) {
  return std::find(kProtocolTees.begin(), kProtocolTees.end(), tee) != kProtocolTees.end();
}

}  // namespace ccburst::attestation
