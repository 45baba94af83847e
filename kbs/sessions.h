// KBS protocol sessions: created by /auth (a fresh nonce), consumed by /attest, then carrying the
// attestation result for cookie-authenticated resource requests. In memory and sharded so that
// concurrent clients rarely contend; expired sessions are removed lazily and by Sweep().
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"

namespace ccburst::kbs {

struct Session {
  enum class State { kAuthed, kAttested };
  State state = State::kAuthed;
  std::string tee;
  std::string nonce;  // standard base64, as sent in the challenge
  core::TimePoint expires;
  // Set once attested.
  std::string token;
  std::shared_ptr<const core::json::object> claims;
  std::string attestation_digest;  // SHA-256 of the /attest body that produced the token
};

class SessionStore {
 public:
  SessionStore(const core::Clock& clock, std::chrono::seconds timeout);

  // Creates an Authed session; returns its id (32 lowercase hex characters).
  std::string Create(std::string tee, std::string nonce);

  // The session, or NotFound ("session: unknown kbs-session-id") / PermissionDenied
  // ("session: expired at ...").
  absl::StatusOr<Session> Get(const std::string& id);

  // Marks an Authed session Attested. False if it vanished or expired meanwhile.
  bool MarkAttested(const std::string& id, std::string token,
                    std::shared_ptr<const core::json::object> claims, std::string digest);

  void Erase(const std::string& id);
  // Drops expired sessions; returns how many remain.
  size_t Sweep();
  size_t Size() const;
  core::TimePoint ExpiryFor(core::TimePoint now) const { return now + timeout_; }

 private:
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, Session> sessions;
  };
  Shard& ShardFor(const std::string& id);

  const core::Clock& clock_;
  std::chrono::seconds timeout_;
  std::array<Shard, 16> shards_;
};

}  // namespace ccburst::kbs
