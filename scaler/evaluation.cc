#include "scaler/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ccburst::scaler {
namespace {

SimResult Medians(const PhaseSummary& s) {
  SimResult r;
  r.policy = s.policy;
  r.pending_pod_seconds = s.pending_pod_seconds.median;
  r.cloud_instance_hours = s.cloud_instance_hours.median;
  r.cost = s.cost.median;
  r.scale_events = static_cast<int>(s.scale_events.median);
  r.flaps = static_cast<int>(s.flaps.median);
  r.peak_replicas = static_cast<int>(s.peak_replicas.median);
  return r;
}

}  // namespace

bool MeetsJudgingRule(const SimResult& ours, const SimResult& seed) {
  if (ours.flaps > seed.flaps) return false;
  const double eps = 1e-9;
  bool no_worse =
      ours.pending_pod_seconds <= seed.pending_pod_seconds + eps && ours.cost <= seed.cost + eps;
  bool cheaper_close = ours.cost < seed.cost - eps &&
                       ours.pending_pod_seconds <= 1.05 * seed.pending_pod_seconds + eps;
  return no_worse || cheaper_close;
}

absl::StatusOr<Report> Evaluate(std::string name, const std::vector<std::vector<TraceRow>>& traces,
                                const std::vector<PolicyKind>& kinds, const SimParams& params,
                                int draws, uint64_t phase_seed) {
  Report out;
  out.name = std::move(name);
  out.traces = static_cast<int>(traces.size());
  out.phase_draws = draws;
  const std::vector<Phases> phases = DrawPhases(params, draws, phase_seed);
  const double lambda = PendingPricePerPodSecond(params);
  std::vector<std::vector<SimResult>> pooled(kinds.size());
  std::vector<std::vector<double>> rc(kinds.size()), rp(kinds.size()), ro(kinds.size());
  std::vector<double> bp, bh, bc;
  for (const auto& trace : traces) {
    CCB_ASSIGN_OR_RETURN(BoundResult min_pending, ClairvoyantBound(trace, params));
    CCB_ASSIGN_OR_RETURN(BoundResult priced, ClairvoyantBound(trace, params, lambda));
    bp.push_back(min_pending.pending_pod_seconds);
    bh.push_back(min_pending.cloud_instance_hours);
    bc.push_back(min_pending.cost);
    std::vector<SimResult> medians;
    for (size_t i = 0; i < kinds.size(); ++i) {
      CCB_ASSIGN_OR_RETURN(PhaseSummary s, SimulatePhases(trace, kinds[i], params, phases));
      for (const SimResult& r : s.results) {
        BoundRatios ratios = RatiosTo(r, min_pending, priced, params);
        rc[i].push_back(ratios.cost);
        rp[i].push_back(ratios.pending);
        ro[i].push_back(ratios.objective);
        pooled[i].push_back(r);
      }
      medians.push_back(Medians(s));
    }
    auto seed = std::find(kinds.begin(), kinds.end(), PolicyKind::kSeed);
    auto ours = std::find(kinds.begin(), kinds.end(), PolicyKind::kCcburst);
    if (seed != kinds.end() && ours != kinds.end()) {
      ++out.judged;
      if (MeetsJudgingRule(medians[static_cast<size_t>(ours - kinds.begin())],
                           medians[static_cast<size_t>(seed - kinds.begin())])) {
        ++out.met;
      }
    }
  }
  for (size_t i = 0; i < kinds.size(); ++i) {
    PolicyReport pr;
    pr.summary = Summarize(kinds[i], std::move(pooled[i]));
    pr.ratio_cost = SpreadOf(rc[i]);
    pr.ratio_pending = SpreadOf(rp[i]);
    pr.ratio_objective = SpreadOf(ro[i]);
    out.policies.push_back(std::move(pr));
  }
  out.bound_pending_pod_seconds = SpreadOf(bp);
  out.bound_cloud_instance_hours = SpreadOf(bh);
  out.bound_cost = SpreadOf(bc);
  return out;
}

