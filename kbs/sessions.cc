#include "kbs/sessions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/random.h"

namespace ccburst::kbs {

namespace {
constexpr size_t kSweepEvery = 256;  // creations per shard between sweeps of that shard
// Shared store: expired sessions deleted per sweep, and the sweep interval's bounds (seconds). A
// random interval keeps replicas from sweeping in step.
constexpr size_t kSharedSweepBatch = 500;
constexpr int kSharedSweepMinS = 5, kSharedSweepMaxS = 15;
// Unattested sessions whose last read SharedGet keeps for the swap (about 2 kB each): far more
// than attestations in flight at once.
constexpr size_t kSharedReadsKept = 1024;

namespace json = core::json;

constexpr const char* kUnknownSession = "session: unknown kbs-session-id (call /auth first)";

// A session as stored in the shared store. `burned` is a failed attempt's tombstone (its nonce
// is spent; it reads as unknown and is swept at its expiry).
std::string EncodeShared(const Session& s, bool burned = false) {
  json::object o;
  o["state"] = burned ? "burned" : (s.state == Session::State::kAttested ? "attested" : "authed");
  o["tee"] = s.tee;
  o["expires"] = core::ToUnixSeconds(s.expires);
  if (!s.nonce.empty()) o["nonce"] = s.nonce;
  if (s.state == Session::State::kAttested) {
    o["token"] = s.token;
    o["digest"] = core::Base64Encode(s.attestation_digest);
  }
  return json::serialize(o);
}

// The stored session, or nullopt for a tombstone; DataLoss on a value we did not write.
absl::StatusOr<std::optional<Session>> DecodeShared(std::string_view text) {
  auto bad = [] { return absl::DataLossError("session: stored session is malformed"); };
  auto doc = core::ParseJson(text);
  if (!doc.ok() || !doc->is_object()) return bad();
  const json::object& o = doc->get_object();
  auto str = [&](std::string_view k) -> std::string {
    const json::value* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  const json::value* exp = o.if_contains("expires");
  if (exp == nullptr || !exp->is_int64()) return bad();
  std::string state = str("state");
  if (state == "burned") return std::optional<Session>();
  Session s;
  s.tee = str("tee");
  s.nonce = str("nonce");
  s.expires = core::FromUnixSeconds(exp->get_int64());
  if (state == "attested") {
    s.state = Session::State::kAttested;
    s.token = str("token");
    auto digest = core::Base64Decode(str("digest"));
    if (!digest.ok()) return bad();
    s.attestation_digest = *std::move(digest);
  } else if (state != "authed") {
    return bad();
  }
  return std::optional<Session>(std::move(s));
}

// The decoded bytes of a base64url segment, if encoding them again gives back exactly `text`
// (so that the token can be rebuilt byte for byte).
bool DecodeExactly(std::string_view text, std::string& out) {
  auto bytes = core::Base64UrlDecode(text);
  if (!bytes.ok() || core::Base64UrlEncode(*bytes) != text) return false;
  out = *std::move(bytes);
  return true;
}
}  // namespace

SessionStore::SessionStore(const core::Clock& clock, std::chrono::seconds timeout,
                           size_t max_sessions, SessionLimits limits, store::KeyValueStore* shared)
    : clock_(clock),
      shared_(shared != nullptr && shared->Shared() ? shared : nullptr),
      timeout_(timeout),
      unattested_timeout_(std::min(timeout, limits.unattested_timeout)),
      max_per_shard_(std::max<size_t>(1, max_sessions / 16)),
      max_unattested_per_source_(limits.max_unattested_per_source) {}

bool SessionStore::AcquireSource(const std::string& source) {
  if (source.empty()) return true;
  std::lock_guard lock(source_mu_);
  size_t& n = unattested_by_source_[source];
  if (max_unattested_per_source_ != 0 && n >= max_unattested_per_source_) return false;
  ++n;
  return true;
}

void SessionStore::ReleaseSource(const std::string& source) {
  if (source.empty()) return;
  std::lock_guard lock(source_mu_);
  auto it = unattested_by_source_.find(source);
  if (it == unattested_by_source_.end()) return;
  if (--it->second == 0) unattested_by_source_.erase(it);
}

void SessionStore::EraseLocked(Shard& shard, absl::flat_hash_map<Id, Entry>::iterator it) {
  if (it->second.state == Session::State::kAuthed) ReleaseSource(it->second.source);
  shard.sessions.erase(it);
}

bool SessionStore::EvictOldestUnattestedLocked(Shard& shard) {
  while (!shard.unattested.empty()) {
    Id id = shard.unattested.front();
    shard.unattested.pop_front();
    auto it = shard.sessions.find(id);
    if (it != shard.sessions.end() && it->second.state == Session::State::kAuthed) {
      EraseLocked(shard, it);
      return true;
    }
  }
  return false;
}

void SessionStore::SweepLocked(Shard& shard, core::TimePoint now) {
  for (auto it = shard.sessions.begin(); it != shard.sessions.end();) {
    if (now >= it->second.expires) {
      EraseLocked(shard, it++);
    } else {
      ++it;
    }
  }
  std::erase_if(shard.unattested, [&](const Id& id) {
    auto it = shard.sessions.find(id);
    return it == shard.sessions.end() || it->second.state != Session::State::kAuthed;
  });
  shard.creates_since_sweep = 0;
}

// Ids are handed out as lowercase hex; anything else names no session.
bool SessionStore::ParseId(std::string_view text, Id& id) {
  if (text.size() != 2 * id.size()) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < id.size(); ++i) {
    int hi = nibble(text[2 * i]);
    int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    id[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

SessionStore::Shard& SessionStore::ShardFor(const Id& id) {
  // The ids are random: any of their bytes spreads sessions evenly.
  return shards_[id[0] % shards_.size()];
}

void SessionStore::Pack(std::string_view token, std::string_view digest, Entry& entry) {
  entry.packed = false;
  entry.digest_size = static_cast<uint32_t>(digest.size());
  entry.signature_size = 0;
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  std::string payload, signature;
  if (dot2 != std::string_view::npos && token.find('.', dot2 + 1) == std::string_view::npos) {
    std::string_view header = token.substr(0, dot1 + 1);
    std::call_once(header_once_, [&] { token_header_ = std::string(header); });
    if (header == token_header_ &&
        DecodeExactly(token.substr(dot1 + 1, dot2 - dot1 - 1), payload) &&
        DecodeExactly(token.substr(dot2 + 1), signature)) {
      entry.packed = true;
    }
  }
  entry.data.clear();
  if (entry.packed) {
    entry.signature_size = static_cast<uint32_t>(signature.size());
    entry.data.reserve(digest.size() + signature.size() + payload.size());
    entry.data.append(digest).append(signature).append(payload);
  } else {
    entry.data.reserve(digest.size() + token.size());
    entry.data.append(digest).append(token);
  }
}

Session SessionStore::Unpack(const Entry& entry) const {
  Session s;
  s.state = entry.state;
  s.tee = entry.tee;
  s.nonce = entry.nonce;
  s.expires = entry.expires;
  if (entry.state != Session::State::kAttested) return s;
  std::string_view data = entry.data;
  s.attestation_digest = std::string(data.substr(0, entry.digest_size));
  data.remove_prefix(entry.digest_size);
  if (!entry.packed) {
    s.token = std::string(data);
    return s;
  }
  std::string_view signature = data.substr(0, entry.signature_size);
  std::string_view payload = data.substr(entry.signature_size);
  s.token.reserve(token_header_.size() + 4 * (payload.size() + signature.size()) / 3 + 4);
  s.token.append(token_header_)
      .append(core::Base64UrlEncode(payload))
      .append(".")
      .append(core::Base64UrlEncode(signature));
  return s;
}

absl::StatusOr<std::string> SessionStore::Create(std::string tee, std::string nonce,
                                                 std::string source) {
  if (shared_) return SharedCreate(std::move(tee), std::move(nonce), std::move(source));
  std::string random = crypto::RandomBytes(16);
  Id id;
  std::memcpy(id.data(), random.data(), id.size());
  auto now = clock_.Now();
  if (!AcquireSource(source)) {
    // The source's expired sessions may still be counted: sweep every shard (at most once a
    // second, so a flooding source cannot make every /auth a full sweep), then decide.
    int64_t now_s = core::ToUnixSeconds(now);
    int64_t last = last_full_sweep_.load();
    if (now_s > last && last_full_sweep_.compare_exchange_strong(last, now_s)) Sweep();
    if (!AcquireSource(source)) {
      return absl::ResourceExhaustedError(fmt::format(
          "session: too many unattested sessions from this client (limit {}); attest or wait",
          max_unattested_per_source_));
    }
  }
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  if (++shard.creates_since_sweep >= kSweepEvery || shard.sessions.size() >= max_per_shard_) {
    SweepLocked(shard, now);
  }
  if (shard.sessions.size() >= max_per_shard_ && !EvictOldestUnattestedLocked(shard)) {
    ReleaseSource(source);
    return absl::ResourceExhaustedError(
        fmt::format("session: too many active sessions (limit {}); try again later",
                    max_per_shard_ * shards_.size()));
  }
  Entry e;
  e.tee = std::move(tee);
  e.nonce = std::move(nonce);
  e.source = std::move(source);
  e.expires = now + unattested_timeout_;
  shard.sessions.emplace(id, std::move(e));
  shard.unattested.push_back(id);
  return core::HexEncode(random);
}

absl::StatusOr<Session> SessionStore::Get(const std::string& text) {
  if (shared_) return SharedGet(text);
  Id id;
  if (!ParseId(text, id)) {
    return absl::NotFoundError("session: unknown kbs-session-id (call /auth first)");
  }
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it == shard.sessions.end()) {
    return absl::NotFoundError("session: unknown kbs-session-id (call /auth first)");
  }
  if (clock_.Now() >= it->second.expires) {
    std::string when = core::FormatRfc3339(it->second.expires);
    EraseLocked(shard, it);
    return absl::PermissionDeniedError(fmt::format("session: expired at {}", when));
  }
  return Unpack(it->second);
}

bool SessionStore::MarkAttested(const std::string& text, std::string token, std::string digest) {
  if (shared_) return SharedMarkAttested(text, std::move(token), std::move(digest));
  Id id;
  if (!ParseId(text, id)) return false;
  // Packing (decoding the token) happens outside the shard's lock.
  Entry attested;
  Pack(token, digest, attested);
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it == shard.sessions.end() || clock_.Now() >= it->second.expires) return false;
  if (it->second.state != Session::State::kAuthed) return false;  // the nonce is already spent
  Entry& e = it->second;
  ReleaseSource(e.source);
  std::string().swap(e.source);
  e.state = Session::State::kAttested;
  e.expires = clock_.Now() + timeout_;
  e.packed = attested.packed;
  e.digest_size = attested.digest_size;
  e.signature_size = attested.signature_size;
  e.data = std::move(attested.data);
  std::string().swap(e.nonce);  // spent: release its memory
  return true;
}

void SessionStore::Erase(const std::string& text) {
  if (shared_) return SharedErase(text, false);
  Id id;
  if (!ParseId(text, id)) return;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.sessions.find(id); it != shard.sessions.end()) EraseLocked(shard, it);
}

void SessionStore::EraseIfAuthed(const std::string& text) {
  if (shared_) return SharedErase(text, true);
  Id id;
  if (!ParseId(text, id)) return;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it != shard.sessions.end() && it->second.state == Session::State::kAuthed) {
    EraseLocked(shard, it);
  }
}

