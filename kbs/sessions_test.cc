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
class SharedMemoryStore final : public store::KeyValueStore {
 public:
  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    return inner_->Put(ns, key, value);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    if (down_) return absl::UnavailableError("store: postgres: connect: refused");
    return inner_->Get(ns, key);
  }
  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    return inner_->Delete(ns, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view prefix) override {
    return inner_->List(ns, prefix);
  }
  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    return inner_->CompareAndSwap(ns, key, expected, desired, expires_unix);
  }
  absl::Status Ping() override { return absl::OkStatus(); }
  bool Shared() const override { return true; }
  absl::Status PutExpiring(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t expires_unix) override {
    if (down_) return absl::UnavailableError("store: postgres: connect: refused");
    return inner_->PutExpiring(ns, key, value, expires_unix);
  }
  absl::StatusOr<size_t> DeleteExpired(std::string_view ns, int64_t now_unix,
                                       size_t limit) override {
    return inner_->DeleteExpired(ns, now_unix, limit);
  }
  std::atomic<bool> down_{false};

 private:
  std::unique_ptr<store::KeyValueStore> inner_ = store::NewMemoryStore();
};

TEST(SharedSessionStoreTest, AnotherReplicaCompletesAndExactlyOneReplicaWinsTheNonce) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  SessionStore a(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv);
  SessionStore b(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv);
  ASSERT_TRUE(a.shared());
  auto id = a.Create("sample", "nonce-1", "10.0.0.1");
  ASSERT_OK(id);
  auto on_b = b.Get(*id);
  ASSERT_OK(on_b);
  EXPECT_EQ(on_b->tee, "sample");
  EXPECT_EQ(on_b->nonce, "nonce-1");
  EXPECT_EQ(on_b->state, Session::State::kAuthed);

  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      SessionStore& replica = i % 2 ? a : b;
      if (replica.MarkAttested(*id, "token" + std::to_string(i), "digest")) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  a.EraseIfAuthed(*id);  // a failed attempt never undoes the winner
  auto attested = a.Get(*id);
  ASSERT_OK(attested);
  EXPECT_EQ(attested->state, Session::State::kAttested);
  EXPECT_TRUE(attested->nonce.empty());
  EXPECT_EQ(attested->attestation_digest, "digest");

  // Expiry holds on every replica; a burned (failed) nonce reads as unknown.
  clock.Advance(std::chrono::seconds(301));
  EXPECT_THAT(b.Get(*id), StatusIs(absl::StatusCode::kPermissionDenied,
                                   ::testing::HasSubstr("session: expired at")));
  auto burned = b.Create("sample", "nonce-2");
  ASSERT_OK(burned);
  a.EraseIfAuthed(*burned);
  EXPECT_THAT(b.Get(*burned), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(b.MarkAttested(*burned, "t", "d"));
}

// /attest reads the session, verifies, then swaps from the version it read: when both replicas
// read the same Authed session first, exactly one swap wins and the loser reads it attested.
TEST(SharedSessionStoreTest, SwapFromAnEarlierReadHasExactlyOneWinner) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  SessionStore a(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv);
  SessionStore b(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions, {}, &kv);
  for (int round = 0; round < 4; ++round) {
    auto id = a.Create("sample", "nonce", "10.0.0.1");
    ASSERT_OK(id);
    ASSERT_OK(a.Get(*id));
    ASSERT_OK(b.Get(*id));
    bool first_a = round % 2 == 0;
    EXPECT_TRUE((first_a ? a : b).MarkAttested(*id, "winner", "d1"));
    EXPECT_FALSE((first_a ? b : a).MarkAttested(*id, "loser", "d2"));
    auto s = (first_a ? b : a).Get(*id);
    ASSERT_OK(s);
    EXPECT_EQ(s->state, Session::State::kAttested);
    EXPECT_EQ(s->attestation_digest, "d1");
  }
}

TEST(SharedSessionStoreTest, StoreOutageIsUnavailableAndPerSourceLimitHolds) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  SharedMemoryStore kv;
  SessionStore a(clock, std::chrono::seconds(300), SessionStore::kDefaultMaxSessions,
                 {.max_unattested_per_source = 2}, &kv);
  ASSERT_OK(a.Create("sample", "n", "10.0.0.9"));
  ASSERT_OK(a.Create("sample", "n", "10.0.0.9"));
  EXPECT_THAT(a.Create("sample", "n", "10.0.0.9"), StatusIs(absl::StatusCode::kResourceExhausted));
  clock.Advance(std::chrono::seconds(61));  // the unattested timeout releases the count
  auto id = a.Create("sample", "n", "10.0.0.9");
  ASSERT_OK(id);
  kv.down_ = true;
  EXPECT_THAT(a.Create("sample", "n", "10.0.0.8"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(a.Get(*id), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace ccburst::kbs
