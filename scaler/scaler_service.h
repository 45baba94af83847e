// The scaler's request path, independent of gRPC: a ScaledObject reference (name, namespace, the
// trigger's metadata) in, a decision out. The signals of each workload (its Prometheus queries and
// the KBS gate) are read by a background thread every `signal_refresh` into a snapshot; a request
// runs the ScaledObject's Decider on the last snapshot (no I/O on the request path), logs the
// decision with its reason, inputs and the snapshot's age, and exports it on /metrics.
//
// Faults have one answer: the ScaledObject's current replicas are held (Decider::Hold). A refresh
// that fails keeps the last good snapshot, which is used while it is younger than
// `signal_max_age`; after that the decision holds with reason `signals_stale`. Without any good
// snapshot it holds with `signal_error` and the cause. Bad metadata is an error (there is no
// workload to hold for), which KEDA reports on the ScaledObject.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "net/http_client.h"
#include "scaler/config.h"
#include "scaler/decision.h"
#include "scaler/placement.h"
#include "scaler/sources.h"

namespace ccburst::scaler {

struct ObjectRef {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> metadata;
};

// What one ScaledObject is told.
struct Answer {
  Decision decision;  // the workload's count decision
  // For a workload placed across profiles: the placement, and the ScaledObject's profile.
  std::optional<Placement> placement;
  std::string profile;
  int replicas = 0;  // the answer: decision.wanted, or the profile's replicas of the placement
};

class ScalerService {
 public:
  // Builds Prometheus clients and KBS gates for every address in the configuration. A bad address
  // is kInvalidArgument.
  static absl::StatusOr<std::unique_ptr<ScalerService>> Create(ScalerConfig config,
                                                               const core::Clock& clock);
  // Stops the refresh threads.
  ~ScalerService();

  // Starts one refresh thread per workload (and per signal mode a ScaledObject asks for). Before
  // Start, and for a workload not yet refreshed, the first request reads the signals itself.
  void Start();
  // Stops and joins the refresh threads (idempotent).
  void Stop();

  // Decides for one ScaledObject. Metadata keys: `workload` (required, a [workloads.<name>] of
  // the configuration), `mode` (`ccburst` or `pending`, overrides the workload's) and `profile`
  // (required for, and only for, a workload with `profiles`: the profile this ScaledObject
  // scales); KEDA's own keys (scalerAddress, tls*, caCert, enableTLS, unsafeSsl) are ignored;
  // anything else is kInvalidArgument naming the key. Signal and gate faults are not errors: see
  // above. The ScaledObjects of one placed workload (one per profile, same namespace) share one
  // count decision and one placement.
  absl::StatusOr<Answer> Evaluate(const ObjectRef& ref);

  // Name of the metric this ScaledObject's GetMetricSpec announces ("ccburst-<workload>", or
  // "ccburst-<workload>-<profile>" for a placed workload).
  absl::StatusOr<std::string> MetricName(const ObjectRef& ref) const;

  // Prometheus text exposition of the scaler's own metrics.
  std::string RenderMetrics() const;

  const ScalerConfig& config() const { return config_; }

 private:
  struct Metrics;
  struct ObjectState;
  struct Feed;
  ScalerService(ScalerConfig config, const core::Clock& clock);
  absl::StatusOr<const WorkloadConfig*> Resolve(const ObjectRef& ref, SignalMode& mode,
                                                std::string& profile) const;
  absl::StatusOr<Signals> ReadSignals(const WorkloadConfig& w, SignalMode mode);
  // The feed of (workload, mode), created (and its thread started, after Start) on first use.
  Feed& GetFeed(const WorkloadConfig& w, SignalMode mode);
  // Reads the signals and gates of one feed into its snapshot.
  void Refresh(Feed& feed);
  void RefreshLoop(Feed& feed);
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
  std::map<std::string, std::unique_ptr<Feed>> feeds_;           // by workload/mode
  bool started_ = false, stopping_ = false;
  std::condition_variable stop_cv_;
};

}  // namespace ccburst::scaler
