// ccburst-scaler configuration (TOML). Strict: an unknown key or a value of the wrong type is an
// error naming it, so a typo never silently changes where or how much the cluster bursts.
//
//   [server]      grpc_address, http_address, stream_interval_seconds, tls_cert_file,
//                 tls_key_file, tls_client_ca_file, signal_refresh_seconds, signal_max_age_seconds
//   [prometheus]  address, timeout_ms, bearer_token_file, ca_file
//   [kbs]         url, timeout_ms, max_failure_ratio, min_attestations, window_seconds,
//                 refresh_seconds, ca_file, metrics   (no url = attestation gate disabled)
//   [profiles.<name>]  vcpu, memory_gib, gpus, price_per_hour, tee, region, cloud, sovereignty,
//                      gpu_arch
//   [workloads.<name>] profile, profiles (placement across them, placement.h), mode, namespace,
//                      pod_regex, node_regex, cloud_deployment, max_replicas, budget_per_hour,
//                      allowed_regions, allowed_tees, allowed_clouds, allowed_sovereignty, windows,
//                      scale_in_cooldown_seconds (absent: the ski-rental cool-down),
//                      headroom_pods, warm_pods, trend_window_seconds, trend_gain,
//                      vm_startup_seconds, pending_pod_hour_price (decision.h rules 6 and 7
//                      and the ski-rental rule),
//                      pod_cpu, pod_memory_gib, pod_gpus, prometheus_address, kbs_url
//   [workloads.<name>.queries] unschedulable_pods, pending_pods, pending_cpu, pending_memory_gib,
//                      pending_gpus, onprem_free_cpu, onprem_free_memory_gib, cloud_replicas
// Queries may use $namespace, $pod_regex, $node_regex and $cloud_deployment.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "scaler/decision.h"
#include "scaler/placement.h"

namespace ccburst::scaler {

struct PrometheusConfig {
  std::string address = "http://127.0.0.1:9090";
  std::chrono::milliseconds timeout{2000};
  std::optional<std::string> bearer_token_file;
  std::optional<std::string> ca_file;
};

// Which attestation counters the gate reads from the KBS's /metrics (see ParseKbsAttestations).
enum class KbsMetricNames {
  kAuto,       // ours when present, else the reference KBS's
  kCcburst,    // kbs_attestations_total{tee,outcome}
  kReference,  // kbs_attestation_{successes,failures}_total{tee_type}
};

struct KbsGateConfig {
  std::string url;  // empty: gate disabled
  std::chrono::milliseconds timeout{2000};
  double max_failure_ratio = 0.5;  // failures / attestations of the TEE type in the window
  int min_attestations = 3;        // fewer in the window: not enough evidence to close the gate
  std::chrono::seconds window{300};
  std::chrono::seconds refresh{5};  // how often /healthz and /metrics are read
  std::optional<std::string> ca_file;
  KbsMetricNames metric_names = KbsMetricNames::kAuto;  // `metrics`: auto, ccburst, reference
};

struct Queries {
  std::string unschedulable_pods;
  std::string pending_pods;  // the seed's query (mode = "pending")
  std::string pending_cpu;
  std::string pending_memory_gib;
  std::string pending_gpus;  // empty: not queried
  std::string onprem_free_cpu;
  std::string onprem_free_memory_gib;
  std::string cloud_replicas;  // empty: not queried
};

enum class SignalMode {
  kCcburst,  // unschedulable pods, their requests, on-prem free capacity
  kPending,  // the seed's Pending count only
};

struct WorkloadConfig {
  std::string name;
  // The profile whose instance is the unit of the count decision (decision.h). With `profiles`
  // (two or more), the replicas are placed across those (placement.h) and each ScaledObject names
  // its profile; `profile` is then one of them (default: the first) and must be allowed.
  std::string profile;
  std::vector<std::string> profiles;  // empty: one profile, no placement step
  PlacementRules placement;           // max_replicas, budget and the allowed lists, as `policy`
  SignalMode mode = SignalMode::kCcburst;
  PlacementPolicy policy;
  Resources pod_size{1, 4, 0};
  Queries queries;  // with $placeholders substituted
  std::optional<std::string> prometheus_address;
  std::optional<std::string> kbs_url;
};

// The gRPC endpoint's TLS, as KEDA's external scaler speaks it (trigger metadata `enableTLS`,
// TriggerAuthentication `caCert` / `tlsClientCert` / `tlsClientKey`): a server certificate and key
// (PEM) turn TLS on; a client CA additionally requires and verifies a client certificate (mutual
// TLS). None: plaintext, as before.
struct GrpcTlsConfig {
  std::optional<std::string> cert_file, key_file, client_ca_file;
};

// [audit]: burst decisions that change the wanted replica count are sent to the KBS's audit trail
// (POST /kbs/v0/audit/burst-decision, authenticated with an admin JWT whose role the KBS's ACLs
// allow that one path), so that one signed chain holds them beside attestations and releases.
struct AuditSinkConfig {
  bool enabled = false;
  std::string kbs_url;                 // default: [kbs] url
  std::optional<std::string> ca_file;  // default: [kbs] ca_file
  std::string token_file;              // the admin JWT (required when enabled)
  std::chrono::milliseconds timeout{2000};
};

struct ScalerConfig {
  std::string grpc_address = "0.0.0.0:9090";
  GrpcTlsConfig grpc_tls;
  std::string http_address = "0.0.0.0:8080";
  std::chrono::seconds stream_interval{5};
  // The signals (Prometheus queries and the KBS gate) are read per workload in the background
  // every signal_refresh; requests are answered from the last snapshot, and a snapshot older than
  // signal_max_age holds the replicas (reason `signals_stale`) instead of scaling on old data.
  std::chrono::seconds signal_refresh{5};
  std::chrono::seconds signal_max_age{60};
  PrometheusConfig prometheus;
  KbsGateConfig kbs;
  AuditSinkConfig audit;
  std::map<std::string, InstanceProfile> profiles;
  std::map<std::string, WorkloadConfig> workloads;
};

// Parses the TOML text; relative file paths resolve against `base_dir`. Errors are
// kInvalidArgument: "config: unknown key `workloads.web.max_replica`", "config:
// `workloads.web.profile` names unknown profile `x`", TOML syntax errors with line and column.
absl::StatusOr<ScalerConfig> ParseScalerConfig(std::string_view text, const std::string& base_dir);
// Reads and parses a file (kNotFound when it cannot be read).
absl::StatusOr<ScalerConfig> LoadScalerConfig(const std::string& path);

}  // namespace ccburst::scaler
