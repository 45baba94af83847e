#include "evidence/dcap/certificates.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "core/encoding.h"
#include "crypto/openssl.h"

namespace ccburst::evidence::dcap {
namespace {

// The Intel SGX Root CA ("CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US",
// serial 22650cd65a9d3489f383b49552bf501b392706ac, valid 2018-05-21..2049-12-31) public key as
// a DER SubjectPublicKeyInfo. Intel publishes the certificate at
// https://certificates.trustedservices.intel.com/Intel_SGX_Provisioning_Certification_RootCA.cer
// (also linked from the PCS API documentation, https://api.portal.trustedservices.intel.com/);
// the key below is its P-256 point 04 0ba9c4c0...0904ae7394.
constexpr std::string_view kIntelRootSpkiHex =
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
    "0ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a36e705525f5"
    "67918e2edc88e40d860bd0cc4ee26aacc988e505a953558c453f6b0904ae7394";

}  // namespace

const TrustAnchor& TrustAnchor::IntelSgxRootCa() {
  static const TrustAnchor* anchor = [] {
    std::string der = *core::HexDecode(kIntelRootSpkiHex);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    crypto::PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
    return new TrustAnchor(*crypto::PublicKey::FromEvp(pkey.get()));
  }();
  return *anchor;
}

absl::StatusOr<std::vector<CertPtr>> ParsePemChain(std::string_view pem, std::string_view what,
                                                   crypto::CertificateCache& cache) {
  CCB_ASSIGN_OR_RETURN(std::vector<std::string> ders,
                       crypto::PemCertificatesToDer(pem, what, /*strict=*/true));
  std::vector<CertPtr> out;
  out.reserve(ders.size());
  for (const std::string& der : ders) {
    auto cert = cache.GetCertificate(der, what);
    if (!cert.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: certificate {} is not valid PEM", what, out.size() + 1));
    }
    out.push_back(*std::move(cert));
  }
  return out;
}

absl::Status VerifyChain(const std::vector<const crypto::Certificate*>& chain,
                         const TrustAnchor& anchor, core::TimePoint now, std::string_view what) {
  if (chain.size() < 2) {
    return absl::PermissionDeniedError(
        fmt::format("{}: chain has {} certificate(s), want leaf .. root", what, chain.size()));
  }
  const crypto::Certificate& root = *chain.back();
  EVP_PKEY* root_key = X509_get0_pubkey(root.get());
  if (root_key == nullptr || EVP_PKEY_eq(root_key, anchor.key().get()) != 1) {
    ERR_clear_error();
    return absl::PermissionDeniedError(fmt::format(
        "{}: root certificate `{}` is not the trusted root CA", what, root.subject_cn()));
  }
  crypto::X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root.get());
  crypto::X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i + 1 < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i]->get());
  crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front()->get(), untrusted.get()) != 1) {
    return absl::InternalError(fmt::format("{}: {}", what, crypto::OpensslError()));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(core::ToUnixSeconds(now)));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    // The failing certificate is one of `chain` (OpenSSL builds the path from them).
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    std::string bad_cn;
    for (const crypto::Certificate* c : chain) {
      if (bad != nullptr && X509_cmp(c->get(), bad) == 0) bad_cn = c->subject_cn();
    }
    ERR_clear_error();
    return absl::PermissionDeniedError(
        fmt::format("{}: certificate `{}` (depth {}): {} at {}", what, bad_cn, depth,
                    X509_verify_cert_error_string(err), core::FormatRfc3339(now)));
  }
  return absl::OkStatus();
}

absl::Status CheckCrl(const crypto::Crl& crl, const crypto::Certificate& issuer,
                      core::TimePoint now, std::string_view what) {
  if (!crl.NamesIssuer(issuer)) {
    return absl::PermissionDeniedError(
        fmt::format("{}: issuer `{}` is not `{}`", what, crl.issuer_cn(), issuer.subject_cn()));
  }
  if (!crl.SignatureVerifiesWith(issuer)) {
    return absl::PermissionDeniedError(fmt::format("{}: signature verification failed", what));
  }
  core::TimePoint this_update = crl.this_update();
  core::TimePoint next_update = CrlNextUpdate(crl);
  if (now < this_update) {
    return absl::PermissionDeniedError(
        fmt::format("{}: not yet valid (thisUpdate {})", what, core::FormatRfc3339(this_update)));
  }
  if (now >= next_update) {
    return absl::PermissionDeniedError(
        fmt::format("{}: expired (nextUpdate {})", what, core::FormatRfc3339(next_update)));
  }
  return absl::OkStatus();
}

absl::StatusOr<crypto::PublicKey> CertPublicKey(const crypto::Certificate& cert) {
  if (!cert.public_key().ok()) {
    return absl::InvalidArgumentError("certificate has no usable public key");
  }
  return *cert.public_key();
}

}  // namespace ccburst::evidence::dcap
