#include "burst/cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace ccburst::burst {
namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr const char* kNamespace = "default";

bool Fits(const Node& n, const scaler::Resources& pod) {
  return n.allocatable.cpu - n.requested.cpu >= pod.cpu - 1e-9 &&
         n.allocatable.memory_gib - n.requested.memory_gib >= pod.memory_gib - 1e-9;
}

// Pods of `pod` that `allocatable` holds.
int PodsOn(const scaler::Resources& allocatable, const scaler::Resources& pod) {
  double n = 1e9;
  if (pod.cpu > 0) n = std::min(n, std::floor(allocatable.cpu / pod.cpu + 1e-9));
  if (pod.memory_gib > 0) {
    n = std::min(n, std::floor(allocatable.memory_gib / pod.memory_gib + 1e-9));
  }
  return n >= 1e9 ? 0 : static_cast<int>(n);
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<double> Number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "cpu=C memory_gib=M" (both required, positive) after the node's name.
absl::StatusOr<scaler::Resources> Allocatable(const std::vector<std::string_view>& words,
                                              size_t from) {
  std::optional<double> cpu, mem;
  for (size_t i = from; i < words.size(); ++i) {
    std::string_view w = words[i];
    size_t eq = w.find('=');
    std::string_view key = w.substr(0, eq);
    std::optional<double> v =
        eq == std::string_view::npos ? std::nullopt : Number(w.substr(eq + 1));
    if (key == "cpu" && v) {
      cpu = v;
    } else if (key == "memory_gib" && v) {
      mem = v;
    } else {
      return absl::InvalidArgumentError(fmt::format("unexpected `{}`", w));
    }
  }
  if (!cpu || *cpu <= 0 || !mem || *mem <= 0) {
    return absl::InvalidArgumentError("a node needs cpu=CORES and memory_gib=GIB, both positive");
  }
  return scaler::Resources{*cpu, *mem, 0};
}

}  // namespace

absl::StatusOr<ClusterSpec> ParseClusterHeader(std::string_view csv) {
  ClusterSpec spec;
  size_t pos = 0;
  for (int line_no = 1; pos < csv.size(); ++line_no) {
    size_t eol = csv.find('\n', pos);
    if (eol == std::string_view::npos) eol = csv.size();
    std::string_view line = csv.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.starts_with('#')) continue;
    std::vector<std::string_view> w = Words(line.substr(1));
    auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(fmt::format("trace line {}: {}", line_no, why));
    };
    if (w.size() >= 2 && w[0] == "node") {
      auto alloc = Allocatable(w, 2);
      if (!alloc.ok()) return fail(core::Message(alloc.status()));
      spec.nodes.push_back({std::string(w[1]), *alloc});
    } else if (w.size() >= 4 && w[0] == "at" && (w[2] == "add" || w[2] == "drain")) {
      std::optional<double> t = Number(w[1]);
      if (!t || *t < 0) return fail(fmt::format("`{}` is not a time in seconds", w[1]));
      NodeEvent e;
      e.t = *t;
      e.node.name = std::string(w[3]);
      if (w[2] == "add") {
        auto alloc = Allocatable(w, 4);
        if (!alloc.ok()) return fail(core::Message(alloc.status()));
        e.node.allocatable = *alloc;
      } else {
        e.kind = NodeEvent::Kind::kDrain;
        if (w.size() > 4) return fail(fmt::format("unexpected `{}` after the drained node", w[4]));
      }
      spec.events.push_back(std::move(e));
    } else {
      continue;  // prose
    }
  }
  std::stable_sort(spec.events.begin(), spec.events.end(),
                   [](const NodeEvent& a, const NodeEvent& b) { return a.t < b.t; });
  // Replay the names: every node unique, every drained node present when drained.
  std::vector<std::string> names;
  for (const NodeSpec& n : spec.nodes) {
    if (std::find(names.begin(), names.end(), n.name) != names.end()) {
      return absl::InvalidArgumentError(fmt::format("trace: node `{}` is named twice", n.name));
    }
    names.push_back(n.name);
  }
  for (const NodeEvent& e : spec.events) {
    auto it = std::find(names.begin(), names.end(), e.node.name);
    if (e.kind == NodeEvent::Kind::kAdd) {
      if (it != names.end()) {
        return absl::InvalidArgumentError(
            fmt::format("trace: node `{}` added at {:g} s is already there", e.node.name, e.t));
      }
      names.push_back(e.node.name);
    } else {
      if (it == names.end()) {
        return absl::InvalidArgumentError(
            fmt::format("trace: node `{}` drained at {:g} s is not there", e.node.name, e.t));
      }
      names.erase(it);
    }
  }
  return spec;
}

