#include "kbs/sessions.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "store/encrypted_store.h"
#include "store/testing/forwarding_store.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;

TEST(SessionStore, LifecycleAndExpiry) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300));
  auto id = store.Create("sample", "nonce");
  ASSERT_OK(id);
  EXPECT_EQ(id->size(), 32u);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
  auto s = store.Get(*id);
  ASSERT_OK(s);
  EXPECT_EQ(s->state, Session::State::kAuthed);
  EXPECT_EQ(s->nonce, "nonce");
  EXPECT_TRUE(store.MarkAttested(*id, "token", "digest"));
  EXPECT_EQ(store.Get(*id)->state, Session::State::kAttested);
  EXPECT_EQ(store.Get(*id)->token, "token");
  EXPECT_THAT(store.Get("nope"), StatusIs(absl::StatusCode::kNotFound));

  clock.Advance(std::chrono::seconds(300));
  auto expired = store.Get(*id);
  EXPECT_THAT(expired, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(store.Get(*id), StatusIs(absl::StatusCode::kNotFound));  // removed on first sight
  EXPECT_FALSE(store.MarkAttested(*id, "t", "d"));
}

// Attested sessions keep tokens packed; Get must give back every token byte for byte, whatever
// its shape.
TEST(SessionStore, KeepsTokensExactly) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300));
  std::string header = core::Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})");
  std::string sig = core::Base64UrlEncode(std::string(64, '\x7f'));
  const std::string digest(32, '\xaa');
  const std::vector<std::string> tokens = {
      header + "." + core::Base64UrlEncode(R"({"iss":"a","n":1})") + "." + sig,
      header + "." + core::Base64UrlEncode(std::string(1000, 'p')) + "." + sig,
      header + ".." + sig,  // empty payload
      // Another header than the first token's: kept verbatim.
      core::Base64UrlEncode(R"({"alg":"EdDSA"})") + ".e30." + sig,
      // Base64url that does not re-encode to itself (non-zero trailing bits): kept verbatim.
      header + ".e31." + sig,
      header + ".e30",  // two parts
      "a.b.c.d",
      "not a jwt",
      "",
  };
  for (const std::string& token : tokens) {
    auto id = store.Create("sample", "nonce");
    ASSERT_OK(id);
    ASSERT_TRUE(store.MarkAttested(*id, token, digest));
    auto s = store.Get(*id);
    ASSERT_OK(s);
    EXPECT_EQ(s->state, Session::State::kAttested);
    EXPECT_EQ(s->token, token);
    EXPECT_EQ(s->attestation_digest, digest);
    EXPECT_EQ(s->tee, "sample");
    EXPECT_EQ(s->nonce, "");  // spent
  }
}

TEST(SessionStore, IdsAreExactLowercaseHex) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300));
  auto id = store.Create("sample", "nonce");
  ASSERT_OK(id);
  std::string upper = *id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& other : {upper, *id + "0", id->substr(1), std::string("")}) {
    if (other == *id) continue;
    EXPECT_THAT(store.Get(other), StatusIs(absl::StatusCode::kNotFound)) << other;
    EXPECT_FALSE(store.MarkAttested(other, "t", "d")) << other;
    store.Erase(other);
  }
  EXPECT_OK(store.Get(*id));
  store.Erase(*id);
  EXPECT_THAT(store.Get(*id), StatusIs(absl::StatusCode::kNotFound));
}

TEST(SessionStore, CapsSessionsAndSweepsExpiredOnes) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(clock, std::chrono::seconds(300), 16 * 4);
  std::set<std::string> ids;
  size_t refused = 0;
  // Attested sessions are never evicted for a new one: once every slot holds one, new sessions
  // are refused. (Unattested ones are evicted oldest first; see FloodOfUnattestedSessions...)
  for (int i = 0; i < 400; ++i) {
    auto id = store.Create("sample", "n");
    if (id.ok()) {
      ASSERT_TRUE(store.MarkAttested(*id, "token", "digest"));
      ids.insert(*id);
    } else {
      EXPECT_THAT(id, StatusIs(absl::StatusCode::kResourceExhausted));
      ++refused;
    }
  }
  EXPECT_EQ(store.Size(), 64u);
  EXPECT_EQ(ids.size(), 64u);
  EXPECT_EQ(refused, 400u - 64u);
  // Once they expire, room is made again without an explicit Sweep().
  clock.Advance(std::chrono::seconds(301));
  EXPECT_OK(store.Create("sample", "n"));
  EXPECT_EQ(store.Sweep(), 1u);
}

