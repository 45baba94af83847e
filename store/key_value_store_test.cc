#include "store/key_value_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/testing/status_matchers.h"
#include "store/encrypted_store.h"

namespace ccburst::store {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ccb_store_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

enum class Kind { kSqlite, kMemory, kPostgres, kEncryptedSqlite, kEncryptedPostgres };

Keyring TestKeyring() {
  auto ring = Keyring::Parse("k1 " + std::string(44 - 1, 'A') + "=\n", "test");
  return *std::move(ring);
}

// The PostgreSQL server under test, from tests/pg.sh (ctest runs this suite once more through
// `tests/pg.sh run`, which starts a throwaway cluster); the Postgres cases skip without it.
std::optional<std::string> TestPostgresUrl() {
  const char* url = std::getenv("CCB_TEST_PG_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

// A fresh store on the test cluster: every table of an earlier case is dropped first.
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenCleanPostgres() {
  PostgresOptions o;
  o.url = *TestPostgresUrl();
  o.sslmode = "disable";
  {
    CCB_ASSIGN_OR_RETURN(auto s, OpenPostgresStore(o));
    for (auto& ns : {"ns", "a", "b", "c", "resources"}) {
      CCB_ASSIGN_OR_RETURN(auto all, s->List(ns));
      for (auto& [k, v] : all) CCB_RETURN_IF_ERROR(s->Delete(ns, k).status());
    }
  }
  return OpenPostgresStore(o);
}

class KeyValueStoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kMemory) {
      store_ = NewMemoryStore();
      return;
    }
    if (GetParam() == Kind::kPostgres || GetParam() == Kind::kEncryptedPostgres) {
      if (!TestPostgresUrl()) GTEST_SKIP() << "no CCB_TEST_PG_URL (run through tests/pg.sh)";
      auto s = OpenCleanPostgres();
      ASSERT_OK(s);
      store_ = std::move(*s);
    } else {
      auto s = OpenSqliteStore(dir_.File("kv.db"));
      ASSERT_OK(s);
      store_ = std::move(*s);
    }
    if (GetParam() == Kind::kEncryptedSqlite || GetParam() == Kind::kEncryptedPostgres) {
      store_ = std::make_unique<EncryptedStore>(std::move(store_), TestKeyring());
    }
  }

