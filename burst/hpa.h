// The scaling semantics of KEDA and the Kubernetes HorizontalPodAutoscaler, as pure functions and
// small state machines in simulated seconds, so that the burst demo's driver (keda_driver.h)
// behaves as a real cluster does and the arithmetic is unit-tested against the Kubernetes
// documentation's worked examples.
//
// Sources (read for these facts; the code here is a re-statement, not a copy):
//  - kedacore/keda pkg/scaling/executor/scale_scaledobjects.go `RequestScale`: with an active
//    trigger and 0 replicas KEDA scales to max(minReplicaCount, 1) ("scaleFromZero") and stamps
//    lastActiveTime; with no active trigger, replicas > 0 and minReplicaCount 0 it scales to 0
//    once lastActiveTime + cooldownPeriod (default 300 s) has passed ("scaleToZero"); an active
//    trigger with replicas > 0 only refreshes lastActiveTime. Between 1 and max the HPA scales.
//  - kedacore/keda pkg/scalers/external_scaler.go: `external` polls IsActive every
//    pollingInterval (default 30 s) and serves GetMetricSpec/GetMetrics to the HPA through the
//    metrics adapter; `external-push` also holds a StreamIsActive stream open and asks the
//    executor to re-evaluate the moment a pushed value arrives.
//  - kubernetes pkg/controller/podautoscaler/replica_calculator.go
//    `GetExternalPerPodMetricReplicas` (AverageValue target): usageRatio = total / (target *
//    currentReplicas); when |1 - usageRatio| <= tolerance (0.1) the replicas stay, otherwise
//    desired = ceil(total / target).
//  - kubernetes pkg/controller/podautoscaler/horizontal.go: `stabilizeRecommendation` keeps the
//    highest recommendation of the scale-down stabilization window (default 300 s);
//    `convertDesiredReplicasWithRules` clamps to [minReplicas, min(maxReplicas, max(2 *
//    current, 4))]; with 0 current replicas and minReplicas > 0 the HPA does not scale
//    ("scaling is disabled"), which is why KEDA owns 0 <-> 1. (The v2 `behavior` default scale-up
//    policy, 100 % or 4 pods per 15 s, is the same limit for the replica counts used here.)
#pragma once

#include <deque>
#include <optional>
#include <utility>

namespace ccburst::burst {

// Replicas the HPA wants for an external metric with an AverageValue target:
// GetExternalPerPodMetricReplicas. `current` must be > 0, `target` > 0.
int ExternalAverageValueReplicas(int current, double metric_total, double target,
                                 double tolerance = 0.1);

// max(2 * current, 4): how far one HPA sync may scale up.
int ScaleUpLimit(int current);

struct HpaSpec {
  int min_replicas = 1;  // KEDA creates the HPA with max(minReplicaCount, 1)
  int max_replicas = 100;
  double tolerance = 0.1;
  double scale_down_stabilization_seconds = 300;
};

// One HPA object: Sync() is one controller resync (every 15 s by default).
class Hpa {
 public:
  explicit Hpa(HpaSpec spec) : spec_(spec) {}
  // The replicas to set after a sync at `now` (seconds). `current` 0 returns 0 (scaling disabled).
  int Sync(double now, int current, double metric_total, double target);
  const HpaSpec& spec() const { return spec_; }

 private:
  HpaSpec spec_;
  std::deque<std::pair<double, int>> recommendations_;  // (time, recommendation)
};

struct KedaSpec {
  double polling_interval_seconds = 30;
  double cooldown_period_seconds = 300;
  int min_replica_count = 0;
  int max_replica_count = 100;
};

// KEDA's scale executor for one ScaledObject (the 0 <-> 1 part).
class KedaExecutor {
 public:
  explicit KedaExecutor(KedaSpec spec) : spec_(spec) {}
  // RequestScale: returns the new replica count when KEDA changes it, nullopt otherwise.
  std::optional<int> RequestScale(double now, bool active, int current);
  std::optional<double> last_active() const { return last_active_; }
  const KedaSpec& spec() const { return spec_; }

 private:
  KedaSpec spec_;
  std::optional<double> last_active_;
};

}  // namespace ccburst::burst
