#include "scaler/simulator.h"

#include <gtest/gtest.h>

#include "core/file.h"
#include "core/testing/status_matchers.h"

namespace ccburst::scaler {
namespace {

using ::ccburst::core::testing::IsOk;
using ::testing::Not;

TEST(TraceTest, ParsesBothLayouts) {
  auto t = ParseTrace("t_seconds,demand_pods,onprem_capacity_pods\n# c\n0,3,2\n60,4,2\n");
  ASSERT_OK(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[1].t_seconds, 60);
  EXPECT_EQ((*t)[1].demand_pods, 4);
  EXPECT_FALSE((*t)[1].pod.has_value());
  auto p = ParseTrace(
      "t_seconds,demand_pods,onprem_capacity_pods,pod_cpu,pod_memory_gib\r\n0,3,2,2,6.5\r\n");
  ASSERT_OK(p);
  EXPECT_EQ((*p)[0].pod->memory_gib, 6.5);
}

TEST(TraceTest, RejectsBadInputNamingTheLine) {
  EXPECT_EQ(ParseTrace("a,b,c\n").status().message(),
            "trace: line 1: header must be "
            "`t_seconds,demand_pods,onprem_capacity_pods[,pod_cpu,pod_memory_gib]`");
  EXPECT_EQ(ParseTrace("t_seconds,demand_pods,onprem_capacity_pods\n0,x,2\n").status().message(),
            "trace: line 2: `demand_pods` = `x` is not a non-negative number");
  EXPECT_EQ(
      ParseTrace("t_seconds,demand_pods,onprem_capacity_pods\n0,1,2\n0,1,2\n").status().message(),
      "trace: line 3: `t_seconds` must increase");
  EXPECT_EQ(ParseTrace("t_seconds,demand_pods,onprem_capacity_pods\n0,1\n").status().message(),
            "trace: line 2: want 3 fields, got 2");
  EXPECT_THAT(ParseTrace("t_seconds,demand_pods,onprem_capacity_pods\n"), Not(IsOk()));
}

std::vector<TraceRow> Step(int64_t duration, double before, double after, double cap,
                           int64_t change_at) {
  std::vector<TraceRow> rows;
  for (int64_t t = 0; t < duration; t += 60) {
    rows.push_back({t, t < change_at ? before : after, cap, std::nullopt});
  }
  return rows;
}

TEST(SimulatorTest, NoDemandBeyondCapacityCostsNothing) {
  auto trace = Step(3600, 5, 5, 10, 0);
  for (PolicyKind k : {PolicyKind::kSeed, PolicyKind::kCcburst}) {
    auto r = Simulate(trace, k, SimParams{});
    ASSERT_OK(r);
    EXPECT_EQ(r->cloud_instance_hours, 0);
    EXPECT_EQ(r->scale_events, 0);
  }
}

TEST(SimulatorTest, BurstServesPendingPodsAfterVmStartup) {
  // 4 pods beyond capacity from t=600 for an hour: ccburst packs them on one 4-pod VM.
  auto trace = Step(3 * 3600, 10, 14, 10, 600);
  SimParams p;
  p.policy.warm_pods = 0;  // rules 1-5: waits for the pods to go Pending
  auto ours = Simulate(trace, PolicyKind::kCcburst, p);
  auto seed = Simulate(trace, PolicyKind::kSeed, p);
  ASSERT_OK(ours);
  ASSERT_OK(seed);
  EXPECT_EQ(ours->peak_replicas, 1);
  EXPECT_EQ(seed->peak_replicas, 4);  // one replica per pending pod
  // Pending until the VM has booted and attested: at most 4 pods x (poll + 95 s) each.
  EXPECT_GE(ours->pending_pod_seconds, 4 * 95);
  EXPECT_LE(ours->pending_pod_seconds, 4 * (95 + 30));
  EXPECT_LT(ours->cost, seed->cost);
  EXPECT_EQ(ours->flaps, 0);
}

// The default policy keeps a warm VM while on-prem is full (10 of 10), so the same burst finds
// it ready: no pending pod-seconds, for the price of the warm VM since the trace's start.
TEST(SimulatorTest, WarmPoolServesTheBurstAtOnce) {
  auto trace = Step(3 * 3600, 10, 14, 10, 600);
  auto ours = Simulate(trace, PolicyKind::kCcburst, SimParams{});
  ASSERT_OK(ours);
  EXPECT_EQ(ours->pending_pod_seconds, 0);
  EXPECT_EQ(ours->peak_replicas, 2);
  EXPECT_EQ(ours->flaps, 0);
}

TEST(SimulatorTest, JsonLine) {
  SimResult r;
  r.policy = PolicyKind::kCcburst;
  r.pending_pod_seconds = 394.6;
  r.cloud_instance_hours = 19.5814;
  r.cost = 16.2526;
  r.scale_events = 12;
  r.flaps = 2;
  r.peak_replicas = 2;
  EXPECT_EQ(ToJsonLine(r),
            R"({"policy":"ccburst","pending_pod_seconds":395,"cloud_instance_hours":19.581,)"
            R"("cost":16.25,"scale_events":12,"flaps":2,"peak_replicas":2})");
}

TEST(SimulatorTest, ShippedTracesOursBeatsSeedWithoutMoreFlaps) {
  for (const char* name : {"daily-cycle.csv", "campaign-spike.csv", "noisy.csv"}) {
    auto csv = core::ReadFile(std::string(CCB_SOURCE_DIR) + "/scaler/traces/" + name);
    ASSERT_OK(csv);
    auto trace = ParseTrace(*csv);
    ASSERT_OK(trace) << name;
    auto ours = Simulate(*trace, PolicyKind::kCcburst, SimParams{});
    auto seed = Simulate(*trace, PolicyKind::kSeed, SimParams{});
    ASSERT_OK(ours);
    ASSERT_OK(seed);
    EXPECT_TRUE(ours->pending_pod_seconds < seed->pending_pod_seconds || ours->cost < seed->cost)
        << name;
    EXPECT_LE(ours->flaps, seed->flaps) << name;
  }
}

}  // namespace
}  // namespace ccburst::scaler