  std::optional<std::string> MustGet(std::string_view ns, std::string_view key) {
    auto v = store_->Get(ns, key);
    EXPECT_OK(v);
    return v.ok() ? *v : std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> MustList(std::string_view ns,
                                                            std::string_view prefix = "") {
    auto v = store_->List(ns, prefix);
    EXPECT_OK(v);
    return v.ok() ? *v : std::vector<std::pair<std::string, std::string>>{};
  }

  TempDir dir_;
  std::unique_ptr<KeyValueStore> store_;
};

TEST_P(KeyValueStoreTest, PutGetReplaceDelete) {
  EXPECT_EQ(MustGet("ns", "a"), std::nullopt);
  ASSERT_OK(store_->Put("ns", "a", "one"));
  EXPECT_EQ(MustGet("ns", "a"), "one");
  ASSERT_OK(store_->Put("ns", "a", "two"));
  EXPECT_EQ(MustGet("ns", "a"), "two");

  auto deleted = store_->Delete("ns", "a");
  ASSERT_OK(deleted);
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(MustGet("ns", "a"), std::nullopt);
  deleted = store_->Delete("ns", "a");
  ASSERT_OK(deleted);
  EXPECT_FALSE(*deleted);
}

TEST_P(KeyValueStoreTest, BinaryAndEmptyValues) {
  std::string binary("\0\xff\x01zz\0", 6);
  ASSERT_OK(store_->Put("ns", std::string("k\0ey", 4), binary));
  ASSERT_OK(store_->Put("ns", "empty", ""));
  EXPECT_EQ(MustGet("ns", std::string("k\0ey", 4)), binary);
  EXPECT_EQ(MustGet("ns", "k"), std::nullopt);
  EXPECT_EQ(MustGet("ns", "empty"), "");
}

TEST_P(KeyValueStoreTest, NamespacesAreIsolated) {
  ASSERT_OK(store_->Put("a", "k", "in-a"));
  ASSERT_OK(store_->Put("b", "k", "in-b"));
  EXPECT_EQ(MustGet("a", "k"), "in-a");
  EXPECT_EQ(MustGet("b", "k"), "in-b");
  EXPECT_EQ(MustGet("c", "k"), std::nullopt);
  ASSERT_OK(store_->Delete("a", "k"));
  EXPECT_EQ(MustGet("b", "k"), "in-b");
  EXPECT_THAT(MustList("b"), ElementsAre(Pair("k", "in-b")));
  EXPECT_TRUE(MustList("a").empty());
}

TEST_P(KeyValueStoreTest, ListIsSortedAndPrefixIsLiteral) {
  for (const char* k : {"repo/b", "repo/a", "repo%x", "repo_x", "repoX", "rep", "other", "repo/"}) {
    ASSERT_OK(store_->Put("ns", k, std::string("v-") + k));
  }
  EXPECT_THAT(MustList("ns", "repo/"),
              ElementsAre(Pair("repo/", "v-repo/"), Pair("repo/a", "v-repo/a"),
                          Pair("repo/b", "v-repo/b")));
  // '%' and '_' would be wildcards in LIKE; here they only match themselves.
  EXPECT_THAT(MustList("ns", "repo%"), ElementsAre(Pair("repo%x", "v-repo%x")));
  EXPECT_THAT(MustList("ns", "repo_"), ElementsAre(Pair("repo_x", "v-repo_x")));
  EXPECT_THAT(MustList("ns", "zzz"), ElementsAre());
  auto all = MustList("ns");
  ASSERT_EQ(all.size(), 8u);
  std::vector<std::string> keys;
  for (auto& [k, v] : all) keys.push_back(k);
  EXPECT_THAT(
      keys, ElementsAre("other", "rep", "repo%x", "repo/", "repo/a", "repo/b", "repoX", "repo_x"));
}

TEST_P(KeyValueStoreTest, PrefixWithHighBytes) {
  std::string p("\xff\xff", 2);
  ASSERT_OK(store_->Put("ns", p, "1"));
  ASSERT_OK(store_->Put("ns", p + "a", "2"));
  ASSERT_OK(store_->Put("ns", std::string("\xfe\xff", 2), "3"));
  ASSERT_OK(store_->Put("ns", std::string("\xff\x00", 2), "4"));
  EXPECT_THAT(MustList("ns", p), ElementsAre(Pair(p, "1"), Pair(p + "a", "2")));
  EXPECT_THAT(MustList("ns", std::string("\xfe", 1)),
              ElementsAre(Pair(std::string("\xfe\xff", 2), "3")));
}

TEST_P(KeyValueStoreTest, ConcurrentWriters) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = fmt::format("t{}/k{:03}", t, i);
        if (!store_->Put("ns", key, fmt::format("{}-{}", t, i)).ok()) ++failures;
        auto got = store_->Get("ns", key);
        if (!got.ok() || *got != fmt::format("{}-{}", t, i)) ++failures;
        if (!store_->List("ns", fmt::format("t{}/", t)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(MustList("ns").size(), static_cast<size_t>(kThreads * kPerThread));
  auto t2 = MustList("ns", "t2/");
  ASSERT_EQ(t2.size(), static_cast<size_t>(kPerThread));
  EXPECT_EQ(t2.front(), std::make_pair(std::string("t2/k000"), std::string("2-0")));
  EXPECT_EQ(t2.back(), std::make_pair(std::string("t2/k049"), std::string("2-49")));
}

TEST_P(KeyValueStoreTest, CompareAndSwapChangesOnlyTheExpectedValue) {
  auto absent = store_->CompareAndSwap("ns", "k", "x", "y");
  ASSERT_OK(absent);
  EXPECT_FALSE(*absent);
  EXPECT_EQ(MustGet("ns", "k"), std::nullopt);
  ASSERT_OK(store_->Put("ns", "k", std::string("a\0b", 3)));
  auto wrong = store_->CompareAndSwap("ns", "k", "a", "c");
  ASSERT_OK(wrong);
  EXPECT_FALSE(*wrong);
  auto right = store_->CompareAndSwap("ns", "k", std::string("a\0b", 3), "c");
  ASSERT_OK(right);
  EXPECT_TRUE(*right);
  EXPECT_EQ(MustGet("ns", "k"), "c");
}

// Of many clients swapping from one value at once, exactly one wins (the nonce single-use rule).
TEST_P(KeyValueStoreTest, RacingCompareAndSwapHasExactlyOneWinner) {
  constexpr int kRounds = 10;
  constexpr int kThreads = 4;
  for (int round = 0; round < kRounds; ++round) {
    std::string key = fmt::format("race{}", round);
    ASSERT_OK(store_->Put("ns", key, "authed"));
    std::atomic<int> winners{0}, failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto won = store_->CompareAndSwap("ns", key, "authed", fmt::format("attested-by-{}", t));
        if (!won.ok()) ++failures;
        if (won.ok() && *won) ++winners;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(winners.load(), 1) << key;
  }
}

// A swap from a version read earlier succeeds only while nothing has written the entry since,
// and of replicas racing from one version exactly one wins.
TEST_P(KeyValueStoreTest, CompareVersionAndSwapFromWhatWasRead) {
  auto absent = store_->GetVersioned("ns", "v");
  ASSERT_OK(absent);
  EXPECT_EQ(*absent, std::nullopt);
  ASSERT_OK(store_->Put("ns", "v", "authed"));
  auto read = store_->GetVersioned("ns", "v");
  ASSERT_OK(read);
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->value, "authed");
  auto won = store_->CompareVersionAndSwap("ns", "v", (*read)->version, "attested", 0);
  ASSERT_OK(won);
  EXPECT_TRUE(*won);
  EXPECT_EQ(MustGet("ns", "v"), "attested");
  auto stale = store_->CompareVersionAndSwap("ns", "v", (*read)->version, "again", 0);
  ASSERT_OK(stale);
  EXPECT_FALSE(*stale);
  EXPECT_EQ(MustGet("ns", "v"), "attested");

  ASSERT_OK(store_->Put("ns", "race", "authed"));
  auto base = store_->GetVersioned("ns", "race");
  ASSERT_OK(base);
  ASSERT_TRUE(base->has_value());
  std::atomic<int> winners{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto w = store_->CompareVersionAndSwap("ns", "race", (*base)->version,
                                             fmt::format("attested-by-{}", t), 0);
      if (!w.ok()) ++failures;
      if (w.ok() && *w) ++winners;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(winners.load(), 1);
}

// A log name no earlier run used: logs are append-only, so a shared test cluster keeps them.
std::string FreshLog() {
  static std::atomic<int> n{0};
  return fmt::format("test-{}-{}-{}", ::getpid(),
                     std::chrono::steady_clock::now().time_since_epoch().count(), n++);
}

// Builds the entry after `last` as "<seq> after <hash of last's value>", so a reader can check
// that every entry was built on the one before it.
std::string ChainValue(const std::optional<KeyValueStore::LogEntry>& last) {
  return fmt::format("{} after {}", last ? last->seq + 1 : 1,
                     last ? std::hash<std::string>{}(last->value) : 0);
}

void ExpectOneChain(const std::vector<KeyValueStore::LogEntry>& entries, size_t n) {
  ASSERT_EQ(entries.size(), n);
  std::optional<KeyValueStore::LogEntry> last;
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(entries[i].value, ChainValue(last)) << "entry " << i + 1;
    last = entries[i];
  }
}

TEST_P(KeyValueStoreTest, AppendLogChainsAndReadsInOrder) {
  const std::string log = FreshLog();
  auto chain = [](const std::optional<KeyValueStore::LogEntry>& last)
      -> absl::StatusOr<std::vector<std::string>> { return std::vector{ChainValue(last)}; };
  // Both durabilities append to the one chain; SyncLog puts the committed ones on disk.
  ASSERT_OK(store_->AppendLog(log, chain, KeyValueStore::LogDurability::kFlushed));
  ASSERT_OK(store_->AppendLog(log, chain, KeyValueStore::LogDurability::kCommitted));
  ASSERT_OK(store_->SyncLog());
  // Two entries in one append (a record and its checkpoint), built on the same last entry.
  ASSERT_OK(store_->AppendLog(
      log,
      [](const std::optional<KeyValueStore::LogEntry>& last)
          -> absl::StatusOr<std::vector<std::string>> {
        std::string third = ChainValue(last);
        std::string fourth = ChainValue(KeyValueStore::LogEntry{last->seq + 1, third});
        return std::vector{third, fourth};
      },
      KeyValueStore::LogDurability::kFlushed));
  // A builder's error appends nothing and comes back unchanged.
  EXPECT_THAT(store_->AppendLog(
                  log,
                  [](const std::optional<KeyValueStore::LogEntry>&)
                      -> absl::StatusOr<std::vector<std::string>> {
                    return absl::PermissionDeniedError("no");
                  },
                  KeyValueStore::LogDurability::kCommitted),
              StatusIs(absl::StatusCode::kPermissionDenied, "no"));
  auto all = store_->ReadLog(log, 0, 100);
  ASSERT_OK(all);
  ExpectOneChain(*all, 4);
  auto tail = store_->ReadLog(log, 2, 1);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].seq, 3);
  auto other = store_->ReadLog(FreshLog(), 0, 100);
  ASSERT_OK(other);
  EXPECT_TRUE(other->empty());
}

