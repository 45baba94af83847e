#include "crypto/internal/evp_cache.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <memory>

namespace ccburst::crypto::internal {
namespace {

const char* CurveName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "P-256";
    case KeyType::kEcP384:
      return "P-384";
    case KeyType::kEcP521:
      return "P-521";
    default:
      return nullptr;
  }
}

EVP_PKEY* BuildParameters(KeyType type) {
  const char* curve = CurveName(type);
  if (curve == nullptr) Fatal("EC parameters: not an EC key type");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve), 0),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* pkey = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
    Fatal("EC parameters: EVP_PKEY_fromdata");
  }
  return pkey;
}

// Built on first use and kept for the life of the process; only ever read afterwards, which
// OpenSSL allows from many threads at once.
const EVP_PKEY* Parameters(KeyType type) {
  static EVP_PKEY* const p256 = BuildParameters(KeyType::kEcP256);
  switch (type) {
    case KeyType::kEcP256:
      return p256;
    case KeyType::kEcP384: {
      static EVP_PKEY* const p384 = BuildParameters(KeyType::kEcP384);
      return p384;
    }
    case KeyType::kEcP521: {
      static EVP_PKEY* const p521 = BuildParameters(KeyType::kEcP521);
      return p521;
    }
    default:
      Fatal("EC parameters: not an EC key type");
  }
}

// Read-only after construction; concurrent point decoding on one group is safe.
const EC_GROUP* Group(KeyType type) {
  auto build = [](KeyType t) {
    EC_GROUP* group = EC_GROUP_new_by_curve_name(t == KeyType::kEcP256   ? NID_X9_62_prime256v1
                                                 : t == KeyType::kEcP384 ? NID_secp384r1
                                                                         : NID_secp521r1);
    if (group == nullptr) Fatal("EC_GROUP_new_by_curve_name");
    return group;
  };
  static const EC_GROUP* const p256 = build(KeyType::kEcP256);
  switch (type) {
    case KeyType::kEcP256:
      return p256;
    case KeyType::kEcP384: {
      static const EC_GROUP* const p384 = build(KeyType::kEcP384);
      return p384;
    }
    case KeyType::kEcP521: {
      static const EC_GROUP* const p521 = build(KeyType::kEcP521);
      return p521;
    }
    default:
      Fatal("EC group: not an EC key type");
  }
}

EVP_MD* FetchMd(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) Fatal(name);
  return md;
}

std::string BnCoordinate(EVP_PKEY* pkey, const char* name, size_t field) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) Fatal("EVP_PKEY_get_bn_param");
  BnPtr bn(raw);
  std::string out(field, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   static_cast<int>(field)) < 0) {
    Fatal("BN_bn2binpad");
  }
  return out;
}

}  // namespace

const EVP_MD* FetchedMd(HashAlg alg) {
  static const EVP_MD* const sha256 = FetchMd("SHA256");
  static const EVP_MD* const sha384 = FetchMd("SHA384");
  static const EVP_MD* const sha512 = FetchMd("SHA512");
  switch (alg) {
    case HashAlg::kSha256:
      return sha256;
    case HashAlg::kSha384:
      return sha384;
    case HashAlg::kSha512:
      return sha512;
  }
  return sha256;
}

bool IsEcType(KeyType type) { return CurveName(type) != nullptr; }

PkeyPtr GenerateEc(KeyType type) {
  // A context made from a parameters-only key generates on its curve (OpenSSL copies the
  // group) without resolving the curve name again.
  PkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(Parameters(type)), nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    Fatal("EC key generation");
  }
  return PkeyPtr(raw);
}

absl::StatusOr<PkeyPtr> EcPublicFromPoint(KeyType type, std::string_view point) {
  PkeyPtr pkey(EVP_PKEY_new());
  if (pkey == nullptr || EVP_PKEY_copy_parameters(pkey.get(), Parameters(type)) != 1) {
    Fatal("EVP_PKEY_copy_parameters");
  }
  // Decoding the point sets its affine coordinates, which OpenSSL refuses for a point that is
  // not on the curve.
  if (EVP_PKEY_set1_encoded_public_key(
          pkey.get(), reinterpret_cast<const unsigned char*>(point.data()), point.size()) != 1) {
    return absl::InvalidArgumentError(OpensslError());
  }
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return absl::InvalidArgumentError(OpensslError());
  }
  return pkey;
}

absl::Status CheckEcPoint(KeyType type, std::string_view point) {
  const EC_GROUP* group = Group(type);
  EcPointPtr p(EC_POINT_new(group));
  if (p == nullptr) Fatal("EC_POINT_new");
  // As in EcPublicFromPoint: decoding rejects coordinates outside the field ("invalid encoding")
  // and points off the curve ("point is not on curve").
  if (EC_POINT_oct2point(group, p.get(), reinterpret_cast<const unsigned char*>(point.data()),
                         point.size(), nullptr) != 1) {
    return absl::InvalidArgumentError(OpensslError());
  }
  // What EVP_PKEY_public_check_quick adds for these cofactor-1 curves.
  if (EC_POINT_is_at_infinity(group, p.get()) == 1) {
    return absl::InvalidArgumentError("point at infinity");
  }
  return absl::OkStatus();
}

EcCoordinates EcPublicCoordinates(EVP_PKEY* pkey, KeyType type) {
  const size_t field = EcFieldBytes(type);
  unsigned char encoded[1 + 2 * 66];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, encoded, sizeof encoded,
                                      &len) == 1 &&
      len == 1 + 2 * field && encoded[0] == 0x04) {
    const char* p = reinterpret_cast<const char*>(encoded) + 1;
    return {std::string(p, field), std::string(p + field, field)};
  }
  // A key kept in compressed or hybrid form: ask for each coordinate.
  OpensslError();
  return {BnCoordinate(pkey, OSSL_PKEY_PARAM_EC_PUB_X, field),
          BnCoordinate(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, field)};
}

}  // namespace ccburst::crypto::internal
