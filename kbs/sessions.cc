#include "kbs/sessions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/aes_gcm.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace ccburst::kbs {

namespace {
constexpr size_t kSweepEvery = 256;  // creations per shard between sweeps of that shard
// Shared store: expired claims deleted per sweep, and the sweep interval's bounds (seconds). A
// random interval keeps replicas from sweeping in step.
constexpr size_t kSharedSweepBatch = 500;
constexpr int kSharedSweepMinS = 5, kSharedSweepMaxS = 15;

namespace json = core::json;

constexpr const char* kUnknownSession = "session: unknown kbs-session-id (call /auth first)";

// Claims in the shared store (see ClaimNonce): the body digest of the attempt that spent the
// nonce, or the mark of a failed one.
constexpr std::string_view kClaimBody = "body ", kClaimBurned = "burned";
// The cookie of a shared store: kCookiePrefix, the key id, '.', base64url(IV | ciphertext | tag).
constexpr std::string_view kCookiePrefix = "v1.";
constexpr std::string_view kCookieKdfInfo = "ccburst kbs-session-id v1 ";
// Sealed cookies are bounded like any header; a longer value names no session.
constexpr size_t kMaxCookieSize = 16 * 1024;

// The sealed bytes of a session: state ('A' Authed, 'T' Attested), expiry (8 bytes, big endian),
// id (16 bytes), then length-prefixed fields: tee, and the nonce (Authed) or the digest, the
// token's header segment, payload and signature (Attested; payload and signature decoded when
// they re-encode exactly, else the verbatim token in the header field and the others empty).
class Writer {
 public:
  void Byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void U64(uint64_t v) {
    for (int i = 7; i >= 0; --i) Byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  void Field(std::string_view bytes) {
    U64(bytes.size());
    out_.append(bytes);
  }
  void Raw(std::string_view bytes) { out_.append(bytes); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Byte(uint8_t& b) {
    if (in_.empty()) return false;
    b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U64(uint64_t& v) {
    v = 0;
    for (int i = 0; i < 8; ++i) {
      uint8_t b = 0;
      if (!Byte(b)) return false;
      v = v << 8 | b;
    }
    return true;
  }
  bool Raw(size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Field(std::string_view& out) {
    uint64_t n = 0;
    return U64(n) && n <= in_.size() && Raw(static_cast<size_t>(n), out);
  }
  bool Done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

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
                           size_t max_sessions, SessionLimits limits, store::KeyValueStore* shared,
                           const store::Keyring* cookie_keys)
    : clock_(clock),
      shared_(shared != nullptr && shared->Shared() ? shared : nullptr),
      timeout_(timeout),
      unattested_timeout_(std::min(timeout, limits.unattested_timeout)),
      max_per_shard_(std::max<size_t>(1, max_sessions / 16)),
      max_unattested_per_source_(limits.max_unattested_per_source) {
  if (!shared_) return;
  if (cookie_keys != nullptr) {
    for (const auto& k : cookie_keys->keys()) {
      cookie_keys_.emplace_back(
          k.id, crypto::HkdfSha256(k.bytes, "", std::string(kCookieKdfInfo) + k.id, 32));
    }
  } else {
    cookie_keys_.emplace_back("process", crypto::RandomBytes(32));
  }
}

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
  if (shared_) {
    SharedSweep();  // at most one batch every few seconds per replica
    Session s;
    s.id = core::HexEncode(crypto::RandomBytes(16));
    s.tee = std::move(tee);
    s.nonce = std::move(nonce);
    s.expires = clock_.Now() + unattested_timeout_;
    return SealCookie(s);
  }
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
  if (shared_) {
    CCB_ASSIGN_OR_RETURN(Session s, OpenCookie(text));
    if (clock_.Now() >= s.expires) {
      return absl::PermissionDeniedError(
          fmt::format("session: expired at {}", core::FormatRfc3339(s.expires)));
    }
    return s;
  }
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
  Session s = Unpack(it->second);
  s.id = text;
  return s;
}

std::optional<std::string> SessionStore::MarkAttested(const std::string& text, std::string token,
                                                      std::string digest) {
  if (shared_) {
    auto s = OpenCookie(text);
    if (!s.ok()) return std::nullopt;
    s->state = Session::State::kAttested;
    s->nonce.clear();  // spent
    s->token = std::move(token);
    s->attestation_digest = std::move(digest);
    s->expires = clock_.Now() + timeout_;
    return SealCookie(*s);
  }
  Id id;
  if (!ParseId(text, id)) return std::nullopt;
  // Packing (decoding the token) happens outside the shard's lock.
  Entry attested;
  Pack(token, digest, attested);
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.sessions.find(id);
  if (it == shard.sessions.end() || clock_.Now() >= it->second.expires) return std::nullopt;
  if (it->second.state != Session::State::kAuthed) return std::nullopt;  // nonce already spent
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
  return text;
}

void SessionStore::Erase(const std::string& text) {
  if (shared_) return EraseIfAuthed(text);  // a cookie cannot be taken back: spend its nonce
  Id id;
  if (!ParseId(text, id)) return;
  Shard& shard = ShardFor(id);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.sessions.find(id); it != shard.sessions.end()) EraseLocked(shard, it);
}

void SessionStore::EraseIfAuthed(const std::string& text, std::string_view digest) {
  if (shared_) {
    auto s = OpenCookie(text);
    if (!s.ok() || s->state != Session::State::kAuthed) return;
    std::optional<std::string> existing;
    auto inserted = shared_->InsertExpiring(kSharedNamespace, s->id, kClaimBurned,
                                            core::ToUnixSeconds(s->expires), &existing);
    // Spent by this attempt (its claim names this body): burn it, so that a retry of a refused
    // body is refused without a second verification. A claim of another body is left alone.
    if (inserted.ok() && !*inserted && !digest.empty() && existing &&
        *existing == std::string(kClaimBody) + std::string(digest)) {
      (void)shared_->CompareAndSwap(kSharedNamespace, s->id, *existing, kClaimBurned,
                                    store::KeyValueStore::kKeepExpiry);
    }
    return;
  }
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

absl::StatusOr<SessionStore::Claim> SessionStore::ClaimNonce(const Session& session,
                                                             std::string_view digest) {
  if (!shared_) return Claim::kFirst;
  std::string body = std::string(kClaimBody) + std::string(digest);
  std::optional<std::string> existing;
  CCB_ASSIGN_OR_RETURN(bool inserted,
                       shared_->InsertExpiring(kSharedNamespace, session.id, body,
                                               core::ToUnixSeconds(session.expires), &existing),
                       "session");
  if (inserted) return Claim::kFirst;
  if (existing && *existing == body) return Claim::kSameBody;
  if (existing && *existing == kClaimBurned) return Claim::kBurned;
  // Another body, or a claim committed during the insert and not readable yet: another attempt.
  return Claim::kSpent;
}

std::string SessionStore::SealCookie(const Session& s) const {
  Writer w;
  w.Byte(s.state == Session::State::kAttested ? 'T' : 'A');
  w.U64(static_cast<uint64_t>(core::ToUnixSeconds(s.expires)));
  Id id{};
  ParseId(s.id, id);
  w.Raw(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
  w.Field(s.tee);
  if (s.state == Session::State::kAuthed) {
    w.Field(s.nonce);
  } else {
    w.Field(s.attestation_digest);
    // The token as its header segment and its payload and signature decoded (a quarter
    // smaller), when they re-encode to exactly the same text; else verbatim.
    std::string_view token = s.token;
    size_t dot1 = token.find('.');
    size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    std::string payload, signature;
    if (dot2 != std::string_view::npos && token.find('.', dot2 + 1) == std::string_view::npos &&
        DecodeExactly(token.substr(dot1 + 1, dot2 - dot1 - 1), payload) &&
        DecodeExactly(token.substr(dot2 + 1), signature) && !signature.empty()) {
      w.Field(token.substr(0, dot1));
      w.Field(payload);
      w.Field(signature);
    } else {
      w.Field(token);
      w.Field("");
      w.Field("");
    }
  }
  const auto& [key_id, key] = cookie_keys_.front();
  std::string iv = crypto::RandomBytes(crypto::kAes256GcmIvSize);
  std::string aad = std::string(kCookiePrefix) + key_id;
  auto sealed = crypto::Aes256GcmEncrypt(key, iv, aad, w.Take());
  std::string cookie = aad;
  cookie.append(".").append(core::Base64UrlEncode(iv + sealed.ciphertext + sealed.tag));
  return cookie;
}

absl::StatusOr<Session> SessionStore::OpenCookie(std::string_view cookie) const {
  auto unknown = [] { return absl::NotFoundError(kUnknownSession); };
  if (cookie.size() > kMaxCookieSize || cookie.substr(0, kCookiePrefix.size()) != kCookiePrefix) {
    return unknown();
  }
  size_t dot = cookie.rfind('.');
  if (dot < kCookiePrefix.size()) return unknown();
  std::string_view key_id = cookie.substr(kCookiePrefix.size(), dot - kCookiePrefix.size());
  const std::string* key = nullptr;
  for (const auto& [id, k] : cookie_keys_) {
    if (id == key_id) key = &k;
  }
  auto bytes = core::Base64UrlDecode(cookie.substr(dot + 1));
  if (key == nullptr || !bytes.ok() ||
      bytes->size() < crypto::kAes256GcmIvSize + crypto::kAes256GcmTagSize) {
    return unknown();
  }
  std::string_view b = *bytes;
  auto plain = crypto::Aes256GcmDecrypt(
      *key, b.substr(0, crypto::kAes256GcmIvSize), cookie.substr(0, dot),
      b.substr(crypto::kAes256GcmIvSize,
               b.size() - crypto::kAes256GcmIvSize - crypto::kAes256GcmTagSize),
      b.substr(b.size() - crypto::kAes256GcmTagSize));
  if (!plain.ok()) return unknown();

  // Sealed by a replica: malformed contents are a bug, not a client's doing; still refused.
  Reader r(*plain);
  Session s;
  uint8_t state = 0;
  uint64_t expires = 0;
  std::string_view id, tee;
  if (!r.Byte(state) || !r.U64(expires) || !r.Raw(16, id) || !r.Field(tee)) return unknown();
  s.id = core::HexEncode(id);
  s.tee = std::string(tee);
  s.expires = core::FromUnixSeconds(static_cast<int64_t>(expires));
  if (state == 'A') {
    std::string_view nonce;
    if (!r.Field(nonce)) return unknown();
    s.nonce = std::string(nonce);
  } else if (state == 'T') {
    std::string_view digest, header, payload, signature;
    if (!r.Field(digest) || !r.Field(header) || !r.Field(payload) || !r.Field(signature)) {
      return unknown();
    }
    s.state = Session::State::kAttested;
    s.attestation_digest = std::string(digest);
    if (signature.empty()) {
      s.token = std::string(header);
    } else {
      s.token.reserve(header.size() + 4 * (payload.size() + signature.size()) / 3 + 6);
      s.token.append(header)
          .append(".")
          .append(core::Base64UrlEncode(payload))
          .append(".")
          .append(core::Base64UrlEncode(signature));
    }
  } else {
    return unknown();
  }
  if (!r.Done()) return unknown();
  return s;
}

size_t SessionStore::SharedSweep() {
  int64_t now_s = core::ToUnixSeconds(clock_.Now());
  int64_t next = next_shared_sweep_.load();
  if (now_s >= next) {
    thread_local std::minstd_rand rng(std::random_device{}());
    int64_t interval =
        std::uniform_int_distribution<int64_t>(kSharedSweepMinS, kSharedSweepMaxS)(rng);
    if (next_shared_sweep_.compare_exchange_strong(next, now_s + interval)) {
      (void)shared_->DeleteExpired(kSharedNamespace, now_s, kSharedSweepBatch);
    }
  }
  return 0;
}

}  // namespace ccburst::kbs
