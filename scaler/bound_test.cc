#include "scaler/bound.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::scaler {
namespace {

// A world where the arithmetic is by hand: one pod per VM, a VM costs 1 per second, starts in
// `startup` seconds, on-prem capacity 0 (every pod of the trace is unschedulable).
SimParams Tiny(int startup, int cap) {
  SimParams p;
  p.profile.capacity = {1, 4, 0};
  p.profile.price_per_hour = 3600;
  p.pod_size = {1, 4, 0};
  p.vm_startup = std::chrono::seconds(startup);
  p.attestation = std::chrono::seconds(0);
  p.policy.max_replicas = cap;
  return p;
}

// Rows every 10 s with these pod counts; the last row lasts 10 s too.
std::vector<TraceRow> Rows(std::vector<double> pods) {
  std::vector<TraceRow> out;
  for (size_t i = 0; i < pods.size(); ++i) {
    out.push_back({static_cast<int64_t>(i * 10), pods[i], 0, std::nullopt});
  }
  return out;
}

// One pod needed over [20, 50): start at 10, ready at 20, stop at 50: 40 s up, nothing pending.
TEST(ClairvoyantBound, StartsAheadOfDemand) {
  auto b = ClairvoyantBound(Rows({0, 0, 1, 1, 1, 0}), Tiny(10, 2));
  ASSERT_OK(b);
  EXPECT_EQ(b->pending_pod_seconds, 0);
  EXPECT_DOUBLE_EQ(b->cost, 40);
  EXPECT_DOUBLE_EQ(b->cloud_instance_hours, 40.0 / 3600);
  EXPECT_EQ(b->peak_replicas, 1);
}

// Demand at the very start cannot be served before the first VM has started: 10 pod-seconds.
TEST(ClairvoyantBound, DemandAtTheStartWaitsOneStartup) {
  auto b = ClairvoyantBound(Rows({1, 1, 1, 0}), Tiny(10, 2));
  ASSERT_OK(b);
  EXPECT_EQ(b->pending_pod_seconds, 10);
  EXPECT_DOUBLE_EQ(b->cost, 30);  // up over [0, 30)
}

// Start-up 20, needs [20, 30) and [50, 60): the first VM starts at 0. Bridging the 20 s gap costs
// 20, and so does a restart (booting over [30, 50)): 60 either way. With a 30 s gap (needs
// [20, 30) and [60, 70)) a restart's 20 beats bridging's 30: the bound restarts.
TEST(ClairvoyantBound, BridgesShortGapsRestartsAfterLongOnes) {
  auto bridged = ClairvoyantBound(Rows({0, 0, 1, 0, 0, 1}), Tiny(20, 1));
  ASSERT_OK(bridged);
  EXPECT_EQ(bridged->pending_pod_seconds, 0);
  EXPECT_DOUBLE_EQ(bridged->cost, 20 + 10 + 20 + 10);
  auto restarted = ClairvoyantBound(Rows({0, 0, 1, 0, 0, 0, 1}), Tiny(20, 1));
  ASSERT_OK(restarted);
  EXPECT_EQ(restarted->pending_pod_seconds, 0);
  EXPECT_DOUBLE_EQ(restarted->cost, (20 + 10) * 2);
  // Start-up 10, needs [20, 30) and [40, 50): bridging [30, 40) costs 10, as a restart does.
  auto short_boot = ClairvoyantBound(Rows({0, 0, 1, 0, 1}), Tiny(10, 1));
  ASSERT_OK(short_boot);
  EXPECT_DOUBLE_EQ(short_boot->cost, 10 + 10 + 10 + 10);
}

// Levels: 3 pods, 2 replicas at most: the third pod is pending the whole time.
TEST(ClairvoyantBound, PodsBeyondTheCapStayPending) {
  auto b = ClairvoyantBound(Rows({0, 3, 3, 0}), Tiny(10, 2));
  ASSERT_OK(b);
  EXPECT_EQ(b->pending_pod_seconds, 20);  // 1 pod x [10, 30)
  EXPECT_DOUBLE_EQ(b->cost, 2 * 30);      // two VMs up over [0, 30)
  EXPECT_EQ(b->peak_replicas, 2);
}

// With a price on pending pod-seconds the bound trades: a 10 s need behind a 10 s start-up costs
// 20 to serve and 10 pod-seconds to leave. At 1 per pod-second it leaves it (objective 10), at 3
// it serves it (objective 20).
TEST(ClairvoyantBound, PricedPendingTradesAgainstCost) {
  auto cheap = ClairvoyantBound(Rows({0, 0, 1, 0}), Tiny(10, 1), 1.0);
  ASSERT_OK(cheap);
  EXPECT_EQ(cheap->pending_pod_seconds, 10);
  EXPECT_DOUBLE_EQ(cheap->cost, 0);
  EXPECT_DOUBLE_EQ(cheap->objective, 10);
  auto dear = ClairvoyantBound(Rows({0, 0, 1, 0}), Tiny(10, 1), 3.0);
  ASSERT_OK(dear);
  EXPECT_EQ(dear->pending_pod_seconds, 0);
  EXPECT_DOUBLE_EQ(dear->objective, 20);
}

// Packing: 4 pods per VM (the default profile and pod), 5 pods beyond capacity need 2 levels,
// the second one for 1 pod.
TEST(ClairvoyantBound, PacksPodsPerInstance) {
  SimParams p = Tiny(10, 4);
  p.profile.capacity = {4, 16, 0};
  auto b = ClairvoyantBound(Rows({0, 5, 5, 0}), p);
  ASSERT_OK(b);
  EXPECT_EQ(b->pending_pod_seconds, 5 * 0);  // started at 0, ready at 10
  EXPECT_EQ(b->peak_replicas, 2);
  EXPECT_DOUBLE_EQ(b->cost, 2 * 30);
}

TEST(ClairvoyantBound, NoPolicyBeatsIt) {
  // The bound's objective is a lower bound of every policy's on the same trace.
  std::vector<TraceRow> trace;
  for (int64_t t = 0; t < 4 * 3600; t += 60) {
    double d = 18 + ((t / 600) % 3 == 0 ? 9 : 0);
    trace.push_back({t, d, 20, std::nullopt});
  }
  SimParams p;
  const double lambda = PendingPricePerPodSecond(p);
  auto priced = ClairvoyantBound(trace, p, lambda);
  auto min_pending = ClairvoyantBound(trace, p);
  ASSERT_OK(priced);
  ASSERT_OK(min_pending);
  EXPECT_LE(priced->objective, min_pending->cost + lambda * min_pending->pending_pod_seconds);
  for (PolicyKind k : {PolicyKind::kSeed, PolicyKind::kCcburst}) {
    auto r = Simulate(trace, k, p);
    ASSERT_OK(r);
    EXPECT_GE(r->pending_pod_seconds, min_pending->pending_pod_seconds);
    BoundRatios ratios = RatiosTo(*r, *min_pending, *priced, p);
    EXPECT_GE(ratios.objective, 1.0);
  }
}

}  // namespace
}  // namespace ccburst::scaler
