#include "burst/hpa.h"

#include <gtest/gtest.h>

namespace ccburst::burst {
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
}  // namespace ccburst::burst