TEST_P(KeyValueStoreTest, ConcurrentAppendsFormOneChain) {
  const std::string log = FreshLog();
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Half the writers commit without a flush: one chain either way.
    const auto durability = t % 2 == 0 ? KeyValueStore::LogDurability::kFlushed
                                       : KeyValueStore::LogDurability::kCommitted;
    threads.emplace_back([&, durability] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_OK(store_->AppendLog(
            log,
            [](const std::optional<KeyValueStore::LogEntry>& last)
                -> absl::StatusOr<std::vector<std::string>> {
              return std::vector{ChainValue(last)};
            },
            durability));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = store_->ReadLog(log, 0, 1000);
  ASSERT_OK(all);
  ExpectOneChain(*all, kThreads * kEach);
}

TEST_P(KeyValueStoreTest, PingAnswers) { EXPECT_OK(store_->Ping()); }

TEST_P(KeyValueStoreTest, ExpiredEntriesAreDeletedInBatches) {
  absl::Status supported = store_->PutExpiring("ns", "probe", "v", 1);
  if (absl::IsUnimplemented(supported)) GTEST_SKIP() << "backend has no expiring entries";
  ASSERT_OK(supported);
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(store_->PutExpiring("ns", fmt::format("old{}", i), "v", 100 + i));
  }
  ASSERT_OK(store_->PutExpiring("ns", "fresh", "v", 1000));
  ASSERT_OK(store_->Put("ns", "forever", "v"));
  ASSERT_OK(store_->PutExpiring("other", "old", "v", 100));
  auto first = store_->DeleteExpired("ns", 500, 4);
  ASSERT_OK(first);
  EXPECT_EQ(*first, 4u);
  auto second = store_->DeleteExpired("ns", 500, 100);
  ASSERT_OK(second);
  EXPECT_EQ(*second, 2u);
  std::vector<std::string> keys;
  for (auto& [k, v] : MustList("ns")) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("forever", "fresh"));
  EXPECT_EQ(MustGet("other", "old"), "v");
  // A swap sets the expiry too: the swapped entry now expires.
  auto swapped = store_->CompareAndSwap("ns", "forever", "v", "w", 200);
  ASSERT_OK(swapped);
  EXPECT_TRUE(*swapped);
  auto third = store_->DeleteExpired("ns", 500, 100);
  ASSERT_OK(third);
  EXPECT_EQ(*third, 1u);
}

