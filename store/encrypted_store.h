// Encryption at rest for any KeyValueStore: every value is sealed with AES-256-GCM under a
// key-encryption key (KEK) before it reaches the backend, so a copied SQLite file, WAL or
// PostgreSQL dump holds no secret. Each stored value names the id of the key that sealed it and
// is bound to its namespace and key (the AAD), so a value moved to another key does not decrypt.
// Keys (resource paths) stay in the clear: they are what prefix listings scan.
//
// Rotation: the keyring lists the current key first and older keys after it; values sealed under
// an older key stay readable, and Rotate() re-seals them under the current one (compare-and-swap
// per value, so a concurrent write is never lost). Values written before encryption was turned
// on (no envelope) are read as they are and sealed by the next Rotate().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/key_value_store.h"

namespace ccburst::store {

struct KeyEncryptionKey {
  std::string id;     // [A-Za-z0-9._-]{1,64}
  std::string bytes;  // 32 bytes
};

// The KEKs, current first. Text format (a file or an environment variable): one key per line,
// `<id> <base64 of 32 random bytes>`; blank lines and lines starting with `#` are ignored.
// `ccburst keys kek` prints a new line.
class Keyring {
 public:
  // InvalidArgument naming `source` and the line on a malformed id, key or duplicate id, or when
  // there is no key at all.
  static absl::StatusOr<Keyring> Parse(std::string_view text, std::string_view source);

  const KeyEncryptionKey& current() const { return keys_.front(); }
  // The key with `id`, or null.
  const KeyEncryptionKey* Find(std::string_view id) const;
  // Every key, current first.
  const std::vector<KeyEncryptionKey>& keys() const { return keys_; }

 private:
  std::vector<KeyEncryptionKey> keys_;
};

// What Rotate() did.
struct RotateResult {
  size_t resealed = 0;  // values moved to the current key (or sealed for the first time)
  size_t current = 0;   // values already under the current key
};

class EncryptedStore final : public KeyValueStore {
 public:
  EncryptedStore(std::unique_ptr<KeyValueStore> inner, Keyring keyring);

  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override;
  // A value that does not decrypt (unknown key id, altered bytes, moved to another key) is
  // DataLoss naming the namespace, key and reason.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override;
  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view key_prefix) override;
  // Compares plaintexts: reads the sealed value, opens it, and swaps the sealed bytes it read
  // (atomic in the backend); retried while only the sealing changed (a concurrent rotation).
  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override;
  // The plaintext, versioned by the sealed bytes: CompareVersionAndSwap is then the backend's
  // compare-and-swap alone, without CompareAndSwap's read.
  absl::StatusOr<std::optional<Versioned>> GetVersioned(std::string_view ns,
                                                        std::string_view key) override;
  absl::StatusOr<bool> CompareVersionAndSwap(std::string_view ns, std::string_view key,
                                             std::string_view version, std::string_view desired,
                                             int64_t expires_unix) override {
    return inner_->CompareVersionAndSwap(ns, key, version, Seal(ns, key, desired), expires_unix);
  }
  absl::Status Ping() override { return inner_->Ping(); }
  void BeginUnit() override { inner_->BeginUnit(); }
  void EndUnit() override { inner_->EndUnit(); }
  bool Shared() const override { return inner_->Shared(); }
  absl::Status PutExpiring(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t expires_unix) override;
  // The value sealed like every other; a present value is opened for `existing`.
  absl::StatusOr<bool> InsertExpiring(std::string_view ns, std::string_view key,
                                      std::string_view value, int64_t expires_unix,
                                      std::optional<std::string>* existing) override;
  absl::StatusOr<size_t> DeleteExpired(std::string_view ns, int64_t now_unix,
                                       size_t limit) override {
    return inner_->DeleteExpired(ns, now_unix, limit);
  }
  absl::StatusOr<std::vector<std::string>> Namespaces() override { return inner_->Namespaces(); }
  // The log is not sealed: audit records hold digests and identifiers, never secrets, and an
  // auditor reads them without the KBS's keyring.
  absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                         LogDurability durability) override {
    return inner_->AppendLog(log, build, durability);
  }
  absl::Status SyncLog() override { return inner_->SyncLog(); }
  absl::StatusOr<std::vector<LogEntry>> ReadLog(std::string_view log, int64_t after_seq,
                                                size_t limit) override {
    return inner_->ReadLog(log, after_seq, limit);
  }

  // Re-seals every value of every namespace that is not under the current key.
  absl::StatusOr<RotateResult> Rotate();

  // The sealed form of `value` (exposed for tests: what the backend stores).
  std::string Seal(std::string_view ns, std::string_view key, std::string_view value) const;

 private:
  // The plaintext of a stored value; `key_id` receives the sealing key's id ("" = not sealed).
  absl::StatusOr<std::string> Open(std::string_view ns, std::string_view key,
                                   std::string_view stored, std::string* key_id = nullptr) const;

  std::unique_ptr<KeyValueStore> inner_;
  Keyring keyring_;
};

}  // namespace ccburst::store
