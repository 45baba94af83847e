#include "crypto/key.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/internal/evp_cache.h"
#include "crypto/internal/openssl.h"

namespace ccburst::crypto {

namespace json = boost::json;
using internal::BioPtr;
using internal::BnPtr;
using internal::OpensslError;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

namespace internal {

PkeyRef::PkeyRef(const PkeyRef& other) : pkey_(other.pkey_) {
  if (pkey_ != nullptr) EVP_PKEY_up_ref(pkey_);
}

PkeyRef& PkeyRef::operator=(const PkeyRef& other) {
  if (this != &other) {
    if (other.pkey_ != nullptr) EVP_PKEY_up_ref(other.pkey_);
    EVP_PKEY_free(pkey_);
    pkey_ = other.pkey_;
  }
  return *this;
}

PkeyRef& PkeyRef::operator=(PkeyRef&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(pkey_);
    pkey_ = other.pkey_;
    other.pkey_ = nullptr;
  }
  return *this;
}

PkeyRef::~PkeyRef() { EVP_PKEY_free(pkey_); }

}  // namespace internal

namespace {

constexpr size_t kMaxPemSize = 1 << 20;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;

absl::StatusOr<KeyType> Classify(EVP_PKEY* pkey, std::string_view what) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
      char name[80];
      size_t len = 0;
      if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) {
        OpensslError();
        return absl::InvalidArgumentError(
            fmt::format("{}: EC key without a named curve is not supported", what));
      }
      int nid = OBJ_sn2nid(name);
      if (nid == NID_undef) nid = EC_curve_nist2nid(name);
      if (nid == NID_X9_62_prime256v1) return KeyType::kEcP256;
      if (nid == NID_secp384r1) return KeyType::kEcP384;
      if (nid == NID_secp521r1) return KeyType::kEcP521;
      return absl::InvalidArgumentError(fmt::format("{}: unsupported EC curve `{}`", what, name));
    }
    case EVP_PKEY_ED25519:
      return KeyType::kEd25519;
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(pkey);
      if (bits < kMinRsaBits || bits > kMaxRsaBits) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: RSA modulus of {} bits is outside {}..{}", what, bits, kMinRsaBits, kMaxRsaBits));
      }
      return KeyType::kRsa;
    }
    default: {
      const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(pkey));
      return absl::InvalidArgumentError(
          fmt::format("{}: unsupported key kind `{}`", what, name != nullptr ? name : "unknown"));
    }
  }
}

// Refuses to prompt on the terminal for a pass phrase: encrypted keys simply fail to parse.
int NoPassword(char*, int, int, void*) { return -1; }

absl::StatusOr<std::string> DecodeMember(const json::object& jwk, std::string_view name) {
  CCB_ASSIGN_OR_RETURN(std::string_view text, core::GetString(jwk, name, "jwk"));
  CCB_ASSIGN_OR_RETURN(
      std::string bytes,
      core::Base64Decode(text, core::Base64Alphabet::kUrl, core::Base64Padding::kForbidden),
      "jwk: member `{}` is not valid base64url", name);
  if (bytes.empty()) {
    return absl::InvalidArgumentError(fmt::format("jwk: member `{}` is empty", name));
  }
  return bytes;
}

// RSA keys get only the caller's structural checks (size, odd n, odd e > 1): OpenSSL's RSA public
// check runs SP 800-56B compositeness tests that cost milliseconds per untrusted tee-pubkey and
// add nothing for encryption or verification. (EC points get the quick check in
// internal::EcPublicFromPoint: on the curve, which for the supported cofactor-1 curves also
// means in the prime-order group.)
absl::StatusOr<PkeyPtr> RsaFromData(OSSL_PARAM* params, std::string_view what) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", what, OpensslError()));
  }
  return PkeyPtr(raw);
}

// The members of an EC JWK, decoded and size-checked: the SEC 1 uncompressed point.
struct EcJwk {
  KeyType type;
  std::string_view crv;
  std::string point;  // 0x04 || x || y
};

