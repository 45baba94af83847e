#include "evidence/snp/certificates.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <ctime>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace ccburst::evidence::snp {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string CommonName(const X509_NAME* name) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  if (s == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

absl::StatusOr<core::TimePoint> AsnTime(const ASN1_TIME* t, std::string_view what) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return absl::InvalidArgumentError(fmt::format("snp: {}: malformed validity time", what));
  }
  return core::FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

bool LooksLikePem(std::string_view blob) {
  size_t i = 0;
  while (i < blob.size() &&
         (blob[i] == ' ' || blob[i] == '\n' || blob[i] == '\r' || blob[i] == '\t'))
    ++i;
  return blob.substr(i, 10) == "-----BEGIN";
}

// One DER TLV at the start of `in`: returns the tag and sets `content`; the TLV must span all of
// `in`.
bool ReadWholeTlv(std::string_view in, uint8_t& tag, std::string_view& content) {
  if (in.size() < 2) return false;
  tag = static_cast<uint8_t>(in[0]);
  size_t len = static_cast<uint8_t>(in[1]);
  size_t hdr = 2;
  if (len & 0x80) {
    size_t n = len & 0x7f;
    if (n == 0 || n > 2 || in.size() < 2 + n) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<uint8_t>(in[2 + i]);
    hdr += n;
  }
  if (in.size() - hdr != len) return false;
  content = in.substr(hdr);
  return true;
}

absl::StatusOr<int64_t> DerSmallInteger(std::string_view value, std::string_view oid) {
  uint8_t tag = 0;
  std::string_view c;
  if (!ReadWholeTlv(value, tag, c) || tag != 0x02 || c.empty() || c.size() > 4 ||
      (static_cast<uint8_t>(c[0]) & 0x80)) {
    return absl::InvalidArgumentError(
        fmt::format("snp: VEK extension {} is not a small non-negative DER INTEGER", oid));
  }
  int64_t v = 0;
  for (char ch : c) v = (v << 8) | static_cast<uint8_t>(ch);
  return v;
}

}  // namespace

absl::StatusOr<Certificate> Certificate::Parse(std::string_view der_or_pem, std::string_view what) {
  std::string der;
  if (LooksLikePem(der_or_pem)) {
    CCB_ASSIGN_OR_RETURN(std::vector<std::string> all, SplitCertificates(der_or_pem));
    der = std::move(all.front());
  } else {
    der = std::string(der_or_pem);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (x == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("snp: {}: not a DER or PEM X.509 certificate", what));
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError(
        fmt::format("snp: {}: trailing bytes after the certificate", what));
  }
  Certificate c;
  c.subject_cn_ = CommonName(X509_get_subject_name(x.get()));
  c.issuer_cn_ = CommonName(X509_get_issuer_name(x.get()));
  CCB_ASSIGN_OR_RETURN(c.not_before_, AsnTime(X509_get0_notBefore(x.get()), what));
  CCB_ASSIGN_OR_RETURN(c.not_after_, AsnTime(X509_get0_notAfter(x.get()), what));
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(x.get());
  unsigned char* spki_der = nullptr;
  int spki_len = spki == nullptr ? -1 : i2d_X509_PUBKEY(spki, &spki_der);
  if (spki_len <= 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError(fmt::format("snp: {}: malformed public key", what));
  }
  c.spki_sha256_ = crypto::Sha256(
      std::string_view(reinterpret_cast<const char*>(spki_der), static_cast<size_t>(spki_len)));
  OPENSSL_free(spki_der);
  c.der_ = std::move(der);
  c.x509_ = std::move(x);
  return c;
}

