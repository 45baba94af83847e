#include "crypto/signature.h"

#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "crypto/internal/evp_cache.h"
#include "crypto/internal/openssl.h"

namespace ccburst::crypto {
namespace {

using internal::MdCtxPtr;
using internal::OpensslError;
using internal::PkeyCtxPtr;

enum class Padding { kNone, kPkcs1, kPss };

const EVP_MD* Md(HashAlg hash) { return internal::FetchedMd(hash); }

bool IsEc(KeyType t) {
  return t == KeyType::kEcP256 || t == KeyType::kEcP384 || t == KeyType::kEcP521;
}

absl::Status RequireKind(KeyType have, bool ok, std::string_view scheme) {
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("signature: {} does not work with a {} key", scheme, KeyTypeName(have)));
}

absl::Status SetPadding(EVP_PKEY_CTX* pctx, Padding padding) {
  if (padding == Padding::kNone) return absl::OkStatus();
  int mode = padding == Padding::kPss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, mode) != 1) {
    return absl::InternalError(fmt::format("signature: set padding: {}", OpensslError()));
  }
  if (padding == Padding::kPss &&
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
    return absl::InternalError(fmt::format("signature: set PSS salt length: {}", OpensslError()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DigestSign(EVP_PKEY* pkey, const EVP_MD* md, Padding padding,
                                       std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) {
    return absl::InternalError(fmt::format("signature: sign init: {}", OpensslError()));
  }
  CCB_RETURN_IF_ERROR(SetPadding(pctx, padding));
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return absl::InternalError(fmt::format("signature: sign: {}", OpensslError()));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    return absl::InternalError(fmt::format("signature: sign: {}", OpensslError()));
  }
  sig.resize(len);
  return sig;
}

absl::Status DigestVerify(EVP_PKEY* pkey, const EVP_MD* md, Padding padding, std::string_view data,
                          std::string_view sig) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) {
    return absl::InternalError(fmt::format("signature: verify init: {}", OpensslError()));
  }
  CCB_RETURN_IF_ERROR(SetPadding(pctx, padding));
  int rc =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
  if (rc != 1) {
    OpensslError();
    return absl::PermissionDeniedError("signature: verification failed");
  }
  return absl::OkStatus();
}

// ECDSA signs a digest, so the message is hashed here and the key operation runs directly:
// cheaper than the EVP_DigestSign* machinery, with the same result (DER Ecdsa-Sig-Value).
absl::StatusOr<std::string> EcdsaSignDer(EVP_PKEY* pkey, HashAlg hash, std::string_view data) {
  std::string digest = Hash(hash, data);
  const auto* tbs = reinterpret_cast<const unsigned char*>(digest.data());
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) != 1) {
    return absl::InternalError(fmt::format("signature: sign init: {}", OpensslError()));
  }
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, tbs, digest.size()) != 1) {
    return absl::InternalError(fmt::format("signature: sign: {}", OpensslError()));
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, tbs,
                    digest.size()) != 1) {
    return absl::InternalError(fmt::format("signature: sign: {}", OpensslError()));
  }
  sig.resize(len);
  return sig;
}

