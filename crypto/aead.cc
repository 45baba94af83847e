#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "crypto/internal/openssl.h"

namespace ccburst::crypto {
namespace {

using internal::CipherCtxPtr;
using internal::OpensslError;

constexpr int kChunk = 1 << 30;

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) internal::Fatal("AES-256-GCM");
  return cipher;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

GcmSealed Aes256GcmSeal(std::string_view key, std::string_view iv, std::string_view aad,
                        std::string_view plaintext) {
  if (key.size() != kAes256GcmKeySize || iv.size() != kAes256GcmIvSize) {
    internal::Fatal("AES-256-GCM key or IV size");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr || EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), U(key), U(iv), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) {
    internal::Fatal("AES-256-GCM init");
  }
  GcmSealed out;
  out.ciphertext.resize(plaintext.size());
  size_t done = 0;
  while (done < plaintext.size()) {
    int chunk = static_cast<int>(std::min<size_t>(plaintext.size() - done, kChunk));
    if (EVP_EncryptUpdate(ctx.get(), U(out.ciphertext) + done, &len, U(plaintext) + done, chunk) !=
        1) {
      internal::Fatal("AES-256-GCM encrypt");
    }
    done += static_cast<size_t>(len);
  }
  out.tag.resize(kAes256GcmTagSize);
  if (EVP_EncryptFinal_ex(ctx.get(), U(out.ciphertext) + done, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAes256GcmTagSize, U(out.tag)) != 1) {
    internal::Fatal("AES-256-GCM final");
  }
  return out;
}

absl::StatusOr<std::string> Aes256GcmOpen(std::string_view key, std::string_view iv,
                                          std::string_view aad, std::string_view ciphertext,
                                          std::string_view tag) {
  if (key.size() != kAes256GcmKeySize || iv.size() != kAes256GcmIvSize ||
      tag.size() != kAes256GcmTagSize) {
    return absl::PermissionDeniedError("aes-256-gcm: authentication tag mismatch");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr || EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), U(key), U(iv), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) {
    internal::Fatal("AES-256-GCM init");
  }
  std::string plaintext(ciphertext.size(), '\0');
  size_t done = 0;
  while (done < ciphertext.size()) {
    int chunk = static_cast<int>(std::min<size_t>(ciphertext.size() - done, kChunk));
    if (EVP_DecryptUpdate(ctx.get(), U(plaintext) + done, &len, U(ciphertext) + done, chunk) != 1) {
      internal::Fatal("AES-256-GCM decrypt");
    }
    done += static_cast<size_t>(len);
  }
  std::string tag_copy(tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAes256GcmTagSize, U(tag_copy)) != 1) {
    internal::Fatal("AES-256-GCM set tag");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), U(plaintext) + done, &len) != 1) {
    OpensslError();
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::PermissionDeniedError("aes-256-gcm: authentication tag mismatch");
  }
  return plaintext;
}

}  // namespace ccburst::crypto
