#include "evidence/tdx/quote.h"

#include <fmt/format.h>

#include "core/byte_reader.h"

namespace ccburst::evidence::tdx {
namespace {

using core::ByteReader;

constexpr size_t kHeaderSize = 48;
constexpr size_t kTdReport10Size = 584;
constexpr size_t kTdReport15Size = 648;
constexpr size_t kEnclaveReportSize = 384;
constexpr uint16_t kCertTypePckChain = 5;
constexpr uint16_t kCertTypeQeReport = 6;

absl::Status ParseHeader(ByteReader& r, QuoteHeader* h) {
  CCB_RETURN_IF_ERROR(r.U16("header version", &h->version));
  CCB_RETURN_IF_ERROR(r.U16("header attestation key type", &h->att_key_type));
  CCB_RETURN_IF_ERROR(r.U32("header tee type", &h->tee_type));
  CCB_RETURN_IF_ERROR(r.Bytes(4, "header reserved", &h->reserved));
  CCB_RETURN_IF_ERROR(r.Bytes(16, "header qe vendor id", &h->qe_vendor_id));
  CCB_RETURN_IF_ERROR(r.Bytes(20, "header user data", &h->user_data));
  if (h->version != 4 && h->version != 5) {
    return absl::InvalidArgumentError(
        fmt::format("tdx: quote: unsupported version {} (want 4 or 5)", h->version));
  }
  if (h->tee_type != kTeeTypeTdx) {
    return absl::InvalidArgumentError(
        fmt::format("tdx: quote: tee type {:#x} is not TDX (0x81)", h->tee_type));
  }
  if (h->att_key_type != kAttestationKeyTypeEcdsaP256) {
    return absl::InvalidArgumentError(fmt::format(
        "tdx: quote: unsupported attestation key type {} (want 2, ECDSA-P256)", h->att_key_type));
  }
  return absl::OkStatus();
}

absl::Status ParseTdReport(ByteReader& r, bool td15, TdReport* b) {
  CCB_RETURN_IF_ERROR(r.Bytes(16, "body tee_tcb_svn", &b->tee_tcb_svn));
  CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_seam", &b->mr_seam));
  CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_signer_seam", &b->mr_signer_seam));
  CCB_RETURN_IF_ERROR(r.Bytes(8, "body seam_attributes", &b->seam_attributes));
  CCB_RETURN_IF_ERROR(r.Bytes(8, "body td_attributes", &b->td_attributes));
  CCB_RETURN_IF_ERROR(r.Bytes(8, "body xfam", &b->xfam));
  CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_td", &b->mr_td));
  CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_config_id", &b->mr_config_id));
  CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_owner", &b->mr_owner));
  CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_owner_config", &b->mr_owner_config));
  for (int i = 0; i < 4; ++i) {
    CCB_RETURN_IF_ERROR(r.Bytes(48, fmt::format("body rtmr{}", i), &b->rtmr[i]));
  }
  CCB_RETURN_IF_ERROR(r.Bytes(64, "body report_data", &b->report_data));
  b->is_td15 = td15;
  if (td15) {
    CCB_RETURN_IF_ERROR(r.Bytes(16, "body tee_tcb_svn2", &b->tee_tcb_svn2));
    CCB_RETURN_IF_ERROR(r.Bytes(48, "body mr_servicetd", &b->mr_servicetd));
  }
  return absl::OkStatus();
}

absl::Status ParseEnclaveReport(std::string_view raw, EnclaveReport* e) {
  ByteReader r(raw, "tdx: quote: qe report");
  e->raw.assign(raw);
  CCB_RETURN_IF_ERROR(r.Bytes(16, "cpu_svn", &e->cpu_svn));
  CCB_RETURN_IF_ERROR(r.U32("misc_select", &e->misc_select));
  CCB_RETURN_IF_ERROR(r.Skip(28, "reserved1"));
  CCB_RETURN_IF_ERROR(r.Bytes(16, "attributes", &e->attributes));
  CCB_RETURN_IF_ERROR(r.Bytes(32, "mr_enclave", &e->mr_enclave));
  CCB_RETURN_IF_ERROR(r.Skip(32, "reserved2"));
  CCB_RETURN_IF_ERROR(r.Bytes(32, "mr_signer", &e->mr_signer));
  CCB_RETURN_IF_ERROR(r.Skip(96, "reserved3"));
  CCB_RETURN_IF_ERROR(r.U16("isv_prod_id", &e->isv_prod_id));
  CCB_RETURN_IF_ERROR(r.U16("isv_svn", &e->isv_svn));
  CCB_RETURN_IF_ERROR(r.Skip(60, "reserved4"));
  CCB_RETURN_IF_ERROR(r.Bytes(64, "report_data", &e->report_data));
  return absl::OkStatus();
}

// Certification data type 6: QE report, its signature, QE auth data and the inner (type 5)
// certification data, which must fill the outer data exactly.
absl::Status ParseQeReportCertData(std::string_view data, size_t base, Quote* q) {
  ByteReader r(data, fmt::format("tdx: quote: qe report certification data (offset {})", base));
  std::string_view report;
  CCB_RETURN_IF_ERROR(r.View(kEnclaveReportSize, "qe report", &report));
  CCB_RETURN_IF_ERROR(ParseEnclaveReport(report, &q->qe_report));
  CCB_RETURN_IF_ERROR(r.Bytes(64, "qe report signature", &q->qe_report_signature));
  uint16_t auth_size = 0;
  CCB_RETURN_IF_ERROR(r.U16("qe auth data size", &auth_size));
  CCB_RETURN_IF_ERROR(r.Bytes(auth_size, "qe auth data", &q->qe_auth_data));
  uint16_t inner_type = 0;
  CCB_RETURN_IF_ERROR(r.U16("inner certification data type", &inner_type));
  if (inner_type != kCertTypePckChain) {
    return absl::InvalidArgumentError(
        fmt::format("tdx: quote: unsupported inner certification data type {} (want 5, PCK chain)",
                    inner_type));
  }
  uint32_t inner_size = 0;
  CCB_RETURN_IF_ERROR(r.U32("inner certification data size", &inner_size));
  if (inner_size != r.remaining()) {
    return absl::InvalidArgumentError(fmt::format(
        "tdx: quote: inner certification data size {} does not match the {} remaining bytes",
        inner_size, r.remaining()));
  }
  std::string_view pem;
  CCB_RETURN_IF_ERROR(r.View(inner_size, "pck certificate chain", &pem));
  while (!pem.empty() && pem.back() == '\0') pem.remove_suffix(1);
  if (pem.empty()) return absl::InvalidArgumentError("tdx: quote: empty pck certificate chain");
  q->pck_chain_pem.assign(pem);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Quote> ParseQuote(std::string_view bytes) {
  Quote q;
  ByteReader r(bytes, "tdx: quote");
  CCB_RETURN_IF_ERROR(ParseHeader(r, &q.header));
  bool td15 = false;
  if (q.header.version == 5) {
    CCB_RETURN_IF_ERROR(r.U16("body type", &q.body_type));
    CCB_RETURN_IF_ERROR(r.U32("body size", &q.body_size));
    if (q.body_type == 2 && q.body_size == kTdReport10Size) {
      td15 = false;
    } else if (q.body_type == 3 && q.body_size == kTdReport15Size) {
      td15 = true;
    } else {
      return absl::InvalidArgumentError(
          fmt::format("tdx: quote: unsupported v5 body type {} with size {} (want 2/584 or 3/648)",
                      q.body_type, q.body_size));
    }
  } else {
    q.body_type = 2;
    q.body_size = kTdReport10Size;
  }
  CCB_RETURN_IF_ERROR(ParseTdReport(r, td15, &q.body));
  q.signed_data.assign(bytes.substr(0, r.offset()));

  uint32_t sig_len = 0;
  CCB_RETURN_IF_ERROR(r.U32("signature data length", &sig_len));
  if (sig_len > r.remaining()) {
    return absl::InvalidArgumentError(
        fmt::format("tdx: quote: signature data length {} exceeds remaining {} bytes at offset {}",
                    sig_len, r.remaining(), r.offset()));
  }
  size_t sig_base = r.offset();
  std::string_view sig_data;
  CCB_RETURN_IF_ERROR(r.View(sig_len, "signature data", &sig_data));
  q.trailing_bytes = r.remaining();

  ByteReader s(sig_data, fmt::format("tdx: quote: signature data (offset {})", sig_base));
  CCB_RETURN_IF_ERROR(s.Bytes(64, "quote signature", &q.signature));
  CCB_RETURN_IF_ERROR(s.Bytes(64, "attestation key", &q.attestation_key));
  uint16_t cert_type = 0;
  CCB_RETURN_IF_ERROR(s.U16("certification data type", &cert_type));
  if (cert_type != kCertTypeQeReport) {
    return absl::InvalidArgumentError(fmt::format(
        "tdx: quote: unsupported certification data type {} (want 6, QE report)", cert_type));
  }
  uint32_t cert_size = 0;
  CCB_RETURN_IF_ERROR(s.U32("certification data size", &cert_size));
  if (cert_size != s.remaining()) {
    return absl::InvalidArgumentError(fmt::format(
        "tdx: quote: certification data size {} does not match the {} remaining bytes of the "
        "signature data",
        cert_size, s.remaining()));
  }
  std::string_view cert_data;
  size_t cert_base = sig_base + s.offset();
  CCB_RETURN_IF_ERROR(s.View(cert_size, "certification data", &cert_data));
  CCB_RETURN_IF_ERROR(ParseQeReportCertData(cert_data, cert_base, &q));
  return q;
}

}  // namespace ccburst::evidence::tdx
