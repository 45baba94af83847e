#include "crypto/certificate.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace ccburst::crypto {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string CommonName(const X509_NAME* name) {
  if (name == nullptr) return "";
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
    return absl::InvalidArgumentError(fmt::format("{}: malformed validity time", what));
  }
  // TimePoint counts nanoseconds (years 1678..2262); clamp instead of wrapping, so RFC 5280's
  // "no well-defined expiration" notAfter 99991231235959Z stays in the future.
  auto s = static_cast<int64_t>(timegm(&tm));
  constexpr int64_t kMax =
      std::chrono::duration_cast<std::chrono::seconds>(core::TimePoint::duration::max()).count();
  if (s >= kMax) return core::TimePoint::max();
  if (s <= -kMax) return core::TimePoint::min();
  return core::FromUnixSeconds(s);
}

std::string IntegerHex(const ASN1_INTEGER* i) {
  if (i == nullptr) return "";
  std::string hex = core::HexEncode(std::string_view(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(i)), ASN1_STRING_length(i)));
  size_t nz = hex.find_first_not_of('0');
  return nz == std::string::npos ? "0" : hex.substr(nz);
}

bool LooksLikePem(std::string_view blob) {
  size_t i = blob.find_first_not_of(" \n\r\t");
  return i != std::string_view::npos && blob.substr(i, 10) == "-----BEGIN";
}

bool OnlySpace(std::string_view t) {
  return std::all_of(t.begin(), t.end(), [](char c) {
    return c == '\0' || isspace(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

absl::StatusOr<std::vector<std::string>> PemCertificatesToDer(std::string_view pem,
                                                              std::string_view what, bool strict) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<std::string> out;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        fmt::format("{}: certificate {} is not valid PEM", what, out.size() + 1));
  };
  size_t pos = 0;
  while (true) {
    size_t begin = pem.find(kBegin, pos);
    if (begin == std::string_view::npos) break;
    if (strict && !OnlySpace(pem.substr(pos, begin - pos))) return bad();
    size_t body = begin + kBegin.size();
    size_t end = pem.find(kEnd, body);
    if (end == std::string_view::npos) return bad();
    std::string b64;
    for (char c : pem.substr(body, end - body)) {
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') b64.push_back(c);
    }
    auto der =
        core::Base64Decode(b64, core::Base64Alphabet::kStandard, core::Base64Padding::kOptional);
    if (!der.ok() || der->empty()) return bad();
    out.push_back(*std::move(der));
    pos = end + kEnd.size();
  }
  if (out.empty()) return absl::InvalidArgumentError(fmt::format("{}: no PEM certificate", what));
  if (strict && !OnlySpace(pem.substr(pos))) return bad();
  return out;
}

absl::StatusOr<Certificate> Certificate::Parse(std::string_view der_or_pem, std::string_view what) {
  std::string der;
  if (LooksLikePem(der_or_pem)) {
    CCB_ASSIGN_OR_RETURN(std::vector<std::string> all,
                         PemCertificatesToDer(der_or_pem, what, /*strict=*/false));
    der = std::move(all.front());
  } else {
    der = std::string(der_or_pem);
  }
  const unsigned char* p = Bytes(der);
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (x == nullptr) {
    return absl::InvalidArgumentError(fmt::format("{}: not a DER or PEM X.509 certificate", what));
  }
  if (p != Bytes(der) + der.size()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: trailing bytes after the certificate", what));
  }
  Certificate c;
  c.subject_cn_ = CommonName(X509_get_subject_name(x.get()));
  c.issuer_cn_ = CommonName(X509_get_issuer_name(x.get()));
  c.serial_hex_ = IntegerHex(X509_get0_serialNumber(x.get()));
  CCB_ASSIGN_OR_RETURN(c.not_before_, AsnTime(X509_get0_notBefore(x.get()), what));
  CCB_ASSIGN_OR_RETURN(c.not_after_, AsnTime(X509_get0_notAfter(x.get()), what));
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(x.get());
  unsigned char* spki_der = nullptr;
  int spki_len = spki == nullptr ? -1 : i2d_X509_PUBKEY(spki, &spki_der);
  if (spki_len <= 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError(fmt::format("{}: malformed public key", what));
  }
  c.spki_sha256_ = Sha256(
      std::string_view(reinterpret_cast<const char*>(spki_der), static_cast<size_t>(spki_len)));
  OPENSSL_free(spki_der);
  EVP_PKEY* key = X509_get0_pubkey(x.get());
  if (key == nullptr) {
    ERR_clear_error();
    c.public_key_ = absl::InvalidArgumentError(
        fmt::format("certificate `{}` has an unreadable public key", c.subject_cn_));
  } else {
    c.public_key_ = PublicKey::FromEvp(key);
  }
  int n = X509_get_ext_count(x.get());
  char buf[128];
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(x.get(), i);
    int len = OBJ_obj2txt(buf, sizeof(buf), X509_EXTENSION_get_object(ext), 1);
    if (len <= 0 || static_cast<size_t>(len) >= sizeof(buf)) continue;
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(ext);
    c.extensions_.emplace_back(std::string(buf, static_cast<size_t>(len)),
                               std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                                           static_cast<size_t>(ASN1_STRING_length(v))));
  }
  ERR_clear_error();
  c.der_ = std::move(der);
  c.x509_ = std::move(x);
  return c;
}

