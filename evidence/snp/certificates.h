// X.509 helpers for the SEV-SNP key hierarchy (ARK -> ASK/ASVK -> VCEK/VLEK), on OpenSSL directly:
// parsing DER or PEM, names, validity, signature checks (RSA-PSS parameters come from the
// certificate) and the AMD-specific VCEK/VLEK extensions (OIDs under 1.3.6.1.4.1.3704.1):
// product name (.2), blSPL/teeSPL/snpSPL/ucodeSPL/fmcSPL (.3.1/.3.2/.3.3/.3.8/.3.9), hwID (.4)
// and cspID (.5, VLEK only).
#pragma once

#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::evidence::snp {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// One parsed certificate. Move-only; share it through std::shared_ptr<const Certificate>.
class Certificate {
 public:
  // Parses exactly one certificate: DER, or the first PEM "CERTIFICATE" block when the text
  // starts with "-----BEGIN". Garbage, trailing bytes after DER or a non-v3 certificate is
  // InvalidArgument "snp: <what>: ...".
  static absl::StatusOr<Certificate> Parse(std::string_view der_or_pem, std::string_view what);

  X509* get() const { return x509_.get(); }
  const std::string& der() const { return der_; }
  const std::string& subject_cn() const { return subject_cn_; }
  const std::string& issuer_cn() const { return issuer_cn_; }
  core::TimePoint not_before() const { return not_before_; }
  core::TimePoint not_after() const { return not_after_; }
  // SHA-256 of the DER SubjectPublicKeyInfo.
  const std::string& spki_sha256() const { return spki_sha256_; }

  // OK when `issuer`'s key verifies this certificate's signature (any algorithm OpenSSL knows,
  // RSA-PSS parameters from the certificate) and the issuer name equals `issuer`'s subject;
  // PermissionDenied otherwise.
  absl::Status VerifySignedBy(const Certificate& issuer) const;
  // The subject public key.
  absl::StatusOr<crypto::PublicKey> PublicKey() const;
  // The raw value (content of the extnValue OCTET STRING) of the extension with dotted `oid`.
  std::optional<std::string> Extension(std::string_view oid) const;

 private:
  Certificate() = default;
  X509Ptr x509_;
  std::string der_;
  std::string subject_cn_;
  std::string issuer_cn_;
  core::TimePoint not_before_;
  core::TimePoint not_after_;
  std::string spki_sha256_;
};

// The serial number of `cert` as lowercase hex without leading zeros ("0" for zero).
std::string CertificateSerialHex(const Certificate& cert);

struct X509CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};

// A certificate revocation list (DER or PEM "X509 CRL").
class Crl {
 public:
  // Malformed input (including a malformed thisUpdate/nextUpdate) is InvalidArgument
  // "snp: CRL: ...".
  static absl::StatusOr<Crl> Parse(std::string_view der_or_pem);
  const std::string& issuer_cn() const { return issuer_cn_; }
  // thisUpdate, and nextUpdate when the CRL has one.
  core::TimePoint this_update() const { return this_update_; }
  std::optional<core::TimePoint> next_update() const { return next_update_; }
  // OK when `issuer`'s key verifies the CRL signature and the CRL names `issuer`;
  // PermissionDenied otherwise.
  absl::Status VerifySignedBy(const Certificate& issuer) const;
  // Revoked serial numbers, formatted as CertificateSerialHex does.
  std::vector<std::string> revoked_serials_hex() const;

 private:
  Crl() = default;
  std::unique_ptr<X509_CRL, X509CrlFree> crl_;
  std::string issuer_cn_;
  core::TimePoint this_update_;
  std::optional<core::TimePoint> next_update_;
};

// Splits a blob into DER certificates: every PEM CERTIFICATE block when it is PEM text, else the
// blob itself (one DER certificate). No PEM block in PEM-looking text is InvalidArgument.
absl::StatusOr<std::vector<std::string>> SplitCertificates(std::string_view blob);

// The AMD extensions of a VCEK or VLEK.
struct VekExtensions {
  std::string product_name;  // "Milan-B0", "Genoa", ...; empty when absent
  std::optional<int64_t> bl_spl;
  std::optional<int64_t> tee_spl;
  std::optional<int64_t> snp_spl;
  std::optional<int64_t> ucode_spl;
  std::optional<int64_t> fmc_spl;
  std::optional<std::string> hwid;  // raw bytes (64, or 8 on Turin); DER OCTET STRING unwrapped
  std::optional<std::string> csp_id;
};

// Reads the extensions; a present but malformed extension is InvalidArgument naming its OID.
absl::StatusOr<VekExtensions> ParseVekExtensions(const Certificate& cert);

// Checks that `t` is inside [not_before, not_after]; PermissionDenied "snp: <what> certificate
// `CN` expired at ... (verification time ...)" or "... is not valid before ..." otherwise.
absl::Status CheckValidity(const Certificate& cert, std::string_view what, core::TimePoint t);

}  // namespace ccburst::evidence::snp
