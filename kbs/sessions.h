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
// With a shared store (PostgreSQL: several KBS replicas), a session lives in its cookie instead:
// the kbs-session-id value is the session itself (id, TEE, nonce or token, expiry), sealed with
// AES-256-GCM under a key derived (HKDF-SHA256) from the storage key-encryption key that every
// replica holds, so any replica reads it and no client can forge or alter it. /auth and resource
// requests then cost the database nothing; /attest spends the nonce with one insert of a claim
// (namespace "sessions", keyed by the session id, until the session's expiry): of replicas
// racing on one nonce exactly one inserts it (see ClaimNonce), and a successful /attest answers
// with a new cookie that holds the attested session. Expired claims are deleted in small batches
// by whichever replica sweeps (at a randomised interval, SKIP LOCKED in the database). Nothing is
// stored for an unattested session, so a flood of /auth calls fills nothing; the cap and the
// per-source limit apply to the in-memory sessions only. Key rotation: a cookie names the key it
// was sealed under, and every key of the keyring opens the cookies sealed under it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "store/encrypted_store.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

// The cookie that carries the session id between /auth, /attest and resource requests.
inline constexpr std::string_view kSessionCookie = "kbs-session-id";

struct Session {
  enum class State { kAuthed, kAttested };
  State state = State::kAuthed;
  std::string id;  // 32 lowercase hex characters (with a shared store: inside the cookie)
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
  // `shared`, when given and Shared(), is where nonces are spent (see the file comment); it must
  // outlive this store. `cookie_keys` seals the cookies then (a random key of this process when
  // null: one replica only). Errors of the shared store are kUnavailable.
  SessionStore(const core::Clock& clock, std::chrono::seconds timeout,
               size_t max_sessions = kDefaultMaxSessions, SessionLimits limits = {},
               store::KeyValueStore* shared = nullptr, const store::Keyring* cookie_keys = nullptr);
  static constexpr size_t kDefaultMaxSessions = 200'000;
  static constexpr std::string_view kSharedNamespace = "sessions";

  // Whether sessions live in cookies, their nonces spent in a store shared with other replicas.
  bool shared() const { return shared_ != nullptr; }

  // Creates an Authed session for `source` (the client's address, without port; "" = unknown,
  // not counted); returns the kbs-session-id cookie value (in memory: the id, 32 lowercase hex
  // characters). At the cap, the oldest Authed session is evicted to make room (attested
  // sessions are never evicted for a new one); ResourceExhausted when every session is attested,
  // or when `source` already holds `max_unattested_per_source` unattested sessions.
  absl::StatusOr<std::string> Create(std::string tee, std::string nonce, std::string source = "");

  // The session a cookie value names, or NotFound ("session: unknown kbs-session-id") /
  // PermissionDenied ("session: expired at ...").
  absl::StatusOr<Session> Get(const std::string& cookie);

  // How an attempt at /attest stands with the session's nonce (see ClaimNonce).
  enum class Claim {
    kFirst,     // this attempt spent the nonce
    kSameBody,  // an attempt with the same request body spent it (a retry): go on
    kSpent,     // another attempt (another body) spent it: a replay
    kBurned,    // a failed attempt spent it
  };
  // With a shared store: spends `session`'s nonce for an attempt whose request body has SHA-256
  // `digest`, in one insert; kUnavailable when the store fails (nothing spent: the client may
  // retry). In memory: kFirst (MarkAttested is the compare-and-set there).
  absl::StatusOr<Claim> ClaimNonce(const Session& session, std::string_view digest);

  // Marks the session Attested; returns the cookie value that now names it (in memory: the same
  // one; with a shared store: a new one, to be sent back in Set-Cookie). In memory a
  // compare-and-set: only if it is still Authed (its nonce unspent), in one step under the
  // shard's lock, so concurrent /attest calls on one nonce yield exactly one token; nullopt if it
  // vanished, expired or was already attested meanwhile. With a shared store the caller has won
  // ClaimNonce; nullopt only for a cookie that does not open.
  std::optional<std::string> MarkAttested(const std::string& cookie, std::string token,
                                          std::string digest);

  void Erase(const std::string& cookie);
  // Erases the session only while it is still Authed: a failed attempt burns an unspent nonce
  // but never a session that a concurrent attempt has just attested. With a shared store: spends
  // the nonce as burned, or burns the claim of an attempt with body `digest` (this one).
  void EraseIfAuthed(const std::string& cookie, std::string_view digest = {});
  // Drops expired sessions; returns how many remain (in memory; with a shared store this deletes
  // one batch of expired claims at most every few seconds and returns 0).
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

  // The cookie-sealed sessions of a shared store.
  std::string SealCookie(const Session& s) const;
  absl::StatusOr<Session> OpenCookie(std::string_view cookie) const;
  size_t SharedSweep();

  const core::Clock& clock_;
  store::KeyValueStore* shared_ = nullptr;
  // Cookie keys by key id, derived from the keyring; the current one first.
  std::vector<std::pair<std::string, std::string>> cookie_keys_;
  std::atomic<int64_t> next_shared_sweep_{0};  // unix seconds
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
