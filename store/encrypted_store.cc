#include "store/encrypted_store.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "core/encoding.h"
#include "crypto/aes_gcm.h"
#include "crypto/random.h"

namespace ccburst::store {
namespace {

// The envelope: magic, key-id length (1 byte), key id, IV, tag, ciphertext. The magic starts with
// a NUL byte, which no value the KBS wrote in the clear (JSON, Rego, PEM, secrets entered as text)
// begins with; binary secrets written before encryption was enabled are the one ambiguity, and
// Rotate() seals them on the first run.
constexpr std::string_view kMagic("\0ccbkek1", 8);
constexpr std::string_view kAadLabel("ccburst-kv-v1", 13);

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Binds a value to where it is stored: moving sealed bytes to another namespace or key makes
// them fail to open.
std::string Aad(std::string_view ns, std::string_view key) {
  std::string aad(kAadLabel);
  uint32_t n = static_cast<uint32_t>(ns.size());
  for (int i = 3; i >= 0; --i) aad.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  aad.append(ns).append(key);
  return aad;
}

}  // namespace

absl::StatusOr<Keyring> Keyring::Parse(std::string_view text, std::string_view source) {
  Keyring ring;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format(
          "kek: {} line {}: expected `<key-id> <base64 of 32 bytes>`", source, line_no));
    }
    std::string_view id = line.substr(0, sp);
    std::string_view b64 = Trim(line.substr(sp + 1));
    if (!ValidKeyId(id)) {
      return absl::InvalidArgumentError(fmt::format(
          "kek: {} line {}: key id must be 1 to 64 of [A-Za-z0-9._-]", source, line_no));
    }
    auto bytes =
        core::Base64Decode(b64, core::Base64Alphabet::kStandard, core::Base64Padding::kOptional);
    if (!bytes.ok() || bytes->size() != crypto::kAes256GcmKeySize) {
      return absl::InvalidArgumentError(fmt::format(
          "kek: {} line {}: key `{}` must be the base64 of 32 bytes", source, line_no, id));
    }
    if (ring.Find(id) != nullptr) {
      return absl::InvalidArgumentError(
          fmt::format("kek: {} line {}: duplicate key id `{}`", source, line_no, id));
    }
    ring.keys_.push_back({std::string(id), *std::move(bytes)});
  }
  if (ring.keys_.empty()) {
    return absl::InvalidArgumentError(fmt::format("kek: {} holds no key", source));
  }
  return ring;
}

