#include "scaler/keda_hpa.h"

#include <gtest/gtest.h>

namespace ccburst::scaler {
namespace {

// kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details:
// "if the current metric value is 200m, and the desired value is 100m, the number of replicas
// will be doubled ... If the current value is instead 50m, you'll halve the number of replicas".
// For an AverageValue external metric the total is the per-pod value times the replicas.
TEST(ExternalAverageValueReplicas, DocumentationDoubling) {
  EXPECT_EQ(ExternalAverageValueReplicas(3, 3 * 0.200, 0.100), 6);
}

TEST(ExternalAverageValueReplicas, DocumentationHalving) {
  EXPECT_EQ(ExternalAverageValueReplicas(4, 4 * 0.050, 0.100), 2);
  // ceil(): 3 replicas at 50m -> 1.5 -> 2.
  EXPECT_EQ(ExternalAverageValueReplicas(3, 3 * 0.050, 0.100), 2);
}

// "The control plane skips any scaling action if the ratio is sufficiently close to 1.0 (within
// a globally-configurable tolerance, 0.1 by default)."
TEST(ExternalAverageValueReplicas, WithinToleranceHolds) {
  EXPECT_EQ(ExternalAverageValueReplicas(10, 10.9, 1), 10);  // ratio 1.09
  EXPECT_EQ(ExternalAverageValueReplicas(10, 9.1, 1), 10);   // ratio 0.91
  EXPECT_EQ(ExternalAverageValueReplicas(10, 11.5, 1), 12);  // ratio 1.15 -> ceil(11.5)
  // ccburst's metric (replicas wanted, target 1): every step of one replica up to 10 is > 10 %.
  EXPECT_EQ(ExternalAverageValueReplicas(3, 4, 1), 4);
  EXPECT_EQ(ExternalAverageValueReplicas(4, 1, 1), 1);
}

TEST(Hpa, ScaleUpLimitedToDoubleOrFour) {
  EXPECT_EQ(ScaleUpLimit(1), 4);
  EXPECT_EQ(ScaleUpLimit(3), 6);
  Hpa hpa({1, 100, 0.1, 0});
  EXPECT_EQ(hpa.Sync(0, 1, 50, 1), 4);
  EXPECT_EQ(hpa.Sync(15, 4, 50, 1), 8);
}

TEST(Hpa, ClampsToMinAndMax) {
  Hpa hpa({1, 4, 0.1, 0});
  EXPECT_EQ(hpa.Sync(0, 2, 9, 1), 4);
  EXPECT_EQ(hpa.Sync(15, 4, 0, 1), 1);
}

TEST(Hpa, ZeroReplicasDisablesScaling) {
  Hpa hpa({1, 4, 0.1, 300});
  EXPECT_EQ(hpa.Sync(0, 0, 3, 1), 0);
}

// Scale-down stabilization: the highest recommendation of the last 300 s is used.
TEST(Hpa, ScaleDownWaitsForStabilizationWindow) {
  Hpa hpa({1, 10, 0.1, 300});
  EXPECT_EQ(hpa.Sync(0, 2, 4, 1), 4);
  EXPECT_EQ(hpa.Sync(15, 4, 1, 1), 4);   // recommendation 1, but 4 was seen 15 s ago
  EXPECT_EQ(hpa.Sync(299, 4, 1, 1), 4);  // still inside the window
  EXPECT_EQ(hpa.Sync(301, 4, 1, 1), 1);  // the 4 left the window
}

// The legacy path (no `behavior`): the recommendation is the maximum of the window and is NOT
// capped at the current replicas, so a spike the scale-up limit cut short keeps scaling up after
// demand has gone. Worked by hand: a metric of 20 wanted replicas at t=0 with 1 replica running,
// then 2 from t=15 on.
//   t=0:  window {1 (initial), 20} -> 20, limit max(2*1, 4) = 4   -> 4
//   t=15: proposal 2, window max 20 -> 20, limit max(2*4, 4) = 8  -> 8
//   t=30: proposal 2, window max 20, limit 16                     -> 16
//   t=45: proposal 2, window max 20, limit 32                     -> 20
//   t=300: the 20 of t=0 is still in the window (300 - 300 = 0 is not before it) -> 20
//   t=301: only 2s left                                           -> 2
// (The behavior path would have held 4 at t=15: its scale-down recommendation is capped at the
// current replicas.)
TEST(Hpa, LegacyPathKeepsScalingUpToTheWindowMaximum) {
  Hpa hpa({1, 100, 0.1, 300});
  EXPECT_EQ(hpa.Sync(0, 1, 20, 1), 4);
  EXPECT_EQ(hpa.Sync(15, 4, 2, 1), 8);
  EXPECT_EQ(hpa.Sync(30, 8, 2, 1), 16);
  EXPECT_EQ(hpa.Sync(45, 16, 2, 1), 20);
  EXPECT_EQ(hpa.Sync(300, 20, 2, 1), 20);
  EXPECT_EQ(hpa.Sync(301, 20, 2, 1), 2);
}

// recordInitialRecommendation: the replicas found at the first sync count as a recommendation,
// so a new HPA does not scale down for one window.
TEST(Hpa, FirstSyncRemembersCurrentReplicas) {
  Hpa hpa({1, 10, 0.1, 300});
  EXPECT_EQ(hpa.Sync(0, 5, 1, 1), 5);
  EXPECT_EQ(hpa.Sync(150, 5, 1, 1), 5);
  EXPECT_EQ(hpa.Sync(301, 5, 1, 1), 1);
}

// The reference demo's metric: Pending pods, threshold 1. Image pulls count as Pending, and the
// 10 % tolerance holds one more Pending pod only from 11 replicas on: at 10 replicas the ratio
// 11/10 is 1.1, and 1 - 1.1 in float64 is -0.10000000000000009, beyond the tolerance (as in Go).
TEST(Hpa, ToleranceFromElevenReplicas) {
  Hpa hpa({1, 100, 0.1, 0});
  EXPECT_EQ(hpa.Sync(0, 10, 11, 1), 11);
  EXPECT_EQ(hpa.Sync(15, 11, 12, 1), 11);
  EXPECT_EQ(hpa.Sync(30, 11, 13, 1), 13);
}

TEST(ScaledObjectModel, PollAndSyncRunOnTheirOwnPhases) {
  ScaledObjectSpec spec;
  spec.keda = {30, 300, 0, 4};
  spec.scale_down_stabilization_seconds = 300;
  spec.poll_phase_seconds = 22;
  spec.sync_phase_seconds = 8;
  ScaledObjectModel model(spec);
  int polls = 0;
  int syncs = 0;
  double demand = 0;
  TriggerReads reads{[&]() -> absl::StatusOr<bool> {
                       ++polls;
                       return demand > 0;
                     },
                     [&]() -> absl::StatusOr<double> {
                       ++syncs;
                       return demand;
                     }};
  int replicas = 0;
  std::vector<ScaleEvent> events;
  for (int t = 0; t < 120; ++t) {
    if (t == 5) demand = 3;  // pods go Pending at t=5
    if (auto e = model.Step(t, replicas, false, reads, 1)) {
      replicas = e->to;
      events.push_back(*e);
    }
  }
  // Polls at 22, 52, 82, 112; KEDA activates at the first poll after t=5, i.e. 22; the HPA's
  // first sync with replicas > 0 is at 23 (8 + 15k) and scales to 3.
  EXPECT_EQ(polls, 4);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].t, 22);
  EXPECT_EQ(events[0].by, "keda");
  EXPECT_EQ(events[0].to, 1);
  EXPECT_EQ(events[1].t, 23);
  EXPECT_EQ(events[1].by, "hpa");
  EXPECT_EQ(events[1].to, 3);
  EXPECT_EQ(syncs, 7);  // 23, 38, 53, 68, 83, 98, 113
}

