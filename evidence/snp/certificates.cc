#include "evidence/snp/certificates.h"

#include <fmt/format.h>

#include "crypto/der.h"

namespace ccburst::evidence::snp {
namespace {

bool LooksLikePem(std::string_view blob) {
  size_t i = blob.find_first_not_of(" \n\r\t");
  return i != std::string_view::npos && blob.substr(i, 10) == "-----BEGIN";
}

absl::StatusOr<int64_t> DerSmallInteger(std::string_view value, std::string_view oid) {
  uint8_t tag = 0;
  std::string_view c;
  if (!crypto::ReadWholeDerTlv(value, &tag, &c) || tag != 0x02 || c.empty() || c.size() > 4 ||
      (static_cast<uint8_t>(c[0]) & 0x80)) {
    return absl::InvalidArgumentError(
        fmt::format("snp: VEK extension {} is not a small non-negative DER INTEGER", oid));
  }
  int64_t v = 0;
  for (char ch : c) v = (v << 8) | static_cast<uint8_t>(ch);
  return v;
}

}  // namespace

absl::StatusOr<Certificate> ParseCertificate(std::string_view der_or_pem, std::string_view what) {
  return Certificate::Parse(der_or_pem, fmt::format("snp: {}", what));
}

absl::Status VerifySignedBy(const Certificate& cert, const Certificate& issuer) {
  return core::Annotate(cert.VerifySignedBy(issuer), "snp");
}

absl::StatusOr<crypto::PublicKey> CertificatePublicKey(const Certificate& cert) {
  if (!cert.public_key().ok()) {
    return absl::InvalidArgumentError(
        fmt::format("snp: certificate `{}` has an unreadable public key", cert.subject_cn()));
  }
  return *cert.public_key();
}

absl::StatusOr<Crl> ParseCrl(std::string_view der_or_pem) {
  return Crl::Parse(der_or_pem, "snp: CRL");
}

absl::Status VerifyCrlSignedBy(const Crl& crl, const Certificate& issuer) {
  if (!crl.NamesIssuer(issuer) || !crl.SignatureVerifiesWith(issuer)) {
    return absl::PermissionDeniedError(
        fmt::format("snp: CRL issued by `{}` does not verify with the key of `{}`", crl.issuer_cn(),
                    issuer.subject_cn()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SplitCertificates(std::string_view blob) {
  if (!LooksLikePem(blob)) return std::vector<std::string>{std::string(blob)};
  return crypto::PemCertificatesToDer(blob, "snp", /*strict=*/false);
}

absl::StatusOr<VekExtensions> ParseVekExtensions(const Certificate& cert) {
  VekExtensions e;
  if (auto v = cert.Extension("1.3.6.1.4.1.3704.1.2")) {
    uint8_t tag = 0;
    std::string_view c;
    if (!crypto::ReadWholeDerTlv(*v, &tag, &c) || (tag != 0x16 && tag != 0x0c && tag != 0x13)) {
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
      e.hwid = std::string(*v);
    } else {
      uint8_t tag = 0;
      std::string_view c;
      if (!crypto::ReadWholeDerTlv(*v, &tag, &c) || tag != 0x04 ||
          (c.size() != 64 && c.size() != 8)) {
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
    e.csp_id = std::string(crypto::ReadWholeDerTlv(*v, &tag, &c) ? c : *v);
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
