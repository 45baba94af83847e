#include "kbs/sessions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/encoding.h"
#include "crypto/random.h"

namespace ccburst::kbs {

namespace {
constexpr size_t kSweepEvery = 256;  // creations per shard between sweeps of that shard

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
                           size_t max_sessions, SessionLimits limits)
    : clock_(clock),
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
  Id id;
  if (!ParseId(text, id)) return;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.sessions.find(id); it != shard.sessions.end()) EraseLocked(shard, it);
}

void SessionStore::EraseIfAuthed(const std::string& text) {
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