size_t SessionStore::Sweep() {
  if (shared_) return SharedSweep();
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

void SessionStore::ReleaseIssued(core::TimePoint now, std::string_view attested_id) {
  std::lock_guard lock(issued_mu_);
  while (!issued_.empty() && now >= issued_.front().expires) {
    ReleaseSource(issued_.front().source);
    issued_.pop_front();
  }
  if (attested_id.empty()) return;
  for (auto it = issued_.begin(); it != issued_.end(); ++it) {
    if (it->id == attested_id) {
      ReleaseSource(it->source);
      issued_.erase(it);
      return;
    }
  }
}

absl::StatusOr<std::string> SessionStore::SharedCreate(std::string tee, std::string nonce,
                                                       std::string source) {
  SharedSweep();  // at most one batch every few seconds per replica
  auto now = clock_.Now();
  if (!AcquireSource(source)) {
    return absl::ResourceExhaustedError(fmt::format(
        "session: too many unattested sessions from this client (limit {}); attest or wait",
        max_unattested_per_source_));
  }
  {
    std::lock_guard lock(issued_mu_);
    if (issued_.size() >= max_per_shard_ * shards_.size()) {
      ReleaseSource(source);
      return absl::ResourceExhaustedError(
          fmt::format("session: too many active sessions (limit {}); try again later",
                      max_per_shard_ * shards_.size()));
    }
  }
  std::string id = core::HexEncode(crypto::RandomBytes(16));
  Session s;
  s.tee = std::move(tee);
  s.nonce = std::move(nonce);
  s.expires = now + unattested_timeout_;
  absl::Status put =
      shared_->PutExpiring(kSharedNamespace, id, EncodeShared(s), core::ToUnixSeconds(s.expires));
  if (!put.ok()) {
    ReleaseSource(source);
    return core::Annotate(put, "session");
  }
  std::lock_guard lock(issued_mu_);
  issued_.push_back({id, std::move(source), s.expires});
  return id;
}

absl::StatusOr<Session> SessionStore::SharedGet(const std::string& text) {
  Id id;
  if (!ParseId(text, id)) return absl::NotFoundError(kUnknownSession);
  CCB_ASSIGN_OR_RETURN(std::optional<store::KeyValueStore::Versioned> stored,
                       shared_->GetVersioned(kSharedNamespace, text), "session");
  if (!stored) return absl::NotFoundError(kUnknownSession);
  CCB_ASSIGN_OR_RETURN(std::optional<Session> s, DecodeShared(stored->value));
  if (!s) return absl::NotFoundError(kUnknownSession);
  if (s->state == Session::State::kAuthed) KeepRead(text, *std::move(stored));
  // Attested on another replica: no longer an unattested session of this replica's client.
  if (s->state == Session::State::kAttested) ReleaseIssued(clock_.Now(), text);
  if (clock_.Now() >= s->expires) {
    // Left to the sweep: deleting here would race a replica that just renewed it.
    return absl::PermissionDeniedError(
        fmt::format("session: expired at {}", core::FormatRfc3339(s->expires)));
  }
  return *std::move(s);
}

bool SessionStore::SharedMarkAttested(const std::string& text, std::string token,
                                      std::string digest) {
  Id id;
  if (!ParseId(text, id)) return false;
  // Usually /attest's Get just read the session: swap from that version in one statement.
  std::optional<store::KeyValueStore::Versioned> read = TakeRead(text);
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (!read) {
      auto stored = shared_->GetVersioned(kSharedNamespace, text);
      if (!stored.ok() || !*stored) return false;
      read = *std::move(*stored);
    }
    auto s = DecodeShared(read->value);
    auto now = clock_.Now();
    if (!s.ok() || !*s || (*s)->state != Session::State::kAuthed || now >= (*s)->expires) {
      return false;
    }
    Session attested = **s;
    attested.state = Session::State::kAttested;
    attested.nonce.clear();  // spent
    attested.token = token;
    attested.attestation_digest = digest;
    attested.expires = now + timeout_;
    // The compare-and-swap from the Authed version read: of replicas racing on this nonce,
    // exactly one changes it.
    auto swapped = shared_->CompareVersionAndSwap(kSharedNamespace, text, read->version,
                                                  EncodeShared(attested),
                                                  core::ToUnixSeconds(attested.expires));
    if (!swapped.ok()) return false;
    if (*swapped) {
      ReleaseIssued(now, text);
      return true;
    }
    // Changed since it was read: attested or burned elsewhere (the next read says so and
    // returns false), or only re-sealed by a key rotation (the next swap succeeds).
    read.reset();
  }
  return false;
}

