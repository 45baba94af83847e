#include "scaler/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <numeric>

namespace ccburst::scaler {
namespace {

constexpr double kEps = 1e-9;
constexpr double kMaxSteps = 2e7;

bool Allowed(const std::vector<std::string>& list, const std::string& v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

struct Eligible {
  size_t index;  // into the candidates
  int per_instance;
  double price;
  int bound;  // most replicas it may take
};

// Greedy fallback for searches too large to be exact: cheapest price per pod first.
std::vector<int> Greedy(const std::vector<Eligible>& el, int pods, int max_replicas,
                        double budget) {
  std::vector<size_t> order(el.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return el[a].price / el[a].per_instance < el[b].price / el[b].per_instance - kEps;
  });
  std::vector<int> counts(el.size(), 0);
  int left = pods, replicas = 0;
  double spent = 0;
  for (size_t i : order) {
    if (left <= 0) break;
    int x = std::min({el[i].bound, (left + el[i].per_instance - 1) / el[i].per_instance,
                      max_replicas - replicas});
    if (budget > 0 && el[i].price > 0) {
      x = std::min(x, static_cast<int>(std::floor((budget - spent) / el[i].price + kEps)));
    }
    if (x <= 0) continue;
    counts[i] = x;
    replicas += x;
    spent += x * el[i].price;
    left -= x * el[i].per_instance;
  }
  return counts;
}

}  // namespace

std::string_view ProfileReasonName(ProfileReason r) {
  switch (r) {
    case ProfileReason::kPlaced:
      return "placed";
    case ProfileReason::kNotNeeded:
      return "not_needed";
    case ProfileReason::kRegionNotAllowed:
      return "region_not_allowed";
    case ProfileReason::kTeeNotAllowed:
      return "tee_not_allowed";
    case ProfileReason::kCloudNotAllowed:
      return "cloud_not_allowed";
    case ProfileReason::kSovereigntyNotAllowed:
      return "sovereignty_not_allowed";
    case ProfileReason::kNoGpu:
      return "no_gpu";
    case ProfileReason::kPodTooLarge:
      return "pod_too_large";
    case ProfileReason::kGateClosed:
      return "gate_closed";
  }
  return "unknown";
}

std::string_view PlacementReasonName(PlacementReason r) {
  switch (r) {
    case PlacementReason::kPlaced:
      return "placed";
    case PlacementReason::kCappedBudget:
      return "capped_budget";
    case PlacementReason::kCappedMaxReplicas:
      return "capped_max_replicas";
    case PlacementReason::kNoProfile:
      return "no_profile";
  }
  return "unknown";
}

int Placement::ReplicasOf(std::string_view profile) const {
  for (const auto& p : profiles) {
    if (p.profile == profile) return p.replicas;
  }
  return 0;
}

std::string Placement::Summary() const {
  std::string s;
  for (const auto& p : profiles) {
    if (p.replicas == 0) continue;
    if (!s.empty()) s += ' ';
    s += fmt::format("{}:{}", p.profile, p.replicas);
  }
  return s.empty() ? "none" : s;
}

Placement Place(double pods, const Resources& pod,
                const std::vector<PlacementCandidate>& candidates, const PlacementRules& rules) {
  Placement out;
  out.pods = pods > kEps ? static_cast<int>(std::ceil(pods - kEps)) : 0;
  const int n_max = out.pods;
  const int r_max = std::max(0, std::min(rules.max_replicas, n_max));

  // Rule 1 and rule 2: who may take replicas, and how many.
  std::vector<Eligible> el;
  bool any_open = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PlacementCandidate& c = candidates[i];
    const InstanceProfile& p = c.profile;
    ProfilePlacement pp;
    pp.profile = p.name;
    pp.pods_per_instance = PodsPerInstance(pod, p.capacity);
    if (!Allowed(rules.allowed_regions, p.region)) {
      pp.reason = ProfileReason::kRegionNotAllowed;
    } else if (!Allowed(rules.allowed_tees, p.tee)) {
      pp.reason = ProfileReason::kTeeNotAllowed;
    } else if (!Allowed(rules.allowed_clouds, p.cloud)) {
      pp.reason = ProfileReason::kCloudNotAllowed;
    } else if (!Allowed(rules.allowed_sovereignty, p.sovereignty)) {
      pp.reason = ProfileReason::kSovereigntyNotAllowed;
    } else if (pp.pods_per_instance == 0) {
      pp.reason = pod.gpus > p.capacity.gpus ? ProfileReason::kNoGpu : ProfileReason::kPodTooLarge;
    } else {
      pp.reason = c.gate_open ? ProfileReason::kNotNeeded : ProfileReason::kGateClosed;
      const int need = (n_max + pp.pods_per_instance - 1) / pp.pods_per_instance;
      const int bound = std::min({c.gate_open ? INT_MAX : std::max(0, c.current), r_max, need});
      any_open = any_open || c.gate_open;
      el.push_back({i, pp.pods_per_instance, p.price_per_hour, bound});
    }
    out.profiles.push_back(std::move(pp));
  }
  if (n_max == 0) return out;