TEST(ScaledObjectModel, PushedValueIsEvaluatedAtOnce) {
  ScaledObjectSpec spec;
  spec.keda = {30, 300, 0, 4};
  spec.poll_phase_seconds = 29;
  ScaledObjectModel model(spec);
  TriggerReads reads{[]() -> absl::StatusOr<bool> { return true; },
                     []() -> absl::StatusOr<double> { return 1.0; }};
  EXPECT_FALSE(model.Step(0, 0, false, reads, 1).has_value());
  auto e = model.Step(3, 0, true, reads, 1);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->to, 1);
}

TEST(ScaledObjectModel, ReadErrorsChangeNothing) {
  ScaledObjectModel model(ScaledObjectSpec{});
  TriggerReads reads{[]() -> absl::StatusOr<bool> { return absl::UnavailableError("down"); },
                     []() -> absl::StatusOr<double> { return absl::UnavailableError("down"); }};
  EXPECT_FALSE(model.Step(0, 2, false, reads, 1).has_value());
  EXPECT_EQ(model.last_error(), "down");
}

TEST(KedaExecutor, ActivatesFromZeroAndCoolsDownToZero) {
  KedaExecutor keda({30, 300, 0, 4});
  EXPECT_EQ(keda.RequestScale(0, false, 0), std::nullopt);
  EXPECT_EQ(keda.RequestScale(10, true, 0), 1);
  EXPECT_EQ(keda.RequestScale(40, true, 3), std::nullopt);    // HPA's range: no change
  EXPECT_EQ(keda.RequestScale(70, false, 3), std::nullopt);   // cooling down since 40
  EXPECT_EQ(keda.RequestScale(340, false, 3), std::nullopt);  // 40 + 300 is not before 340
  EXPECT_EQ(keda.RequestScale(341, false, 3), 0);
}

TEST(KedaExecutor, MinReplicaCountOverridesOne) {
  KedaExecutor keda({30, 300, 2, 4});
  EXPECT_EQ(keda.RequestScale(0, true, 0), 2);
  EXPECT_EQ(keda.RequestScale(500, false, 2), std::nullopt);  // never below min
  EXPECT_EQ(keda.RequestScale(600, false, 1), 2);
}

}  // namespace
}  // namespace ccburst::scaler