void SessionStore::KeepRead(const std::string& id, store::KeyValueStore::Versioned read) {
  std::lock_guard lock(read_mu_);
  auto [it, inserted] = read_.insert_or_assign(id, std::move(read));
  if (!inserted) return;
  read_order_.push_back(id);
  while (read_order_.size() > kSharedReadsKept) {
    read_.erase(read_order_.front());  // may be gone already (taken): then a no-op
    read_order_.pop_front();
  }
}

std::optional<store::KeyValueStore::Versioned> SessionStore::TakeRead(const std::string& id) {
  std::lock_guard lock(read_mu_);
  auto it = read_.find(id);
  if (it == read_.end()) return std::nullopt;
  store::KeyValueStore::Versioned read = std::move(it->second);
  read_.erase(it);
  return read;
}

void SessionStore::SharedErase(const std::string& text, bool only_if_authed) {
  Id id;
  if (!ParseId(text, id)) return;
  TakeRead(text);
  if (!only_if_authed) {
    (void)shared_->Delete(kSharedNamespace, text);
  } else {
    // Burn the nonce with a tombstone swapped in only over the Authed value, so that a concurrent
    // attestation that already won (on any replica) is never undone.
    auto stored = shared_->Get(kSharedNamespace, text);
    if (!stored.ok() || !*stored) return;
    auto s = DecodeShared(**stored);
    if (!s.ok() || !*s || (*s)->state != Session::State::kAuthed) return;
    (void)shared_->CompareAndSwap(kSharedNamespace, text, **stored, EncodeShared(**s, true),
                                  core::ToUnixSeconds((*s)->expires));
  }
  ReleaseIssued(clock_.Now(), text);
}

size_t SessionStore::SharedSweep() {
  auto now = clock_.Now();
  ReleaseIssued(now);
  int64_t now_s = core::ToUnixSeconds(now);
  int64_t next = next_shared_sweep_.load();
  if (now_s >= next) {
    thread_local std::minstd_rand rng(std::random_device{}());
    int64_t interval =
        std::uniform_int_distribution<int64_t>(kSharedSweepMinS, kSharedSweepMaxS)(rng);
    if (next_shared_sweep_.compare_exchange_strong(next, now_s + interval)) {
      (void)shared_->DeleteExpired(kSharedNamespace, now_s, kSharedSweepBatch);
    }
  }
  std::lock_guard lock(issued_mu_);
  return issued_.size();
}

}  // namespace ccburst::kbs
