// Replays a demand trace through a burst policy with KEDA/HPA timing and cloud VM start-up, and
// measures what users pay for: pods left pending, cloud instance-hours and cost, scale events and
// flaps. "seed" is the seed's ScaledObject (Prometheus trigger on the Pending pod count, threshold
// 1); "ccburst" is Decider (decision.h), the logic the gRPC scaler runs. Both get the same instance
// profile and replica cap, so the difference is the decision logic.
//
// Model (1 s ticks; the trace is a step function between rows):
//  - on-prem runs min(demand, capacity) pods; pods beyond capacity are unschedulable. A pod newly
//    scheduled on-prem stays Pending for `image_pull` (pulling its image): the seed's query counts
//    it, ccburst (unschedulable pods only) does not.
//  - a cloud replica is one confidential VM of the profile; it serves `pods per instance` pods once
//    it has booted (`vm_startup`) and attested (`attestation`), and costs from boot to removal.
//  - KEDA checks IsActive every `polling_interval` (ccburst also pushes activation through
//    StreamIsActive every `stream_interval`), activates 0 -> 1, and scales to 0 after
//    `cooldown_period` without activity; the HPA syncs every `hpa_sync`, wants ceil(value /
//    target), skips changes within `tolerance`, and scales down to the highest recommendation of
//    its `stabilization` window.
//  - pending pod-seconds = unschedulable pods not covered by ready cloud replicas (on-prem image
//    pulls cost both policies the same and are left out).
//  - a flap is a scale-up less than `flap_window` after a scale-down.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scaler/decision.h"

namespace ccburst::scaler {

struct TraceRow {
  int64_t t_seconds = 0;
  double demand_pods = 0;
  double onprem_capacity_pods = 0;
  std::optional<Resources> pod;  // pod_cpu, pod_memory_gib when the trace has them
};

// Parses a trace CSV: header `t_seconds,demand_pods,onprem_capacity_pods[,pod_cpu,pod_memory_gib]`,
// one row per step, t strictly increasing. Blank lines and lines starting with '#' are skipped.
// Errors are kInvalidArgument naming the line and the field.
absl::StatusOr<std::vector<TraceRow>> ParseTrace(std::string_view csv);

enum class PolicyKind { kSeed, kCcburst };
absl::StatusOr<PolicyKind> ParsePolicyKind(std::string_view name);
std::string_view PolicyKindName(PolicyKind k);

// KEDA/HPA settings of one ScaledObject.
struct KedaTiming {
  std::chrono::seconds polling_interval{30};
  std::chrono::seconds cooldown_period{300};
  std::chrono::seconds hpa_sync{15};
  std::chrono::seconds stabilization{300};  // HPA scale-down stabilization window
  double tolerance = 0.1;
};

struct SimParams {
  InstanceProfile profile{"tdx-4x16", {4, 16, 0}, 0.83, "tdx", "westeurope"};
  PlacementPolicy policy;       // max_replicas and cool-downs shared by both policies
  Resources pod_size{1, 4, 0};  // when the trace has no pod columns
  KedaTiming seed_timing;       // the seed's ScaledObject: KEDA/HPA defaults
  // ccburst's ScaledObject (deploy/scaler/scaledobject-ccburst.yaml) leaves the cool-down to the
  // scaler: KEDA cooldownPeriod 30 s and no HPA scale-down stabilization.
  KedaTiming ccburst_timing{std::chrono::seconds(30), std::chrono::seconds(30),
                            std::chrono::seconds(15), std::chrono::seconds(0), 0.1};
  std::chrono::seconds stream_interval{5};
  std::chrono::seconds vm_startup{90};
  std::chrono::seconds attestation{5};
  std::chrono::seconds image_pull{20};
  std::chrono::seconds flap_window{600};
  double seed_threshold = 1;  // the seed trigger's `threshold`
};

struct SimResult {
  PolicyKind policy = PolicyKind::kSeed;
  double pending_pod_seconds = 0;
  double cloud_instance_hours = 0;
  double cost = 0;
  int scale_events = 0;
  int flaps = 0;
  int peak_replicas = 0;
};

// Runs one policy over the trace. An empty trace is kInvalidArgument.
absl::StatusOr<SimResult> Simulate(const std::vector<TraceRow>& trace, PolicyKind policy,
                                   const SimParams& params);

// One JSON object on one line: {"policy":"ccburst","pending_pod_seconds":395,
// "cloud_instance_hours":19.581,"cost":16.25,"scale_events":12,"flaps":2,"peak_replicas":2}
// (pending pod-seconds rounded to whole seconds, hours to 3 and cost to 2 decimals).
std::string ToJsonLine(const SimResult& r);

}  // namespace ccburst::scaler
