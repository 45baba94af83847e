#include <algorithm>
#include <map>
#include <mutex>

#include "store/key_value_store.h"

namespace ccburst::store {
namespace {

class MemoryStore final : public KeyValueStore {
 public:
  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    data_[std::string(ns)][std::string(key)] = Entry{std::string(value), 0};
    return absl::OkStatus();
  }

  absl::Status PutExpiring(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t expires_unix) override {
    std::lock_guard lock(mu_);
    data_[std::string(ns)][std::string(key)] = Entry{std::string(value), expires_unix};
    return absl::OkStatus();
  }

  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    std::lock_guard lock(mu_);
    auto n = data_.find(ns);
    if (n == data_.end()) return false;
    auto it = n->second.find(key);
    if (it == n->second.end() || it->second.value != expected) return false;
    it->second.value = std::string(desired);
    if (expires_unix != kKeepExpiry) it->second.expires = expires_unix;
    return true;
  }

  absl::StatusOr<bool> InsertExpiring(std::string_view ns, std::string_view key,
                                      std::string_view value, int64_t expires_unix,
                                      std::optional<std::string>* existing) override {
    std::lock_guard lock(mu_);
    auto [it, inserted] = data_[std::string(ns)].try_emplace(
        std::string(key), Entry{std::string(value), expires_unix});
    if (!inserted && existing != nullptr) *existing = it->second.value;
    return inserted;
  }

  absl::StatusOr<size_t> DeleteExpired(std::string_view ns, int64_t now_unix,
                                       size_t limit) override {
    std::lock_guard lock(mu_);
    auto n = data_.find(ns);
    if (n == data_.end()) return size_t{0};
    size_t deleted = 0;
    for (auto it = n->second.begin(); it != n->second.end() && deleted < limit;) {
      if (it->second.expires != 0 && it->second.expires <= now_unix) {
        it = n->second.erase(it);
        ++deleted;
      } else {
        ++it;
      }
    }
    return deleted;
  }

  absl::Status Ping() override { return absl::OkStatus(); }

  absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                         LogDurability /*durability*/) override {
    std::lock_guard lock(mu_);
    std::vector<LogEntry>& entries = logs_[std::string(log)];
    std::optional<LogEntry> last;
    if (!entries.empty()) last = entries.back();
    CCB_ASSIGN_OR_RETURN(std::vector<std::string> values, build(last));
    for (std::string& v : values) {
      entries.push_back(LogEntry{static_cast<int64_t>(entries.size()) + 1, std::move(v)});
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<LogEntry>> ReadLog(std::string_view log, int64_t after_seq,
                                                size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<LogEntry> out;
    auto it = logs_.find(log);
    if (it == logs_.end()) return out;
    for (size_t i = static_cast<size_t>(std::max<int64_t>(after_seq, 0));
         i < it->second.size() && out.size() < limit; ++i) {
      out.push_back(it->second[i]);
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> Namespaces() override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [ns, entries] : data_) {
      if (!entries.empty()) out.push_back(ns);
    }
    return out;
  }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    std::lock_guard lock(mu_);
    auto n = data_.find(ns);
    if (n == data_.end()) return std::optional<std::string>();
    auto it = n->second.find(key);
    if (it == n->second.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second.value);
  }

  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mu_);
    auto n = data_.find(ns);
    if (n == data_.end()) return false;
    auto it = n->second.find(key);
    if (it == n->second.end()) return false;
    n->second.erase(it);
    return true;
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view key_prefix) override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    auto n = data_.find(ns);
    if (n == data_.end()) return out;
    // std::string compares like memcmp, so the map order is the bytewise order.
    for (auto it = n->second.lower_bound(key_prefix);
         it != n->second.end() && std::string_view(it->first).starts_with(key_prefix); ++it) {
      out.emplace_back(it->first, it->second.value);
    }
    return out;
  }

 private:
  struct Entry {
    std::string value;
    int64_t expires = 0;  // unix seconds; 0 = never
  };
  using Namespace = std::map<std::string, Entry, std::less<>>;
  std::mutex mu_;
  std::map<std::string, Namespace, std::less<>> data_;
  std::map<std::string, std::vector<LogEntry>, std::less<>> logs_;  // entry i has seq i + 1
};

}  // namespace

std::unique_ptr<KeyValueStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

}  // namespace ccburst::store