absl::StatusOr<EcJwk> DecodeEcJwk(const json::object& jwk) {
  CCB_ASSIGN_OR_RETURN(std::string_view crv, core::GetString(jwk, "crv", "jwk"));
  KeyType type;
  if (crv == "P-256") {
    type = KeyType::kEcP256;
  } else if (crv == "P-384") {
    type = KeyType::kEcP384;
  } else if (crv == "P-521") {
    type = KeyType::kEcP521;
  } else {
    return absl::InvalidArgumentError(fmt::format("jwk: unsupported EC curve `{}`", crv));
  }
  const size_t field = EcFieldBytes(type);
  CCB_ASSIGN_OR_RETURN(std::string x, DecodeMember(jwk, "x"));
  CCB_ASSIGN_OR_RETURN(std::string y, DecodeMember(jwk, "y"));
  for (auto [name, value] : {std::pair<const char*, const std::string*>{"x", &x}, {"y", &y}}) {
    if (value->size() != field) {
      return absl::InvalidArgumentError(fmt::format(
          "jwk: member `{}` must be {} bytes for {}, got {}", name, field, crv, value->size()));
    }
  }
  EcJwk out{type, crv, {}};
  out.point.reserve(1 + 2 * field);
  out.point += '\x04';
  out.point += x;
  out.point += y;
  return out;
}

absl::Status NotOnCurve(const EcJwk& ec, const absl::Status& reason) {
  return absl::InvalidArgumentError(
      fmt::format("jwk: point (x, y) is not on curve {}: {}", ec.crv, core::Message(reason)));
}

absl::StatusOr<PkeyPtr> RsaFromJwk(const json::object& jwk) {
  CCB_ASSIGN_OR_RETURN(std::string n, DecodeMember(jwk, "n"));
  CCB_ASSIGN_OR_RETURN(std::string e, DecodeMember(jwk, "e"));
  if (e.size() > 8) {
    return absl::InvalidArgumentError(
        fmt::format("jwk: member `e` of {} bytes is too large", e.size()));
  }
  if (n.size() > kMaxRsaBits / 8 + 1) {
    return absl::InvalidArgumentError(
        fmt::format("jwk: member `n` of {} bytes exceeds {} bits", n.size(), kMaxRsaBits));
  }
  auto to_bn = [](const std::string& bytes) {
    BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                       static_cast<int>(bytes.size()), nullptr));
    if (bn == nullptr) internal::Fatal("BN_bin2bn");
    return bn;
  };
  BnPtr bn_n = to_bn(n);
  BnPtr bn_e = to_bn(e);
  int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return absl::InvalidArgumentError(fmt::format(
        "jwk: RSA modulus `n` of {} bits is outside {}..{}", bits, kMinRsaBits, kMaxRsaBits));
  }
  if (!BN_is_odd(bn_n.get())) {
    return absl::InvalidArgumentError("jwk: RSA modulus `n` must be odd");
  }
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) {
    return absl::InvalidArgumentError("jwk: RSA exponent `e` must be odd and greater than 1");
  }
  internal::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    internal::Fatal("OSSL_PARAM_BLD");
  }
  internal::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (params == nullptr) internal::Fatal("OSSL_PARAM_BLD_to_param");
  return RsaFromData(params.get(), "jwk: RSA public key (n, e) is invalid");
}

absl::StatusOr<PkeyPtr> OkpFromJwk(const json::object& jwk) {
  CCB_ASSIGN_OR_RETURN(std::string_view crv, core::GetString(jwk, "crv", "jwk"));
  if (crv != "Ed25519") {
    return absl::InvalidArgumentError(fmt::format("jwk: unsupported OKP curve `{}`", crv));
  }
  CCB_ASSIGN_OR_RETURN(std::string x, DecodeMember(jwk, "x"));
  if (x.size() != 32) {
    return absl::InvalidArgumentError(
        fmt::format("jwk: member `x` must be 32 bytes for Ed25519, got {}", x.size()));
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(fmt::format("jwk: invalid Ed25519 key: {}", OpensslError()));
  }
  return pkey;
}

