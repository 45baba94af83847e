// Digital signatures over byte strings with the key kinds of crypto/key.h: ECDSA with raw
// fixed-width r||s encoding (what JWS and TDX quotes use) or DER, RSA PKCS#1 v1.5 and PSS
// (salt length = digest length, MGF1 with the same digest), and Ed25519 (pure, no prehash).
// Verification failures are PermissionDenied "signature: verification failed"; a key of the
// wrong kind or a malformed signature encoding is InvalidArgument.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/hash.h"
#include "crypto/key.h"

namespace ccburst::crypto {

// ECDSA over hash(data); the result is r||s, each left-padded to the curve's field size.
absl::StatusOr<std::string> SignEcdsa(const PrivateKey& key, HashAlg hash, std::string_view data);
// `signature` must be exactly 2 * field size bytes (r||s).
absl::Status VerifyEcdsa(const PublicKey& key, HashAlg hash, std::string_view data,
                         std::string_view signature);
// `der` is an ASN.1 Ecdsa-Sig-Value.
absl::Status VerifyEcdsaDer(const PublicKey& key, HashAlg hash, std::string_view data,
                            std::string_view der);

absl::StatusOr<std::string> SignRsaPkcs1(const PrivateKey& key, HashAlg hash,
                                         std::string_view data);
absl::Status VerifyRsaPkcs1(const PublicKey& key, HashAlg hash, std::string_view data,
                            std::string_view signature);
absl::StatusOr<std::string> SignRsaPss(const PrivateKey& key, HashAlg hash, std::string_view data);
absl::Status VerifyRsaPss(const PublicKey& key, HashAlg hash, std::string_view data,
                          std::string_view signature);

absl::StatusOr<std::string> SignEd25519(const PrivateKey& key, std::string_view data);
absl::Status VerifyEd25519(const PublicKey& key, std::string_view data, std::string_view signature);

// Conversions between raw r||s (each `field_bytes` wide) and DER. Malformed input is
// InvalidArgument; a DER integer wider than `field_bytes` too.
absl::StatusOr<std::string> EcdsaRawToDer(std::string_view raw, size_t field_bytes);
absl::StatusOr<std::string> EcdsaDerToRaw(std::string_view der, size_t field_bytes);

}  // namespace ccburst::crypto
