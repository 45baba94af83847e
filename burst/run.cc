#include "burst/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <ostream>
#include <thread>

#include "burst/cluster.h"
#include "core/file.h"
#include "core/json.h"
#include "net/http_client.h"

namespace ccburst::burst {
namespace {

// The trace is a step function between rows.
const scaler::TraceRow& RowAt(const std::vector<scaler::TraceRow>& trace, double t) {
  auto it = std::upper_bound(
      trace.begin(), trace.end(), t,
      [](double v, const scaler::TraceRow& r) { return v < static_cast<double>(r.t_seconds); });
  return it == trace.begin() ? trace.front() : *std::prev(it);
}

// Reads ccburst_scaler_decisions_total{reason=...,workload=<w>} from the scaler's /metrics.
std::map<std::string, double> ReasonCounters(net::HttpClient* http, const std::string& workload) {
  std::map<std::string, double> out;
  if (!http) return out;
  auto r = http->Send("GET", "/metrics", {}, {});
  if (!r.ok() || r->status != 200) {
    http->Disconnect();
    return out;
  }
  std::string_view body = r->body;
  std::string want_wl = fmt::format("workload=\"{}\"", workload);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.starts_with("ccburst_scaler_decisions_total{") ||
        line.find(want_wl) == std::string_view::npos) {
      continue;
    }
    size_t r0 = line.find("reason=\"");
    size_t sp = line.rfind(' ');
    if (r0 == std::string_view::npos || sp == std::string_view::npos) continue;
    size_t r1 = line.find('"', r0 + 8);
    out[std::string(line.substr(r0 + 8, r1 - r0 - 8))] =
        std::atof(std::string(line.substr(sp + 1)).c_str());
  }
  return out;
}

std::string Clock(double t) {
  int s = static_cast<int>(t);
  return fmt::format("{:02d}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60);
}

}  // namespace

