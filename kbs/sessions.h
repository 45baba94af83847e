// KBS protocol sessions: created by /auth (a fresh nonce), consumed by /attest, then carrying the
// attestation result for cookie-authenticated resource requests. In memory and sharded so that
// concurrent clients rarely contend; expired sessions are removed lazily and by Sweep().
//
// Sessions live for the session timeout (5 minutes by default), so at a steady rate of flows the
// store holds rate x timeout of them and their size is what the KBS's memory grows with. An
// attested session therefore keeps only what it needs, packed into one allocation: the token
// without its header (which every token of one attestation service shares; the store keeps it
// once) and with payload and signature decoded, plus the attestation digest. The nonce is
// dropped once spent. See docs/performance.md for the figures.
//
// With a shared store (PostgreSQL: several KBS replicas), sessions live in the store instead, in
// namespace "sessions", sealed like every value (store/encrypted_store.h): a replica that did not
// issue the nonce completes /attest and serves resources, and marking a session attested is a
// compare-and-swap in the database, so of replicas racing on one nonce exactly one wins: from the
// version that /attest's own Get read (kept briefly in memory), so that it is one statement, not
// a read and a swap. Expired
// sessions are deleted in small batches by whichever replica sweeps (at a randomised interval,
// SKIP LOCKED in the database), never all at once. The per-source limit and the cap count the
// unattested sessions this replica issued.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

// The cookie that carries the session id between /auth, /attest and resource requests.
inline constexpr std::string_view kSessionCookie = "kbs-session-id";

struct Session {
  enum class State { kAuthed, kAttested };
  State state = State::kAuthed;
  std::string tee;
  std::string nonce;  // standard base64, as sent in the challenge; empty once attested (spent)
  core::TimePoint expires;
  // Set once attested. Only the token is kept (its claims are decoded when a resource is
  // requested).
  std::string token;
  std::string attestation_digest;  // SHA-256 of the /attest body that produced the token
};

// What keeps a flood of /auth calls (unattested sessions, cheap to make) from crowding out
// attested sessions and new clients.
struct SessionLimits {
  // An Authed session must be attested within this (capped at the session timeout); once
  // attested it lives for the full session timeout from the attestation on.
  std::chrono::seconds unattested_timeout{60};
  // Unexpired Authed sessions one source (client IP address) may hold; 0 = no limit.
  size_t max_unattested_per_source = 1024;
};

class SessionStore {
 public:
  // `shared`, when given and Shared(), holds the sessions (see the file comment); it must outlive
  // this store. Errors of the shared store are kUnavailable from Create and Get.
  SessionStore(const core::Clock& clock, std::chrono::seconds timeout,
               size_t max_sessions = kDefaultMaxSessions, SessionLimits limits = {},
               store::KeyValueStore* shared = nullptr);
  static constexpr size_t kDefaultMaxSessions = 200'000;
  static constexpr std::string_view kSharedNamespace = "sessions";

  // Whether sessions live in a store shared with other replicas.
  bool shared() const { return shared_ != nullptr; }

  // Creates an Authed session for `source` (the client's address, without port; "" = unknown,
  // not counted); returns its id (32 lowercase hex characters). At the cap, the oldest Authed
  // session is evicted to make room (attested sessions are never evicted for a new one);
  // ResourceExhausted when every session is attested, or when `source` already holds
  // `max_unattested_per_source` unattested sessions.
  absl::StatusOr<std::string> Create(std::string tee, std::string nonce, std::string source = "");

  // The session, or NotFound ("session: unknown kbs-session-id") / PermissionDenied
  // ("session: expired at ...").
  absl::StatusOr<Session> Get(const std::string& id);

  // Compare-and-set: marks the session Attested only if it is still Authed (its nonce unspent),
  // in one step under the shard's lock. False if it vanished, expired or was already attested
  // meanwhile, so concurrent /attest calls on one nonce yield exactly one token.
  bool MarkAttested(const std::string& id, std::string token, std::string digest);

