// Asymmetric keys as cheap value types: PublicKey and PrivateKey share one reference-counted
// EVP_PKEY, so copies cost an atomic increment. Only the key kinds the KBS protocol, EAR tokens
// and admin tokens use are accepted: EC P-256/P-384/P-521, Ed25519 and RSA (2048..16384 bits).
// Keys come from PEM (SubjectPublicKeyInfo, PKCS#8, traditional EC/RSA) or JWK (RFC 7517/7518),
// and convert back to both.
#pragma once

#include <openssl/types.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::crypto {

enum class KeyType { kEcP256, kEcP384, kEcP521, kEd25519, kRsa };

// "EC P-256", "EC P-384", "EC P-521", "Ed25519", "RSA" (for messages).
std::string_view KeyTypeName(KeyType type);
// The JWK `crv` of an EC/OKP key type ("P-256", ..., "Ed25519"); empty for RSA.
std::string_view JwkCurveName(KeyType type);
// Field size in bytes of an EC key type (32, 48, 66); 0 otherwise.
size_t EcFieldBytes(KeyType type);

namespace internal {
// Owning, copyable reference to an EVP_PKEY (EVP_PKEY_up_ref on copy).
class PkeyRef {
 public:
  PkeyRef() = default;
  explicit PkeyRef(EVP_PKEY* owned) : pkey_(owned) {}
  PkeyRef(const PkeyRef& other);
  PkeyRef& operator=(const PkeyRef& other);
  PkeyRef(PkeyRef&& other) noexcept : pkey_(other.pkey_) { other.pkey_ = nullptr; }
  PkeyRef& operator=(PkeyRef&& other) noexcept;
  ~PkeyRef();
  EVP_PKEY* get() const { return pkey_; }

 private:
  EVP_PKEY* pkey_ = nullptr;
};
}  // namespace internal

class PublicKey {
 public:
  // Parses a PEM public key: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA PUBLIC KEY" (PKCS#1), or
  // the key of a "CERTIFICATE". Unparseable input or an unsupported key kind is InvalidArgument.
  static absl::StatusOr<PublicKey> FromPem(std::string_view pem);
  // Reads `path` and parses it as FromPem does; a missing file is NotFound.
  static absl::StatusOr<PublicKey> LoadPemFile(const std::string& path);
  // Parses a public JWK: EC {crv: P-256|P-384|P-521, x, y} (coordinates must be exactly the field
  // size and the point on the curve), RSA {n, e}, OKP {crv: Ed25519, x}. Other members (alg, kid,
  // use, d, ...) are ignored. Errors are InvalidArgument and name the bad member.
  static absl::StatusOr<PublicKey> FromJwk(const boost::json::object& jwk);
  // Takes a new reference on `pkey` (which may also hold a private key; only the public half is
  // ever exported). Unsupported kinds are InvalidArgument.
  static absl::StatusOr<PublicKey> FromEvp(EVP_PKEY* pkey);

  // The public JWK with exactly the RFC 7638 required members in lexicographic order:
  // EC {"crv","kty","x","y"}, RSA {"e","kty","n"}, OKP {"crv","kty","x"}; base64url without
  // padding, EC coordinates left-padded to the field size.
  boost::json::object ToJwk() const;
  // "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo).
  std::string ToPem() const;
  // DER SubjectPublicKeyInfo.
  std::string ToDer() const;

  KeyType type() const { return type_; }
  EVP_PKEY* get() const { return pkey_.get(); }
  // Same key material (EVP_PKEY_eq).
  bool Equals(const PublicKey& other) const;

 private:
  friend class PrivateKey;
  PublicKey(internal::PkeyRef pkey, KeyType type) : pkey_(std::move(pkey)), type_(type) {}
  internal::PkeyRef pkey_;
  KeyType type_;
};

class PrivateKey {
 public:
  // Fresh keys from the system RNG; aborts only if OpenSSL cannot generate (RNG/allocation
  // failure). `bits` must be in 2048..16384 (a programmer error otherwise: aborts).
  static PrivateKey GenerateEcP256();
  static PrivateKey GenerateEcP384();
  static PrivateKey GenerateEcP521();
  static PrivateKey GenerateEd25519();
  static PrivateKey GenerateRsa(int bits = 2048);
  static PrivateKey Generate(KeyType type);

  // Parses an unencrypted PEM private key: PKCS#8 "PRIVATE KEY", "EC PRIVATE KEY" or
  // "RSA PRIVATE KEY". Encrypted keys, garbage and unsupported kinds are InvalidArgument.
  static absl::StatusOr<PrivateKey> FromPem(std::string_view pem);
  // Reads `path` and parses it as FromPem does; a missing file is NotFound.
  static absl::StatusOr<PrivateKey> LoadPemFile(const std::string& path);
  // Takes a new reference on `pkey`, which must hold a private key of a supported kind.
  static absl::StatusOr<PrivateKey> FromEvp(EVP_PKEY* pkey);

  // Unencrypted PKCS#8 "-----BEGIN PRIVATE KEY-----".
  std::string ToPem() const;
  // The public half, as a separate EVP_PKEY without the secret.
  PublicKey Public() const;

  KeyType type() const { return type_; }
  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  PrivateKey(internal::PkeyRef pkey, KeyType type) : pkey_(std::move(pkey)), type_(type) {}
  internal::PkeyRef pkey_;
  KeyType type_;
};

// Checks a public JWK exactly as PublicKey::FromJwk does, with the same errors, but for EC keys
// without building an OpenSSL key (which costs more than the checks themselves): for callers
// that only need to know that a key is usable, such as the KBS validating each tee-pubkey at
// /attest. Other key kinds are checked by parsing them.
absl::Status CheckPublicJwk(const boost::json::object& jwk);

// RFC 7638 JWK thumbprint: base64url(SHA-256(canonical public JWK)). Stable key id.
std::string JwkThumbprint(const PublicKey& key);

}  // namespace ccburst::crypto
