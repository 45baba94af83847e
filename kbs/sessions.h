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
  // Set once attested. Only the token is kept (its claims are decoded when a resource is
  // requested): an attested session costs about the size of its token.
  std::string token;
  std::string attestation_digest;  // SHA-256 of the /attest body that produced the token
};

class SessionStore {
 public:
  SessionStore(const core::Clock& clock, std::chrono::seconds timeout,
               size_t max_sessions = kDefaultMaxSessions);
  static constexpr size_t kDefaultMaxSessions = 200'000;

  // Creates an Authed session; returns its id (32 lowercase hex characters), or
  // ResourceExhausted when `max_sessions` unexpired sessions exist.
  absl::StatusOr<std::string> Create(std::string tee, std::string nonce);

  // The session, or NotFound ("session: unknown kbs-session-id") / PermissionDenied
  // ("session: expired at ...").
  absl::StatusOr<Session> Get(const std::string& id);

  // Marks an Authed session Attested. False if it vanished or expired meanwhile.
  bool MarkAttested(const std::string& id, std::string token, std::string digest);

  void Erase(const std::string& id);
  // Drops expired sessions; returns how many remain.
  size_t Sweep();
  size_t Size() const;
  core::TimePoint ExpiryFor(core::TimePoint now) const { return now + timeout_; }

 private:
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, Session> sessions;
    size_t creates_since_sweep = 0;
  };
  static void SweepLocked(Shard& shard, core::TimePoint now);
  Shard& ShardFor(const std::string& id);

  const core::Clock& clock_;
  std::chrono::seconds timeout_;
  size_t max_per_shard_;
  std::array<Shard, 16> shards_;
};

}  // namespace ccburst::kbs
