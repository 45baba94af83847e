#include "kbs/sessions.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "crypto/random.h"

namespace ccburst::kbs {

SessionStore::SessionStore(const core::Clock& clock, std::chrono::seconds timeout)
    : clock_(clock), timeout_(timeout) {}

SessionStore::Shard& SessionStore::ShardFor(const std::string& id) {
  size_t h = std::hash<std::string>{}(id);
  return shards_[h % shards_.size()];
}

std::string SessionStore::Create(std::string tee, std::string nonce) {
  std::string id = core::HexEncode(crypto::RandomBytes(16));
  Session s;
  s.tee = std::move(tee);
  s.nonce = std::move(nonce);
  s.expires = clock_.Now() + timeout_;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
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

bool SessionStore::MarkAttested(const std::string& id, std::string token,
                                std::shared_ptr<const core::json::object> claims,
                                std::string digest) {
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it == shard.sessions.end() || clock_.Now() >= it->second.expires) return false;
  it->second.state = Session::State::kAttested;
  it->second.token = std::move(token);
  it->second.claims = std::move(claims);
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
    for (auto it = shard.sessions.begin(); it != shard.sessions.end();) {
      if (now >= it->second.expires) {
        shard.sessions.erase(it++);
      } else {
        ++it;
      }
    }
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