std::string BnParam(EVP_PKEY* pkey, const char* name, size_t pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) internal::Fatal("EVP_PKEY_get_bn_param");
  BnPtr bn(raw);
  size_t len = pad_to != 0 ? pad_to : static_cast<size_t>(BN_num_bytes(bn.get()));
  std::string out(len, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len)) <
      0) {
    internal::Fatal("BN_bn2binpad");
  }
  return out;
}

bool HasPrivate(EVP_PKEY* pkey, KeyType type) {
  if (type == KeyType::kEd25519) {
    size_t len = 0;
    bool ok = EVP_PKEY_get_raw_private_key(pkey, nullptr, &len) == 1 && len == 32;
    if (!ok) OpensslError();
    return ok;
  }
  BIGNUM* secret = nullptr;
  const char* name = type == KeyType::kRsa ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
  bool ok = EVP_PKEY_get_bn_param(pkey, name, &secret) == 1 && secret != nullptr;
  BN_clear_free(secret);
  if (!ok) OpensslError();
  return ok;
}

PrivateKey MustWrap(EVP_PKEY* raw, const char* what) {
  PkeyPtr owned(raw);
  if (owned == nullptr) internal::Fatal(what);
  auto key = PrivateKey::FromEvp(owned.get());
  if (!key.ok()) internal::Fatal(what);
  return *std::move(key);
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "EC P-256";
    case KeyType::kEcP384:
      return "EC P-384";
    case KeyType::kEcP521:
      return "EC P-521";
    case KeyType::kEd25519:
      return "Ed25519";
    case KeyType::kRsa:
      return "RSA";
  }
  return "unknown";
}

std::string_view JwkCurveName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "P-256";
    case KeyType::kEcP384:
      return "P-384";
    case KeyType::kEcP521:
      return "P-521";
    case KeyType::kEd25519:
      return "Ed25519";
    case KeyType::kRsa:
      return "";
  }
  return "";
}

size_t EcFieldBytes(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return 32;
    case KeyType::kEcP384:
      return 48;
    case KeyType::kEcP521:
      return 66;
    default:
      return 0;
  }
}

// ---- PublicKey -------------------------------------------------------------------------------

absl::StatusOr<PublicKey> PublicKey::FromEvp(EVP_PKEY* pkey) {
  if (pkey == nullptr) return absl::InvalidArgumentError("key: null EVP_PKEY");
  CCB_ASSIGN_OR_RETURN(KeyType type, Classify(pkey, "key"));
  EVP_PKEY_up_ref(pkey);
  return PublicKey(internal::PkeyRef(pkey), type);
}

absl::StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxPemSize) {
    return absl::InvalidArgumentError(
        fmt::format("key: PEM of {} bytes exceeds {} bytes", pem.size(), kMaxPemSize));
  }
  BioPtr bio = internal::MemBio(pem);
  PkeyPtr pkey;
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    internal::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
    if (cert == nullptr) {
      return absl::InvalidArgumentError(
          fmt::format("key: cannot parse certificate PEM: {}", OpensslError()));
    }
    pkey.reset(X509_get_pubkey(cert.get()));
  } else if (pem.find("-----BEGIN RSA PUBLIC KEY-----") != std::string_view::npos) {
    // PKCS#1 RSAPublicKey has no algorithm identifier; decode its body as an RSA key.
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1) {
      const unsigned char* p = data;
      pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  } else {
    pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr));
  }
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("key: cannot parse public key PEM: {}", OpensslError()));
  }
  return FromEvp(pkey.get());
}

