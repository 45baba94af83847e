#include "kbs/audit_trail.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/file.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "store/testing/forwarding_store.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
namespace json = core::json;

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = std::filesystem::temp_directory_path() / fmt::format("ccb_audit_{}.key", getpid());
    key_ = crypto::PrivateKey::GenerateEcP256();
    ASSERT_OK(core::WriteFile(key_path_, key_.ToPem()));
  }
  void TearDown() override { std::filesystem::remove(key_path_); }

  std::unique_ptr<AuditTrail> Open(
      store::KeyValueStore& kv, int64_t every = 10,
      KbsConfig::Audit::Durability durability = KbsConfig::Audit::Durability::kCommit) {
    KbsConfig::Audit c;
    c.enabled = true;
    c.checkpoint_every = every;
    c.signing_key = key_path_;
    c.durability = durability;
    c.sync_interval_ms = 10;
    auto t = AuditTrail::Create(c, kv, clock_);
    EXPECT_OK(t);
    return t.ok() ? *std::move(t) : nullptr;
  }

  std::string key_path_;
  crypto::PrivateKey key_ = crypto::PrivateKey::GenerateEcP256();
  core::testing::FakeClock clock_{core::FromUnixSeconds(1'800'000'000)};
};

TEST_F(AuditTrailTest, DisabledRecordsNothing) {
  auto kv = store::NewMemoryStore();
  auto t = AuditTrail::Create(KbsConfig::Audit{}, *kv, clock_);
  ASSERT_OK(t);
  EXPECT_FALSE((*t)->enabled());
  EXPECT_OK((*t)->Record(audit::kRelease, {{"resource", "a/b/c"}}));
  auto log = kv->ReadLog(AuditTrail::kLog, 0, 10);
  ASSERT_OK(log);
  EXPECT_TRUE(log->empty());
  EXPECT_THAT((*t)->Export(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Concurrent callers are grouped into shared appends, yet every record is stored once, in one
// chain that verifies, and each caller returns only after its own record is there.
TEST_F(AuditTrailTest, ConcurrentRecordsFormOneVerifiableChain) {
  auto kv = store::NewMemoryStore();
  auto trail = Open(*kv);
  ASSERT_NE(trail, nullptr);
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string resource = fmt::format("r/{}/{}", t, i);
        ASSERT_OK(trail->Record(audit::kRelease, {{"resource", resource}}));
        auto log = kv->ReadLog(AuditTrail::kLog, 0, 100000);
        ASSERT_OK(log);
        bool found = false;
        for (const auto& e : *log) found |= e.value.find(resource + "\"") != std::string::npos;
        EXPECT_TRUE(found) << resource << " returned before it was stored";
      }
    });
  }
  for (auto& t : threads) t.join();
  auto exported = trail->Export();
  ASSERT_OK(exported);
  audit::VerifyReport r = audit::Verify(*exported, key_.Public());
  EXPECT_TRUE(r.ok()) << (r.findings.empty() ? "" : r.findings[0].ToString());
  const size_t events = kThreads * kEach;
  EXPECT_EQ(r.records, events + events / 9);  // a checkpoint after every 9 events
}

// Records queued without waiting are stored by the trail's own flush when no release carries
// them, in the order they were queued, and before a release queued after them.
TEST_F(AuditTrailTest, QueuedRecordsAreStoredWithoutARelease) {
  auto kv = store::NewMemoryStore();
  auto trail = Open(*kv);
  ASSERT_NE(trail, nullptr);
  for (int i = 0; i < 3; ++i) {
    trail->RecordAsync(audit::kAttestation, {{"session", fmt::format("s{}", i)}});
  }
  std::vector<store::KeyValueStore::LogEntry> log;
  for (int polls = 0; polls < 1000 && log.size() < 3; ++polls) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto read = kv->ReadLog(AuditTrail::kLog, 0, 10);
    ASSERT_OK(read);
    log = *std::move(read);
  }
  ASSERT_EQ(log.size(), 3u) << "the flush never stored the queued records";
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(log[i].value, HasSubstr(fmt::format("\"session\":\"s{}\"", i)));
  }
  trail->RecordAsync(audit::kRefusal, {{"resource", "a/b/queued"}});
  ASSERT_OK(trail->Record(audit::kRelease, {{"resource", "a/b/released"}}));
  auto after = kv->ReadLog(AuditTrail::kLog, 3, 10);
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_THAT((*after)[0].value, HasSubstr("a/b/queued"));
  EXPECT_THAT((*after)[1].value, HasSubstr("a/b/released"));
}

