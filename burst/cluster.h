// The on-prem cluster model of the burst demo: nodes with allocatable CPU and memory, the
// `on-prem-deployment` whose pods request memory, a first-fit scheduler that places pods where
// they fit and leaves the rest Pending (unschedulable), newly placed pods Pending while their
// image is pulled, and the `cloud-deployment`'s replicas. Exposition() renders the state as the
// series kube-state-metrics exports, so Prometheus scrapes it and ccburst-scaler's unchanged
// queries run against it. Pure state, no I/O; time is simulated seconds.
#pragma once

#include <string>
#include <vector>

#include "scaler/decision.h"

namespace ccburst::burst {

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
  // Nodes of `pods_per_node` pods of `pod` each (plus a fragment too small for another pod) for
  // `capacity_pods` pods in all; the last node takes the remainder.
  OnPremCluster(int capacity_pods, scaler::Resources pod, int pods_per_node = 4,
                double image_pull_seconds = 20);

  // Sets the deployment's replicas at `now`: new pods are appended, removed pods are taken from
  // the unschedulable ones first, then the newest (as the ReplicaSet controller picks), then
  // schedules first-fit.
  void SetReplicas(int replicas, double now);
  void SetCloudReplicas(int replicas, int ready) {
    cloud_replicas_ = replicas;
    cloud_ready_ = ready;
  }

  ClusterCounts Counts(double now) const;
  int capacity_pods() const { return capacity_pods_; }
  const std::vector<Node>& nodes() const { return nodes_; }

  // kube-state-metrics text exposition at `now`.
  std::string Exposition(double now) const;

 private:
  void Schedule(double now);

  int capacity_pods_;
  scaler::Resources pod_;
  double image_pull_;
  std::vector<Node> nodes_;
  std::vector<Pod> pods_;
  int next_pod_ = 0;
  int cloud_replicas_ = 0;
  int cloud_ready_ = 0;
};

}  // namespace ccburst::burst
