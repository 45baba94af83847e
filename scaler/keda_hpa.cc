#include "scaler/keda_hpa.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ccburst::scaler {

int ExternalAverageValueReplicas(int current, double metric_total, double target,
                                 double tolerance) {
  // The HPA reads quantities as int64 milli-units (resource.Quantity.MilliValue()).
  auto usage = static_cast<int64_t>(std::llround(metric_total * 1000));
  auto per_pod = static_cast<int64_t>(std::llround(target * 1000));
  double usage_ratio = static_cast<double>(usage) / (static_cast<double>(per_pod) * current);
  if (std::abs(1.0 - usage_ratio) <= tolerance) return current;
  return static_cast<int>(std::ceil(static_cast<double>(usage) / static_cast<double>(per_pod)));
}

int ScaleUpLimit(int current) { return std::max(2 * current, 4); }

int Hpa::Sync(double now, int current, double metric_total, double target) {
  if (current == 0 && spec_.min_replicas != 0) return 0;
  // recordInitialRecommendation: the first sync remembers the replicas it found.
  if (!initialized_) {
    recommendations_.emplace_back(now, current);
    initialized_ = true;
  }
  int proposed = ExternalAverageValueReplicas(current, metric_total, target, spec_.tolerance);
  // stabilizeRecommendation: the highest recommendation within the window wins, in either
  // direction (samples older than the window, strictly before the cutoff, are forgotten).
  double cutoff = now - spec_.scale_down_stabilization_seconds;
  while (!recommendations_.empty() && recommendations_.front().first < cutoff) {
    recommendations_.pop_front();
  }
  int stabilized = proposed;
  for (const auto& [t, r] : recommendations_) stabilized = std::max(stabilized, r);
  recommendations_.emplace_back(now, proposed);
  // convertDesiredReplicasWithRules.
  int upper = std::min(spec_.max_replicas, ScaleUpLimit(current));
  return std::clamp(stabilized, std::min(spec_.min_replicas, upper), upper);
}

std::optional<int> KedaExecutor::RequestScale(double now, bool active, int current) {
  if (active) last_active_ = now;
  if (current == 0 && active) return std::max(spec_.min_replica_count, 1);
  if (!active && current > 0 && spec_.min_replica_count == 0) {
    if (!last_active_ || *last_active_ + spec_.cooldown_period_seconds < now) return 0;
    return std::nullopt;
  }
  if (!active && current < spec_.min_replica_count) return spec_.min_replica_count;
  return std::nullopt;
}

ScaledObjectModel::ScaledObjectModel(ScaledObjectSpec spec)
    : spec_(std::move(spec)),
      keda_(spec_.keda),
      hpa_(HpaSpec{std::max(spec_.keda.min_replica_count, 1), spec_.keda.max_replica_count,
                   spec_.tolerance, spec_.scale_down_stabilization_seconds}) {}

std::optional<ScaleEvent> ScaledObjectModel::Step(double now, int current, bool pushed,
                                                  const TriggerReads& reads, double target) {
  if (!next_poll_) next_poll_ = now + spec_.poll_phase_seconds;
  if (!next_sync_) next_sync_ = now + spec_.sync_phase_seconds;
  std::optional<ScaleEvent> event;
  auto set = [&](int to, const char* by) {
    if (to == current) return;
    if (event) {
      event->to = to;
      event->by = by;
    } else {
      event = ScaleEvent{now, current, to, by};
    }
    current = to;
  };
  // KEDA: the polling ticker, or a value pushed on StreamIsActive (evaluated at once).
  bool evaluate = pushed;
  if (now >= *next_poll_) {
    evaluate = true;
    while (*next_poll_ <= now) *next_poll_ += spec_.keda.polling_interval_seconds;
  }
  if (evaluate) {
    auto active = reads.is_active();
    if (!active.ok()) {
      last_error_ = core::Message(active.status());
    } else {
      active_ = *active;
      if (auto to = keda_.RequestScale(now, active_, current)) set(*to, "keda");
    }
  }
  // HPA: a resync on its own clock; disabled at 0 replicas.
  if (now >= *next_sync_) {
    while (*next_sync_ <= now) *next_sync_ += spec_.hpa_sync_seconds;
    if (current > 0) {
      auto metric = reads.metric();
      if (!metric.ok()) {
        last_error_ = core::Message(metric.status());
      } else {
        last_metric_ = *metric;
        set(hpa_.Sync(now, current, *metric, target), "hpa");
      }
    }
  }
  return event;
}

}  // namespace ccburst::scaler