// A memory store whose AppendLog waits at a gate while it is closed: an append that hangs (a
// slow PostgreSQL) for as long as the test wants.
class GatedLogStore final : public store::testing::ForwardingStore {
 public:
  absl::Status AppendLog(std::string_view log, const LogBuilder& build,
                         LogDurability durability) override {
    {
      std::unique_lock lock(mu_);
      ++appends_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return ForwardingStore::AppendLog(log, build, durability);
  }
  void SetOpen(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  // Waits (bounded) until `n` appends have started.
  bool WaitForAppends(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return appends_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int appends_ = 0;
};

// RecordThen never makes a thread wait for another's append: with an append hanging, a second
// caller returns at once, its completion runs when the append under way has ended (with the
// next append), and every completion reports the record stored.
TEST_F(AuditTrailTest, RecordThenCallersDoNotWaitForAnAppendUnderWay) {
  GatedLogStore kv;
  auto trail = Open(kv);
  ASSERT_NE(trail, nullptr);
  kv.SetOpen(false);
  std::atomic<int> stored{0};
  auto count = [&](absl::Status s) {
    EXPECT_OK(s);
    ++stored;
  };
  // The first caller finds no append under way and appends on its own thread (which hangs).
  std::thread leader([&] { trail->RecordThen(audit::kRelease, {{"resource", "a/b/one"}}, count); });
  ASSERT_TRUE(kv.WaitForAppends(1));
  for (int i = 0; i < 3; ++i) {
    trail->RecordThen(audit::kRelease, {{"resource", fmt::format("a/b/queued{}", i)}}, count);
  }
  EXPECT_EQ(stored.load(), 0) << "a completion ran before its record was stored";
  kv.SetOpen(true);
  leader.join();
  for (int polls = 0; polls < 1000 && stored.load() < 4; ++polls) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(stored.load(), 4);
  auto log = kv.ReadLog(AuditTrail::kLog, 0, 10);
  ASSERT_OK(log);
  ASSERT_EQ(log->size(), 4u);
  EXPECT_THAT((*log)[0].value, HasSubstr("a/b/one"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT((*log)[i + 1].value, HasSubstr(fmt::format("a/b/queued{}", i)));
  }
  // A record the trail refuses completes at once with the reason.
  absl::Status refused;
  trail->RecordThen(audit::kRelease, {{"seq", 1}}, [&](absl::Status s) { refused = s; });
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("seq")));
}

// On SQLite, with either durability, releases (waited for) and attestations (queued) from many
// threads form one chain that verifies, and the queued ones are all stored when the trail stops.
TEST_F(AuditTrailTest, SqliteChainHoldsWithEitherDurability) {
  for (auto durability :
       {KbsConfig::Audit::Durability::kCommit, KbsConfig::Audit::Durability::kFlush}) {
    const std::string path =
        std::filesystem::temp_directory_path() /
        fmt::format("ccb_audit_{}_{}.db", getpid(), static_cast<int>(durability));
    std::filesystem::remove(path);
    auto kv = store::OpenSqliteStore(path);
    ASSERT_OK(kv);
    constexpr int kThreads = 6, kEach = 30;
    {
      auto trail = Open(**kv, 25, durability);
      ASSERT_NE(trail, nullptr);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kEach; ++i) {
            trail->RecordAsync(audit::kAttestation, {{"session", fmt::format("{}/{}", t, i)}});
            ASSERT_OK(trail->Record(audit::kRelease, {{"resource", fmt::format("r/{}/{}", t, i)}}));
          }
        });
      }
      for (auto& t : threads) t.join();
    }
    auto trail = Open(**kv, 25, durability);
    ASSERT_NE(trail, nullptr);
    auto exported = trail->Export();
    ASSERT_OK(exported);
    audit::VerifyReport r = audit::Verify(*exported, key_.Public());
    EXPECT_TRUE(r.ok()) << (r.findings.empty() ? "" : r.findings[0].ToString());
    const size_t events = 2 * kThreads * kEach;
    EXPECT_EQ(r.records, events + events / 24);  // a checkpoint after every 24 events
    trail.reset();
    kv->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
}

TEST_F(AuditTrailTest, ReservedFieldIsRefusedAlone) {
  auto kv = store::NewMemoryStore();
  auto trail = Open(*kv);
  ASSERT_NE(trail, nullptr);
  EXPECT_THAT(trail->Record(audit::kBurstDecision, {{"seq", 7}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field `seq`")));
  EXPECT_OK(trail->Record(audit::kBurstDecision, {{"workload", "web"}}));
  auto log = kv->ReadLog(AuditTrail::kLog, 0, 10);
  ASSERT_OK(log);
  EXPECT_EQ(log->size(), 1u);
}

}  // namespace
}  // namespace ccburst::kbs
