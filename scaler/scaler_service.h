// The scaler's request path, independent of gRPC: a ScaledObject reference (name, namespace, the
// trigger's metadata) in, a decision out. It reads the signals from Prometheus, asks the KBS gate,
// runs the ScaledObject's Decider, logs the decision with its reason and inputs, and exports it on
// the scaler's own /metrics.
//
// Faults have one answer: the ScaledObject's current replicas are held (Decider::Hold) and the
// decision carries reason `signal_error` with the cause. Bad metadata is an error (there is no
// workload to hold for), which KEDA reports on the ScaledObject.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "net/http_client.h"
#include "scaler/config.h"
#include "scaler/decision.h"
#include "scaler/sources.h"

namespace ccburst::scaler {

struct ObjectRef {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> metadata;
};

class ScalerService {
 public:
  // Builds Prometheus clients and KBS gates for every address in the configuration. A bad address
  // is kInvalidArgument.
  static absl::StatusOr<std::unique_ptr<ScalerService>> Create(ScalerConfig config,
                                                               const core::Clock& clock);
  ~ScalerService();

  // Decides for one ScaledObject. Metadata keys: `workload` (required, a [workloads.<name>] of
  // the configuration) and `mode` (`ccburst` or `pending`, overrides the workload's); KEDA's own
  // keys (scalerAddress, tls*, caCert, enableTLS, unsafeSsl) are ignored; anything else is
  // kInvalidArgument naming the key. Signal and gate faults are not errors: see above.
  absl::StatusOr<Decision> Evaluate(const ObjectRef& ref);

  // Name of the metric this ScaledObject's GetMetricSpec announces ("ccburst-<workload>").
  absl::StatusOr<std::string> MetricName(const ObjectRef& ref) const;

  // Prometheus text exposition of the scaler's own metrics.
  std::string RenderMetrics() const;

  const ScalerConfig& config() const { return config_; }

 private:
  struct Metrics;
  struct ObjectState;
  ScalerService(ScalerConfig config, const core::Clock& clock);
  absl::StatusOr<const WorkloadConfig*> Resolve(const ObjectRef& ref, SignalMode& mode) const;
  absl::StatusOr<Signals> ReadSignals(const WorkloadConfig& w, SignalMode mode);
  // Sends a decision that changed the wanted replicas to the KBS's audit trail ([audit]); a
  // failure is logged and counted, never a reason to decide otherwise.
  void RecordDecision(const std::string& key, const WorkloadConfig& w,
                      const InstanceProfile& profile, const Decision& d, GateState gate,
                      const std::string& gate_why);

  ScalerConfig config_;
  const core::Clock& clock_;
  std::map<std::string, std::unique_ptr<PrometheusClient>> prometheus_;  // by address
  std::map<std::string, std::unique_ptr<KbsGate>> gates_;                // by url
  std::mutex audit_mu_;                          // one request at a time on audit_http_
  std::unique_ptr<net::HttpClient> audit_http_;  // null: [audit] disabled
  std::string audit_token_;
  std::unique_ptr<Metrics> metrics_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<ObjectState>> objects_;  // by namespace/name
};

}  // namespace ccburst::scaler