  void Erase(const std::string& id);
  // Erases the session only while it is still Authed: a failed attempt burns an unspent nonce
  // but never a session that a concurrent attempt has just attested.
  void EraseIfAuthed(const std::string& id);
  // Drops expired sessions; returns how many remain (in memory: with a shared store, the sessions
  // live in the database, this deletes one batch of expired ones at most every few seconds, and
  // returns how many unattested sessions this replica issued and still counts).
  size_t Sweep();
  size_t Size() const;
  core::TimePoint ExpiryFor(core::TimePoint now) const { return now + timeout_; }

 private:
  // A session id as the 16 bytes its 32 hex characters encode.
  using Id = std::array<uint8_t, 16>;

  struct Entry {
    Session::State state = Session::State::kAuthed;
    // Whether `data` holds the packed token (see Pack) or the token verbatim.
    bool packed = false;
    uint32_t digest_size = 0;
    uint32_t signature_size = 0;
    core::TimePoint expires;
    std::string tee;
    std::string nonce;
    std::string source;  // Authed only: counted in unattested_by_source_
    // Authed: empty. Attested: digest, then the token: packed as signature bytes followed by
    // payload bytes, or verbatim.
    std::string data;
  };
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<Id, Entry> sessions;
    // Authed sessions in creation order, oldest first, for eviction; may hold ids that were
    // attested or removed since (skipped, and dropped at each sweep).
    std::deque<Id> unattested;
    size_t creates_since_sweep = 0;
  };
  void SweepLocked(Shard& shard, core::TimePoint now);
  // Removes `it` (shard lock held), releasing its source count if it was Authed.
  void EraseLocked(Shard& shard, absl::flat_hash_map<Id, Entry>::iterator it);
  // Evicts the oldest Authed session of `shard`; false if it has none.
  bool EvictOldestUnattestedLocked(Shard& shard);
  bool AcquireSource(const std::string& source);
  void ReleaseSource(const std::string& source);
  static bool ParseId(std::string_view text, Id& id);
  Shard& ShardFor(const Id& id);
  // Fills `entry` with the attestation result; see the file comment.
  void Pack(std::string_view token, std::string_view digest, Entry& entry);
  Session Unpack(const Entry& entry) const;

  // The shared-store versions of the operations above.
  absl::StatusOr<std::string> SharedCreate(std::string tee, std::string nonce, std::string source);
  absl::StatusOr<Session> SharedGet(const std::string& id);
  bool SharedMarkAttested(const std::string& id, std::string token, std::string digest);
  void SharedErase(const std::string& id, bool only_if_authed);
  // Keeps / takes (removing it) the last read of an unattested shared session; see read_.
  void KeepRead(const std::string& id, store::KeyValueStore::Versioned read);
  std::optional<store::KeyValueStore::Versioned> TakeRead(const std::string& id);
  size_t SharedSweep();
  // Releases the source counts of this replica's unattested sessions that expired or that
  // `attested_id` names.
  void ReleaseIssued(core::TimePoint now, std::string_view attested_id = {});

  const core::Clock& clock_;
  store::KeyValueStore* shared_ = nullptr;
  struct Issued {
    std::string id;
    std::string source;
    core::TimePoint expires;
  };
  std::mutex issued_mu_;       // taken before source_mu_, never after
  std::deque<Issued> issued_;  // this replica's unattested shared sessions, oldest first
  std::atomic<int64_t> next_shared_sweep_{0};  // unix seconds
  // Unattested shared sessions as the last SharedGet read them, for the compare-and-swap of
  // SharedMarkAttested that usually follows; bounded, oldest dropped first.
  std::mutex read_mu_;
  absl::flat_hash_map<std::string, store::KeyValueStore::Versioned> read_;
  std::deque<std::string> read_order_;
  std::chrono::seconds timeout_;
  std::chrono::seconds unattested_timeout_;
  size_t max_per_shard_;
  size_t max_unattested_per_source_;
  std::atomic<int64_t> last_full_sweep_{0};  // unix seconds
  std::mutex source_mu_;                     // taken after a shard's lock, never before
  absl::flat_hash_map<std::string, size_t> unattested_by_source_;
  std::array<Shard, 16> shards_;
  // The header segment (with its trailing dot) of the first token stored; written once.
  std::once_flag header_once_;
  std::string token_header_;
};

}  // namespace ccburst::kbs