// A single-use claim: of racing inserts of one key exactly one wins; a loser that can read the
// winner's value gets it; an expired claim is swept like any expiring entry.
TEST_P(KeyValueStoreTest, InsertExpiringHasExactlyOneWinner) {
  std::optional<std::string> existing;
  auto first = store_->InsertExpiring("ns", "claim", "digest-1", 100, &existing);
  if (absl::IsUnimplemented(first.status())) GTEST_SKIP() << "backend has no expiring entries";
  ASSERT_OK(first);
  EXPECT_TRUE(*first);
  EXPECT_FALSE(existing.has_value());
  auto second = store_->InsertExpiring("ns", "claim", "digest-2", 100, &existing);
  ASSERT_OK(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(existing, "digest-1");
  EXPECT_EQ(MustGet("ns", "claim"), "digest-1");  // the loser changed nothing
  auto swept = store_->DeleteExpired("ns", 100, 10);
  ASSERT_OK(swept);
  EXPECT_EQ(*swept, 1u);

  constexpr int kThreads = 4;
  for (int round = 0; round < 10; ++round) {
    std::string key = fmt::format("race{}", round);
    std::atomic<int> winners{0}, failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::optional<std::string> seen;
        auto won = store_->InsertExpiring("ns", key, fmt::format("by-{}", t), 1000, &seen);
        if (!won.ok()) ++failures;
        if (won.ok() && *won) ++winners;
        // What a loser reads, when it can, is the winner's value, never its own.
        if (won.ok() && !*won && seen && *seen == fmt::format("by-{}", t)) ++failures;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(winners.load(), 1) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyValueStoreTest,
                         ::testing::Values(Kind::kSqlite, Kind::kMemory, Kind::kPostgres,
                                           Kind::kEncryptedSqlite, Kind::kEncryptedPostgres),
                         [](const auto& info) {
                           switch (info.param) {
                             case Kind::kEncryptedSqlite:
                               return "EncryptedSqlite";
                             case Kind::kEncryptedPostgres:
                               return "EncryptedPostgres";
                             case Kind::kSqlite:
                               return "Sqlite";
                             case Kind::kMemory:
                               return "Memory";
                             case Kind::kPostgres:
                               return "Postgres";
                           }
                           return "";
                         });

// PostgreSQL-only behaviour: several processes (here: several stores) on one database.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestPostgresUrl()) GTEST_SKIP() << "no CCB_TEST_PG_URL (run through tests/pg.sh)";
  }
  // Two replicas on the test database that cache the namespace "cfg".
  void OpenCachingReplicas(std::unique_ptr<KeyValueStore>& a, std::unique_ptr<KeyValueStore>& b) {
    PostgresOptions o;
    o.url = *TestPostgresUrl();
    o.cached_namespaces = {"cfg"};
    auto ra = OpenPostgresStore(o);
    auto rb = OpenPostgresStore(o);
    ASSERT_OK(ra);
    ASSERT_OK(rb);
    a = *std::move(ra);
    b = *std::move(rb);
  }
};