  // Rule 3: an exact search over (profiles, replicas, pods covered, capped at n_max).
  double steps = 0;
  for (const Eligible& e : el) steps += (r_max + 1.0) * (n_max + 1.0) * (e.bound + 1.0);
  std::vector<int> counts(el.size(), 0);
  const double inf = std::numeric_limits<double>::infinity();
  const size_t width = static_cast<size_t>(n_max) + 1;
  auto at = [&](int r, int n) { return static_cast<size_t>(r) * width + static_cast<size_t>(n); };
  bool reachable_without_budget = false;
  if (steps <= kMaxSteps) {
    const size_t cells = static_cast<size_t>(r_max + 1) * width;
    std::vector<double> f(cells, inf);
    f[at(0, 0)] = 0;
    struct Step {
      int x = 0, prev_n = 0;
    };
    std::vector<std::vector<Step>> choice(el.size(), std::vector<Step>(cells));
    for (size_t e = 0; e < el.size(); ++e) {
      std::vector<double> g(cells, inf);
      // Descending replicas: for a target cell, taking fewer of this (later) profile is seen
      // first, so ties go to the profiles listed first.
      for (int r = r_max; r >= 0; --r) {
        for (int n = 0; n <= n_max; ++n) {
          const double base = f[at(r, n)];
          if (base == inf) continue;
          for (int x = 0; x <= el[e].bound && r + x <= r_max; ++x) {
            const int n2 = std::min(n_max, n + x * el[e].per_instance);
            const double c = base + x * el[e].price;
            if (c < g[at(r + x, n2)] - kEps) {
              g[at(r + x, n2)] = c;
              choice[e][at(r + x, n2)] = {x, n};
            }
          }
        }
      }
      f = std::move(g);
    }
    // The most pods, then the lowest price, then the fewest replicas, within the budget.
    const double budget = rules.budget_per_hour > 0 ? rules.budget_per_hour + kEps : inf;
    int best_r = -1, best_n = -1;
    for (int n = n_max; n >= 0 && best_r < 0; --n) {
      for (int r = 0; r <= r_max; ++r) {
        if (n == n_max && f[at(r, n)] < inf) reachable_without_budget = true;
        if (f[at(r, n)] == inf || f[at(r, n)] > budget) continue;
        if (best_r < 0 || f[at(r, n)] < f[at(best_r, best_n)] - kEps) best_r = r, best_n = n;
      }
    }
    for (size_t e = el.size(); e-- > 0 && best_r >= 0;) {
      const Step s = choice[e][at(best_r, best_n)];
      counts[e] = s.x;
      best_r -= s.x;
      best_n = s.prev_n;
    }
  } else {
    counts = Greedy(el, n_max, r_max, rules.budget_per_hour);
    reachable_without_budget = true;  // unknown in the greedy search: blame the budget if set
  }

  for (size_t e = 0; e < el.size(); ++e) {
    ProfilePlacement& pp = out.profiles[el[e].index];
    pp.replicas = counts[e];
    if (counts[e] > 0) pp.reason = ProfileReason::kPlaced;
    out.replicas += counts[e];
    out.pods_placed += counts[e] * el[e].per_instance;
    out.price_per_hour += counts[e] * el[e].price;
  }
  out.pods_placed = std::min(out.pods_placed, n_max);
  if (out.pods_placed < n_max) {
    if (el.empty() || (!any_open && out.replicas == 0)) {
      out.reason = PlacementReason::kNoProfile;
    } else if (reachable_without_budget && rules.budget_per_hour > 0) {
      out.reason = PlacementReason::kCappedBudget;
    } else if (any_open) {
      out.reason = PlacementReason::kCappedMaxReplicas;
    } else {
      out.reason = PlacementReason::kNoProfile;  // only gated profiles, held where they are
    }
  }
  return out;
}

}  // namespace ccburst::scaler