absl::StatusOr<RunResult> Run(const RunOptions& o, std::ostream& out) {
  RunResult result;
  result.policy = o.policy;
  std::unique_ptr<Trigger> trigger;
  if (o.policy == "seed") {
    CCB_ASSIGN_OR_RETURN(trigger,
                         NewPrometheusTrigger(o.prometheus, o.seed_query, o.seed_threshold));
  } else {
    CCB_ASSIGN_OR_RETURN(trigger,
                         NewExternalPushTrigger(o.scaler_grpc, o.scaled_object.name, o.workload));
  }
  KedaDriver driver(o.scaled_object, std::move(trigger));
  const scaler::TraceRow& first = RowAt(o.trace, o.start_seconds);
  scaler::Resources pod = first.pod.value_or(scaler::Resources{2, 6, 0});
  ClusterSpec spec = o.cluster;
  if (spec.nodes.empty()) {
    ClusterSpec from_trace = ClusterForTrace(o.trace, pod);
    spec.nodes = std::move(from_trace.nodes);
    if (spec.events.empty()) spec.events = std::move(from_trace.events);
  }
  OnPremCluster cluster(spec.nodes, pod, o.image_pull_seconds);
  // The nodes as they are at the run's start, then the deployment's pods that already run (past
  // their image pull).
  size_t next_event = 0;
  for (; next_event < spec.events.size() && spec.events[next_event].t <= o.start_seconds;
       ++next_event) {
    CCB_RETURN_IF_ERROR(cluster.Apply(spec.events[next_event], -o.image_pull_seconds - 1),
                        "burst: node event at {:g} s", spec.events[next_event].t);
  }
  cluster.SetReplicas(static_cast<int>(first.demand_pods), -o.image_pull_seconds - 1);
  CloudOptions cloud_options = o.cloud;
  Cloud cloud(cloud_options);
  std::unique_ptr<net::HttpClient> scaler_http;
  if (o.policy != "seed" && !o.scaler_http.empty()) {
    net::HttpClientOptions h;
    h.base_url = o.scaler_http;
    h.timeout = std::chrono::seconds(2);
    auto c = net::HttpClient::Create(std::move(h));
    if (c.ok()) scaler_http = *std::move(c);
  }
  auto reasons = ReasonCounters(scaler_http.get(), o.workload);

  out << fmt::format("{:>8} {:>6} {:>9} {:>8} {:>7} {:>6}  {:<26} {:>7} {:>9} {:>7} {:>7} {:>7}\n",
                     "time", "demand", "on-prem", "pending", "pulling", "cloud",
                     o.policy == "seed" ? "prometheus trigger" : "scaler reason (wanted)",
                     "booting", "attesting", "serving", "refused", "secrets");
  int replicas = 0;
  bool scaled_out = false;
  auto wall_start = std::chrono::steady_clock::now();
  double next_print = 0;
  for (double t = 0; t <= o.duration_seconds + 1e-9; t += o.tick_seconds) {
    // Pace: simulated t happens at wall t / speed.
    auto due = wall_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(t / o.speed));
    std::this_thread::sleep_until(due);
    if (o.stop && o.stop->load()) {
      out << "interrupted: stopping the VMs\n";
      break;
    }

    const scaler::TraceRow& row = RowAt(o.trace, o.start_seconds + t);
    for (; next_event < spec.events.size() && spec.events[next_event].t <= o.start_seconds + t;
         ++next_event) {
      const NodeEvent& e = spec.events[next_event];
      int before = cluster.capacity_pods();
      CCB_RETURN_IF_ERROR(cluster.Apply(e, t), "burst: node event at {:g} s", e.t);
      std::string what = fmt::format(
          "{} {} {}: on-prem capacity {} -> {} pods", Clock(t), e.node.name,
          e.kind == NodeEvent::Kind::kAdd ? "added" : "drained", before, cluster.capacity_pods());
      out << "  -- " << what << "\n";
      result.node_events.push_back(std::move(what));
    }
    cluster.SetReplicas(static_cast<int>(row.demand_pods), t);
    if (auto ev = driver.Step(t, replicas)) {
      result.events.push_back(*ev);
      replicas = ev->to;
      if (replicas > 0) scaled_out = true;
      if (replicas == 0 && scaled_out) result.back_to_zero = true;
    }
    if (!driver.last_error().empty() && std::find(result.errors.begin(), result.errors.end(),
                                                  driver.last_error()) == result.errors.end()) {
      result.errors.push_back(driver.last_error());
    }
    cloud.Reconcile(replicas, t, t == 0 ? 0 : o.tick_seconds);
    int serving = cloud.Count(VmState::kServing);
    cluster.SetCloudReplicas(replicas, serving);
    CCB_RETURN_IF_ERROR(core::WriteFile(o.exposition_file + ".tmp", cluster.Exposition(t)),
                        "burst: cluster exposition");
    if (std::rename((o.exposition_file + ".tmp").c_str(), o.exposition_file.c_str()) != 0) {
      return absl::InternalError("burst: cannot rename the cluster exposition");
    }

    ClusterCounts c = cluster.Counts(t);
    Sample s{t,
             static_cast<int>(row.demand_pods),
             cluster.capacity_pods(),
             c.running,
             c.pulling,
             c.unschedulable,
             replicas,
             cloud.Count(VmState::kBooting),
             cloud.Count(VmState::kAttesting),
             serving,
             cloud.Count(VmState::kRefused)};
    result.samples.push_back(s);
    result.peak_replicas = std::max(result.peak_replicas, replicas);
    if (c.unschedulable > 0 && result.first_pending < 0) result.first_pending = t;
    if (serving > 0 && result.first_pending >= 0 && result.first_serving < 0) {
      result.first_serving = t;
    }
    if (t > 0) {
      result.pending_pod_seconds +=
          o.tick_seconds * std::max(0, c.unschedulable - serving * o.pods_per_instance);
    }

    if (t >= next_print) {
      next_print += o.print_every_seconds;
      std::string why;
      if (o.policy == "seed") {
        why = fmt::format("active={} value={:g}", driver.active(), driver.last_metric());
      } else {
        auto now_reasons = ReasonCounters(scaler_http.get(), o.workload);
        double best = 0;
        for (const auto& [r, n] : now_reasons) {
          double d = n - reasons[r];
          if (d > best) {
            best = d;
            why = r;
          }
        }
        reasons = std::move(now_reasons);
        if (why.empty()) why = "-";
        why = fmt::format("{} ({:g})", why, driver.last_metric());
      }
      out << fmt::format(
                 "{:>8} {:>6} {:>4}/{:<4} {:>8} {:>7} {:>6}  {:<26} {:>7} {:>9} {:>7} {:>7} "
                 "{:>7}\n",
                 Clock(t), s.demand, c.running + c.pulling, cluster.capacity_pods(),
                 c.unschedulable, c.pulling, replicas, why, s.booting, s.attesting, serving,
                 s.refused, cloud.totals().secrets_released)
          << std::flush;
    }
  }
  result.trigger_calls = driver.trigger().rpcs();
  result.cloud = cloud.totals();
  result.refusals = cloud.totals().refusals;
  result.cost = result.cloud.instance_seconds / 3600.0 * o.cloud.price_per_hour;
  cloud.StopAll();
  result.vms = cloud.history();
  std::sort(result.vms.begin(), result.vms.end(),
            [](const Vm& a, const Vm& b) { return a.id < b.id; });
  return result;
}

