#include "evidence/dcap/certificates.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/encoding.h"

namespace ccburst::evidence::dcap {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

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

core::TimePoint AsnTime(const ASN1_TIME* t) {
  if (t == nullptr) return core::TimePoint::max();
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return core::TimePoint::min();
  return core::FromUnixSeconds(timegm(&tm));
}

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

std::string CommonName(X509_NAME* name) {
  if (name == nullptr) return "";
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     ASN1_STRING_length(s));
}

}  // namespace

const TrustAnchor& TrustAnchor::IntelSgxRootCa() {
  static const TrustAnchor* anchor = [] {
    std::string der = *core::HexDecode(kIntelRootSpkiHex);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    auto key = crypto::PublicKey::FromEvp(pkey);
    EVP_PKEY_free(pkey);
    return new TrustAnchor(*std::move(key));
  }();
  return *anchor;
}

absl::StatusOr<std::vector<X509Ptr>> ParsePemChain(std::string_view pem, std::string_view what) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> out;
  while (true) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    out.emplace_back(x);
  }
  ERR_clear_error();
  if (out.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: no PEM certificate", what));
  }
  // Anything but whitespace after the last certificate means a damaged certificate.
  char rest[64];
  int n = BIO_read(bio.get(), rest, sizeof(rest));
  for (int i = 0; i < n; ++i) {
    if (!isspace(static_cast<unsigned char>(rest[i])) && rest[i] != '\0') {
      return absl::InvalidArgumentError(
          fmt::format("{}: certificate {} is not valid PEM", what, out.size() + 1));
    }
  }
  return out;
}

CertPool& CertPool::Shared() {
  static CertPool* pool = new CertPool(1024, size_t{32} << 20);
  return *pool;
}

template <typename Map>
bool CertPool::MakeRoom(Map& table, size_t* bytes, size_t size) {
  if (size > max_bytes_ / 8) return false;
  if (table.size() >= max_entries_ || *bytes + size > max_bytes_) {
    table.clear();
    *bytes = 0;
  }
  return true;
}

absl::StatusOr<std::vector<std::shared_ptr<X509>>> CertPool::Parse(std::string_view pem,
                                                                   std::string_view what) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<std::shared_ptr<X509>> out;
  size_t pos = 0;
  auto only_space = [](std::string_view t) {
    for (char c : t) {
      if (!isspace(static_cast<unsigned char>(c)) && c != '\0') return false;
    }
    return true;
  };
  while (true) {
    size_t begin = pem.find(kBegin, pos);
    if (begin == std::string_view::npos) break;
    size_t end = pem.find(kEnd, begin);
    if (!only_space(pem.substr(pos, begin - pos)) || end == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("{}: certificate {} is not valid PEM", what, out.size() + 1));
    }
    std::string_view block = pem.substr(begin, end + kEnd.size() - begin);
    pos = end + kEnd.size();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = certs_.find(block);
      if (it != certs_.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    auto parsed = ParsePemChain(block, what);
    if (!parsed.ok() || parsed->size() != 1) {
      return absl::InvalidArgumentError(
          fmt::format("{}: certificate {} is not valid PEM", what, out.size() + 1));
    }
    std::shared_ptr<X509> cert((*parsed)[0].release(), X509_free);
    std::lock_guard<std::mutex> lock(mu_);
    if (MakeRoom(certs_, &cert_bytes_, block.size()) &&
        certs_.emplace(std::string(block), cert).second) {
      cert_bytes_ += block.size();
    }
    out.push_back(std::move(cert));
  }
  if (out.empty()) return absl::InvalidArgumentError(fmt::format("{}: no PEM certificate", what));
  if (!only_space(pem.substr(pos))) {
    return absl::InvalidArgumentError(
        fmt::format("{}: certificate {} is not valid PEM", what, out.size() + 1));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<X509_CRL>> CertPool::Crl(std::string_view bytes,
                                                        std::string_view what) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = crls_.find(bytes);
    if (it != crls_.end()) return it->second;
  }
  CCB_ASSIGN_OR_RETURN(X509CrlPtr parsed, ParseCrl(bytes, what));
  std::shared_ptr<X509_CRL> crl(parsed.release(), X509_CRL_free);
  std::lock_guard<std::mutex> lock(mu_);
  if (MakeRoom(crls_, &crl_bytes_, bytes.size()) && crls_.emplace(std::string(bytes), crl).second) {
    crl_bytes_ += bytes.size();
  }
  return crl;
}

