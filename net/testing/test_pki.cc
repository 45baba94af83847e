#include "net/testing/test_pki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "crypto/openssl.h"
#include "fmt/format.h"

namespace ccburst::net::testing {
namespace {

struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};
using crypto::PkeyPtr;
using crypto::X509Ptr;

absl::Status OpenSslError(std::string_view what) {
  return absl::InternalError(fmt::format("test pki: {}: {}", what, crypto::OpensslError()));
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (ext == nullptr) return OpenSslError(fmt::format("extension {}", value));
  int ok = X509_add_ext(cert, ext.get(), -1);
  if (ok != 1) return OpenSslError("add extension");
  return absl::OkStatus();
}

absl::StatusOr<X509Ptr> MakeCertificate(EVP_PKEY* key, const char* common_name, X509* issuer,
                                        EVP_PKEY* issuer_key, long serial, bool is_ca,
                                        const std::string& san) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  X509_set_pubkey(cert.get(), key);
  absl::Status status;
  if (is_ca) {
    status = AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    if (status.ok()) {
      status = AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (status.ok())
      status = AddExtension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  } else {
    status = AddExtension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (status.ok()) {
      status = AddExtension(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature");
    }
    if (status.ok())
      status = AddExtension(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth");
    if (status.ok()) {
      status = AddExtension(cert.get(), issuer_cert, NID_subject_alt_name, san.c_str());
    }
    if (status.ok()) {
      status = AddExtension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
    }
  }
  if (!status.ok()) return status;
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return OpenSslError("X509_sign");
  return cert;
}

absl::Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  std::unique_ptr<FILE, FileClose> file(std::fopen(path.c_str(), "wb"));
  if (!file) return absl::InternalError(fmt::format("test pki: cannot write `{}`", path));
  int ok = cert != nullptr
               ? PEM_write_X509(file.get(), cert)
               : PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  if (ok != 1) return OpenSslError(fmt::format("writing `{}`", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TestPki> CreateTestPki(const std::string& directory,
                                      const std::string& subject_alt_names) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("test pki: cannot create `{}`: {}", directory, ec.message()));
  }
  PkeyPtr ca_key(EVP_EC_gen("P-256"));
  PkeyPtr server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) return OpenSslError("EVP_EC_gen");
  auto ca = MakeCertificate(ca_key.get(), "ccburst test ca", nullptr, ca_key.get(), 1, true, "");
  if (!ca.ok()) return ca.status();
  auto server = MakeCertificate(server_key.get(), "localhost", ca->get(), ca_key.get(), 2, false,
                                subject_alt_names);
  if (!server.ok()) return server.status();
  TestPki pki;
  pki.ca_file = directory + "/ca.pem";
  pki.certificate_file = directory + "/server.pem";
  pki.private_key_file = directory + "/server.key";
  CCB_RETURN_IF_ERROR(WritePem(pki.ca_file, ca->get(), nullptr));
  CCB_RETURN_IF_ERROR(WritePem(pki.certificate_file, server->get(), nullptr));
  CCB_RETURN_IF_ERROR(WritePem(pki.private_key_file, nullptr, server_key.get()));
  return pki;
}

}  // namespace ccburst::net::testing
