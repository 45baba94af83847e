// OpenSSL 3 objects that are expensive to look up or build and never change: message digests
// fetched once, and per-curve EC domain parameters built once. With them, making an EC key
// (generating one, or importing a public point from a JWK) copies the curve from a template
// instead of building an EC_GROUP from its name (a Montgomery setup with modular inversions on
// every call), and hashing skips the implicit fetch that EVP_sha256() & co. cost on each use.
// Not part of the public API.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/hash.h"
#include "crypto/internal/openssl.h"
#include "crypto/key.h"

namespace ccburst::crypto::internal {

// The implementation of `alg`, fetched once per process.
const EVP_MD* FetchedMd(HashAlg alg);

// Whether `type` is one of the named curves below.
bool IsEcType(KeyType type);

// A fresh EC key pair on the curve of `type` (P-256, P-384, P-521), generated from the cached
// domain parameters. Aborts only if OpenSSL cannot generate (RNG or allocation failure) or
// `type` is not an EC type (programmer error).
PkeyPtr GenerateEc(KeyType type);

// An EC public key from the SEC 1 encoded `point` (0x04 || x || y) on the curve of `type`. The
// point must decode and lie on the curve (OpenSSL checks this while setting it), and then passes
// EVP_PKEY_public_check_quick. On failure returns InvalidArgument carrying only OpenSSL's
// reason ("point is not on curve", "invalid encoding"); callers add their own context.
absl::StatusOr<PkeyPtr> EcPublicFromPoint(KeyType type, std::string_view point);

// The same checks as EcPublicFromPoint (the point decodes, lies on the curve and is not the
// point at infinity) on a cached EC_GROUP, without making a key. Same errors.
absl::Status CheckEcPoint(KeyType type, std::string_view point);

// The affine coordinates of an EC key's public point, each left-padded to the field size of
// `type`; read as one encoded point when the key uses the uncompressed form.
struct EcCoordinates {
  std::string x;
  std::string y;
};
EcCoordinates EcPublicCoordinates(EVP_PKEY* pkey, KeyType type);

}  // namespace ccburst::crypto::internal
