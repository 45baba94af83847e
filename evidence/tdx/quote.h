// Intel TDX DCAP quotes (versions 4 and 5) as laid out in Intel's "TDX DCAP Quote Generation
// Library and Quote Verification Library" specification: a 48-byte header, a TD report body
// (TD report 1.0, 584 bytes, or 1.5, 648 bytes; v5 prefixes the body with a 6-byte type/size
// descriptor), and ECDSA-P256 signature data whose certification data is type 6 (QE report
// certification data) wrapping a type 5 PCK certificate chain (PEM). Parsing only checks
// structure; signatures and collateral are checked by verify_quote.h (over evidence/dcap). Every
// field is copied out of the input, so a Quote does not refer to the input buffer.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "evidence/dcap/quote.h"

namespace ccburst::evidence::tdx {

inline constexpr uint32_t kTeeTypeTdx = 0x81;
using dcap::EnclaveReport;
using dcap::kAttestationKeyTypeEcdsaP256;
using dcap::kIntelQeVendorId;

struct QuoteHeader {
  uint16_t version = 0;
  uint16_t att_key_type = 0;
  uint32_t tee_type = 0;
  std::string reserved;      // 4 bytes (QE SVN / PCE SVN in older layouts)
  std::string qe_vendor_id;  // 16 bytes
  std::string user_data;     // 20 bytes
};

// TD report body; byte strings are exactly as in the quote.
struct TdReport {
  std::string tee_tcb_svn;          // 16
  std::string mr_seam;              // 48
  std::string mr_signer_seam;       // 48
  std::string seam_attributes;      // 8
  std::string td_attributes;        // 8
  std::string xfam;                 // 8
  std::string mr_td;                // 48
  std::string mr_config_id;         // 48
  std::string mr_owner;             // 48
  std::string mr_owner_config;      // 48
  std::array<std::string, 4> rtmr;  // 48 each
  std::string report_data;          // 64
  // TD report 1.5 only (empty otherwise).
  std::string tee_tcb_svn2;  // 16
  std::string mr_servicetd;  // 48
  bool is_td15 = false;
};

struct Quote {
  QuoteHeader header;
  // v5 body descriptor: 2 = TD report 1.0, 3 = TD report 1.5; v4 quotes report 2.
  uint16_t body_type = 2;
  uint32_t body_size = 0;
  TdReport body;
  // Bytes covered by the quote signature: header and body (v5: including the descriptor).
  std::string signed_data;
  std::string signature;        // 64, r||s
  std::string attestation_key;  // 64, x||y
  EnclaveReport qe_report;
  std::string qe_report_signature;  // 64, r||s
  std::string qe_auth_data;
  // The PCK certificate chain from certification data type 5, PEM (leaf first), trailing NULs
  // removed.
  std::string pck_chain_pem;
  // Bytes after the signature data (tolerated, ignored).
  size_t trailing_bytes = 0;

  // The DCAP signature data of this quote (views into it; valid while it lives unmoved).
  dcap::QuoteSignatureData SignatureData() const {
    return {header.qe_vendor_id, signed_data,         signature,    attestation_key,
            &qe_report,          qe_report_signature, qe_auth_data, &pck_chain_pem};
  }
};

// Parses a raw quote. Structural problems are InvalidArgument naming the field and offset
// ("tdx: quote: certification data length 5012 exceeds remaining 4870 bytes at offset 1016");
// unsupported versions, TEE types, key types or certification data types too.
absl::StatusOr<Quote> ParseQuote(std::string_view bytes);

}  // namespace ccburst::evidence::tdx
