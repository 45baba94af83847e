#include "crypto/x509.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/internal/openssl.h"
#include "crypto/random.h"

namespace ccburst::crypto {
namespace {

using internal::OpensslError;

bool IsIpLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '*' || c == '_';
    if (!ok) return false;
  }
  return true;
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (ext == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("x509: extension {} = `{}`: {}", OBJ_nid2sn(nid), value, OpensslError()));
  }
  int rc = X509_add_ext(cert, ext.get(), -1);
  if (rc != 1) internal::Fatal("X509_add_ext");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MakeSelfSignedCertificate(
    const PrivateKey& key, const std::string& common_name,
    const std::vector<std::string>& subject_alt_names, core::TimePoint not_before,
    core::TimePoint not_after) {
  if (common_name.empty() || common_name.size() > 64) {
    return absl::InvalidArgumentError("x509: common name must be 1..64 characters");
  }
  if (not_after < not_before) {
    return absl::InvalidArgumentError("x509: not_after is before not_before");
  }
  std::string san;
  for (const std::string& name : subject_alt_names) {
    std::string entry;
    if (IsIpLiteral(name)) {
      entry = "IP:" + name;
    } else if (IsDnsName(name)) {
      entry = "DNS:" + name;
    } else {
      return absl::InvalidArgumentError(
          fmt::format("x509: subject alternative name `{}` is neither a DNS name nor an IP", name));
    }
    if (!san.empty()) san += ",";
    san += entry;
  }

  internal::X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    internal::Fatal("X509_new");
  }
  std::string serial = RandomBytes(16);
  serial[0] = static_cast<char>(serial[0] & 0x7f);
  serial[0] = static_cast<char>(serial[0] | 0x40);  // positive and full-length
  internal::BnPtr serial_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                                      static_cast<int>(serial.size()), nullptr));
  if (serial_bn == nullptr ||
      BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    internal::Fatal("serial");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return absl::InvalidArgumentError(fmt::format("x509: common name: {}", OpensslError()));
  }
  if (X509_set_issuer_name(cert.get(), name) != 1) internal::Fatal("X509_set_issuer_name");
  auto to_time_t = [](core::TimePoint t) { return std::chrono::system_clock::to_time_t(t); };
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), to_time_t(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), to_time_t(not_after)) == nullptr) {
    return absl::InvalidArgumentError(fmt::format("x509: validity: {}", OpensslError()));
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) internal::Fatal("X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string usage = key.type() == KeyType::kRsa
                          ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                          : "critical,digitalSignature,keyCertSign";
  CCB_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  CCB_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage, usage));
  CCB_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth"));
  CCB_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (!san.empty()) {
    CCB_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, san));
  }

  const EVP_MD* md = key.type() == KeyType::kEd25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), key.get(), md) <= 0) {
    return absl::InternalError(fmt::format("x509: signing failed: {}", OpensslError()));
  }
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    internal::Fatal("PEM_write_bio_X509");
  }
  return internal::BioContents(bio.get());
}

}  // namespace ccburst::crypto
