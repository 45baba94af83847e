// JWE secret delivery of the KBS protocol (PROTOCOL.md "Secret delivery"): a resource is
// encrypted to the TEE public key the client bound into its evidence, as a flattened JSON
// serialization {"protected","encrypted_key","iv","ciphertext","tag"} (base64url, no padding, no
// `aad`). Content encryption is always A256GCM with AAD = ASCII of `protected`. Key management:
// RSA1_5, RSA-OAEP-256 (SHA-256, MGF1-SHA-256), and ECDH-ES+A256KW on P-256 / P-521 (Concat KDF
// with SHA-256, empty PartyUInfo/PartyVInfo, AES-256 key wrap of the content key).
// The server encrypts (JweEncrypt); clients (our agent and CLI) decrypt (JweDecrypt).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::crypto {

// Encrypts `plaintext` to the client's `tee-pubkey` JWK, which carries its `alg`:
// EC {kty:"EC", crv:"P-256"|"P-521", alg:"ECDH-ES+A256KW", x, y} or
// RSA {kty:"RSA", alg:"RSA1_5"|"RSA-OAEP-256", n, e}. The `protected` header is byte-exact
// `{"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"crv":..,"kty":"EC","x":..,"y":..}}` or
// `{"alg":"<RSA alg>","enc":"A256GCM"}`. An unknown kty, curve or alg, a mismatched alg/kty, or
// an invalid key is InvalidArgument naming it ("jwe: unsupported key algorithm `A128KW`").
absl::StatusOr<boost::json::object> JweEncrypt(const boost::json::object& tee_pubkey,
                                               std::string_view plaintext);

// Decrypts a flattened JWE produced by JweEncrypt (or any peer using the same algorithms) with
// the client's private key. Header parameters may also come from `unprotected` / `header`
// members (jwcrypto puts `epk` there); an `aad` member is honoured per RFC 7516. Malformed input
// is InvalidArgument and names the member or step ("jwe: `iv` must be 12 bytes, got 16"); a
// failed key unwrap or authentication tag is PermissionDenied
// ("jwe: content decryption failed: authentication tag mismatch").
absl::StatusOr<std::string> JweDecrypt(const PrivateKey& key, const boost::json::object& jwe);

// The `tee-pubkey` object a client sends for `key`: EC P-256/P-521 with alg "ECDH-ES+A256KW" ->
// {kty, crv, alg, x, y}; RSA with alg "RSA1_5" or "RSA-OAEP-256" -> {kty, alg, n, e}. Other
// combinations are InvalidArgument.
absl::StatusOr<boost::json::object> TeePubkeyJwk(const PrivateKey& key, std::string_view alg);

}  // namespace ccburst::crypto