absl::StatusOr<PublicKey> PublicKey::LoadPemFile(const std::string& path) {
  CCB_ASSIGN_OR_RETURN(std::string pem, internal::ReadSmallFile(path, kMaxPemSize, "key"));
  auto key = FromPem(pem);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        fmt::format("{} (file `{}`)", core::Message(key.status()), path));
  }
  return key;
}

absl::StatusOr<PublicKey> PublicKey::FromJwk(const json::object& jwk) {
  CCB_ASSIGN_OR_RETURN(std::string_view kty, core::GetString(jwk, "kty", "jwk"));
  absl::StatusOr<PkeyPtr> pkey = absl::InvalidArgumentError("");
  if (kty == "EC") {
    CCB_ASSIGN_OR_RETURN(EcJwk ec, DecodeEcJwk(jwk));
    auto pkey = internal::EcPublicFromPoint(ec.type, ec.point);
    if (!pkey.ok()) return NotOnCurve(ec, pkey.status());
    // The curve is known from `crv`: no need to classify the new key again.
    return PublicKey(internal::PkeyRef(pkey->release()), ec.type);
  }
  if (kty == "RSA") {
    pkey = RsaFromJwk(jwk);
  } else if (kty == "OKP") {
    pkey = OkpFromJwk(jwk);
  } else {
    return absl::InvalidArgumentError(fmt::format("jwk: unsupported key type `{}`", kty));
  }
  CCB_RETURN_IF_ERROR(pkey.status());
  return FromEvp(pkey->get());
}

absl::Status CheckPublicJwk(const json::object& jwk) {
  CCB_ASSIGN_OR_RETURN(std::string_view kty, core::GetString(jwk, "kty", "jwk"));
  if (kty != "EC") return PublicKey::FromJwk(jwk).status();
  CCB_ASSIGN_OR_RETURN(EcJwk ec, DecodeEcJwk(jwk));
  absl::Status valid = internal::CheckEcPoint(ec.type, ec.point);
  if (!valid.ok()) return NotOnCurve(ec, valid);
  return absl::OkStatus();
}

json::object PublicKey::ToJwk() const {
  json::object jwk;
  switch (type_) {
    case KeyType::kEcP256:
    case KeyType::kEcP384:
    case KeyType::kEcP521: {
      internal::EcCoordinates xy = internal::EcPublicCoordinates(get(), type_);
      jwk["crv"] = JwkCurveName(type_);
      jwk["kty"] = "EC";
      jwk["x"] = core::Base64UrlEncode(xy.x);
      jwk["y"] = core::Base64UrlEncode(xy.y);
      break;
    }
    case KeyType::kRsa:
      jwk["e"] = core::Base64UrlEncode(BnParam(get(), OSSL_PKEY_PARAM_RSA_E, 0));
      jwk["kty"] = "RSA";
      jwk["n"] = core::Base64UrlEncode(BnParam(get(), OSSL_PKEY_PARAM_RSA_N, 0));
      break;
    case KeyType::kEd25519: {
      unsigned char raw[32];
      size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(get(), raw, &len) != 1) {
        internal::Fatal("EVP_PKEY_get_raw_public_key");
      }
      jwk["crv"] = "Ed25519";
      jwk["kty"] = "OKP";
      jwk["x"] = core::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), len));
      break;
    }
  }
  return jwk;
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), get()) != 1) {
    internal::Fatal("PEM_write_bio_PUBKEY");
  }
  return internal::BioContents(bio.get());
}

std::string PublicKey::ToDer() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(get(), &der);
  if (len <= 0) internal::Fatal("i2d_PUBKEY");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool PublicKey::Equals(const PublicKey& other) const {
  return EVP_PKEY_eq(get(), other.get()) == 1;
}

// ---- PrivateKey ------------------------------------------------------------------------------