std::string ReportText(const Report& r) {
  std::string out = fmt::format("{}: {} trace(s) x {} phase draw(s); median (worst)\n", r.name,
                                r.traces, r.phase_draws);
  out += fmt::format("{:<8} {:>22} {:>18} {:>18} {:>12} {:>12} {:>6} {:>14} {:>14} {:>14}\n",
                     "policy", "pending_pod_seconds", "instance_hours", "cost", "events", "flaps",
                     "peak", "x_bound_cost", "x_bound_pend", "x_bound_obj");
  auto cell = [](const Spread& s, int decimals) {
    return fmt::format("{:.{}f} ({:.{}f})", s.median, decimals, s.worst, decimals);
  };
  auto ratio = [](const Spread& s) {
    auto one = [](double v) {
      return std::isfinite(v) ? fmt::format("{:.2f}", v) : std::string("inf");
    };
    return fmt::format("{} ({})", one(s.median), one(s.worst));
  };
  for (const PolicyReport& p : r.policies) {
    const PhaseSummary& s = p.summary;
    out += fmt::format("{:<8} {:>22} {:>18} {:>18} {:>12} {:>12} {:>6} {:>14} {:>14} {:>14}\n",
                       PolicyKindName(s.policy), cell(s.pending_pod_seconds, 0),
                       cell(s.cloud_instance_hours, 2), cell(s.cost, 2), cell(s.scale_events, 0),
                       cell(s.flaps, 0), fmt::format("{:.0f}", s.peak_replicas.worst),
                       ratio(p.ratio_cost), ratio(p.ratio_pending), ratio(p.ratio_objective));
  }
  out += fmt::format("{:<8} {:>22} {:>18} {:>18}\n", "bound", cell(r.bound_pending_pod_seconds, 0),
                     cell(r.bound_cloud_instance_hours, 2), cell(r.bound_cost, 2));
  if (r.judged > 0) {
    out += fmt::format("judging rule met by ccburst on {} of {} trace(s)\n", r.met, r.judged);
  }
  return out;
}

std::vector<std::string> ReportJsonLines(const Report& r) {
  std::vector<std::string> out;
  auto num = [](double v) {
    return std::isfinite(v) ? fmt::format("{:.4g}", v) : std::string("null");
  };
  for (const PolicyReport& p : r.policies) {
    const PhaseSummary& s = p.summary;
    out.push_back(fmt::format(
        "{{\"name\":\"{}\",\"policy\":\"{}\",\"traces\":{},\"phase_draws\":{},"
        "\"pending_pod_seconds\":{:.0f},\"cloud_instance_hours\":{:.3f},\"cost\":{:.2f},"
        "\"scale_events\":{},\"flaps\":{},\"peak_replicas\":{},\"ratio_cost\":{},"
        "\"ratio_pending\":{},\"ratio_objective\":{},\"worst\":{{\"pending_pod_seconds\":{:.0f},"
        "\"cloud_instance_hours\":{:.3f},\"cost\":{:.2f},\"scale_events\":{},\"flaps\":{},"
        "\"peak_replicas\":{},\"ratio_cost\":{},\"ratio_pending\":{},\"ratio_objective\":{}}}}}",
        r.name, PolicyKindName(s.policy), r.traces, r.phase_draws, s.pending_pod_seconds.median,
        s.cloud_instance_hours.median, s.cost.median, num(s.scale_events.median),
        num(s.flaps.median), num(s.peak_replicas.median), num(p.ratio_cost.median),
        num(p.ratio_pending.median), num(p.ratio_objective.median), s.pending_pod_seconds.worst,
        s.cloud_instance_hours.worst, s.cost.worst, num(s.scale_events.worst), num(s.flaps.worst),
        num(s.peak_replicas.worst), num(p.ratio_cost.worst), num(p.ratio_pending.worst),
        num(p.ratio_objective.worst)));
  }
  out.push_back(fmt::format(
      "{{\"name\":\"{}\",\"policy\":\"bound\",\"traces\":{},\"pending_pod_seconds\":{:.0f},"
      "\"cloud_instance_hours\":{:.3f},\"cost\":{:.2f},\"worst\":{{\"pending_pod_seconds\":{:.0f},"
      "\"cloud_instance_hours\":{:.3f},\"cost\":{:.2f}}},\"judged\":{},\"met\":{}}}",
      r.name, r.traces, r.bound_pending_pod_seconds.median, r.bound_cloud_instance_hours.median,
      r.bound_cost.median, r.bound_pending_pod_seconds.worst, r.bound_cloud_instance_hours.worst,
      r.bound_cost.worst, r.judged, r.met));
  return out;
}

}  // namespace ccburst::scaler
