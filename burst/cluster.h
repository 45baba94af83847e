// The on-prem cluster model of the burst demo: nodes with allocatable CPU and memory, the
// `on-prem-deployment` whose pods request memory, a first-fit scheduler that places pods where
// they fit and leaves the rest Pending (unschedulable), newly placed pods Pending while their
// image is pulled, and the `cloud-deployment`'s replicas. The nodes are the cluster's: they come
// from the trace's header or the demo's configuration (ClusterSpec), and change while the
// scenario runs where it says so (a node added, a node drained). Exposition() renders the state
// as the series kube-state-metrics exports, so Prometheus scrapes it and ccburst-scaler's
// unchanged queries run against it. Pure state, no I/O; time is simulated seconds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scaler/decision.h"
#include "scaler/simulator.h"

namespace ccburst::burst {

// A node as it joins the cluster: its name and allocatable CPU (cores) and memory (GiB).
struct NodeSpec {
  std::string name;
  scaler::Resources allocatable;
};

// A change of the cluster's nodes at scenario second `t`. kAdd: `node` joins and Pending pods
// that fit are scheduled onto it. kDrain (`kubectl drain` then the node is removed, as for
// maintenance or a smaller on-prem pool): its pods are evicted, the ReplicaSet re-creates them and
// the scheduler places them elsewhere or leaves them Pending; only `node.name` is used.
struct NodeEvent {
  enum class Kind { kAdd, kDrain };
  double t = 0;
  Kind kind = Kind::kAdd;
  NodeSpec node;
};

// The cluster's nodes at the scenario's start and the changes that follow, sorted by time.
struct ClusterSpec {
  std::vector<NodeSpec> nodes;
  std::vector<NodeEvent> events;
};

// Parses the cluster a trace describes in its header comments (lines starting with '#', which
// scaler::ParseTrace skips), in any order:
//   # node NAME cpu=CORES memory_gib=GIB          a node present from the start
//   # at T add NAME cpu=CORES memory_gib=GIB      a node that joins at scenario second T
//   # at T drain NAME                             a node drained (and removed) at second T
// Other comment lines are ignored; a trace without such lines gives an empty spec. Errors are
// kInvalidArgument naming the line: a missing or non-positive cpu/memory_gib, an unknown word, a
// node named twice, a drain of a node that is not there at that time.
absl::StatusOr<ClusterSpec> ParseClusterHeader(std::string_view csv);

// Parses a node of the demo's configuration, "NAME:CPU:MEMORY_GIB" (e.g. "node-1:9:27").
absl::StatusOr<NodeSpec> ParseNodeSpec(std::string_view text);

// The cluster a trace without a description stands for: nodes of `pods_per_node` pods of `pod`
// each plus half a pod of slack (free room that fits no pod), for `capacity_pods` pods in all,
// named node-<first_index>, ...; the last node takes the remainder.
std::vector<NodeSpec> NodesForCapacity(int capacity_pods, scaler::Resources pod,
                                       int pods_per_node = 4, int first_index = 1);

// The same for a whole trace: the first row's onprem_capacity_pods as nodes, and where the column
// changes, nodes added (NodesForCapacity for the difference) or the newest drained until the
// capacity is at most the new value (then a node for the rest is added).
ClusterSpec ClusterForTrace(const std::vector<scaler::TraceRow>& trace, scaler::Resources pod,
                            int pods_per_node = 4);

struct Node {
  std::string name;
  scaler::Resources allocatable;
  scaler::Resources requested;
};

struct Pod {
  std::string name;
  int node = -1;  // index into nodes; -1 = unschedulable
  double scheduled_at = 0;
};

struct ClusterCounts {
  int running = 0;        // placed and past the image pull
  int pulling = 0;        // placed, still Pending (pulling the image)
  int unschedulable = 0;  // no node fits
};

class OnPremCluster {
 public:
  OnPremCluster(const std::vector<NodeSpec>& nodes, scaler::Resources pod,
                double image_pull_seconds = 20);
  // The nodes of NodesForCapacity(capacity_pods, pod, pods_per_node).
  OnPremCluster(int capacity_pods, scaler::Resources pod, int pods_per_node = 4,
                double image_pull_seconds = 20);

  // A node joins at `now`; Pending pods that fit are scheduled onto it. kAlreadyExists when a
  // node of that name is in the cluster.
  absl::Status AddNode(const NodeSpec& node, double now);
  // Drains the node `name` at `now` and removes it: its pods are evicted and re-created (new
  // names, as the ReplicaSet makes them) and scheduled on the other nodes or left Pending.
  // kNotFound when there is no such node.
  absl::Status DrainNode(std::string_view name, double now);
  // Applies an event (AddNode or DrainNode).
  absl::Status Apply(const NodeEvent& event, double now);

  // Sets the deployment's replicas at `now`: new pods are appended, removed pods are taken from
  // the unschedulable ones first, then the newest (as the ReplicaSet controller picks), then
  // schedules first-fit.
  void SetReplicas(int replicas, double now);
  void SetCloudReplicas(int replicas, int ready) {
    cloud_replicas_ = replicas;
    cloud_ready_ = ready;
  }

  ClusterCounts Counts(double now) const;
  // Pods of the deployment's size the nodes hold (each node counted on its own: no pod spans two).
  int capacity_pods() const;
  const std::vector<Node>& nodes() const { return nodes_; }

  // kube-state-metrics text exposition at `now`.
  std::string Exposition(double now) const;

 private:
  void Schedule(double now);

  scaler::Resources pod_;
  double image_pull_;
  std::vector<Node> nodes_;
  std::vector<Pod> pods_;
  int next_pod_ = 0;
  int cloud_replicas_ = 0;
  int cloud_ready_ = 0;
};

}  // namespace ccburst::burst
