#include "scaler/bound.h"

#include <algorithm>
#include <cmath>

namespace ccburst::scaler {
namespace {

// (pending, cost) of a partial schedule, compared lexicographically (lambda infinite) or by the
// priced sum.
struct Value {
  double pending = 0;
  double cost = 0;
};

constexpr double kInf = std::numeric_limits<double>::infinity();

class Order {
 public:
  explicit Order(double lambda) : lambda_(lambda) {}
  bool Less(const Value& a, const Value& b) const {
    if (std::isinf(lambda_)) {
      if (a.pending != b.pending) return a.pending < b.pending;
      return a.cost < b.cost;
    }
    return a.cost + lambda_ * a.pending < b.cost + lambda_ * b.pending;
  }

 private:
  double lambda_;
};

// One level's DP. w[t] = pods of this level at second t. Returns the best value and the number of
// seconds the level's replica is up (cost / price) is folded into cost already.
Value SolveLevel(const std::vector<double>& w, int startup, double price_per_second,
                 const Order& order) {
  const Value unreachable{kInf, kInf};
  // state 0 = off, 1..startup = booting for that many seconds so far, startup + 1 = ready.
  const int ready = startup + 1;
  std::vector<Value> cur(static_cast<size_t>(ready) + 1, unreachable);
  std::vector<Value> next(cur.size(), unreachable);
  cur[0] = Value{0, 0};  // before the trace: off
  auto relax = [&](Value& slot, const Value& v) {
    if (order.Less(v, slot)) slot = v;
  };
  for (double pods : w) {
    std::fill(next.begin(), next.end(), unreachable);
    // The state during second t is chosen from the state during t-1.
    Value best_any = unreachable;  // any state can switch off
    for (const Value& v : cur) {
      if (order.Less(v, best_any)) best_any = v;
    }
    relax(next[0], Value{best_any.pending + pods, best_any.cost});
    // Start: off -> booting 1 (or straight to ready with no start-up).
    const Value& off = cur[0];
    if (off.pending < kInf) {
      if (startup == 0) {
        relax(next[ready], Value{off.pending, off.cost + price_per_second});
      } else {
        relax(next[1], Value{off.pending + pods, off.cost + price_per_second});
      }
    }
    for (int b = 1; b <= startup; ++b) {
      const Value& v = cur[static_cast<size_t>(b)];
      if (v.pending == kInf) continue;
      // Booting for b seconds: during this second it is booting b+1, or ready once b == startup.
      if (b == startup) {
        relax(next[ready], Value{v.pending, v.cost + price_per_second});
      } else {
        relax(next[static_cast<size_t>(b) + 1], Value{v.pending + pods, v.cost + price_per_second});
      }
    }
    const Value& r = cur[static_cast<size_t>(ready)];
    if (r.pending < kInf) relax(next[ready], Value{r.pending, r.cost + price_per_second});
    std::swap(cur, next);
  }
  Value best = unreachable;
  for (const Value& v : cur) {
    if (order.Less(v, best)) best = v;
  }
  return best;
}

}  // namespace

double PendingPricePerPodSecond(const SimParams& params) {
  return params.cost_model.pending_pod_hour / 3600.0;
}

absl::StatusOr<BoundResult> ClairvoyantBound(const std::vector<TraceRow>& trace, const SimParams& p,
                                             double lambda) {
  if (trace.empty()) return absl::InvalidArgumentError("trace: no rows");
  const int64_t t0 = trace.front().t_seconds;
  const int64_t step = trace.size() > 1 ? trace[1].t_seconds - trace[0].t_seconds : 60;
  const int64_t t_end = trace.back().t_seconds + step;
  const int cap = std::max(0, p.policy.max_replicas);
  const int startup = static_cast<int>(p.vm_startup.count() + p.attestation.count());
  const double price_per_second = p.profile.price_per_hour / 3600.0;

  std::vector<std::vector<double>> levels(static_cast<size_t>(cap));
  BoundResult out;
  size_t row = 0;
  for (int64_t t = t0; t < t_end; ++t) {
    while (row + 1 < trace.size() && trace[row + 1].t_seconds <= t) ++row;
    const TraceRow& tr = trace[row];
    const double k = std::max(1, PodsPerInstance(tr.pod.value_or(p.pod_size), p.profile.capacity));
    const double u = std::max(0.0, tr.demand_pods - tr.onprem_capacity_pods);
    for (int j = 0; j < cap; ++j) {
      levels[static_cast<size_t>(j)].push_back(std::clamp(u - j * k, 0.0, k));
    }
    out.pending_pod_seconds += std::max(0.0, u - cap * k);  // beyond the cap: nobody serves it
  }
  Order order(lambda);
  for (const auto& w : levels) {
    Value v = SolveLevel(w, startup, price_per_second, order);
    out.pending_pod_seconds += v.pending;
    out.cost += v.cost;
    if (v.cost > 0) ++out.peak_replicas;
  }
  out.cloud_instance_hours = p.profile.price_per_hour > 0 ? out.cost / p.profile.price_per_hour : 0;
  out.objective = std::isinf(lambda) ? out.cost : out.cost + lambda * out.pending_pod_seconds;
  return out;
}

BoundRatios RatiosTo(const SimResult& r, const BoundResult& min_pending, const BoundResult& priced,
                     const SimParams& params) {
  auto ratio = [](double a, double b) {
    if (b > 0) return a / b;
    return a > 0 ? kInf : 1.0;
  };
  BoundRatios out;
  out.cost = ratio(r.cost, min_pending.cost);
  out.pending = ratio(r.pending_pod_seconds, min_pending.pending_pod_seconds);
  const double lambda = PendingPricePerPodSecond(params);
  out.objective = ratio(r.cost + lambda * r.pending_pod_seconds, priced.objective);
  return out;
}

}  // namespace ccburst::scaler
