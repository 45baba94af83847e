#include "kbs/sessions.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/encoding.h"
#include "crypto/random.h"

namespace ccburst::kbs {

namespace {
constexpr size_t kSweepEvery = 256;  // creations per shard between sweeps of that shard
}  // namespace

SessionStore::SessionStore(const core::Clock& clock, std::chrono::seconds timeout,
                           size_t max_sessions)
    : clock_(clock), timeout_(timeout), max_per_shard_(std::max<size_t>(1, max_sessions / 16)) {}

void SessionStore::SweepLocked(Shard& shard, core::TimePoint now) {
  for (auto it = shard.sessions.begin(); it != shard.sessions.end();) {
    if (now >= it->second.expires) {
      shard.sessions.erase(it++);
    } else {
      ++it;
    }
  }
  shard.creates_since_sweep = 0;
}

SessionStore::Shard& SessionStore::ShardFor(const std::string& id) {
  size_t h = std::hash<std::string>{}(id);
  return shards_[h % shards_.size()];
}

absl::StatusOr<std::string> SessionStore::Create(std::string tee, std::string nonce) {
  std::string id = core::HexEncode(crypto::RandomBytes(16));
  auto now = clock_.Now();
  Session s;
  s.tee = std::move(tee);
  s.nonce = std::move(nonce);
  s.expires = now + timeout_;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  if (++shard.creates_since_sweep >= kSweepEvery || shard.sessions.size() >= max_per_shard_) {
    SweepLocked(shard, now);
  }
  if (shard.sessions.size() >= max_per_shard_) {
    return absl::ResourceExhaustedError(
        fmt::format("session: too many active sessions (limit {}); try again later",
                    max_per_shard_ * shards_.size()));
  }
  shard.sessions.emplace(id, std::move(s));
  return id;
}

absl::StatusOr<Session> SessionStore::Get(const std::string& id) {
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it == shard.sessions.end()) {
    return absl::NotFoundError("session: unknown kbs-session-id (call /auth first)");
  }
  if (clock_.Now() >= it->second.expires) {
    std::string when = core::FormatRfc3339(it->second.expires);
    shard.sessions.erase(it);
    return absl::PermissionDeniedError(fmt::format("session: expired at {}", when));
  }
  return it->second;
}

bool SessionStore::MarkAttested(const std::string& id, std::string token, std::string digest) {
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it == shard.sessions.end() || clock_.Now() >= it->second.expires) return false;
  it->second.state = Session::State::kAttested;
  it->second.token = std::move(token);
  it->second.attestation_digest = std::move(digest);
  return true;
}

void SessionStore::Erase(const std::string& id) {
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  shard.sessions.erase(id);
}

size_t SessionStore::Sweep() {
  auto now = clock_.Now();
  size_t n = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    SweepLocked(shard, now);
    n += shard.sessions.size();
  }
  return n;
}

size_t SessionStore::Size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.sessions.size();
  }
  return n;
}

}  // namespace ccburst::kbs
