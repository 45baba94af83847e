// The KEDA-contract driver: the one part of the burst demo that stands in for a cluster. It plays
// the KEDA operator and the HPA for one ScaledObject against real endpoints: an `external-push`
// trigger talks gRPC (externalscaler.ExternalScaler) to the real ccburst-scaler, a `prometheus`
// trigger (the reference demo's Pending-count ScaledObject) queries the real Prometheus. The
// KEDA/HPA semantics and their sources are scaler/keda_hpa.h, the same model the simulator runs;
// the timing is in simulated seconds (the demo's --speed divides them into wall time).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "scaler/keda_hpa.h"

namespace ccburst::burst {

// One ScaledObject trigger.
class Trigger {
 public:
  virtual ~Trigger() = default;
  // The metric name and AverageValue target (GetMetricSpec).
  virtual absl::StatusOr<std::pair<std::string, double>> MetricSpec() = 0;
  // IsActive, as KEDA polls it.
  virtual absl::StatusOr<bool> IsActive() = 0;
  // The metric value (GetMetrics) as the HPA reads it through KEDA's metrics adapter.
  virtual absl::StatusOr<double> Metric() = 0;
  // external-push: a value pushed on StreamIsActive since the last call.
  virtual std::optional<bool> TakePushed() { return std::nullopt; }
  // What the scaler gave as its reason for the last answer, when it says (for the live view).
  virtual std::string Detail() { return ""; }
  virtual int64_t rpcs() const = 0;
};

// `external-push` trigger against ccburst-scaler at `address` ("127.0.0.1:port") with the
// ScaledObject's scalerMetadata `workload`. Opens StreamIsActive at once (a background thread
// reads it until destruction).
absl::StatusOr<std::unique_ptr<Trigger>> NewExternalPushTrigger(std::string address,
                                                                std::string name,
                                                                std::string workload);

// `prometheus` trigger: `query` against the Prometheus at `address` (http://...), threshold
// (AverageValue target) and activationThreshold as KEDA's prometheus scaler
// (active = value > activation_threshold).
absl::StatusOr<std::unique_ptr<Trigger>> NewPrometheusTrigger(std::string address,
                                                              std::string query, double threshold,
                                                              double activation_threshold = 0);

// The shared model's types, under the names the burst run uses.
using KedaSpec = scaler::KedaSpec;
using ScaledObjectSpec = scaler::ScaledObjectSpec;
using ScaleEvent = scaler::ScaleEvent;

class KedaDriver {
 public:
  KedaDriver(ScaledObjectSpec spec, std::unique_ptr<Trigger> trigger);

  // Advances to `now` (simulated seconds, monotonic) with the scale target at `current` replicas:
  // scaler::ScaledObjectModel::Step with this trigger's reads (IsActive every pollingInterval,
  // pushed activity at once, an HPA sync every hpa_sync_seconds while replicas > 0). Returns the
  // change, if any. Trigger errors are kept in `last_error()` and change nothing.
  std::optional<ScaleEvent> Step(double now, int current);

  Trigger& trigger() { return *trigger_; }
  double last_metric() const { return model_.last_metric(); }
  bool active() const { return model_.active(); }
  const std::string& last_error() const {
    return last_error_.empty() ? model_.last_error() : last_error_;
  }
  const std::string& metric_name() const { return metric_name_; }

 private:
  std::unique_ptr<Trigger> trigger_;
  scaler::ScaledObjectModel model_;
  double target_ = 1;
  std::string metric_name_;
  std::string last_error_;
};

}  // namespace ccburst::burst
