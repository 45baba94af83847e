#include "scaler/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>

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

// One deployment's replica set and the KEDA/HPA loop around it.
class Deployment {
 public:
  Deployment(const SimParams& p, const KedaTiming& timing, SimResult& r)
      : p_(p), timing_(timing), r_(r) {}

  int replicas() const { return static_cast<int>(ready_at_.size()); }

  int Ready(int64_t t) const {
    return static_cast<int>(
        std::count_if(ready_at_.begin(), ready_at_.end(), [&](int64_t x) { return x <= t; }));
  }

  // KEDA's activity check: activates 0 -> 1, deactivates after the cool-down.
  void CheckActive(int64_t t, bool active) {
    if (active) {
      last_active_ = t;
      if (replicas() == 0) Scale(t, 1);
      return;
    }
    if (replicas() > 0 && t - last_active_ >= timing_.cooldown_period.count()) Scale(t, 0);
  }

  // One HPA sync with the metric `value` against `target` (AverageValue).
  void HpaSync(int64_t t, double value, double target) {
    int cur = replicas();
    if (cur == 0) return;  // KEDA owns 0 <-> 1
    double ratio = value / target / cur;
    int desired = cur;
    if (std::abs(ratio - 1) > timing_.tolerance) {
      desired = static_cast<int>(std::ceil(value / target - 1e-9));
    }
    desired = std::clamp(desired, 1, std::max(1, p_.policy.max_replicas));
    recs_.push_back({t, desired});
    while (!recs_.empty() && recs_.front().first <= t - timing_.stabilization.count()) {
      recs_.pop_front();
    }
    if (desired < cur) {
      for (const auto& [_, d] : recs_) desired = std::max(desired, d);
      desired = std::min(desired, cur);
    }
    if (desired != cur) Scale(t, desired);
  }

  void Account(int64_t t) {
    r_.cloud_instance_hours += replicas() / 3600.0;
    r_.peak_replicas = std::max(r_.peak_replicas, replicas());
  }

 private:
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

  const SimParams& p_;
  const KedaTiming& timing_;
  SimResult& r_;
  std::vector<int64_t> ready_at_;
  std::deque<std::pair<int64_t, int>> recs_;
  int64_t last_active_ = 0;
  std::optional<int64_t> last_down_;
};

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
  Deployment dep(p, timing, r);
  Decider decider(p.profile, p.policy, p.pod_size);

  // Last row holds for one more step (or a minute when there is a single row).
  const int64_t t0 = trace.front().t_seconds;
  const int64_t step = trace.size() > 1 ? trace[1].t_seconds - trace[0].t_seconds : 60;
  const int64_t t_end = trace.back().t_seconds + step;

  size_t row = 0;
  // The trace starts in steady state: the first row's on-prem pods are already running.
  double scheduled = std::min(trace.front().demand_pods, trace.front().onprem_capacity_pods);
  std::deque<std::pair<int64_t, double>> pulling;  // (ready time, pods) of on-prem pods starting
  Decision last;
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

    // Signals and the policy's metric value.
    const bool poll = (t - t0) % timing.polling_interval.count() == 0;
    const bool sync = (t - t0) % timing.hpa_sync.count() == 0;
    const bool stream = policy == PolicyKind::kCcburst && (t - t0) % p.stream_interval.count() == 0;
    if (poll || sync || stream) {
      double value = 0;
      double target = 1;
      if (policy == PolicyKind::kSeed) {
        value = unschedulable + starting;  // Pending = unschedulable + pulling images
        target = p.seed_threshold;
      } else {
        Signals s;
        s.pending_pods = unschedulable;
        s.pending_requests = Resources{pod.cpu * unschedulable, pod.memory_gib * unschedulable, 0};
        double free = std::max(0.0, tr.onprem_capacity_pods - scheduled);
        s.onprem_free = Resources{pod.cpu * free, pod.memory_gib * free, 0};
        last = decider.Decide(s, GateState::kOpen, core::FromUnixSeconds(t));
        value = last.wanted;
      }
      if (poll || stream) dep.CheckActive(t, value > 0);
      if (sync) dep.HpaSync(t, value, target);
    }

    // Pods beyond on-prem capacity that no ready cloud replica covers. On-prem image pulls are
    // left out: they cost both policies the same and no cloud VM boots faster than a pull.
    r.pending_pod_seconds +=
        std::max(0.0, unschedulable - static_cast<double>(dep.Ready(t)) * per_instance);
    dep.Account(t);
  }
  r.cost = r.cloud_instance_hours * p.profile.price_per_hour;
  return r;
}

std::string ToJsonLine(const SimResult& r) {
  return fmt::format(
      "{{\"policy\":\"{}\",\"pending_pod_seconds\":{:.0f},\"cloud_instance_hours\":{:.3f},"
      "\"cost\":{:.2f},\"scale_events\":{},\"flaps\":{},\"peak_replicas\":{}}}",
      PolicyKindName(r.policy), r.pending_pod_seconds, r.cloud_instance_hours, r.cost,
      r.scale_events, r.flaps, r.peak_replicas);
}

}  // namespace ccburst::scaler