absl::Status Certificate::VerifySignedBy(const Certificate& issuer) const {
  if (X509_NAME_cmp(X509_get_issuer_name(x509_.get()), X509_get_subject_name(issuer.get())) != 0) {
    return absl::PermissionDeniedError(
        fmt::format("snp: certificate `{}` is issued by `{}`, not by `{}`", subject_cn_, issuer_cn_,
                    issuer.subject_cn()));
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  int ok = key == nullptr ? -1 : X509_verify(x509_.get(), key);
  ERR_clear_error();
  if (ok != 1) {
    return absl::PermissionDeniedError(
        fmt::format("snp: signature of certificate `{}` does not verify with the key of `{}`",
                    subject_cn_, issuer.subject_cn()));
  }
  return absl::OkStatus();
}

absl::StatusOr<crypto::PublicKey> Certificate::PublicKey() const {
  EVP_PKEY* key = X509_get0_pubkey(x509_.get());
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("snp: certificate `{}` has an unreadable public key", subject_cn_));
  }
  return crypto::PublicKey::FromEvp(key);
}

std::optional<std::string> Certificate::Extension(std::string_view oid) const {
  int n = X509_get_ext_count(x509_.get());
  char buf[128];
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(x509_.get(), i);
    int len = OBJ_obj2txt(buf, sizeof(buf), X509_EXTENSION_get_object(ext), 1);
    if (len <= 0 || static_cast<size_t>(len) >= sizeof(buf)) continue;
    if (std::string_view(buf, static_cast<size_t>(len)) != oid) continue;
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(ext);
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                       static_cast<size_t>(ASN1_STRING_length(v)));
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<std::string>> SplitCertificates(std::string_view blob) {
  if (!LooksLikePem(blob)) return std::vector<std::string>{std::string(blob)};
  std::vector<std::string> out;
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while ((pos = blob.find(kBegin, pos)) != std::string_view::npos) {
    size_t body = pos + kBegin.size();
    size_t end = blob.find(kEnd, body);
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError("snp: unterminated PEM certificate");
    }
    std::string b64;
    for (char ch : blob.substr(body, end - body)) {
      if (ch != '\n' && ch != '\r' && ch != ' ' && ch != '\t') b64.push_back(ch);
    }
    auto der =
        core::Base64Decode(b64, core::Base64Alphabet::kStandard, core::Base64Padding::kOptional);
    if (!der.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("snp: PEM certificate is not base64: {}", core::Message(der.status())));
    }
    out.push_back(std::move(*der));
    pos = end + kEnd.size();
  }
  if (out.empty()) return absl::InvalidArgumentError("snp: no PEM CERTIFICATE block");
  return out;
}

namespace {

std::string IntegerHex(const ASN1_INTEGER* i) {
  if (i == nullptr) return "";
  std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(i)),
                    static_cast<size_t>(ASN1_STRING_length(i)));
  std::string hex = core::HexEncode(bytes);
  size_t nz = hex.find_first_not_of('0');
  return nz == std::string::npos ? "0" : hex.substr(nz);
}

}  // namespace

std::string CertificateSerialHex(const Certificate& cert) {
  return IntegerHex(X509_get0_serialNumber(cert.get()));
}

absl::StatusOr<Crl> Crl::Parse(std::string_view der_or_pem) {
  Crl c;
  if (LooksLikePem(der_or_pem)) {
    BioPtr bio(BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
    c.crl_.reset(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(der_or_pem.data());
    c.crl_.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(der_or_pem.size())));
  }
  ERR_clear_error();
  if (c.crl_ == nullptr) {
    return absl::InvalidArgumentError("snp: CRL: not a DER or PEM X.509 CRL");
  }
  c.issuer_cn_ = CommonName(X509_CRL_get_issuer(c.crl_.get()));
  CCB_ASSIGN_OR_RETURN(c.this_update_, AsnTime(X509_CRL_get0_lastUpdate(c.crl_.get()), "CRL"));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(c.crl_.get()); next != nullptr) {
    CCB_ASSIGN_OR_RETURN(c.next_update_, AsnTime(next, "CRL"));
  }
  return c;
}

