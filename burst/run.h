// One burst run: the scenario's demand drives the on-prem cluster model (cluster.h), whose
// kube-state-metrics exposition a real Prometheus scrapes; the KEDA-contract driver
// (keda_driver.h) polls the trigger of one ScaledObject (ccburst-scaler over gRPC, or the
// reference demo's Prometheus trigger) and sets `cloud-deployment`'s replicas; the cloud model
// (cloud.h) boots that many confidential VMs that attest to the real KBS. Prints one live line per
// `print_every` simulated seconds and returns what happened; Summary() and Svg() render results.
#pragma once

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

#include "burst/cloud.h"
#include "burst/cluster.h"
#include "burst/keda_driver.h"
#include "scaler/simulator.h"

namespace ccburst::burst {

struct RunOptions {
  std::string policy = "ccburst";  // "ccburst" (external-push) or "seed" (prometheus trigger)
  std::vector<scaler::TraceRow> trace;
  double start_seconds = 0;  // scenario time where the run starts
  double duration_seconds = 0;
  double speed = 30;  // simulated seconds per wall second
  double tick_seconds = 5;
  double print_every_seconds = 60;
  std::string exposition_file;  // the cluster model's /metrics body, rewritten every tick
  std::string scaler_grpc;      // 127.0.0.1:port
  std::string scaler_http;      // http://127.0.0.1:port (its /metrics: reason codes)
  std::string prometheus;       // http://127.0.0.1:port
  std::string workload = "on-prem-deployment";
  std::string seed_query;  // the seed ScaledObject's query
  double seed_threshold = 1;
  ScaledObjectSpec scaled_object;
  CloudOptions cloud;
  // The on-prem cluster: its nodes at scenario second 0 and their changes (scenario seconds).
  // Empty nodes: ClusterForTrace's nodes (the trace's onprem_capacity_pods column), and its
  // events too when `events` is empty.
  ClusterSpec cluster;
  int pods_per_instance = 2;
  double image_pull_seconds = 20;
  // Set (e.g. from a signal handler) to end the run early; its VMs are stopped as usual.
  const std::atomic<bool>* stop = nullptr;
};

struct Sample {
  double t = 0;
  int demand = 0, capacity = 0, running = 0, pulling = 0, unschedulable = 0;
  int replicas = 0, booting = 0, attesting = 0, serving = 0, refused = 0;
};

struct RunResult {
  std::string policy;
  std::vector<Sample> samples;
  std::vector<ScaleEvent> events;
  CloudTotals cloud;
  double first_pending = -1;       // simulated seconds since the run's start
  double first_serving = -1;       // first cloud VM serving after first_pending
  double pending_pod_seconds = 0;  // unschedulable pods not covered by serving VMs
  double cost = 0;
  int peak_replicas = 0;
  bool back_to_zero = false;        // replicas reached 0 again after scaling out
  int64_t trigger_calls = 0;        // gRPC calls (incl. stream messages) or Prometheus queries
  std::vector<std::string> errors;  // distinct trigger errors
  std::vector<std::string> refusals;
  std::vector<std::string> node_events;  // "00:10:00 node-2 drained", as the live view printed
  std::vector<Vm> vms;                   // every VM of the run as it ended (or was deleted)
};

// Runs the scenario; `out` gets the live view. Fails only when the trigger cannot be created or
// the exposition file cannot be written.
absl::StatusOr<RunResult> Run(const RunOptions& options, std::ostream& out);

// The summary table (one column per run) and, with two runs, the comparison.
std::string Summary(const std::vector<RunResult>& runs, double price_per_hour);

// One JSON object with the run's figures, each VM's final state and the refusals (for tests).
std::string ToJson(const RunResult& r);

// An SVG plot (hand-written, no dependencies) of demand, on-prem capacity, pending pods, cloud
// replicas and attested (serving) VMs over time, one panel per run.
std::string Svg(const std::vector<RunResult>& runs);

}  // namespace ccburst::burst
