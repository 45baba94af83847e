// Compact JWS / JWT (RFC 7515, RFC 7519) as used by EAR attestation tokens (ES256) and admin
// bearer tokens (EdDSA, ES256, RSA). Decoding and signature verification are separate steps so
// a caller can pick the key from the header (EAR tokens embed their `jwk`) and then verify.
// Claims such as exp/iss/aud are the caller's business; this file only deals with the envelope.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::crypto {

// The JWS `alg` this library signs with for a key type: ES256 (P-256), ES384 (P-384),
// ES512 (P-521), EdDSA (Ed25519), RS256 (RSA).
std::string_view JwsAlgorithm(KeyType type);

// Signs `claims` as a compact JWT. The header is {"alg":<from the key>,"typ":"JWT"} followed by
// the members of `extra_header` in order (e.g. "jwk", "kid"); `extra_header` may override "typ"
// but not "alg" (InvalidArgument). ES* signatures are raw r||s.
absl::StatusOr<std::string> SignJwt(const PrivateKey& key, const boost::json::object& claims,
                                    const boost::json::object& extra_header = {});

// A decoded, NOT yet verified compact JWS.
struct Jwt {
  boost::json::object header;
  boost::json::object claims;
  std::string signing_input;  // "<b64 header>.<b64 payload>", exactly as received
  std::string signature;      // decoded signature bytes
};

struct JwtLimits {
  size_t max_size = 1 << 20;  // whole compact token, bytes
  size_t max_depth = 64;      // JSON nesting of header and claims
};

// Splits and decodes a compact JWT without verifying it. Errors are InvalidArgument with the
// failing step: "jwt: expected 3 dot-separated parts", "jwt: header is not valid base64url",
// "jwt: payload is not valid JSON: ...", "jwt: header has no string `alg`", size limits.
absl::StatusOr<Jwt> DecodeJwt(std::string_view compact, JwtLimits limits = {});

// Verifies `jwt.signature` over `jwt.signing_input` with `key`. The header alg must fit the key
// (ES256 P-256, ES384 P-384, ES512 P-521, EdDSA Ed25519, RS256/RS384/RS512/PS256/PS384/PS512
// RSA); "none" and HS* are always refused, as is any "crit" header. Errors are PermissionDenied:
// "jwt: algorithm `X` is not accepted", "jwt: algorithm `X` does not match the key type",
// "jwt: signature verification failed".
absl::Status VerifyJwtSignature(const Jwt& jwt, const PublicKey& key);

// DecodeJwt followed by VerifyJwtSignature.
absl::StatusOr<Jwt> DecodeAndVerifyJwt(std::string_view compact, const PublicKey& key,
                                       JwtLimits limits = {});

}  // namespace ccburst::crypto
