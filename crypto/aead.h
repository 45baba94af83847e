// AES-256-GCM, the one authenticated cipher of ccburst: JWE content encryption (jwe.h) and the
// KBS's encryption of stored values at rest (store/encrypted_store.h) both use it.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::crypto {

inline constexpr size_t kAes256GcmKeySize = 32;
inline constexpr size_t kAes256GcmIvSize = 12;
inline constexpr size_t kAes256GcmTagSize = 16;

struct GcmSealed {
  std::string ciphertext;  // as long as the plaintext
  std::string tag;         // kAes256GcmTagSize bytes
};

// Encrypts `plaintext` under `key` (32 bytes) and `iv` (12 bytes, never reused with one key),
// authenticating `aad` too. Wrong key or IV sizes are a programming error (checked, fatal).
GcmSealed Aes256GcmSeal(std::string_view key, std::string_view iv, std::string_view aad,
                        std::string_view plaintext);

// Decrypts and checks the tag; PermissionDenied "aes-256-gcm: authentication tag mismatch" when
// the key, IV, AAD, ciphertext or tag differ from the sealing ones (no plaintext is returned).
absl::StatusOr<std::string> Aes256GcmOpen(std::string_view key, std::string_view iv,
                                          std::string_view aad, std::string_view ciphertext,
                                          std::string_view tag);

}  // namespace ccburst::crypto