// Issue 16 item 8: marking attested is a compare-and-set; of many concurrent attempts on one
// session exactly one wins, and a failed attempt cannot erase the session another attested.
TEST(SessionStoreTest, MarkAttestedIsACompareAndSet) {
  SessionStore store(core::SystemClock::Get(), std::chrono::seconds(60));
  auto id = store.Create("sample", "nonce");
  ASSERT_OK(id);
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (store.MarkAttested(*id, "token" + std::to_string(i), "digest")) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_FALSE(store.MarkAttested(*id, "again", "digest"));
  store.EraseIfAuthed(*id);
  auto s = store.Get(*id);
  ASSERT_OK(s);
  EXPECT_EQ(s->state, Session::State::kAttested);
}

// Issue 16 item 3: a flood of unattested sessions cannot lock out new clients or evict attested
// sessions; unattested sessions live briefly; one source holds a bounded number of them.
TEST(SessionStoreTest, FloodOfUnattestedSessionsDoesNotLockOut) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SessionStore store(
      clock, std::chrono::seconds(300), 1600,
      {.unattested_timeout = std::chrono::seconds(20), .max_unattested_per_source = 100});
  auto attested = store.Create("sample", "n", "10.0.0.1");
  ASSERT_OK(attested);
  ASSERT_TRUE(store.MarkAttested(*attested, "token", "digest"));
  // One source is capped...
  int refused = 0;
  for (int i = 0; i < 1000; ++i) {
    if (!store.Create("sample", "n", "10.6.6.6").ok()) ++refused;
  }
  EXPECT_EQ(refused, 900);
  // ...and many sources together fill the store, then evict the oldest unattested sessions,
  // never the attested one.
  for (int i = 0; i < 20'000; ++i) {
    auto id = store.Create("sample", "n", "10.1." + std::to_string(i / 50) + ".1");
    ASSERT_OK(id) << i;
  }
  EXPECT_LE(store.Size(), 1600u);
  auto fresh = store.Create("sample", "n", "192.0.2.1");
  ASSERT_OK(fresh);
  EXPECT_TRUE(store.MarkAttested(*fresh, "t2", "d2"));
  EXPECT_EQ(store.Get(*attested)->state, Session::State::kAttested);

  // Unattested sessions expire after the short lifetime; the flooder's count is released.
  clock.Advance(std::chrono::seconds(21));
  EXPECT_OK(store.Create("sample", "n", "10.6.6.6"));
  auto still = store.Get(*attested);
  ASSERT_OK(still);
  // Attested sessions live the full timeout from their attestation on.
  clock.Advance(std::chrono::seconds(270));
  EXPECT_OK(store.Get(*fresh));
}

// A process-local store that says it is shared, standing in for PostgreSQL: two SessionStores on
// it behave as two replicas (store_pg_test and e2e_replicas run the real database).
class SharedMemoryStore final : public store::testing::ForwardingStore {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    if (down_) return absl::UnavailableError("store: postgres: connect: refused");
    return ForwardingStore::Get(ns, key);
  }
  absl::Status Ping() override { return absl::OkStatus(); }
  bool Shared() const override { return true; }
  absl::Status PutExpiring(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t expires_unix) override {
    if (down_) return absl::UnavailableError("store: postgres: connect: refused");
    return ForwardingStore::PutExpiring(ns, key, value, expires_unix);
  }
  absl::StatusOr<bool> InsertExpiring(std::string_view ns, std::string_view key,
                                      std::string_view value, int64_t expires_unix,
                                      std::optional<std::string>* existing) override {
    if (down_) return absl::UnavailableError("store: postgres: connect: refused");
    ++inserts_;
    return ForwardingStore::InsertExpiring(ns, key, value, expires_unix, existing);
  }
  std::atomic<bool> down_{false};
  std::atomic<int> inserts_{0};
};