std::string Summary(const std::vector<RunResult>& runs, double price_per_hour) {
  std::string s;
  auto row = [&](std::string_view name, auto value_of) {
    s += fmt::format("  {:<40}", name);
    for (const RunResult& r : runs) s += fmt::format(" {:>16}", value_of(r));
    s += "\n";
  };
  row("policy", [](const RunResult& r) { return r.policy; });
  row("first Pending -> first cloud pod serving", [](const RunResult& r) {
    if (r.first_pending < 0) return std::string("no Pending pod");
    if (r.first_serving < 0) return std::string("never");
    return fmt::format("{:.0f} s", r.first_serving - r.first_pending);
  });
  row("pending pod-seconds",
      [](const RunResult& r) { return fmt::format("{:.0f}", r.pending_pod_seconds); });
  row("cloud instance-seconds",
      [](const RunResult& r) { return fmt::format("{:.0f}", r.cloud.instance_seconds); });
  row(fmt::format("cloud cost (at {:.2f}/h)", price_per_hour),
      [](const RunResult& r) { return fmt::format("{:.3f}", r.cost); });
  row("attestations passed / refused",
      [](const RunResult& r) { return fmt::format("{} / {}", r.cloud.attested, r.cloud.refused); });
  row("secrets released",
      [](const RunResult& r) { return fmt::format("{}", r.cloud.secrets_released); });
  row("scale events (peak replicas)",
      [](const RunResult& r) { return fmt::format("{} ({})", r.events.size(), r.peak_replicas); });
  row("back to zero replicas",
      [](const RunResult& r) { return std::string(r.back_to_zero ? "yes" : "no"); });
  row("trigger calls (gRPC / PromQL)",
      [](const RunResult& r) { return fmt::format("{}", r.trigger_calls); });
  for (const RunResult& r : runs) {
    for (const std::string& e : r.node_events) s += fmt::format("  {} node: {}\n", r.policy, e);
    for (const std::string& why : r.refusals) s += fmt::format("  {} refused: {}\n", r.policy, why);
    for (const std::string& e : r.errors) s += fmt::format("  {} trigger error: {}\n", r.policy, e);
  }
  if (runs.size() == 2) {
    const RunResult& a = runs[0];
    const RunResult& b = runs[1];
    s += fmt::format(
        "  {} vs {}: pending pod-seconds {:.0f} vs {:.0f}, cloud instance-seconds {:.0f} vs "
        "{:.0f}, "
        "scale events {} vs {}\n",
        a.policy, b.policy, a.pending_pod_seconds, b.pending_pod_seconds, a.cloud.instance_seconds,
        b.cloud.instance_seconds, a.events.size(), b.events.size());
  }
  return s;
}