absl::StatusOr<X509CrlPtr> ParseCrl(std::string_view bytes, std::string_view what) {
  if (bytes.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
    std::unique_ptr<BIO, BioDeleter> bio(
        BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
    ERR_clear_error();
    if (crl == nullptr) return absl::InvalidArgumentError(fmt::format("{}: bad PEM CRL", what));
    return X509CrlPtr(crl);
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size()));
  if (crl == nullptr) {
    return absl::InvalidArgumentError(fmt::format("{}: bad DER CRL: {}", what, OpensslError()));
  }
  return X509CrlPtr(crl);
}

X509Ptr CopyCert(X509* cert) {
  X509_up_ref(cert);
  return X509Ptr(cert);
}

absl::Status VerifyChain(const std::vector<X509*>& chain, const TrustAnchor& anchor,
                         core::TimePoint now, std::string_view what) {
  if (chain.size() < 2) {
    return absl::PermissionDeniedError(
        fmt::format("{}: chain has {} certificate(s), want leaf .. root", what, chain.size()));
  }
  X509* root = chain.back();
  EVP_PKEY* root_key = X509_get0_pubkey(root);
  if (root_key == nullptr || EVP_PKEY_eq(root_key, anchor.key().get()) != 1) {
    return absl::PermissionDeniedError(fmt::format(
        "{}: root certificate `{}` is not the trusted root CA", what, SubjectCommonName(root)));
  }
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root);
  std::unique_ptr<STACK_OF(X509), StackDeleter> untrusted(sk_X509_new_null());
  for (size_t i = 1; i + 1 < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i]);
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front(), untrusted.get()) != 1) {
    return absl::InternalError(fmt::format("{}: {}", what, OpensslError()));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(core::ToUnixSeconds(now)));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    return absl::PermissionDeniedError(fmt::format(
        "{}: certificate `{}` (depth {}): {} at {}", what, bad ? SubjectCommonName(bad) : "", depth,
        X509_verify_cert_error_string(err), core::FormatRfc3339(now)));
  }
  return absl::OkStatus();
}

absl::Status CheckCrl(X509_CRL* crl, X509* issuer, core::TimePoint now, std::string_view what) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    return absl::PermissionDeniedError(fmt::format("{}: issuer `{}` is not `{}`", what,
                                                   CommonName(X509_CRL_get_issuer(crl)),
                                                   SubjectCommonName(issuer)));
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl, key) != 1) {
    ERR_clear_error();
    return absl::PermissionDeniedError(fmt::format("{}: signature verification failed", what));
  }
  core::TimePoint this_update = CrlThisUpdate(crl);
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

bool IsRevoked(X509_CRL* crl, X509* cert) {
  X509_REVOKED* rev = nullptr;
  return X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) == 1;
}

core::TimePoint NotAfter(X509* cert) { return AsnTime(X509_get0_notAfter(cert)); }
core::TimePoint NotBefore(X509* cert) { return AsnTime(X509_get0_notBefore(cert)); }
core::TimePoint CrlNextUpdate(X509_CRL* crl) { return AsnTime(X509_CRL_get0_nextUpdate(crl)); }
core::TimePoint CrlThisUpdate(X509_CRL* crl) { return AsnTime(X509_CRL_get0_lastUpdate(crl)); }
std::string SubjectCommonName(X509* cert) { return CommonName(X509_get_subject_name(cert)); }
std::string IssuerCommonName(X509* cert) { return CommonName(X509_get_issuer_name(cert)); }

absl::StatusOr<crypto::PublicKey> CertPublicKey(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return absl::InvalidArgumentError("certificate has no usable public key");
  return crypto::PublicKey::FromEvp(key);
}

}  // namespace ccburst::evidence::dcap