absl::StatusOr<PrivateKey> PrivateKey::FromEvp(EVP_PKEY* pkey) {
  if (pkey == nullptr) return absl::InvalidArgumentError("key: null EVP_PKEY");
  CCB_ASSIGN_OR_RETURN(KeyType type, Classify(pkey, "key"));
  if (!HasPrivate(pkey, type)) return absl::InvalidArgumentError("key: not a private key");
  EVP_PKEY_up_ref(pkey);
  return PrivateKey(internal::PkeyRef(pkey), type);
}

PrivateKey PrivateKey::GenerateEcP256() {
  return MustWrap(internal::GenerateEc(KeyType::kEcP256).release(), "EC key generation");
}
PrivateKey PrivateKey::GenerateEcP384() {
  return MustWrap(internal::GenerateEc(KeyType::kEcP384).release(), "EC key generation");
}
PrivateKey PrivateKey::GenerateEcP521() {
  return MustWrap(internal::GenerateEc(KeyType::kEcP521).release(), "EC key generation");
}
PrivateKey PrivateKey::GenerateEd25519() {
  return MustWrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "Ed25519 keygen");
}
PrivateKey PrivateKey::GenerateRsa(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) internal::Fatal("GenerateRsa: bits out of range");
  return MustWrap(EVP_RSA_gen(static_cast<unsigned int>(bits)), "EVP_RSA_gen");
}

PrivateKey PrivateKey::Generate(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return GenerateEcP256();
    case KeyType::kEcP384:
      return GenerateEcP384();
    case KeyType::kEcP521:
      return GenerateEcP521();
    case KeyType::kEd25519:
      return GenerateEd25519();
    case KeyType::kRsa:
      return GenerateRsa();
  }
  internal::Fatal("Generate: unknown key type");
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxPemSize) {
    return absl::InvalidArgumentError(
        fmt::format("key: PEM of {} bytes exceeds {} bytes", pem.size(), kMaxPemSize));
  }
  if (pem.find("ENCRYPTED") != std::string_view::npos) {
    return absl::InvalidArgumentError("key: encrypted private keys are not supported");
  }
  BioPtr bio = internal::MemBio(pem);
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("key: cannot parse private key PEM: {}", OpensslError()));
  }
  return FromEvp(pkey.get());
}

absl::StatusOr<PrivateKey> PrivateKey::LoadPemFile(const std::string& path) {
  CCB_ASSIGN_OR_RETURN(std::string pem, internal::ReadSmallFile(path, kMaxPemSize, "key"));
  auto key = FromPem(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        fmt::format("{} (file `{}`)", core::Message(key.status()), path));
  }
  return key;
}

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    internal::Fatal("PEM_write_bio_PrivateKey");
  }
  return internal::BioContents(bio.get());
}

PublicKey PrivateKey::Public() const {
  if (internal::IsEcType(type_)) {
    // The public point on the cached curve parameters: no curve lookup, no parameter export.
    internal::EcCoordinates xy = internal::EcPublicCoordinates(get(), type_);
    auto pub = internal::EcPublicFromPoint(type_, "\x04" + xy.x + xy.y);
    if (!pub.ok()) internal::Fatal("EcPublicFromPoint");
    return PublicKey(internal::PkeyRef(pub->release()), type_);
  }
  // Export/import of the public parameters; much cheaper than a DER round trip through the
  // OpenSSL 3 decoder framework.
  OSSL_PARAM* raw_params = nullptr;
  if (EVP_PKEY_todata(get(), EVP_PKEY_PUBLIC_KEY, &raw_params) != 1) {
    internal::Fatal("EVP_PKEY_todata");
  }
  internal::ParamPtr params(raw_params);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, get(), nullptr));
  EVP_PKEY* pub = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pub, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    internal::Fatal("EVP_PKEY_fromdata");
  }
  return PublicKey(internal::PkeyRef(pub), type_);
}

std::string JwkThumbprint(const PublicKey& key) {
  return core::Base64UrlEncode(Sha256(core::Jcs(json::value(key.ToJwk()))));
}

}  // namespace ccburst::crypto
