// The scaling semantics of KEDA and the Kubernetes HorizontalPodAutoscaler, as pure functions and
// small state machines in simulated seconds. ONE model, used by both the simulator
// (scaler/simulator.h, for both policies) and the burst demo's KEDA-contract driver
// (burst/keda_driver.h), so the simulator and the live run cannot disagree.
//
// Sources (read for these facts; the code here is a re-statement, not a copy):
//  - kedacore/keda pkg/scaling/executor/scale_scaledobjects.go `RequestScale`: with an active
//    trigger and 0 replicas KEDA scales to max(minReplicaCount, 1) ("scaleFromZero") and stamps
//    lastActiveTime; with no active trigger, replicas > 0 and minReplicaCount 0 it scales to 0
//    once lastActiveTime + cooldownPeriod (default 300 s) has passed ("scaleToZero"); an active
//    trigger with replicas > 0 only refreshes lastActiveTime. Between 1 and max the HPA scales.
//  - kedacore/keda pkg/scaling/scale_handler.go `startScaleLoop`: one ticker per ScaledObject,
//    pollingInterval (default 30 s), started when the ScaledObject is reconciled, so its phase
//    against any other clock is arbitrary; pkg/scalers/external_scaler.go: `external-push` also
//    holds StreamIsActive open and the handler re-evaluates the moment a value arrives.
//  - kedacore/keda controllers/keda/hpa.go `newHPAForScaledObject`: the HPA gets
//    minReplicas = max(minReplicaCount, 1) (pkg/scaling/resolver `GetHPAMinReplicas`), maxReplicas
//    = maxReplicaCount (default 100), and `Spec.Behavior` only when the ScaledObject sets
//    advanced.horizontalPodAutoscalerConfig.behavior. The reference demo's ScaledObject does not,
//    and the API server's v2 defaulting (`SetDefaults_HorizontalPodAutoscalerBehavior`) fills a
//    behavior only when one is present, so the HPA runs its LEGACY path below.
//  - kubernetes pkg/controller/podautoscaler/replica_calculator.go
//    `GetExternalPerPodMetricReplicas` (AverageValue target): usageRatio = total / (target *
//    currentReplicas); when |1 - usageRatio| <= tolerance (0.1) the replicas stay, otherwise
//    desired = ceil(total / target), in int64 milli-units.
//  - kubernetes pkg/controller/podautoscaler/horizontal.go `reconcileAutoscaler`: current 0 with
//    minReplicas > 0 means "scaling is disabled" (KEDA owns 0 <-> 1); `Spec.Behavior == nil` ->
//    `normalizeDesiredReplicas`: `stabilizeRecommendation` returns the MAXIMUM of the new
//    recommendation and every recommendation not older than the downscale stabilisation window
//    (300 s, --horizontal-pod-autoscaler-downscale-stabilization), NOT capped at the current
//    replicas (the behavior path's `stabilizeRecommendationWithBehaviors` is), and
//    `recordInitialRecommendation` seeds the window with the current replicas at the first sync;
//    then `convertDesiredReplicasWithRules` clamps to [minReplicas, min(maxReplicas,
//    `calculateScaleUpLimit` = max(2 * current, 4))]. The controller resyncs every 15 s
//    (--horizontal-pod-autoscaler-sync-period), on its own clock.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "core/status.h"

namespace ccburst::scaler {

// Replicas the HPA wants for an external metric with an AverageValue target:
// GetExternalPerPodMetricReplicas. `current` must be > 0, `target` > 0.
int ExternalAverageValueReplicas(int current, double metric_total, double target,
                                 double tolerance = 0.1);

// max(2 * current, 4): how far one HPA sync may scale up (calculateScaleUpLimit).
int ScaleUpLimit(int current);

struct HpaSpec {
  int min_replicas = 1;  // KEDA creates the HPA with max(minReplicaCount, 1)
  int max_replicas = 100;
  double tolerance = 0.1;
  double scale_down_stabilization_seconds = 300;
};

// One HPA object without `behavior` (the legacy path): Sync() is one controller resync.
class Hpa {
 public:
  explicit Hpa(HpaSpec spec) : spec_(spec) {}
  // The replicas to set after a sync at `now` (seconds). `current` 0 returns 0 (scaling disabled).
  int Sync(double now, int current, double metric_total, double target);
  const HpaSpec& spec() const { return spec_; }

 private:
  HpaSpec spec_;
  bool initialized_ = false;
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

// One ScaledObject with its HPA: KEDA's polling loop and the HPA's resync loop, each on its own
// clock. The phases are offsets of the first poll and the first sync after the first Step().
struct ScaledObjectSpec {
  std::string name;
  KedaSpec keda;
  double hpa_sync_seconds = 15;
  double scale_down_stabilization_seconds = 300;
  double tolerance = 0.1;
  double poll_phase_seconds = 0;  // in [0, polling interval)
  double sync_phase_seconds = 0;  // in [0, HPA sync period)
};

// Why a replica count changed, for the live view and the event log.
struct ScaleEvent {
  double t = 0;
  int from = 0;
  int to = 0;
  std::string by;  // "keda" (0 <-> 1) or "hpa"
};

// What the model reads from the trigger: IsActive (KEDA's poll) and the metric (the HPA's read
// through KEDA's metrics adapter). A failed read changes nothing (KEDA and the HPA keep the
// replicas) and is kept in last_error().
struct TriggerReads {
  std::function<absl::StatusOr<bool>()> is_active;
  std::function<absl::StatusOr<double>()> metric;
};

class ScaledObjectModel {
 public:
  explicit ScaledObjectModel(ScaledObjectSpec spec);

  // Advances to `now` (seconds, monotonic; call at least once per second of simulated time for
  // exact timing) with the scale target at `current` replicas. Polls IsActive on the polling
  // clock or at once when `pushed` (an external-push value arrived), then runs an HPA sync on the
  // sync clock while replicas > 0. Returns the change, if any, and its author.
  std::optional<ScaleEvent> Step(double now, int current, bool pushed, const TriggerReads& reads,
                                 double target);

  bool active() const { return active_; }
  double last_metric() const { return last_metric_; }
  const std::string& last_error() const { return last_error_; }
  const ScaledObjectSpec& spec() const { return spec_; }

 private:
  ScaledObjectSpec spec_;
  KedaExecutor keda_;
  Hpa hpa_;
  std::optional<double> next_poll_;
  std::optional<double> next_sync_;
  bool active_ = false;
  double last_metric_ = 0;
  std::string last_error_;
};

}  // namespace ccburst::scaler
