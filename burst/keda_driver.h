// The KEDA-contract driver: the one part of the burst demo that stands in for a cluster. It plays
// the KEDA operator and the HPA for one ScaledObject against real endpoints: an `external-push`
// trigger talks gRPC (externalscaler.ExternalScaler) to the real ccburst-scaler, a `prometheus`
// trigger (the reference demo's Pending-count ScaledObject) queries the real Prometheus. The
// semantics and their sources are in hpa.h; the timing is in simulated seconds (the demo's
// --speed divides them into wall time).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "burst/hpa.h"
#include "core/status.h"

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

struct ScaledObjectSpec {
  std::string name;
  KedaSpec keda;
  double hpa_sync_seconds = 15;
  double scale_down_stabilization_seconds = 300;
};

// Why a replica count changed, for the live view and the event log.
struct ScaleEvent {
  double t = 0;
  int from = 0;
  int to = 0;
  std::string by;  // "keda" (0 <-> 1) or "hpa"
};

class KedaDriver {
 public:
  KedaDriver(ScaledObjectSpec spec, std::unique_ptr<Trigger> trigger);

  // Advances to `now` (simulated seconds, monotonic) with the scale target at `current` replicas:
  // polls IsActive every pollingInterval, reacts to pushed activity at once, runs an HPA sync every
  // hpa_sync_seconds while replicas > 0. Returns the new replica count when it changed. Trigger
  // errors are logged into `last_error()` and change nothing (KEDA keeps the replicas).
  std::optional<ScaleEvent> Step(double now, int current);

  Trigger& trigger() { return *trigger_; }
  double last_metric() const { return last_metric_; }
  bool active() const { return active_; }
  const std::string& last_error() const { return last_error_; }
  const std::string& metric_name() const { return metric_name_; }

 private:
  ScaledObjectSpec spec_;
  std::unique_ptr<Trigger> trigger_;
  KedaExecutor keda_;
  Hpa hpa_;
  std::optional<double> next_poll_;
  std::optional<double> next_sync_;
  bool active_ = false;
  double last_metric_ = 0;
  double target_ = 1;
  std::string metric_name_;
  std::string last_error_;
};

}  // namespace ccburst::burst
