#include "crypto/hash.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "crypto/internal/evp_cache.h"
#include "crypto/internal/openssl.h"

namespace ccburst::crypto {
namespace {

const EVP_MD* Md(HashAlg alg) { return internal::FetchedMd(alg); }

}  // namespace

std::string Hash(HashAlg alg, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, Md(alg), nullptr) != 1) {
    internal::Fatal("EVP_Digest");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Sha256(std::string_view data) { return Hash(HashAlg::kSha256, data); }
std::string Sha384(std::string_view data) { return Hash(HashAlg::kSha384, data); }
std::string Sha512(std::string_view data) { return Hash(HashAlg::kSha512, data); }

size_t HashSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha256:
      return 32;
    case HashAlg::kSha384:
      return 48;
    case HashAlg::kSha512:
      return 64;
  }
  return 0;
}

absl::StatusOr<HashAlg> ParseHashAlg(std::string_view name) {
  if (name == "sha256") return HashAlg::kSha256;
  if (name == "sha384") return HashAlg::kSha384;
  if (name == "sha512") return HashAlg::kSha512;
  return absl::InvalidArgumentError(fmt::format("hash: unsupported algorithm `{}`", name));
}

std::string_view HashAlgName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha256:
      return "sha256";
    case HashAlg::kSha384:
      return "sha384";
    case HashAlg::kSha512:
      return "sha512";
  }
  return "";
}

absl::StatusOr<std::string> Digest(std::string_view alg, std::string_view data) {
  CCB_ASSIGN_OR_RETURN(HashAlg a, ParseHashAlg(alg));
  return Hash(a, data);
}

std::string HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) internal::Fatal("EVP_KDF_fetch(HKDF)");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) internal::Fatal("EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                        ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  std::string out(length, '\0');
  int ok = EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) internal::Fatal("EVP_KDF_derive(HKDF)");
  return out;
}

}  // namespace ccburst::crypto