store::Keyring TestKeys(std::string_view lines) {
  auto ring = store::Keyring::Parse(lines, "test");
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *ring;
}
const std::string kKey1 = "k1 " + core::Base64Encode(std::string(32, '\x11')) + "\n";
const std::string kKey2 = "k2 " + core::Base64Encode(std::string(32, '\x22')) + "\n";

// Two replicas on one shared store: the session travels in its cookie, which either replica
// reads; the nonce is spent by one insert, which exactly one of racing attempts wins.
TEST(SharedSessionStoreTest, AnotherReplicaCompletesAndExactlyOneReplicaWinsTheNonce) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  store::Keyring keys = TestKeys(kKey1);
  SessionStore a(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv,
                 &keys);
  SessionStore b(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv,
                 &keys);
  ASSERT_TRUE(a.shared());
  auto cookie = a.Create("sample", "nonce-1", "10.0.0.1");
  ASSERT_OK(cookie);
  EXPECT_EQ(kv.inserts_.load(), 0);  // /auth stores nothing
  auto on_b = b.Get(*cookie);
  ASSERT_OK(on_b);
  EXPECT_EQ(on_b->tee, "sample");
  EXPECT_EQ(on_b->nonce, "nonce-1");
  EXPECT_EQ(on_b->state, Session::State::kAuthed);
  EXPECT_EQ(on_b->id.size(), 32u);
  EXPECT_EQ(a.Get(*cookie)->id, on_b->id);

  std::atomic<int> first{0}, spent{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      SessionStore& replica = i % 2 ? a : b;
      auto claim = replica.ClaimNonce(*on_b, "digest-" + std::to_string(i));
      ASSERT_OK(claim);
      if (*claim == SessionStore::Claim::kFirst) ++first;
      if (*claim == SessionStore::Claim::kSpent) ++spent;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(first.load(), 1);
  EXPECT_EQ(spent.load(), 7);

  // The winner's body may retry; its attested session is a new cookie that holds the token.
  std::string winner;
  for (int i = 0; i < 8; ++i) {
    auto claim = a.ClaimNonce(*on_b, "digest-" + std::to_string(i));
    ASSERT_OK(claim);
    if (*claim == SessionStore::Claim::kSameBody) winner = "digest-" + std::to_string(i);
  }
  ASSERT_FALSE(winner.empty());
  const std::string token = "eyJhbGciOiJFUzI1NiJ9.eyJuIjoxfQ.c2ln";
  auto attested_cookie = b.MarkAttested(*cookie, token, winner);
  ASSERT_TRUE(attested_cookie);
  EXPECT_NE(*attested_cookie, *cookie);
  a.EraseIfAuthed(*cookie, "digest-other");  // a failed attempt never undoes the winner
  EXPECT_EQ(*a.ClaimNonce(*on_b, winner), SessionStore::Claim::kSameBody);
  auto attested = a.Get(*attested_cookie);
  ASSERT_OK(attested);
  EXPECT_EQ(attested->state, Session::State::kAttested);
  EXPECT_TRUE(attested->nonce.empty());
  EXPECT_EQ(attested->attestation_digest, winner);
  EXPECT_EQ(attested->token, token);
  EXPECT_EQ(attested->id, on_b->id);

  // Expiry holds on every replica; a burned (failed) nonce cannot be claimed again.
  clock.Advance(std::chrono::seconds(301));
  EXPECT_THAT(b.Get(*attested_cookie), StatusIs(absl::StatusCode::kPermissionDenied,
                                                ::testing::HasSubstr("session: expired at")));
  auto burned = b.Create("sample", "nonce-2");
  ASSERT_OK(burned);
  a.EraseIfAuthed(*burned);
  auto burned_session = b.Get(*burned);
  ASSERT_OK(burned_session);
  EXPECT_EQ(*b.ClaimNonce(*burned_session, "d"), SessionStore::Claim::kBurned);
  // An attempt that won and then failed verification burns its own claim: a retry of that body
  // is refused without a second verification.
  auto refused = b.Create("sample", "nonce-3");
  ASSERT_OK(refused);
  auto refused_session = b.Get(*refused);
  ASSERT_OK(refused_session);
  EXPECT_EQ(*a.ClaimNonce(*refused_session, "body"), SessionStore::Claim::kFirst);
  a.EraseIfAuthed(*refused, "body");
  EXPECT_EQ(*b.ClaimNonce(*refused_session, "body"), SessionStore::Claim::kBurned);
}