std::string ToJson(const RunResult& r) {
  core::json::array vms;
  for (const Vm& vm : r.vms) {
    vms.push_back(core::json::object{{"id", vm.id},
                                     {"tampered", vm.tampered},
                                     {"state", std::string(VmStateName(vm.state))},
                                     {"reason", vm.reason},
                                     {"ready_at", vm.ready_at}});
  }
  core::json::array events;
  for (const ScaleEvent& e : r.events) {
    events.push_back(core::json::object{{"t", e.t}, {"from", e.from}, {"to", e.to}, {"by", e.by}});
  }
  core::json::array node_events;
  for (const std::string& e : r.node_events) node_events.push_back(core::json::string(e));
  core::json::object o{{"policy", r.policy},
                       {"first_pending", r.first_pending},
                       {"first_serving", r.first_serving},
                       {"pending_pod_seconds", r.pending_pod_seconds},
                       {"instance_seconds", r.cloud.instance_seconds},
                       {"cost", r.cost},
                       {"attested", r.cloud.attested},
                       {"refused", r.cloud.refused},
                       {"secrets_released", r.cloud.secrets_released},
                       {"peak_replicas", r.peak_replicas},
                       {"back_to_zero", r.back_to_zero},
                       {"trigger_calls", r.trigger_calls},
                       {"node_events", std::move(node_events)},
                       {"vms", std::move(vms)},
                       {"events", std::move(events)}};
  return core::json::serialize(o);
}

std::string Svg(const std::vector<RunResult>& runs) {
  constexpr int kW = 900, kPanel = 260, kLeft = 50, kTop = 30;
  int h = kTop + static_cast<int>(runs.size()) * (kPanel + 40) + 30;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"18\" font-size=\"14\">ccburst: the burst, "
      "on-prem to confidential cloud VMs</text>\n",
      kW, h, kLeft);
  struct Series {
    const char* name;
    const char* color;
    int (*get)(const Sample&);
  };
  const Series series[] = {
      {"demand (pods)", "#1f77b4", [](const Sample& s) { return s.demand; }},
      {"on-prem capacity (pods)", "#7f7f7f", [](const Sample& s) { return s.capacity; }},
      {"pending pods", "#d62728", [](const Sample& s) { return s.unschedulable; }},
      {"cloud replicas", "#ff7f0e", [](const Sample& s) { return s.replicas; }},
      {"attested VMs (serving)", "#2ca02c", [](const Sample& s) { return s.serving; }},
  };
  for (size_t p = 0; p < runs.size(); ++p) {
    const RunResult& r = runs[p];
    if (r.samples.empty()) continue;
    int y0 = kTop + static_cast<int>(p) * (kPanel + 40) + 20;
    double tmax = std::max(1.0, r.samples.back().t);
    int vmax = 1;
    for (const Sample& s : r.samples) vmax = std::max({vmax, s.demand, s.capacity});
    vmax = (vmax + 4) / 5 * 5;
    int plot_w = kW - kLeft - 200;
    svg += fmt::format("<text x=\"{}\" y=\"{}\">policy: {}</text>\n", kLeft, y0 - 4, r.policy);
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ccc\"/>\n",
        kLeft, y0, plot_w, kPanel);
    for (int v = 0; v <= vmax; v += 5) {
      double y = y0 + kPanel - kPanel * static_cast<double>(v) / vmax;
      svg += fmt::format(
          "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/><text x=\"{}\" "
          "y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
          kLeft, kLeft + plot_w, y, y, kLeft - 4, y + 4, v);
    }
    for (int m = 0; m <= static_cast<int>(tmax / 60);
         m += std::max(1, static_cast<int>(tmax / 60 / 10))) {
      double x = kLeft + plot_w * (m * 60.0) / tmax;
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}m</text>\n", x,
                         y0 + kPanel + 14, m);
    }
    for (size_t i = 0; i < std::size(series); ++i) {
      std::string points;
      for (const Sample& s : r.samples) {
        points += fmt::format("{:.1f},{:.1f} ", kLeft + plot_w * s.t / tmax,
                              y0 + kPanel - kPanel * static_cast<double>(series[i].get(s)) / vmax);
      }
      svg +=
          fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n",
                      series[i].color, points);
      svg += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"3\" fill=\"{}\"/><text x=\"{}\" "
          "y=\"{}\">{}</text>\n",
          kLeft + plot_w + 12, y0 + 10 + 18 * static_cast<int>(i), series[i].color,
          kLeft + plot_w + 30, y0 + 14 + 18 * static_cast<int>(i), series[i].name);
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace ccburst::burst