TEST_F(PostgresStoreTest, ReplicasStartingAtOnceMigrateOnce) {
  PostgresOptions o;
  o.url = *TestPostgresUrl();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (!OpenPostgresStore(o).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto s = OpenPostgresStore(o);
  ASSERT_OK(s);
  EXPECT_TRUE((*s)->Shared());
}

TEST_F(PostgresStoreTest, UnreachableServerIsUnavailableAndFast) {
  PostgresOptions o;
  o.host = "127.0.0.1";
  o.port = 1;  // nothing listens there
  o.sslmode = "disable";
  auto start = std::chrono::steady_clock::now();
  auto s = OpenPostgresStore(o);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable,
                          AllOf(HasSubstr("store: postgres"), HasSubstr("127.0.0.1:1"))));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Replica B caches configuration; a change made through replica A (or by anyone else writing the
// table) before B's next unit of work begins is what B reads in it.
TEST_F(PostgresStoreTest, CachedNamespaceSeesAnotherReplicasWriteInTheNextUnit) {
  std::unique_ptr<KeyValueStore> a, b;
  ASSERT_NO_FATAL_FAILURE(OpenCachingReplicas(a, b));
  KeyValueStore& ka = *a;
  KeyValueStore& kb = *b;
  ASSERT_OK(ka.Put("cfg", "policy", "v1"));
  auto in_unit = [&](std::string_view first_ns) {
    kb.BeginUnit();
    if (!first_ns.empty()) EXPECT_OK(kb.Get(first_ns, "session-id"));  // the unit's statement
    auto v = kb.Get("cfg", "policy");
    auto again = kb.Get("cfg", "policy");
    kb.EndUnit();
    EXPECT_OK(v);
    EXPECT_OK(again);
    EXPECT_EQ(*v, *again);
    return v.ok() ? *v : std::nullopt;
  };
  EXPECT_EQ(in_unit("sessions"), "v1");
  EXPECT_EQ(in_unit("sessions"), "v1");
  ASSERT_OK(ka.Put("cfg", "policy", "v2"));
  EXPECT_EQ(in_unit("sessions"), "v2");
  EXPECT_EQ(in_unit(""), "v2");  // a unit whose first statement is the cached read
  ASSERT_OK(ka.Delete("cfg", "policy"));
  EXPECT_EQ(in_unit("sessions"), std::nullopt);
  ASSERT_OK(ka.Put("cfg", "policy", "v3"));
  EXPECT_EQ(in_unit(""), "v3");
  // A store without the cache (another version of the KBS, an operator's tool) bumps it too.
  PostgresOptions plain;
  plain.url = *TestPostgresUrl();
  auto c = OpenPostgresStore(plain);
  ASSERT_OK(c);
  ASSERT_OK((*c)->Put("cfg", "policy", "v4"));
  EXPECT_EQ(in_unit("sessions"), "v4");
  // Sessions (expiring entries) do not invalidate the cache, and B's own write is seen at once.
  ASSERT_OK(ka.PutExpiring("sessions", "session-id", "s", 4'000'000'000));
  EXPECT_EQ(in_unit("sessions"), "v4");
  kb.BeginUnit();
  EXPECT_OK(kb.Get("sessions", "session-id"));
  ASSERT_OK(kb.Put("cfg", "policy", "v5"));
  auto own = kb.Get("cfg", "policy");
  kb.EndUnit();
  ASSERT_OK(own);
  EXPECT_EQ(*own, "v5");
}

// Units of several threads share confirmations (a statement sent after a unit began stands for
// the unit's own): under a stream of writes through replica A, every unit of replica B still reads
// a version at least as new as the last write acknowledged before the unit began.
TEST_F(PostgresStoreTest, SharedConfirmationsNeverServeAWriteOlderThanTheUnit) {
  std::unique_ptr<KeyValueStore> a, b;
  ASSERT_NO_FATAL_FAILURE(OpenCachingReplicas(a, b));
  ASSERT_OK(a->Put("cfg", "version", "0"));
  std::atomic<int> acknowledged{0};
  std::atomic<bool> done{false};
  std::atomic<int> units{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; !done.load(); ++i) {
        const int before = acknowledged.load();
        b->BeginUnit();
        // Some units send a confirming statement of their own first (as /attest's claim does).
        if ((i + t) % 3 == 0) EXPECT_OK(b->Get("sessions", fmt::format("s{}", t)));
        auto v = b->Get("cfg", "version");
        b->EndUnit();
        ASSERT_OK(v);
        ASSERT_TRUE(v->has_value());
        EXPECT_GE(std::stoi(**v), before) << "a unit read a version older than its start";
        units.fetch_add(1);
      }
    });
  }
  for (int version = 1; version <= 150; ++version) {
    ASSERT_OK(a->Put("cfg", "version", std::to_string(version)));
    acknowledged.store(version);
    // Readers run units between writes (two per write on average), so units overlap writes.
    while (units.load() < 2 * version) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  done.store(true);
  for (auto& r : readers) r.join();
  EXPECT_GE(units.load(), 300);
}

TEST_F(PostgresStoreTest, SharedBetweenTwoStores) {
  PostgresOptions o;
  o.url = *TestPostgresUrl();
  auto a = OpenPostgresStore(o);
  auto b = OpenPostgresStore(o);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK((*a)->Put("shared", "k", "from-a"));
  auto v = (*b)->Get("shared", "k");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "from-a");
  auto won_b = (*b)->CompareAndSwap("shared", "k", "from-a", "b");
  auto won_a = (*a)->CompareAndSwap("shared", "k", "from-a", "a");
  ASSERT_OK(won_a);
  ASSERT_OK(won_b);
  EXPECT_TRUE(*won_b);
  EXPECT_FALSE(*won_a);
  ASSERT_OK((*a)->Delete("shared", "k"));
}

