// Micro benchmarks of the scaler's pure parts: one decision, parsing a Prometheus answer, and a
// whole simulated day. Run: build/scaler/scaler_bench
#include <benchmark/benchmark.h>

#include "core/file.h"
#include "scaler/decision.h"
#include "scaler/simulator.h"
#include "scaler/sources.h"

namespace ccburst::scaler {
namespace {

void BM_Decide(benchmark::State& state) {
  Decider d({"tdx-4x16", {4, 16, 0}, 0.83, "tdx", "westeurope"}, PlacementPolicy{}, {1, 4, 0});
  Signals s;
  s.onprem_free = Resources{2, 8, 0};
  int64_t t = 1'700'000'000;
  for (auto _ : state) {
    s.pending_pods = static_cast<double>((t / 30) % 17);
    s.pending_requests = Resources{s.pending_pods, s.pending_pods * 4, 0};
    benchmark::DoNotOptimize(d.Decide(s, GateState::kOpen, core::FromUnixSeconds(t)));
    t += 5;
  }
}
BENCHMARK(BM_Decide);

void BM_ParseInstantQuery(benchmark::State& state) {
  const std::string body =
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"17"]}]}})";
  for (auto _ : state) benchmark::DoNotOptimize(ParseInstantQuery("q", 200, body));
}
BENCHMARK(BM_ParseInstantQuery);

void BM_SimulateDailyCycle(benchmark::State& state) {
  auto csv = core::ReadFile(std::string(CCB_SOURCE_DIR) + "/scaler/traces/daily-cycle.csv");
  auto trace = ParseTrace(*csv);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Simulate(*trace, PolicyKind::kCcburst, SimParams{}));
  }
}
BENCHMARK(BM_SimulateDailyCycle)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ccburst::scaler

BENCHMARK_MAIN();
