// Judging burst policies the way the issue asks: over many traces (tracegen.h) and random clock
// phases (simulator.h), each policy against the reference ("seed") policy and against the
// clairvoyant bound (bound.h). Every figure is reported as the median and the worst case.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "scaler/bound.h"
#include "scaler/simulator.h"

namespace ccburst::scaler {

struct PolicyReport {
  PhaseSummary summary;                               // pooled over traces x phase draws
  Spread ratio_cost, ratio_pending, ratio_objective;  // per run, against that trace's bound
};

struct Report {
  std::string name;  // trace file or family
  int traces = 0;
  int phase_draws = 0;
  std::vector<PolicyReport> policies;
  Spread bound_pending_pod_seconds, bound_cloud_instance_hours, bound_cost;  // min-pending bound
  // The judging rule, on each trace's phase medians: ccburst has fewer pending pod-seconds at no
  // higher cost, or lower cost at <= 5 % more pending pod-seconds (or is no worse on both), and
  // never more flaps than the seed. Counted only when both policies ran.
  int judged = 0;
  int met = 0;
};

// True when `ours` meets the judging rule against `seed` (medians of one trace).
bool MeetsJudgingRule(const SimResult& ours, const SimResult& seed);

// Runs `kinds` over every trace with `draws` phase sets drawn from `phase_seed` (the same sets for
// every policy and trace). Errors as Simulate().
absl::StatusOr<Report> Evaluate(std::string name, const std::vector<std::vector<TraceRow>>& traces,
                                const std::vector<PolicyKind>& kinds, const SimParams& params,
                                int draws, uint64_t phase_seed);

// A human-readable table (median, worst in parentheses).
std::string ReportText(const Report& r);
// One JSON object per policy and one for the bound, one per line: the medians under the plain
// keys (pending_pod_seconds, cloud_instance_hours, cost, scale_events, flaps, peak_replicas), the
// ratios (ratio_cost, ratio_pending, ratio_objective; ratio_pending null = the bound has
// none pending), and the worst cases under "worst".
std::vector<std::string> ReportJsonLines(const Report& r);

}  // namespace ccburst::scaler