// Two replicas (two stores, each with its own pool and cached head) appending at once still
// produce one chain: the database orders them.
TEST_F(PostgresStoreTest, TwoReplicasAppendingAtOnceFormOneChain) {
  PostgresOptions o;
  o.url = *TestPostgresUrl();
  auto a = OpenPostgresStore(o);
  auto b = OpenPostgresStore(o);
  ASSERT_OK(a);
  ASSERT_OK(b);
  const std::string log = FreshLog();
  constexpr int kEach = 60;
  std::vector<std::thread> threads;
  for (KeyValueStore* s : {a->get(), b->get(), a->get(), b->get()}) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_OK(s->AppendLog(
            log,
            [](const std::optional<KeyValueStore::LogEntry>& last)
                -> absl::StatusOr<std::vector<std::string>> {
              return std::vector{ChainValue(last)};
            },
            i % 2 == 0 ? KeyValueStore::LogDurability::kCommitted
                       : KeyValueStore::LogDurability::kFlushed));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = (*a)->ReadLog(log, 0, 1000);
  ASSERT_OK(all);
  ExpectOneChain(*all, 4 * kEach);
}

// A database from before the log became a rowid table: its entries move to the new table on open,
// in order, still append-only, and the chain goes on after them.
TEST(SqliteStoreTest, OldLogTableIsMigratedOnOpen) {
  TempDir dir;
  std::string path = dir.File("old.db");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    const char* old_schema =
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE kv (ns BLOB NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, "
        "PRIMARY KEY(ns, key)) WITHOUT ROWID;"
        "CREATE TABLE audit_log (log BLOB NOT NULL, seq INTEGER NOT NULL, value BLOB NOT NULL, "
        "PRIMARY KEY(log, seq)) WITHOUT ROWID;"
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
        "INSERT INTO audit_log VALUES (CAST('audit' AS BLOB), 2, CAST('two' AS BLOB)), "
        "(CAST('audit' AS BLOB), 1, CAST('one' AS BLOB)), (CAST('other' AS BLOB), 1, x'00');";
    EXPECT_EQ(sqlite3_exec(raw, old_schema, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  for (int open = 0; open < 2; ++open) {  // the second open finds nothing to migrate
    auto s = OpenSqliteStore(path);
    ASSERT_OK(s);
    auto log = (*s)->ReadLog("audit", 0, 10);
    ASSERT_OK(log);
    ASSERT_EQ(log->size(), 2u + open);
    EXPECT_EQ((*log)[0].seq, 1);
    EXPECT_EQ((*log)[0].value, "one");
    EXPECT_EQ((*log)[1].value, "two");
    if (open == 0) {
      ASSERT_OK((*s)->AppendLog(
          "audit",
          [](const std::optional<KeyValueStore::LogEntry>& last)
              -> absl::StatusOr<std::vector<std::string>> {
            EXPECT_TRUE(last && last->seq == 2 && last->value == "two");
            return std::vector<std::string>{"three"};
          },
          KeyValueStore::LogDurability::kFlushed));
    }
    auto other = (*s)->ReadLog("other", 0, 10);
    ASSERT_OK(other);
    EXPECT_EQ(other->size(), 1u);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "UPDATE audit_log SET value = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "DELETE FROM audit_log", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
}

TEST(SqliteStoreTest, PersistsAcrossReopen) {
  TempDir dir;
  std::string path = dir.File("persist.db");
  {
    auto s = OpenSqliteStore(path);
    ASSERT_OK(s);
    ASSERT_OK((*s)->Put("resources", "default/key/1", "secret"));
    ASSERT_OK((*s)->Put("resources", "default/key/2", "other"));
    ASSERT_OK((*s)->Delete("resources", "default/key/2"));
  }
  auto s = OpenSqliteStore(path);
  ASSERT_OK(s);
  auto v = (*s)->Get("resources", "default/key/1");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "secret");
  auto all = (*s)->List("resources");
  ASSERT_OK(all);
  EXPECT_THAT(*all, ElementsAre(Pair("default/key/1", "secret")));
}

TEST(SqliteStoreTest, TwoHandlesOnOneFileSeeEachOther) {
  TempDir dir;
  std::string path = dir.File("shared.db");
  auto a = OpenSqliteStore(path);
  auto b = OpenSqliteStore(path);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK((*a)->Put("ns", "k", "from-a"));
  auto v = (*b)->Get("ns", "k");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "from-a");
}

TEST(SqliteStoreTest, ConcurrentWritersWithSeparateConnections) {
  // Separate handles stand in for several processes (KBS replicas) sharing one file: they contend
  // on SQLite's file lock and rely on the busy timeout instead of failing with SQLITE_BUSY.
  TempDir dir;
  std::string path = dir.File("contended.db");
  constexpr int kThreads = 3;
  constexpr int kPerThread = 30;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto s = OpenSqliteStore(path);
      if (!s.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kPerThread; ++i) {
        if (!(*s)->Put("ns", fmt::format("{}-{:02}", t, i), "v").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto s = OpenSqliteStore(path);
  ASSERT_OK(s);
  auto all = (*s)->List("ns");
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(SqliteStoreTest, UsesWalJournal) {
  TempDir dir;
  std::string path = dir.File("wal.db");
  auto s = OpenSqliteStore(path);
  ASSERT_OK(s);
  ASSERT_OK((*s)->Put("ns", "k", "v"));
  EXPECT_TRUE(fs::exists(path + "-wal"));
}

TEST(SqliteStoreTest, UnwritablePathIsUnavailableAndNamesThePath) {
  TempDir dir;
  // A regular file where a directory is expected fails even for root.
  std::string blocker = dir.File("not-a-dir");
  std::ofstream(blocker) << "x";
  std::string path = blocker + "/kv.db";
  auto s = OpenSqliteStore(path);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kUnavailable,
                          AllOf(HasSubstr(path), HasSubstr("unable to open database file"))));
}

TEST(SqliteStoreTest, NotADatabaseIsUnavailable) {
  TempDir dir;
  std::string path = dir.File("garbage.db");
  std::ofstream(path) << std::string(4096, 'g');
  auto s = OpenSqliteStore(path);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kUnavailable,
                          AllOf(HasSubstr(path), HasSubstr("not a database"))));
}

// Issue 16 item 7: the database, WAL and SHM files are 0600 whatever the umask; an existing
// world-readable database is tightened.
TEST(SqliteStoreTest, DatabaseWalAndShmAreOwnerOnly) {
  TempDir dir;
  std::string path = dir.File("secret.db");
  mode_t old_umask = ::umask(0);
  auto s = OpenSqliteStore(path);
  ::umask(old_umask);
  ASSERT_OK(s);
  ASSERT_OK((*s)->Put("ns", "k", "v"));
  for (std::string f : {path, path + "-wal", path + "-shm"}) {
    struct stat st;
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  s->reset();
  ::chmod(path.c_str(), 0644);
  ASSERT_OK(OpenSqliteStore(path));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Issue 16 item 10: an existing file without the schema is refused unless initialising is asked
// for, and the refused file is left untouched.
TEST(SqliteStoreTest, ExistingFileWithoutSchemaIsRefusedUnlessInitialising) {
  TempDir dir;
  std::string path = dir.File("empty.db");
  std::ofstream(path).close();
  auto refused = OpenSqliteStore(path);
  ASSERT_THAT(refused,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("has no ccburst schema")));
  EXPECT_EQ(fs::file_size(path), 0u);
  auto initialised = OpenSqliteStore(path, {.initialize_existing = true});
  ASSERT_OK(initialised);
  ASSERT_OK((*initialised)->Put("ns", "k", "v"));
  initialised->reset();
  EXPECT_OK(OpenSqliteStore(path));  // now it has the schema
}

}  // namespace
}  // namespace ccburst::store
