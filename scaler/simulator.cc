#include "scaler/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <random>

#include "scaler/keda_hpa.h"

namespace ccburst::scaler {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitComma(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t c = line.find(',', pos);
    out.push_back(Trim(line.substr(pos, c == std::string_view::npos ? c : c - pos)));
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  return out;
}

absl::StatusOr<double> Number(std::string_view text, size_t line, std::string_view field) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v) || v < 0) {
    return absl::InvalidArgumentError(
        fmt::format("trace: line {}: `{}` = `{}` is not a non-negative number", line, field, text));
  }
  return v;
}

// One deployment's cloud replica set.
class Deployment {
 public:
  Deployment(const SimParams& p, SimResult& r) : p_(p), r_(r) {}

  int replicas() const { return static_cast<int>(ready_at_.size()); }

  int Ready(int64_t t) const {
    return static_cast<int>(
        std::count_if(ready_at_.begin(), ready_at_.end(), [&](int64_t x) { return x <= t; }));
  }

  void Scale(int64_t t, int n) {
    int cur = replicas();
    if (n == cur) return;
    ++r_.scale_events;
    if (n > cur) {
      if (last_down_ && t - *last_down_ < p_.flap_window.count()) ++r_.flaps;
      for (int i = cur; i < n; ++i) {
        ready_at_.push_back(t + p_.vm_startup.count() + p_.attestation.count());
      }
    } else {
      last_down_ = t;
      // The newest replicas (still booting first) go first.
      std::sort(ready_at_.begin(), ready_at_.end());
      ready_at_.resize(static_cast<size_t>(n));
    }
  }

  void Account() {
    r_.cloud_instance_hours += replicas() / 3600.0;
    r_.peak_replicas = std::max(r_.peak_replicas, replicas());
  }

 private:
  const SimParams& p_;
  SimResult& r_;
  std::vector<int64_t> ready_at_;
  std::optional<int64_t> last_down_;
};

ScaledObjectSpec SpecFor(const KedaTiming& timing, const SimParams& p) {
  ScaledObjectSpec spec;
  spec.keda.polling_interval_seconds = static_cast<double>(timing.polling_interval.count());
  spec.keda.cooldown_period_seconds = static_cast<double>(timing.cooldown_period.count());
  spec.keda.min_replica_count = 0;
  spec.keda.max_replica_count = std::max(1, p.policy.max_replicas);
  spec.hpa_sync_seconds = static_cast<double>(timing.hpa_sync.count());
  spec.scale_down_stabilization_seconds = static_cast<double>(timing.stabilization.count());
  spec.tolerance = timing.tolerance;
  spec.poll_phase_seconds = static_cast<double>(p.phases.poll);
  spec.sync_phase_seconds = static_cast<double>(p.phases.sync);
  return spec;
}

bool OnClock(int64_t t, int64_t t0, int64_t phase, int64_t interval) {
  return interval > 0 && t - t0 >= phase && (t - t0 - phase) % interval == 0;
}

}  // namespace

absl::StatusOr<std::vector<TraceRow>> ParseTrace(std::string_view csv) {
  std::vector<TraceRow> rows;
  bool header = false;
  bool pod_columns = false;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    std::string_view line =
        Trim(csv.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? csv.size() : nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto f = SplitComma(line);
    if (!header) {
      bool base = f.size() >= 3 && f[0] == "t_seconds" && f[1] == "demand_pods" &&
                  f[2] == "onprem_capacity_pods";
      pod_columns = f.size() == 5 && f[3] == "pod_cpu" && f[4] == "pod_memory_gib";
      if (!base || (f.size() != 3 && !pod_columns)) {
        return absl::InvalidArgumentError(
            fmt::format("trace: line {}: header must be "
                        "`t_seconds,demand_pods,onprem_capacity_pods[,pod_cpu,pod_memory_gib]`",
                        line_no));
      }
      header = true;
      continue;
    }
    if (f.size() != (pod_columns ? 5u : 3u)) {
      return absl::InvalidArgumentError(fmt::format("trace: line {}: want {} fields, got {}",
                                                    line_no, pod_columns ? 5 : 3, f.size()));
    }
    TraceRow r;
    CCB_ASSIGN_OR_RETURN(double t, Number(f[0], line_no, "t_seconds"));
    if (t != std::floor(t)) {
      return absl::InvalidArgumentError(
          fmt::format("trace: line {}: `t_seconds` must be whole seconds", line_no));
    }
    r.t_seconds = static_cast<int64_t>(t);
    if (!rows.empty() && r.t_seconds <= rows.back().t_seconds) {
      return absl::InvalidArgumentError(
          fmt::format("trace: line {}: `t_seconds` must increase", line_no));
    }
    CCB_ASSIGN_OR_RETURN(r.demand_pods, Number(f[1], line_no, "demand_pods"));
    CCB_ASSIGN_OR_RETURN(r.onprem_capacity_pods, Number(f[2], line_no, "onprem_capacity_pods"));
    if (pod_columns) {
      Resources pod;
      CCB_ASSIGN_OR_RETURN(pod.cpu, Number(f[3], line_no, "pod_cpu"));
      CCB_ASSIGN_OR_RETURN(pod.memory_gib, Number(f[4], line_no, "pod_memory_gib"));
      r.pod = pod;
    }
    rows.push_back(r);
  }
  if (!header) return absl::InvalidArgumentError("trace: missing header");
  if (rows.empty()) return absl::InvalidArgumentError("trace: no rows");
  return rows;
}

