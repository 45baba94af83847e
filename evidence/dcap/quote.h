// The parts of an Intel DCAP ECDSA quote that do not depend on the TEE: the quoting enclave's
// (QE) SGX report and the ECDSA-P256 quote signature data (attestation key, QE report and its
// PCK signature, QE authentication data, PCK certificate chain). SGX quotes (v3) and TDX quotes
// (v4/v5) carry the same signature data after different bodies; the TEE parser (evidence/tdx's
// ParseQuote today) fills these and hands a QuoteSignatureData view to the checks in verify.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ccburst::evidence::dcap {

inline constexpr uint16_t kAttestationKeyTypeEcdsaP256 = 2;
// Intel's QE vendor id 939A7233-F79C-4CA9-940A-0DB3957F0607.
inline constexpr std::string_view kIntelQeVendorId =
    "\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07";

// SGX enclave report of the quoting enclave (384 bytes).
struct EnclaveReport {
  std::string raw;      // the 384 signed bytes
  std::string cpu_svn;  // 16
  uint32_t misc_select = 0;
  std::string attributes;  // 16
  std::string mr_enclave;  // 32
  std::string mr_signer;   // 32
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  std::string report_data;  // 64
};

// What the DCAP checks read from a parsed quote. Views into the quote, which must outlive this.
struct QuoteSignatureData {
  std::string_view qe_vendor_id;     // 16, from the header
  std::string_view signed_data;      // header and body, as signed by the attestation key
  std::string_view signature;        // 64, r||s
  std::string_view attestation_key;  // 64, x||y
  const EnclaveReport* qe_report = nullptr;
  std::string_view qe_report_signature;  // 64, r||s, by the PCK key
  std::string_view qe_auth_data;
  const std::string* pck_chain_pem = nullptr;  // PEM, leaf first
};

}  // namespace ccburst::evidence::dcap
