#include "agent/encrypted_file.h"

#include <fmt/format.h>

#include "crypto/aes_gcm.h"
#include "crypto/random.h"

namespace ccburst::agent {

absl::StatusOr<std::string> EncryptFile(std::string_view key, std::string_view plaintext) {
  if (key.size() != crypto::kAes256GcmKeySize) {
    return absl::InvalidArgumentError(
        fmt::format("encrypted file: key of {} bytes, want 32", key.size()));
  }
  std::string iv = crypto::RandomBytes(crypto::kAes256GcmIvSize);
  crypto::Aes256GcmOutput sealed =
      crypto::Aes256GcmEncrypt(key, iv, kEncryptedFileMagic, plaintext);
  std::string out(kEncryptedFileMagic);
  out += iv;
  out += sealed.ciphertext;
  out += sealed.tag;
  return out;
}

absl::StatusOr<std::string> DecryptFile(std::string_view key, std::string_view file) {
  if (key.size() != crypto::kAes256GcmKeySize) {
    return absl::InvalidArgumentError(
        fmt::format("encrypted file: key of {} bytes, want 32", key.size()));
  }
  constexpr size_t kOverhead =
      kEncryptedFileMagic.size() + crypto::kAes256GcmIvSize + crypto::kAes256GcmTagSize;
  if (file.size() < kOverhead ||
      file.substr(0, kEncryptedFileMagic.size()) != kEncryptedFileMagic) {
    return absl::InvalidArgumentError("encrypted file: no CCBGCM1 header (not an encrypted file)");
  }
  std::string_view iv = file.substr(kEncryptedFileMagic.size(), crypto::kAes256GcmIvSize);
  std::string_view body = file.substr(kEncryptedFileMagic.size() + crypto::kAes256GcmIvSize);
  std::string_view ciphertext = body.substr(0, body.size() - crypto::kAes256GcmTagSize);
  std::string_view tag = body.substr(body.size() - crypto::kAes256GcmTagSize);
  auto plaintext = crypto::Aes256GcmDecrypt(key, iv, kEncryptedFileMagic, ciphertext, tag);
  if (!plaintext.ok()) {
    return absl::PermissionDeniedError(
        "encrypted file: authentication failed (wrong key or modified file)");
  }
  return plaintext;
}

}  // namespace ccburst::agent