absl::StatusOr<PolicyKind> ParsePolicyKind(std::string_view name) {
  if (name == "seed") return PolicyKind::kSeed;
  if (name == "ccburst") return PolicyKind::kCcburst;
  return absl::InvalidArgumentError(
      fmt::format("unknown policy `{}` (want `seed` or `ccburst`)", name));
}

std::string_view PolicyKindName(PolicyKind k) {
  return k == PolicyKind::kSeed ? "seed" : "ccburst";
}

absl::StatusOr<SimResult> Simulate(const std::vector<TraceRow>& trace, PolicyKind policy,
                                   const SimParams& p) {
  if (trace.empty()) return absl::InvalidArgumentError("trace: no rows");
  SimResult r;
  r.policy = policy;
  const KedaTiming& timing = policy == PolicyKind::kSeed ? p.seed_timing : p.ccburst_timing;
  Deployment dep(p, r);
  ScaledObjectModel scaled_object(SpecFor(timing, p));
  // The workload's configured pod size is the trace's (scaler.toml's pod_cpu, pod_memory_gib).
  Decider decider(p.profile, p.policy, trace.front().pod.value_or(p.pod_size));

  // Last row holds for one more step (or a minute when there is a single row).
  const int64_t t0 = trace.front().t_seconds;
  const int64_t step = trace.size() > 1 ? trace[1].t_seconds - trace[0].t_seconds : 60;
  const int64_t t_end = trace.back().t_seconds + step;

  size_t row = 0;
  // The trace starts in steady state: the first row's on-prem pods are already running.
  double scheduled = std::min(trace.front().demand_pods, trace.front().onprem_capacity_pods);
  std::deque<std::pair<int64_t, double>> pulling;  // (ready time, pods) of on-prem pods starting
  // kube-state-metrics as last scraped: Pending (unschedulable + pulling), unschedulable, free.
  double seen_pending = 0;
  double seen_unschedulable = 0;
  double seen_free = 0;
  Resources seen_pod = trace.front().pod.value_or(p.pod_size);
  bool scraped = false;
  int64_t decided_at = -1;
  double decided = 0;
  for (int64_t t = t0; t < t_end; ++t) {
    while (row + 1 < trace.size() && trace[row + 1].t_seconds <= t) ++row;
    const TraceRow& tr = trace[row];
    const Resources pod = tr.pod.value_or(p.pod_size);
    const int per_instance = std::max(1, PodsPerInstance(pod, p.profile.capacity));

    // On-prem: schedule up to capacity; newly scheduled pods pull their image first.
    double want = std::min(tr.demand_pods, tr.onprem_capacity_pods);
    if (want > scheduled) {
      pulling.push_back({t + p.image_pull.count(), want - scheduled});
    } else if (want < scheduled) {
      double drop = scheduled - want;
      while (drop > 0 && !pulling.empty()) {
        double take = std::min(drop, pulling.back().second);
        pulling.back().second -= take;
        drop -= take;
        if (pulling.back().second <= 0) pulling.pop_back();
      }
    }
    scheduled = want;
    while (!pulling.empty() && pulling.front().first <= t) pulling.pop_front();
    double starting = 0;
    for (const auto& [_, n] : pulling) starting += n;
    const double unschedulable = std::max(0.0, tr.demand_pods - scheduled);

    if (!scraped || OnClock(t, t0, p.phases.scrape, p.scrape_interval.count())) {
      // Before the first scrape of the run Prometheus holds the steady state of the first row.
      seen_pending = unschedulable + starting;
      seen_unschedulable = unschedulable;
      seen_free = std::max(0.0, tr.onprem_capacity_pods - scheduled);
      seen_pod = pod;
      scraped = true;
    }

    // The policy's answer as KEDA and the HPA read it (ccburst decides at most once a second).
    auto value = [&]() -> double {
      if (policy == PolicyKind::kSeed) return seen_pending;
      if (decided_at != t) {
        Signals s;
        s.pending_pods = seen_unschedulable;
        s.pending_requests = Resources{seen_pod.cpu * seen_unschedulable,
                                       seen_pod.memory_gib * seen_unschedulable, 0};
        s.onprem_free = Resources{seen_pod.cpu * seen_free, seen_pod.memory_gib * seen_free, 0};
        decided = decider.Decide(s, GateState::kOpen, core::FromUnixSeconds(t)).wanted;
        decided_at = t;
      }
      return decided;
    };
    TriggerReads reads{[&]() -> absl::StatusOr<bool> { return value() > 0; },
                       [&]() -> absl::StatusOr<double> { return value(); }};
    const bool pushed = policy == PolicyKind::kCcburst &&
                        OnClock(t, t0, p.phases.stream, p.stream_interval.count());
    const double target = policy == PolicyKind::kSeed ? p.seed_threshold : 1.0;
    if (auto e =
            scaled_object.Step(static_cast<double>(t), dep.replicas(), pushed, reads, target)) {
      dep.Scale(t, e->to);
    }

    // Pods beyond on-prem capacity that no ready cloud replica covers. On-prem image pulls are
    // left out: they cost both policies the same and no cloud VM boots faster than a pull.
    r.pending_pod_seconds +=
        std::max(0.0, unschedulable - static_cast<double>(dep.Ready(t)) * per_instance);
    dep.Account();
  }
  r.cost = r.cloud_instance_hours * p.profile.price_per_hour;
  return r;
}