absl::StatusOr<NodeSpec> ParseNodeSpec(std::string_view text) {
  size_t a = text.find(':');
  size_t b = a == std::string_view::npos ? a : text.find(':', a + 1);
  std::optional<double> cpu, mem;
  if (b != std::string_view::npos) {
    cpu = Number(text.substr(a + 1, b - a - 1));
    mem = Number(text.substr(b + 1));
  }
  if (a == 0 || !cpu || !mem || *cpu <= 0 || *mem <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("node `{}`: want NAME:CPU:MEMORY_GIB with positive CPU and MEMORY_GIB", text));
  }
  return NodeSpec{std::string(text.substr(0, a)), {*cpu, *mem, 0}};
}

std::vector<NodeSpec> NodesForCapacity(int capacity_pods, scaler::Resources pod, int pods_per_node,
                                       int first_index) {
  std::vector<NodeSpec> nodes;
  for (int left = capacity_pods, i = first_index; left > 0; left -= pods_per_node, ++i) {
    int n = std::min(left, pods_per_node);
    // Half a pod of slack per node: room that is free but fits no pod (fragmentation).
    nodes.push_back({fmt::format("node-{}", i),
                     {pod.cpu * n + pod.cpu / 2, pod.memory_gib * n + pod.memory_gib / 2, 0}});
  }
  return nodes;
}

ClusterSpec ClusterForTrace(const std::vector<scaler::TraceRow>& trace, scaler::Resources pod,
                            int pods_per_node) {
  ClusterSpec spec;
  if (trace.empty()) return spec;
  int next = 1;
  auto add = [&](int pods, std::vector<NodeSpec>& into) {
    for (NodeSpec& n : NodesForCapacity(pods, pod, pods_per_node, next)) {
      into.push_back(std::move(n));
      ++next;
    }
  };
  add(static_cast<int>(trace.front().onprem_capacity_pods), spec.nodes);
  std::vector<NodeSpec> live = spec.nodes;
  auto capacity = [&] {
    int c = 0;
    for (const NodeSpec& n : live) c += PodsOn(n.allocatable, pod);
    return c;
  };
  for (const scaler::TraceRow& row : trace) {
    int want = static_cast<int>(row.onprem_capacity_pods);
    double t = static_cast<double>(row.t_seconds);
    while (!live.empty() && capacity() > want) {
      spec.events.push_back({t, NodeEvent::Kind::kDrain, {live.back().name, {}}});
      live.pop_back();
    }
    if (capacity() < want) {
      std::vector<NodeSpec> added;
      add(want - capacity(), added);
      for (NodeSpec& n : added) {
        spec.events.push_back({t, NodeEvent::Kind::kAdd, n});
        live.push_back(std::move(n));
      }
    }
  }
  return spec;
}

OnPremCluster::OnPremCluster(const std::vector<NodeSpec>& nodes, scaler::Resources pod,
                             double image_pull_seconds)
    : pod_(pod), image_pull_(image_pull_seconds) {
  for (const NodeSpec& n : nodes) nodes_.push_back({n.name, n.allocatable, {}});
}

OnPremCluster::OnPremCluster(int capacity_pods, scaler::Resources pod, int pods_per_node,
                             double image_pull_seconds)
    : OnPremCluster(NodesForCapacity(capacity_pods, pod, pods_per_node), pod, image_pull_seconds) {}

int OnPremCluster::capacity_pods() const {
  int c = 0;
  for (const Node& n : nodes_) c += PodsOn(n.allocatable, pod_);
  return c;
}

absl::Status OnPremCluster::AddNode(const NodeSpec& node, double now) {
  for (const Node& n : nodes_) {
    if (n.name == node.name) {
      return absl::AlreadyExistsError(fmt::format("cluster: node `{}` already exists", node.name));
    }
  }
  nodes_.push_back({node.name, node.allocatable, {}});
  Schedule(now);
  return absl::OkStatus();
}

absl::Status OnPremCluster::DrainNode(std::string_view name, double now) {
  auto it =
      std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& n) { return n.name == name; });
  if (it == nodes_.end()) {
    return absl::NotFoundError(fmt::format("cluster: no node `{}` to drain", name));
  }
  int index = static_cast<int>(it - nodes_.begin());
  nodes_.erase(it);
  size_t evicted = 0;
  for (auto p = pods_.begin(); p != pods_.end();) {
    if (p->node == index) {
      p = pods_.erase(p);
      ++evicted;
      continue;
    }
    if (p->node > index) --p->node;
    ++p;
  }
  // The ReplicaSet re-creates the evicted pods: new pods, scheduled like any other.
  for (size_t i = 0; i < evicted; ++i) {
    pods_.push_back({fmt::format("on-prem-deployment-{:05d}", next_pod_++), -1, 0});
  }
  Schedule(now);
  return absl::OkStatus();
}

absl::Status OnPremCluster::Apply(const NodeEvent& event, double now) {
  return event.kind == NodeEvent::Kind::kAdd ? AddNode(event.node, now)
                                             : DrainNode(event.node.name, now);
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
