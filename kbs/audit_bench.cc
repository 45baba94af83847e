// What one audit record costs the KBS, by part (docs/performance.md, "The audit trail's cost"):
//   BM_BuildRecords/N   audit::ExtendAll for N release records: JSON, RFC 8785, SHA-256, lines
//   BM_SqliteAppend/N   one AppendLog of N ready-made records on a SQLite file (durability commit):
//                       the head read, the inserts and the transaction
//   BM_RecordRelease    AuditTrail::Record of one release record on SQLite from one thread: all of
//                       the above for a batch of one, as a release with no company pays it
// Run: build/kbs/audit_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "audit/record.h"
#include "core/file.h"
#include "core/testing/fake_clock.h"
#include "kbs/audit_trail.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {
namespace {
namespace json = core::json;

// The fields of a typical release record (kbs/resource_handler.cc).
json::object ReleaseFields() {
  json::object f;
  f["token_id"] = "4f1c9f3e-1b7d-4c51-9d3e-2a7c3e1f9b10";
  f["resource"] = "default/key/one";
  f["decision"] = "allow";
  f["reason"] = "the resource policy allowed it";
  f["tee"] = "tdx";
  f["client"] = "127.0.0.1";
  f["resource_digest"] = AuditTrail::Digest("secret value");
  f["policy_digest"] = AuditTrail::Digest("package policy\ndefault allow := true\n");
  f["policy"] = "default_cpu";
  f["policy_id"] = "default";
  return f;
}

void BM_BuildRecords(benchmark::State& state) {
  std::vector<audit::Event> events(
      static_cast<size_t>(state.range(0)),
      audit::Event{std::string(audit::kRelease), core::FromUnixSeconds(1'800'000'000),
                   ReleaseFields()});
  audit::Head head;
  for (auto _ : state) {
    auto lines = audit::ExtendAll(head, events, 0, nullptr);
    benchmark::DoNotOptimize(lines);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildRecords)->Arg(1)->Arg(4)->Arg(16);

class TempDb {
 public:
  TempDb()
      : path_((std::filesystem::temp_directory_path() /
               fmt::format("ccb_audit_bench_{}.db", getpid()))
                  .string()) {
    Remove();
  }
  ~TempDb() { Remove(); }
  const std::string& path() const { return path_; }

 private:
  void Remove() {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }
  std::string path_;
};

void BM_SqliteAppend(benchmark::State& state) {
  TempDb db;
  auto kv = store::OpenSqliteStore(db.path());
  if (!kv.ok()) {
    state.SkipWithError(std::string(kv.status().message()).c_str());
    return;
  }
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<audit::Event> events(
      n, audit::Event{std::string(audit::kRelease), core::FromUnixSeconds(1'800'000'000),
                      ReleaseFields()});
  audit::Head template_head;
  auto built = audit::ExtendAll(template_head, events, 0, nullptr);
  if (!built.ok()) {
    state.SkipWithError("build");
    return;
  }
  int64_t syncs = 0;
  for (auto _ : state) {
    absl::Status s = (*kv)->AppendLog(
        AuditTrail::kLog,
        [&](const std::optional<store::KeyValueStore::LogEntry>& last)
            -> absl::StatusOr<std::vector<std::string>> {
          benchmark::DoNotOptimize(last);
          return *built;
        },
        store::KeyValueStore::LogDurability::kCommitted);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    // The flusher's passive checkpoint, every 100 ms at ~1,000 appends/s.
    if (++syncs % 100 == 0) (*kv)->SyncLog().IgnoreError();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SqliteAppend)->Arg(1)->Arg(2)->Arg(4)->Arg(16)->Arg(64);

void BM_RecordRelease(benchmark::State& state) {
  TempDb db;
  auto kv = store::OpenSqliteStore(db.path());
  const std::string key_path = db.path() + ".key";
  crypto::PrivateKey key = crypto::PrivateKey::GenerateEcP256();
  if (!kv.ok() || !core::WriteFile(key_path, key.ToPem()).ok()) {
    state.SkipWithError("setup");
    return;
  }
  core::testing::FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  KbsConfig::Audit c;
  c.enabled = true;
  c.signing_key = key_path;
  auto trail = AuditTrail::Create(c, **kv, clock);
  if (!trail.ok()) {
    state.SkipWithError(std::string(trail.status().message()).c_str());
    return;
  }
  const json::object fields = ReleaseFields();
  for (auto _ : state) {
    absl::Status s = (*trail)->Record(audit::kRelease, fields);
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
  trail->reset();
  std::filesystem::remove(key_path);
}
BENCHMARK(BM_RecordRelease);

}  // namespace
}  // namespace ccburst::kbs

BENCHMARK_MAIN();