std::vector<Phases> DrawPhases(const SimParams& p, int draws, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto in = [&](std::chrono::seconds interval) -> int64_t {
    if (interval.count() <= 1) return 0;
    return std::uniform_int_distribution<int64_t>(0, interval.count() - 1)(rng);
  };
  std::vector<Phases> out;
  for (int i = 0; i < draws; ++i) {
    Phases ph;
    ph.scrape = in(p.scrape_interval);
    // Both ScaledObjects are polled by the same KEDA; each has its own ticker. One draw of each
    // clock serves both policies (the seed's and ccburst's intervals differ only in cool-down).
    ph.poll = in(p.seed_timing.polling_interval);
    ph.sync = in(p.seed_timing.hpa_sync);
    ph.stream = in(p.stream_interval);
    out.push_back(ph);
  }
  return out;
}

Spread SpreadOf(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  s.median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.worst = v.back();
  return s;
}

PhaseSummary Summarize(PolicyKind policy, std::vector<SimResult> results) {
  PhaseSummary out;
  out.policy = policy;
  out.runs = static_cast<int>(results.size());
  auto spread = [&](auto field) {
    std::vector<double> v;
    for (const SimResult& r : results) v.push_back(static_cast<double>(field(r)));
    return SpreadOf(std::move(v));
  };
  out.pending_pod_seconds = spread([](const SimResult& r) { return r.pending_pod_seconds; });
  out.cloud_instance_hours = spread([](const SimResult& r) { return r.cloud_instance_hours; });
  out.cost = spread([](const SimResult& r) { return r.cost; });
  out.scale_events = spread([](const SimResult& r) { return r.scale_events; });
  out.flaps = spread([](const SimResult& r) { return r.flaps; });
  out.peak_replicas = spread([](const SimResult& r) { return r.peak_replicas; });
  out.results = std::move(results);
  return out;
}

absl::StatusOr<PhaseSummary> SimulatePhases(const std::vector<TraceRow>& trace, PolicyKind policy,
                                            const SimParams& params,
                                            const std::vector<Phases>& phases) {
  std::vector<SimResult> results;
  SimParams p = params;
  for (const Phases& ph : phases) {
    p.phases = ph;
    CCB_ASSIGN_OR_RETURN(SimResult r, Simulate(trace, policy, p));
    results.push_back(r);
  }
  return Summarize(policy, std::move(results));
}

std::string ToJsonLine(const SimResult& r) {
  return fmt::format(
      "{{\"policy\":\"{}\",\"pending_pod_seconds\":{:.0f},\"cloud_instance_hours\":{:.3f},"
      "\"cost\":{:.2f},\"scale_events\":{},\"flaps\":{},\"peak_replicas\":{}}}",
      PolicyKindName(r.policy), r.pending_pod_seconds, r.cloud_instance_hours, r.cost,
      r.scale_events, r.flaps, r.peak_replicas);
}

}  // namespace ccburst::scaler
