// The file format of `ccburst-agent decrypt` (an encrypted model or data set shipped beside the
// workload, its key a KBS resource): the 8-byte magic "CCBGCM1\0", a 12-byte IV, the AES-256-GCM
// ciphertext and its 16-byte tag; the magic is the additional authenticated data. The key is 32
// bytes. Documented in docs/agent.md.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::agent {

inline constexpr std::string_view kEncryptedFileMagic{"CCBGCM1\0", 8};

// `plaintext` encrypted under `key` with a fresh random IV. InvalidArgument when the key is not
// 32 bytes.
absl::StatusOr<std::string> EncryptFile(std::string_view key, std::string_view plaintext);

// The plaintext. InvalidArgument for a key that is not 32 bytes, a missing magic or a file
// shorter than magic + IV + tag; PermissionDenied "encrypted file: authentication failed (wrong
// key or modified file)" otherwise.
absl::StatusOr<std::string> DecryptFile(std::string_view key, std::string_view file);

}  // namespace ccburst::agent
