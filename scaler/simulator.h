// Replays a demand trace through a burst policy with KEDA/HPA timing and cloud VM start-up, and
// measures what users pay for: pods left pending, cloud instance-hours and cost, scale events and
// flaps. "seed" is the reference demo's ScaledObject (Prometheus trigger on the Pending pod
// count, threshold 1, no HPA `behavior`); "ccburst" is Decider (decision.h), the logic the gRPC
// scaler runs. Both get the same instance profile and replica cap, the same KEDA/HPA model
// (keda_hpa.h, shared with the burst demo's driver) and the same metric delays, so the difference
// is the decision logic.
//
// Model (1 s ticks; the trace is a step function between rows):
//  - on-prem runs min(demand, capacity) pods; pods beyond capacity are unschedulable. A pod newly
//    scheduled on-prem stays Pending for `image_pull` (pulling its image): kube-state-metrics
//    reports it as Pending, so the seed's query counts it; ccburst (unschedulable pods only) does
//    not.
//  - both policies see the cluster through kube-state-metrics as Prometheus scraped it: every
//    `scrape_interval` (60 s on OpenShift) at phase `phases.scrape`.
//  - a cloud replica is one confidential VM of the profile; it serves `pods per instance` pods once
//    it has booted (`vm_startup`) and attested (`attestation`), and costs from boot to removal.
//  - KEDA polls IsActive every `polling_interval` at phase `phases.poll` (ccburst also pushes
//    through StreamIsActive every `stream_interval` at phase `phases.stream`); the HPA syncs every
//    `hpa_sync` at phase `phases.sync` on the legacy path (keda_hpa.h).
//  - pending pod-seconds = unschedulable pods not covered by ready cloud replicas (on-prem image
//    pulls cost both policies the same and are left out).
//  - a flap is a scale-up less than `flap_window` after a scale-down.
// No clock is aligned with the trace in reality, so SimulatePhases() reports every figure as the
// median and the worst case over random phase draws, the same draws for both policies.
#pragma once

#include <chrono>
#include <cstdint>
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

// Offsets (seconds) of the first scrape, KEDA poll, HPA sync and stream push after the trace's
// start; each in [0, its interval).
struct Phases {
  int64_t scrape = 0;
  int64_t poll = 0;
  int64_t sync = 0;
  int64_t stream = 0;
};

// What a pending pod-second, an instance-hour (the profile's price) and a flap are worth, for the
// one-number comparison with the clairvoyant bound (bound.h).
struct CostModel {
  double pending_pod_hour = 1.0;  // price of one pod waiting one hour
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
  std::chrono::seconds scrape_interval{60};  // kube-state-metrics as Prometheus scrapes it
  Phases phases;
  std::chrono::seconds flap_window{600};
  double seed_threshold = 1;  // the seed trigger's `threshold`
  CostModel cost_model;
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

// Runs one policy over the trace with `params.phases`. An empty trace is kInvalidArgument.
absl::StatusOr<SimResult> Simulate(const std::vector<TraceRow>& trace, PolicyKind policy,
                                   const SimParams& params);

// `draws` random phase sets from `seed` (std::mt19937_64, uniform in each interval); draw i is
// the same for every policy given the same seed.
std::vector<Phases> DrawPhases(const SimParams& params, int draws, uint64_t seed);

// A figure over phase draws (or over traces and draws).
struct Spread {
  double median = 0;
  double worst = 0;  // the largest: every figure here is better lower
};
Spread SpreadOf(std::vector<double> values);

struct PhaseSummary {
  PolicyKind policy = PolicyKind::kSeed;
  int runs = 0;
  Spread pending_pod_seconds, cloud_instance_hours, cost, scale_events, flaps, peak_replicas;
  std::vector<SimResult> results;  // one per run, in draw order
};

// Simulate() once per phase set; kInvalidArgument as Simulate().
absl::StatusOr<PhaseSummary> SimulatePhases(const std::vector<TraceRow>& trace, PolicyKind policy,
                                            const SimParams& params,
                                            const std::vector<Phases>& phases);
// Summarizes runs (pooled, e.g. several traces' draws).
PhaseSummary Summarize(PolicyKind policy, std::vector<SimResult> results);

// One JSON object on one line: {"policy":"ccburst","pending_pod_seconds":395,
// "cloud_instance_hours":19.581,"cost":16.25,"scale_events":12,"flaps":2,"peak_replicas":2}
// (pending pod-seconds rounded to whole seconds, hours to 3 and cost to 2 decimals).
std::string ToJsonLine(const SimResult& r);

}  // namespace ccburst::scaler
