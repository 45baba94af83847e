// A KeyValueStore that passes every call to another one (a new memory store by default): the
// base of the tests' stand-ins that change one behaviour of a store (a slow Put, an outage, a
// hanging append) and override only that. GetVersioned, CompareVersionAndSwap and the unit hooks
// keep KeyValueStore's defaults, which go through this store's own Get and CompareAndSwap, so an
// override of those covers them too. Tests only: header-only, never linked into apps/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/key_value_store.h"

namespace ccburst::store::testing {

class ForwardingStore : public KeyValueStore {
 public:
  explicit ForwardingStore(std::unique_ptr<KeyValueStore> inner = NewMemoryStore())
      : inner_(std::move(inner)) {}

  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    return inner_->Put(ns, key, value);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    return inner_->Get(ns, key);
  }
  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    return inner_->Delete(ns, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view prefix) override {
    return inner_->List(ns, prefix);
  }
  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    return inner_->CompareAndSwap(ns, key, expected, desired, expires_unix);
  }
  absl::Status Ping() override { return inner_->Ping(); }
  absl::StatusOr<std::vector<std::string>> Namespaces() override { return inner_->Namespaces(); }
  absl::Status PutExpiring(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t expires_unix) override {
    return inner_->PutExpiring(ns, key, value, expires_unix);
  }
  absl::StatusOr<bool> InsertExpiring(std::string_view ns, std::string_view key,
                                      std::string_view value, int64_t expires_unix,
                                      std::optional<std::string>* existing) override {
    return inner_->InsertExpiring(ns, key, value, expires_unix, existing);
  }
  absl::StatusOr<size_t> DeleteExpired(std::string_view ns, int64_t now_unix,
                                       size_t limit) override {
    return inner_->DeleteExpired(ns, now_unix, limit);
  }
  absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                         LogDurability durability) override {
    return inner_->AppendLog(log, build, durability);
  }
  absl::Status SyncLog() override { return inner_->SyncLog(); }
  absl::StatusOr<std::vector<LogEntry>> ReadLog(std::string_view log, int64_t after_seq,
                                                size_t limit) override {
    return inner_->ReadLog(log, after_seq, limit);
  }

 private:
  std::unique_ptr<KeyValueStore> inner_;
};

}  // namespace ccburst::store::testing
