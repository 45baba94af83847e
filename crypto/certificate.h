// X.509 certificates and CRLs as ccburst's verifiers see them: parsed once from DER (or PEM),
// immutable afterwards, cheap to share through std::shared_ptr<const Certificate> (BoringSSL's
// pki/parsed_certificate.h is the model). Everything a verifier reads (names, serial, validity,
// public key, extensions by OID) is decoded at parse time, so the accessors do no OpenSSL work and
// are safe from any thread. TEE-specific extension contents (Intel's SGX extension, AMD's VCEK
// TCB/hwID) are interpreted by evidence/, over `Extension(oid)`.
//
// CertificateCache shares the decoding of identical encodings between verifications: OpenSSL 3's
// public-key decoding in d2i_X509 costs about as much as a signature check.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"
#include "crypto/openssl.h"

namespace ccburst::crypto {

class Certificate {
 public:
  // Exactly one certificate: DER, or the first PEM "CERTIFICATE" block when the text starts with
  // "-----BEGIN". InvalidArgument "<what>: not a DER or PEM X.509 certificate", "<what>: trailing
  // bytes after the certificate", "<what>: malformed validity time" or "<what>: malformed public
  // key".
  static absl::StatusOr<Certificate> Parse(std::string_view der_or_pem, std::string_view what);
  // As Parse, shared.
  static absl::StatusOr<std::shared_ptr<const Certificate>> ParseShared(std::string_view der_or_pem,
                                                                        std::string_view what);

  Certificate(Certificate&&) = default;
  Certificate& operator=(Certificate&&) = default;

  // The exact DER encoding.
  const std::string& der() const { return der_; }
  // The first common name of the subject / issuer ("Intel SGX PCK Platform CA"); empty if absent.
  const std::string& subject_cn() const { return subject_cn_; }
  const std::string& issuer_cn() const { return issuer_cn_; }
  // The serial number as lowercase hex without leading zeros ("0" for zero).
  const std::string& serial_hex() const { return serial_hex_; }
  core::TimePoint not_before() const { return not_before_; }
  core::TimePoint not_after() const { return not_after_; }
  // SHA-256 of the DER SubjectPublicKeyInfo (a key fingerprint).
  const std::string& spki_sha256() const { return spki_sha256_; }
  // The subject public key; an error when OpenSSL reads it but ccburst does not support its type.
  const absl::StatusOr<PublicKey>& public_key() const { return public_key_; }
  // The raw value (content of the extnValue OCTET STRING) of the extension with dotted `oid`.
  std::optional<std::string_view> Extension(std::string_view oid) const;

  // True when both certificates carry the same public key.
  bool SameKeyAs(const Certificate& other) const;
  // True when this certificate's issuer name equals `issuer`'s subject name.
  bool NamesIssuer(const Certificate& issuer) const;
  // OK when `issuer` names this certificate's issuer and its key verifies this certificate's
  // signature (any algorithm OpenSSL knows, RSA-PSS parameters from the certificate);
  // PermissionDenied "certificate `CN` is issued by `X`, not by `Y`" or "signature of certificate
  // `CN` does not verify with the key of `Y`" otherwise.
  absl::Status VerifySignedBy(const Certificate& issuer) const;

  // The OpenSSL object, for path validation with X509_STORE. It is shared: never modify it.
  X509* get() const { return x509_.get(); }

 private:
  Certificate() = default;
  X509Ptr x509_;
  std::string der_;
  std::string subject_cn_;
  std::string issuer_cn_;
  std::string serial_hex_;
  core::TimePoint not_before_;
  core::TimePoint not_after_;
  std::string spki_sha256_;
  absl::StatusOr<PublicKey> public_key_ = absl::UnknownError("unset");
  std::vector<std::pair<std::string, std::string>> extensions_;  // dotted OID, raw value
};

// Every PEM "CERTIFICATE" block of `pem`, decoded to DER, in order. With `strict`, only
// whitespace (and NULs, as quotes pad their PEM) may surround the blocks. InvalidArgument
// "<what>: certificate <n> is not valid PEM" or "<what>: no PEM certificate".
absl::StatusOr<std::vector<std::string>> PemCertificatesToDer(std::string_view pem,
                                                              std::string_view what, bool strict);

// A certificate revocation list.
class Crl {
 public:
  // DER, or PEM "X509 CRL" when the text starts with "-----BEGIN". InvalidArgument
  // "<what>: not a DER or PEM X.509 CRL" or "<what>: malformed validity time".
  static absl::StatusOr<Crl> Parse(std::string_view der_or_pem, std::string_view what);
  static absl::StatusOr<std::shared_ptr<const Crl>> ParseShared(std::string_view der_or_pem,
                                                                std::string_view what);

  Crl(Crl&&) = default;
  Crl& operator=(Crl&&) = default;

  const std::string& issuer_cn() const { return issuer_cn_; }
  // thisUpdate, and nextUpdate when the CRL has one.
  core::TimePoint this_update() const { return this_update_; }
  std::optional<core::TimePoint> next_update() const { return next_update_; }
  // The cRLNumber extension; 0 when absent.
  int64_t crl_number() const { return crl_number_; }
  // Revoked serial numbers, formatted as Certificate::serial_hex.
  const std::vector<std::string>& revoked_serials_hex() const { return revoked_; }
  // True when the CRL lists `cert`'s serial number.
  bool IsRevoked(const Certificate& cert) const;

  // True when the CRL's issuer name equals `cert`'s subject name.
  bool NamesIssuer(const Certificate& cert) const;
  // True when `issuer`'s key verifies the CRL's signature (the names are not compared).
  bool SignatureVerifiesWith(const Certificate& issuer) const;

 private:
  Crl() = default;
  X509CrlPtr crl_;
  std::string issuer_cn_;
  core::TimePoint this_update_;
  std::optional<core::TimePoint> next_update_;
  int64_t crl_number_ = 0;
  std::vector<std::string> revoked_;  // sorted
};

// Decoded certificates and CRLs keyed by their exact encoding, so that each distinct certificate
// or CRL is decoded once, not once per use or per verification. Only decoding is shared, never a
// verification result: callers still check every chain, signature, validity period and
// revocation. Thread-safe; bounded by entries and by encoded bytes, since certificates come from
// untrusted evidence (a table is cleared when full; an encoding larger than an eighth of the
// byte budget is decoded but not kept). A verifier receives one (shared_ptr) from whoever builds
// it; nothing in ccburst holds a process-wide instance.
class CertificateCache {
 public:
  explicit CertificateCache(size_t max_entries = 1024, size_t max_bytes = size_t{32} << 20)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // As Certificate::ParseShared over DER.
  absl::StatusOr<std::shared_ptr<const Certificate>> GetCertificate(std::string_view der,
                                                                    std::string_view what);
  // As Crl::ParseShared.
  absl::StatusOr<std::shared_ptr<const Crl>> GetCrl(std::string_view der_or_pem,
                                                    std::string_view what);
  // Decoded entries held now (certificates + CRLs).
  size_t size() const;

 private:
  template <typename T>
  struct Table {
    std::map<std::string, std::shared_ptr<const T>, std::less<>> entries;
    size_t bytes = 0;
  };
  template <typename T, typename ParseFn>
  absl::StatusOr<std::shared_ptr<const T>> Get(Table<T>& table, std::string_view key,
                                               ParseFn parse);

  size_t max_entries_;
  size_t max_bytes_;
  mutable std::mutex mu_;
  Table<Certificate> certs_;
  Table<Crl> crls_;
};

}  // namespace ccburst::crypto
