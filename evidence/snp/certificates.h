// X.509 for the SEV-SNP key hierarchy (ARK -> ASK/ASVK -> VCEK/VLEK) over crypto::Certificate and
// crypto::Crl: SNP-prefixed parsing and signature checks (RSA-PSS parameters come from the
// certificate), validity, and the AMD-specific VCEK/VLEK extensions (OIDs
// under 1.3.6.1.4.1.3704.1): product name (.2), blSPL/teeSPL/snpSPL/ucodeSPL/fmcSPL
// (.3.1/.3.2/.3.3/.3.8/.3.9), hwID (.4) and cspID (.5, VLEK only).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/certificate.h"
#include "crypto/key.h"

namespace ccburst::evidence::snp {

// The certificate and CRL types are crypto's; this header adds the SNP-specific reading.
using Certificate = crypto::Certificate;
using Crl = crypto::Crl;

// Certificate::Parse with errors prefixed "snp: <what>: ".
absl::StatusOr<Certificate> ParseCertificate(std::string_view der_or_pem, std::string_view what);
// Certificate::VerifySignedBy with errors prefixed "snp: ".
absl::Status VerifySignedBy(const Certificate& cert, const Certificate& issuer);
// The subject public key; InvalidArgument "snp: certificate `CN` has an unreadable public key".
absl::StatusOr<crypto::PublicKey> CertificatePublicKey(const Certificate& cert);
// The serial number of `cert` as lowercase hex without leading zeros ("0" for zero).
inline const std::string& CertificateSerialHex(const Certificate& cert) {
  return cert.serial_hex();
}

// A CRL (DER or PEM "X509 CRL"); malformed input is InvalidArgument "snp: CRL: ...".
absl::StatusOr<Crl> ParseCrl(std::string_view der_or_pem);
// OK when the CRL names `issuer` and `issuer`'s key verifies its signature; PermissionDenied
// "snp: CRL issued by `X` does not verify with the key of `Y`" otherwise.
absl::Status VerifyCrlSignedBy(const Crl& crl, const Certificate& issuer);

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