// A cookie is sealed: altered, truncated, foreign or unknown-key cookies name no session; after a
// key rotation (new key first) the cookies sealed under the old key still open.
TEST(SharedSessionStoreTest, CookiesAreSealedAndSurviveKeyRotation) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  store::Keyring old_keys = TestKeys(kKey1);
  store::Keyring rotated = TestKeys(kKey2 + kKey1);
  store::Keyring other = TestKeys(kKey2);
  SessionStore before(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv,
                      &old_keys);
  SessionStore after(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv,
                     &rotated);
  SessionStore foreign(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv,
                       &other);
  auto cookie = before.Create("tdx", std::string(44, 'n'));
  ASSERT_OK(cookie);
  EXPECT_TRUE(cookie->starts_with("v1.k1."));
  EXPECT_OK(after.Get(*cookie));
  EXPECT_THAT(foreign.Get(*cookie), StatusIs(absl::StatusCode::kNotFound));
  auto fresh = after.Create("tdx", "n");
  ASSERT_OK(fresh);
  EXPECT_TRUE(fresh->starts_with("v1.k2."));
  EXPECT_THAT(before.Get(*fresh), StatusIs(absl::StatusCode::kNotFound));

  std::string altered = *cookie;
  altered[altered.size() - 5] = altered[altered.size() - 5] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {altered, cookie->substr(0, cookie->size() - 1),
                                 cookie->substr(0, 20), std::string("v1.k1."), std::string("v1."),
                                 std::string(""), std::string("0123456789abcdef0123456789abcdef"),
                                 "v1.k9." + cookie->substr(6), std::string(20000, 'A')}) {
    EXPECT_THAT(before.Get(bad), StatusIs(absl::StatusCode::kNotFound,
                                          ::testing::HasSubstr("unknown kbs-session-id")))
        << bad.substr(0, 40);
  }
}

TEST(SharedSessionStoreTest, KeepsTokensExactly) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  store::Keyring keys = TestKeys(kKey1);
  SessionStore store(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv,
                     &keys);
  std::string header = core::Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})");
  std::string sig = core::Base64UrlEncode(std::string(64, '\x7f'));
  for (const std::string& token :
       {header + "." + core::Base64UrlEncode(std::string(1000, 'p')) + "." + sig,
        header + ".." + sig, header + ".e31." + sig, header + ".e30", std::string("a.b.c.d"),
        std::string("not a jwt"), std::string("")}) {
    auto cookie = store.Create("sample", "nonce");
    ASSERT_OK(cookie);
    auto attested = store.MarkAttested(*cookie, token, std::string(32, '\xaa'));
    ASSERT_TRUE(attested);
    auto s = store.Get(*attested);
    ASSERT_OK(s);
    EXPECT_EQ(s->token, token);
    EXPECT_EQ(s->attestation_digest, std::string(32, '\xaa'));
  }
}

// /auth stores nothing with a shared store, so neither a flood nor an outage stops it; a store
// outage at the claim is kUnavailable and spends nothing.
TEST(SharedSessionStoreTest, AuthStoresNothingAndOutageSpendsNothing) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  store::Keyring keys = TestKeys(kKey1);
  SessionStore a(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions,
                 {.max_unattested_per_source = 2}, &kv, &keys);
  for (int i = 0; i < 10; ++i) ASSERT_OK(a.Create("sample", "n", "10.0.0.9"));
  kv.down_ = true;
  auto cookie = a.Create("sample", "n", "10.0.0.8");
  ASSERT_OK(cookie);
  auto s = a.Get(*cookie);
  ASSERT_OK(s);
  EXPECT_THAT(a.ClaimNonce(*s, "d"), StatusIs(absl::StatusCode::kUnavailable));
  kv.down_ = false;
  EXPECT_EQ(*a.ClaimNonce(*s, "d"), SessionStore::Claim::kFirst);
  EXPECT_EQ(kv.inserts_.load(), 1);
}

}  // namespace
}  // namespace ccburst::kbs
