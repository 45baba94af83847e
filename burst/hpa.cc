#include "burst/hpa.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ccburst::burst {

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
  int proposed = ExternalAverageValueReplicas(current, metric_total, target, spec_.tolerance);
  // stabilizeRecommendation: the highest recommendation within the window wins.
  double cutoff = now - spec_.scale_down_stabilization_seconds;
  while (!recommendations_.empty() && recommendations_.front().first < cutoff) {
    recommendations_.pop_front();
  }
  int stabilized = proposed;
  for (const auto& [t, r] : recommendations_) stabilized = std::max(stabilized, r);
  recommendations_.emplace_back(now, proposed);
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

}  // namespace ccburst::burst