const KeyEncryptionKey* Keyring::Find(std::string_view id) const {
  for (const auto& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

EncryptedStore::EncryptedStore(std::unique_ptr<KeyValueStore> inner, Keyring keyring)
    : inner_(std::move(inner)), keyring_(std::move(keyring)) {}

std::string EncryptedStore::Seal(std::string_view ns, std::string_view key,
                                 std::string_view value) const {
  const KeyEncryptionKey& kek = keyring_.current();
  std::string iv = crypto::RandomBytes(crypto::kAes256GcmIvSize);
  crypto::Aes256GcmOutput sealed = crypto::Aes256GcmEncrypt(kek.bytes, iv, Aad(ns, key), value);
  std::string out;
  out.reserve(kMagic.size() + 1 + kek.id.size() + iv.size() + sealed.tag.size() +
              sealed.ciphertext.size());
  out.append(kMagic).push_back(static_cast<char>(kek.id.size()));
  out.append(kek.id).append(iv).append(sealed.tag).append(sealed.ciphertext);
  return out;
}

absl::StatusOr<std::string> EncryptedStore::Open(std::string_view ns, std::string_view key,
                                                 std::string_view stored,
                                                 std::string* key_id) const {
  if (key_id) key_id->clear();
  if (!stored.starts_with(kMagic)) return std::string(stored);  // written before encryption
  std::string_view rest = stored.substr(kMagic.size());
  auto fail = [&](std::string_view why) {
    return absl::DataLossError(
        fmt::format("store: value `{}` in `{}` cannot be decrypted: {}", key, ns, why));
  };
  if (rest.empty()) return fail("truncated envelope");
  size_t id_size = static_cast<unsigned char>(rest[0]);
  rest.remove_prefix(1);
  if (rest.size() < id_size + crypto::kAes256GcmIvSize + crypto::kAes256GcmTagSize) {
    return fail("truncated envelope");
  }
  std::string_view id = rest.substr(0, id_size);
  rest.remove_prefix(id_size);
  const KeyEncryptionKey* kek = keyring_.Find(id);
  if (kek == nullptr) {
    return fail(fmt::format("key id `{}` is not in the key-encryption keyring", id));
  }
  std::string_view iv = rest.substr(0, crypto::kAes256GcmIvSize);
  std::string_view tag = rest.substr(crypto::kAes256GcmIvSize, crypto::kAes256GcmTagSize);
  std::string_view ciphertext = rest.substr(crypto::kAes256GcmIvSize + crypto::kAes256GcmTagSize);
  auto plain = crypto::Aes256GcmDecrypt(kek->bytes, iv, Aad(ns, key), ciphertext, tag);
  if (!plain.ok()) return fail(fmt::format("authentication failed under key id `{}`", id));
  if (key_id) *key_id = std::string(id);
  return plain;
}

absl::Status EncryptedStore::Put(std::string_view ns, std::string_view key,
                                 std::string_view value) {
  return inner_->Put(ns, key, Seal(ns, key, value));
}

absl::Status EncryptedStore::PutExpiring(std::string_view ns, std::string_view key,
                                         std::string_view value, int64_t expires_unix) {
  return inner_->PutExpiring(ns, key, Seal(ns, key, value), expires_unix);
}

absl::StatusOr<bool> EncryptedStore::InsertExpiring(std::string_view ns, std::string_view key,
                                                    std::string_view value, int64_t expires_unix,
                                                    std::optional<std::string>* existing) {
  std::optional<std::string> sealed;
  CCB_ASSIGN_OR_RETURN(
      bool inserted, inner_->InsertExpiring(ns, key, Seal(ns, key, value), expires_unix, &sealed));
  if (!inserted && existing != nullptr) {
    existing->reset();
    if (sealed) {
      CCB_ASSIGN_OR_RETURN(std::string plain, Open(ns, key, *sealed));
      *existing = std::move(plain);
    }
  }
  return inserted;
}

absl::StatusOr<std::optional<std::string>> EncryptedStore::Get(std::string_view ns,
                                                               std::string_view key) {
  CCB_ASSIGN_OR_RETURN(std::optional<std::string> stored, inner_->Get(ns, key));
  if (!stored) return stored;
  CCB_ASSIGN_OR_RETURN(std::string plain, Open(ns, key, *stored));
  return std::optional<std::string>(std::move(plain));
}

absl::StatusOr<std::optional<KeyValueStore::Versioned>> EncryptedStore::GetVersioned(
    std::string_view ns, std::string_view key) {
  CCB_ASSIGN_OR_RETURN(std::optional<Versioned> stored, inner_->GetVersioned(ns, key));
  if (!stored) return stored;
  CCB_ASSIGN_OR_RETURN(stored->value, Open(ns, key, stored->value));
  return stored;
}

absl::StatusOr<bool> EncryptedStore::Delete(std::string_view ns, std::string_view key) {
  return inner_->Delete(ns, key);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EncryptedStore::List(
    std::string_view ns, std::string_view key_prefix) {
  CCB_ASSIGN_OR_RETURN(auto entries, inner_->List(ns, key_prefix));
  for (auto& [k, v] : entries) {
    CCB_ASSIGN_OR_RETURN(std::string plain, Open(ns, k, v));
    v = std::move(plain);
  }
  return entries;
}

absl::StatusOr<bool> EncryptedStore::CompareAndSwap(std::string_view ns, std::string_view key,
                                                    std::string_view expected,
                                                    std::string_view desired,
                                                    int64_t expires_unix) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    CCB_ASSIGN_OR_RETURN(std::optional<std::string> stored, inner_->Get(ns, key));
    if (!stored) return false;
    CCB_ASSIGN_OR_RETURN(std::string plain, Open(ns, key, *stored));
    bool equal = plain == expected;
    OPENSSL_cleanse(plain.data(), plain.size());
    if (!equal) return false;
    CCB_ASSIGN_OR_RETURN(bool swapped, inner_->CompareAndSwap(
                                           ns, key, *stored, Seal(ns, key, desired), expires_unix));
    if (swapped) return true;
    // The sealed bytes changed under us: another writer won, or a rotation re-sealed the same
    // plaintext. Reading again tells which.
  }
  return absl::AbortedError(
      fmt::format("store: compare-and-swap of `{}` in `{}` kept racing; try again", key, ns));
}

absl::StatusOr<RotateResult> EncryptedStore::Rotate() {
  RotateResult result;
  CCB_ASSIGN_OR_RETURN(std::vector<std::string> namespaces, inner_->Namespaces());
  for (const std::string& ns : namespaces) {
    CCB_ASSIGN_OR_RETURN(auto entries, inner_->List(ns, ""));
    for (auto& [key, stored] : entries) {
      std::string key_id;
      CCB_ASSIGN_OR_RETURN(std::string plain, Open(ns, key, stored, &key_id));
      if (key_id == keyring_.current().id) {
        ++result.current;
        continue;
      }
      // Swapping from the bytes read keeps a value written meanwhile (already under the current
      // key), and an expiring entry keeps its expiry.
      CCB_ASSIGN_OR_RETURN(
          bool swapped, inner_->CompareAndSwap(ns, key, stored, Seal(ns, key, plain), kKeepExpiry));
      OPENSSL_cleanse(plain.data(), plain.size());
      if (swapped) ++result.resealed;
    }
  }
  return result;
}

}  // namespace ccburst::store