absl::StatusOr<std::shared_ptr<const Certificate>> Certificate::ParseShared(
    std::string_view der_or_pem, std::string_view what) {
  CCB_ASSIGN_OR_RETURN(Certificate c, Parse(der_or_pem, what));
  return std::make_shared<const Certificate>(std::move(c));
}

std::optional<std::string_view> Certificate::Extension(std::string_view oid) const {
  for (const auto& [o, value] : extensions_) {
    if (o == oid) return std::string_view(value);
  }
  return std::nullopt;
}

bool Certificate::SameKeyAs(const Certificate& other) const {
  EVP_PKEY* a = X509_get0_pubkey(x509_.get());
  EVP_PKEY* b = X509_get0_pubkey(other.get());
  bool same = a != nullptr && b != nullptr && EVP_PKEY_eq(a, b) == 1;
  ERR_clear_error();
  return same;
}

bool Certificate::NamesIssuer(const Certificate& issuer) const {
  return X509_NAME_cmp(X509_get_issuer_name(x509_.get()), X509_get_subject_name(issuer.get())) == 0;
}

absl::Status Certificate::VerifySignedBy(const Certificate& issuer) const {
  if (!NamesIssuer(issuer)) {
    return absl::PermissionDeniedError(
        fmt::format("certificate `{}` is issued by `{}`, not by `{}`", subject_cn_, issuer_cn_,
                    issuer.subject_cn()));
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  int ok = key == nullptr ? -1 : X509_verify(x509_.get(), key);
  ERR_clear_error();
  if (ok != 1) {
    return absl::PermissionDeniedError(
        fmt::format("signature of certificate `{}` does not verify with the key of `{}`",
                    subject_cn_, issuer.subject_cn()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Crl> Crl::Parse(std::string_view der_or_pem, std::string_view what) {
  Crl c;
  if (LooksLikePem(der_or_pem)) {
    BioPtr bio(BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
    c.crl_.reset(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  } else {
    const unsigned char* p = Bytes(der_or_pem);
    c.crl_.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(der_or_pem.size())));
  }
  ERR_clear_error();
  if (c.crl_ == nullptr) {
    return absl::InvalidArgumentError(fmt::format("{}: not a DER or PEM X.509 CRL", what));
  }
  c.issuer_cn_ = CommonName(X509_CRL_get_issuer(c.crl_.get()));
  CCB_ASSIGN_OR_RETURN(c.this_update_, AsnTime(X509_CRL_get0_lastUpdate(c.crl_.get()), what));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(c.crl_.get()); next != nullptr) {
    CCB_ASSIGN_OR_RETURN(c.next_update_, AsnTime(next, what));
  }
  Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(c.crl_.get(), NID_crl_number, nullptr, nullptr)));
  if (number != nullptr) c.crl_number_ = ASN1_INTEGER_get(number.get());
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(c.crl_.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    c.revoked_.push_back(
        IntegerHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
  std::sort(c.revoked_.begin(), c.revoked_.end());
  ERR_clear_error();
  return c;
}

absl::StatusOr<std::shared_ptr<const Crl>> Crl::ParseShared(std::string_view der_or_pem,
                                                            std::string_view what) {
  CCB_ASSIGN_OR_RETURN(Crl c, Parse(der_or_pem, what));
  return std::make_shared<const Crl>(std::move(c));
}

bool Crl::IsRevoked(const Certificate& cert) const {
  return std::binary_search(revoked_.begin(), revoked_.end(), cert.serial_hex());
}

bool Crl::NamesIssuer(const Certificate& cert) const {
  return X509_NAME_cmp(X509_CRL_get_issuer(crl_.get()), X509_get_subject_name(cert.get())) == 0;
}

bool Crl::SignatureVerifiesWith(const Certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  int ok = key == nullptr ? -1 : X509_CRL_verify(crl_.get(), key);
  ERR_clear_error();
  return ok == 1;
}

template <typename T, typename ParseFn>
absl::StatusOr<std::shared_ptr<const T>> CertificateCache::Get(Table<T>& table,
                                                               std::string_view key,
                                                               ParseFn parse) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = table.entries.find(key);
    if (it != table.entries.end()) return it->second;
  }
  CCB_ASSIGN_OR_RETURN(std::shared_ptr<const T> parsed, parse());
  if (key.size() > max_bytes_ / 8) return parsed;
  std::lock_guard<std::mutex> lock(mu_);
  if (table.entries.size() >= max_entries_ || table.bytes + key.size() > max_bytes_) {
    table.entries.clear();
    table.bytes = 0;
  }
  if (table.entries.emplace(std::string(key), parsed).second) table.bytes += key.size();
  return parsed;
}

absl::StatusOr<std::shared_ptr<const Certificate>> CertificateCache::GetCertificate(
    std::string_view der, std::string_view what) {
  return Get(certs_, der, [&] { return Certificate::ParseShared(der, what); });
}

absl::StatusOr<std::shared_ptr<const Crl>> CertificateCache::GetCrl(std::string_view der_or_pem,
                                                                    std::string_view what) {
  return Get(crls_, der_or_pem, [&] { return Crl::ParseShared(der_or_pem, what); });
}

size_t CertificateCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return certs_.entries.size() + crls_.entries.size();
}

}  // namespace ccburst::crypto