absl::Status EcdsaVerifyDer(EVP_PKEY* pkey, HashAlg hash, std::string_view data,
                            std::string_view der) {
  std::string digest = Hash(hash, data);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (ctx == nullptr || EVP_PKEY_verify_init(ctx.get()) != 1) {
    return absl::InternalError(fmt::format("signature: verify init: {}", OpensslError()));
  }
  int rc =
      EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                      reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  if (rc != 1) {
    OpensslError();
    return absl::PermissionDeniedError("signature: verification failed");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EcdsaRawToDer(std::string_view raw, size_t field_bytes) {
  if (raw.size() != 2 * field_bytes) {
    return absl::InvalidArgumentError(fmt::format(
        "signature: ECDSA signature must be {} bytes (r||s), got {}", 2 * field_bytes, raw.size()));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  internal::BnPtr r(BN_bin2bn(p, static_cast<int>(field_bytes), nullptr));
  internal::BnPtr s(BN_bin2bn(p + field_bytes, static_cast<int>(field_bytes), nullptr));
  internal::EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    internal::Fatal("ECDSA_SIG_set0");
  }
  r.release();
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) internal::Fatal("i2d_ECDSA_SIG");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> EcdsaDerToRaw(std::string_view der, size_t field_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  internal::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    OpensslError();
    return absl::InvalidArgumentError("signature: ECDSA signature is not valid DER");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * field_bytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, static_cast<int>(field_bytes)) < 0 ||
      BN_bn2binpad(s, o + field_bytes, static_cast<int>(field_bytes)) < 0) {
    OpensslError();
    return absl::InvalidArgumentError(
        fmt::format("signature: ECDSA integer wider than {} bytes", field_bytes));
  }
  return out;
}

absl::StatusOr<std::string> SignEcdsa(const PrivateKey& key, HashAlg hash, std::string_view data) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), IsEc(key.type()), "ECDSA"));
  CCB_ASSIGN_OR_RETURN(std::string der, EcdsaSignDer(key.get(), hash, data));
  return EcdsaDerToRaw(der, EcFieldBytes(key.type()));
}

absl::Status VerifyEcdsa(const PublicKey& key, HashAlg hash, std::string_view data,
                         std::string_view signature) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), IsEc(key.type()), "ECDSA"));
  CCB_ASSIGN_OR_RETURN(std::string der, EcdsaRawToDer(signature, EcFieldBytes(key.type())));
  return EcdsaVerifyDer(key.get(), hash, data, der);
}

absl::Status VerifyEcdsaDer(const PublicKey& key, HashAlg hash, std::string_view data,
                            std::string_view der) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), IsEc(key.type()), "ECDSA"));
  return EcdsaVerifyDer(key.get(), hash, data, der);
}

absl::StatusOr<std::string> SignRsaPkcs1(const PrivateKey& key, HashAlg hash,
                                         std::string_view data) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), key.type() == KeyType::kRsa, "RSA PKCS#1"));
  return DigestSign(key.get(), Md(hash), Padding::kPkcs1, data);
}

absl::Status VerifyRsaPkcs1(const PublicKey& key, HashAlg hash, std::string_view data,
                            std::string_view signature) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), key.type() == KeyType::kRsa, "RSA PKCS#1"));
  return DigestVerify(key.get(), Md(hash), Padding::kPkcs1, data, signature);
}

absl::StatusOr<std::string> SignRsaPss(const PrivateKey& key, HashAlg hash, std::string_view data) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), key.type() == KeyType::kRsa, "RSA-PSS"));
  return DigestSign(key.get(), Md(hash), Padding::kPss, data);
}

absl::Status VerifyRsaPss(const PublicKey& key, HashAlg hash, std::string_view data,
                          std::string_view signature) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), key.type() == KeyType::kRsa, "RSA-PSS"));
  return DigestVerify(key.get(), Md(hash), Padding::kPss, data, signature);
}

absl::StatusOr<std::string> SignEd25519(const PrivateKey& key, std::string_view data) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), key.type() == KeyType::kEd25519, "Ed25519"));
  return DigestSign(key.get(), nullptr, Padding::kNone, data);
}

absl::Status VerifyEd25519(const PublicKey& key, std::string_view data,
                           std::string_view signature) {
  CCB_RETURN_IF_ERROR(RequireKind(key.type(), key.type() == KeyType::kEd25519, "Ed25519"));
  if (signature.size() != 64) {
    return absl::InvalidArgumentError(
        fmt::format("signature: Ed25519 signature must be 64 bytes, got {}", signature.size()));
  }
  return DigestVerify(key.get(), nullptr, Padding::kNone, data, signature);
}

}  // namespace ccburst::crypto
