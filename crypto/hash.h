// Message digests used across ccburst: SHA-256/384/512 of byte strings, returned as raw digest
// bytes. The KBS protocol names digests by lower-case strings ("sha384" in init-data and the
// supported-hash-algorithms list), so `Digest` accepts those names.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::crypto {

enum class HashAlg { kSha256, kSha384, kSha512 };

// Raw digest bytes (32, 48 and 64 bytes). Never fails for in-memory input.
std::string Sha256(std::string_view data);
std::string Sha384(std::string_view data);
std::string Sha512(std::string_view data);
std::string Hash(HashAlg alg, std::string_view data);

// Digest length in bytes.
size_t HashSize(HashAlg alg);

// "sha256" | "sha384" | "sha512" -> HashAlg; anything else is InvalidArgument
// "hash: unsupported algorithm `md5`".
absl::StatusOr<HashAlg> ParseHashAlg(std::string_view name);
// The lower-case protocol name of `alg`.
std::string_view HashAlgName(HashAlg alg);

// Digest of `data` with the algorithm named `alg` (see ParseHashAlg).
absl::StatusOr<std::string> Digest(std::string_view alg, std::string_view data);

// HKDF-SHA256 (RFC 5869): `length` (at most 255 * 32) bytes of key material derived from the
// input keying material `ikm`, with `salt` and `info` (domain separation).
std::string HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length);

}  // namespace ccburst::crypto
