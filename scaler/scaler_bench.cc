// Micro benchmarks of the scaler's pure parts: one decision, one placement across profiles,
// parsing a Prometheus answer, and a whole simulated day. Run: build/scaler/scaler_bench
#include <benchmark/benchmark.h>

#include "core/file.h"
#include "scaler/decision.h"
#include "scaler/placement.h"
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

// Placing N pods on four profiles (two CPU sizes, a GPU profile, one gated), max 20 replicas.
void BM_Place(benchmark::State& state) {
  std::vector<PlacementCandidate> c(4);
  c[0].profile = {"tdx-4x16", {4, 16, 0}, 0.83, "tdx", "westeurope"};
  c[1].profile = {"tdx-8x32", {8, 32, 0}, 1.50, "tdx", "westeurope"};
  c[2].profile = {"gpu-h100", {16, 64, 1}, 4.00, "snp", "westeurope"};
  c[3].profile = {"snp-4x16", {4, 16, 0}, 0.80, "snp", "westeurope"};
  c[3].gate_open = false;
  c[3].current = 1;
  PlacementRules rules;
  rules.max_replicas = 20;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Place(static_cast<double>(state.range(0)), {1, 4, 0}, c, rules));
  }
}
BENCHMARK(BM_Place)->Arg(4)->Arg(40);

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
