#include "burst/cluster.h"

#include <fmt/format.h>

#include <algorithm>

namespace ccburst::burst {
namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr const char* kNamespace = "default";

bool Fits(const Node& n, const scaler::Resources& pod) {
  return n.allocatable.cpu - n.requested.cpu >= pod.cpu - 1e-9 &&
         n.allocatable.memory_gib - n.requested.memory_gib >= pod.memory_gib - 1e-9;
}

}  // namespace

OnPremCluster::OnPremCluster(int capacity_pods, scaler::Resources pod, int pods_per_node,
                             double image_pull_seconds)
    : capacity_pods_(capacity_pods), pod_(pod), image_pull_(image_pull_seconds) {
  for (int left = capacity_pods, i = 0; left > 0; left -= pods_per_node, ++i) {
    int n = std::min(left, pods_per_node);
    // Half a pod of slack per node: room that is free but fits no pod (fragmentation).
    nodes_.push_back({fmt::format("node-{}", i + 1),
                      {pod.cpu * n + pod.cpu / 2, pod.memory_gib * n + pod.memory_gib / 2, 0},
                      {}});
  }
}

void OnPremCluster::SetReplicas(int replicas, double now) {
  while (static_cast<int>(pods_.size()) < replicas) {
    pods_.push_back({fmt::format("on-prem-deployment-{:05d}", next_pod_++), -1, 0});
  }
  while (static_cast<int>(pods_.size()) > replicas) {
    auto victim =
        std::find_if(pods_.rbegin(), pods_.rend(), [](const Pod& p) { return p.node < 0; });
    if (victim == pods_.rend()) victim = pods_.rbegin();
    if (victim->node >= 0) {
      Node& n = nodes_[victim->node];
      n.requested.cpu -= pod_.cpu;
      n.requested.memory_gib -= pod_.memory_gib;
    }
    pods_.erase(std::next(victim).base());
  }
  Schedule(now);
}

void OnPremCluster::Schedule(double now) {
  for (Pod& p : pods_) {
    if (p.node >= 0) continue;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!Fits(nodes_[i], pod_)) continue;
      nodes_[i].requested.cpu += pod_.cpu;
      nodes_[i].requested.memory_gib += pod_.memory_gib;
      p.node = static_cast<int>(i);
      p.scheduled_at = now;
      break;
    }
  }
}

ClusterCounts OnPremCluster::Counts(double now) const {
  ClusterCounts c;
  for (const Pod& p : pods_) {
    if (p.node < 0) {
      ++c.unschedulable;
    } else if (now - p.scheduled_at < image_pull_) {
      ++c.pulling;
    } else {
      ++c.running;
    }
  }
  return c;
}

std::string OnPremCluster::Exposition(double now) const {
  std::string out;
  auto line = [&](std::string_view name, std::string labels, double v) {
    out += fmt::format("{}{{{}}} {}\n", name, labels, v);
  };
  out += "# TYPE kube_node_status_allocatable gauge\n";
  for (const Node& n : nodes_) {
    line("kube_node_status_allocatable",
         fmt::format(R"(node="{}",resource="cpu",unit="core")", n.name), n.allocatable.cpu);
    line("kube_node_status_allocatable",
         fmt::format(R"(node="{}",resource="memory",unit="byte")", n.name),
         n.allocatable.memory_gib * kGiB);
  }
  out += "# TYPE kube_pod_status_phase gauge\n";
  for (const Pod& p : pods_) {
    bool pending = p.node < 0 || now - p.scheduled_at < image_pull_;
    for (const char* phase : {"Pending", "Running"}) {
      bool on = (std::string_view(phase) == "Pending") == pending;
      line("kube_pod_status_phase",
           fmt::format(R"(namespace="{}",phase="{}",pod="{}")", kNamespace, phase, p.name), on);
    }
  }
  out += "# TYPE kube_pod_status_unschedulable gauge\n";
  for (const Pod& p : pods_) {
    if (p.node >= 0) continue;
    line("kube_pod_status_unschedulable",
         fmt::format(R"(namespace="{}",pod="{}")", kNamespace, p.name), 1);
  }
  out += "# TYPE kube_pod_container_resource_requests gauge\n";
  for (const Pod& p : pods_) {
    std::string node = p.node < 0 ? "" : nodes_[p.node].name;
    std::string base = fmt::format(R"(container="model-server",namespace="{}",node="{}",pod="{}")",
                                   kNamespace, node, p.name);
    line("kube_pod_container_resource_requests", base + R"(,resource="cpu",unit="core")", pod_.cpu);
    line("kube_pod_container_resource_requests", base + R"(,resource="memory",unit="byte")",
         pod_.memory_gib * kGiB);
  }
  out += "# TYPE kube_deployment_status_replicas gauge\n";
  line("kube_deployment_status_replicas",
       fmt::format(R"(deployment="on-prem-deployment",namespace="{}")", kNamespace), pods_.size());
  line("kube_deployment_status_replicas",
       fmt::format(R"(deployment="cloud-deployment",namespace="{}")", kNamespace), cloud_replicas_);
  out += "# TYPE kube_deployment_status_replicas_ready gauge\n";
  line("kube_deployment_status_replicas_ready",
       fmt::format(R"(deployment="cloud-deployment",namespace="{}")", kNamespace), cloud_ready_);
  return out;
}

}  // namespace ccburst::burst