absl::Status Crl::VerifySignedBy(const Certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  bool name_ok =
      X509_NAME_cmp(X509_CRL_get_issuer(crl_.get()), X509_get_subject_name(issuer.get())) == 0;
  int ok = key == nullptr || !name_ok ? -1 : X509_CRL_verify(crl_.get(), key);
  ERR_clear_error();
  if (ok != 1) {
    return absl::PermissionDeniedError(
        fmt::format("snp: CRL issued by `{}` does not verify with the key of `{}`", issuer_cn_,
                    issuer.subject_cn()));
  }
  return absl::OkStatus();
}

std::vector<std::string> Crl::revoked_serials_hex() const {
  std::vector<std::string> out;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl_.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    out.push_back(IntegerHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
  return out;
}

absl::StatusOr<VekExtensions> ParseVekExtensions(const Certificate& cert) {
  VekExtensions e;
  if (auto v = cert.Extension("1.3.6.1.4.1.3704.1.2")) {
    uint8_t tag = 0;
    std::string_view c;
    if (!ReadWholeTlv(*v, tag, c) || (tag != 0x16 && tag != 0x0c && tag != 0x13)) {
      return absl::InvalidArgumentError(
          "snp: VEK extension 1.3.6.1.4.1.3704.1.2 (productName) is not a DER string");
    }
    e.product_name = std::string(c);
  }
  struct Spl {
    const char* oid;
    std::optional<int64_t>* out;
  } spls[] = {{"1.3.6.1.4.1.3704.1.3.1", &e.bl_spl},
              {"1.3.6.1.4.1.3704.1.3.2", &e.tee_spl},
              {"1.3.6.1.4.1.3704.1.3.3", &e.snp_spl},
              {"1.3.6.1.4.1.3704.1.3.8", &e.ucode_spl},
              {"1.3.6.1.4.1.3704.1.3.9", &e.fmc_spl}};
  for (const Spl& s : spls) {
    if (auto v = cert.Extension(s.oid)) {
      CCB_ASSIGN_OR_RETURN(*s.out, DerSmallInteger(*v, s.oid));
    }
  }
  if (auto v = cert.Extension("1.3.6.1.4.1.3704.1.4")) {
    // Raw bytes (64, 8 on Turin) in most VCEKs; a DER OCTET STRING in some.
    if (v->size() == 64 || v->size() == 8) {
      e.hwid = *v;
    } else {
      uint8_t tag = 0;
      std::string_view c;
      if (!ReadWholeTlv(*v, tag, c) || tag != 0x04 || (c.size() != 64 && c.size() != 8)) {
        return absl::InvalidArgumentError(
            fmt::format("snp: VEK extension 1.3.6.1.4.1.3704.1.4 (hwID) has {} bytes, expected 64 "
                        "or 8 (raw or DER OCTET STRING)",
                        v->size()));
      }
      e.hwid = std::string(c);
    }
  }
  if (auto v = cert.Extension("1.3.6.1.4.1.3704.1.5")) {
    uint8_t tag = 0;
    std::string_view c;
    e.csp_id = ReadWholeTlv(*v, tag, c) ? std::string(c) : *v;
  }
  return e;
}

absl::Status CheckValidity(const Certificate& cert, std::string_view what, core::TimePoint t) {
  if (t < cert.not_before()) {
    return absl::PermissionDeniedError(fmt::format(
        "snp: {} certificate `{}` is not valid before {} (verification time {})", what,
        cert.subject_cn(), core::FormatRfc3339(cert.not_before()), core::FormatRfc3339(t)));
  }
  if (t > cert.not_after()) {
    return absl::PermissionDeniedError(fmt::format(
        "snp: {} certificate `{}` expired at {} (verification time {})", what, cert.subject_cn(),
        core::FormatRfc3339(cert.not_after()), core::FormatRfc3339(t)));
  }
  return absl::OkStatus();
}

}  // namespace ccburst::evidence::snp
