// AES-256-GCM with a 12-byte IV and a 16-byte tag: the content encryption of JWE (crypto/jwe.h)
// and of the agent's encrypted files and sealed envelopes.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::crypto {

inline constexpr size_t kAes256GcmKeySize = 32;
inline constexpr size_t kAes256GcmIvSize = 12;
inline constexpr size_t kAes256GcmTagSize = 16;

struct Aes256GcmOutput {
  std::string ciphertext;
  std::string tag;  // 16 bytes
};

// Encrypts `plaintext` under `key` (32 bytes) and `iv` (12 bytes), authenticating `aad` too.
// Wrong key or IV sizes are programmer errors (the process aborts).
Aes256GcmOutput Aes256GcmEncrypt(std::string_view key, std::string_view iv, std::string_view aad,
                                 std::string_view plaintext);

// The plaintext, or PermissionDenied "aes-256-gcm: authentication tag mismatch" when the key, IV,
// AAD, ciphertext or tag (16 bytes) do not belong together; nothing of the plaintext is returned
// then.
absl::StatusOr<std::string> Aes256GcmDecrypt(std::string_view key, std::string_view iv,
                                             std::string_view aad, std::string_view ciphertext,
                                             std::string_view tag);

}  // namespace ccburst::crypto
