#include "scaler/decision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace ccburst::scaler {
namespace {

constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int DayIndex(std::string_view d) {
  std::string l = Lower(d);
  for (int i = 0; i < 7; ++i) {
    if (l == kDays[i]) return i;
  }
  return -1;
}

// "HH:MM" -> minutes; 24:00 allowed.
int ParseClock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return -1;
  for (size_t i : {0u, 1u, 3u, 4u}) {
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

// Whole pods of `pending` pods that fit `count` instances' worth: ceil(pods / per_instance).
int Pack(double pods, int per_instance) {
  if (pods <= 0 || per_instance <= 0) return 0;
  return static_cast<int>(std::ceil(pods / per_instance - 1e-9));
}

// Free on-prem capacity expressed in pods of `pod` size (-1 unknown).
double FreePods(const std::optional<Resources>& free, const Resources& pod) {
  if (!free) return -1;
  double n = std::numeric_limits<double>::infinity();
  if (pod.cpu > 0) n = std::min(n, free->cpu / pod.cpu);
  if (pod.memory_gib > 0) n = std::min(n, free->memory_gib / pod.memory_gib);
  if (pod.gpus > 0) n = std::min(n, free->gpus / pod.gpus);
  if (std::isinf(n)) return -1;
  return std::max(0.0, std::floor(n + 1e-9));
}

}  // namespace

absl::StatusOr<TimeWindow> ParseTimeWindow(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("time window `{}`: {}", text, why));
  };
  TimeWindow w;
  std::string_view rest = text;
  size_t sp = rest.find(' ');
  if (sp != std::string_view::npos) {
    std::string_view days = rest.substr(0, sp);
    rest = rest.substr(sp + 1);
    w.days = 0;
    size_t pos = 0;
    while (pos <= days.size()) {
      size_t comma = days.find(',', pos);
      std::string_view item =
          days.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      size_t dash = item.find('-');
      int a = DayIndex(item.substr(0, dash));
      int b = dash == std::string_view::npos ? a : DayIndex(item.substr(dash + 1));
      if (a < 0 || b < 0) return bad(fmt::format("unknown day in `{}`", item));
      for (int d = a;; d = (d + 1) % 7) {
        w.days |= static_cast<uint8_t>(1u << d);
        if (d == b) break;
      }
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
  }
  size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return bad("want HH:MM-HH:MM");
  w.start_minute = ParseClock(rest.substr(0, dash));
  w.end_minute = ParseClock(rest.substr(dash + 1));
  if (w.start_minute < 0 || w.end_minute < 0) return bad("want HH:MM-HH:MM");
  if (w.start_minute == w.end_minute) return bad("empty window");
  return w;
}

bool InWindow(const TimeWindow& w, core::TimePoint t) {
  int64_t s = core::ToUnixSeconds(t);
  int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  int minute = static_cast<int>((s - days * 86400) / 60);
  int weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  auto day_on = [&](int d) { return (w.days >> d) & 1; };
  if (w.start_minute < w.end_minute) {
    return day_on(weekday) && minute >= w.start_minute && minute < w.end_minute;
  }
  // Wraps past midnight: the evening part belongs to `weekday`, the morning to the day before.
  if (minute >= w.start_minute) return day_on(weekday);
  if (minute < w.end_minute) return day_on((weekday + 6) % 7);
  return false;
}

std::string_view GateStateName(GateState s) {
  switch (s) {
    case GateState::kOpen:
      return "open";
    case GateState::kKbsUnreachable:
      return "kbs_unreachable";
    case GateState::kAttestationFailing:
      return "attestation_failing";
    case GateState::kDisabled:
      return "disabled";
  }
  return "unknown";
}

std::string_view ReasonName(Reason r) {
  switch (r) {
    case Reason::kIdle:
      return "idle";
    case Reason::kScaleUp:
      return "scale_up";
    case Reason::kSteady:
      return "steady";
    case Reason::kScaleIn:
      return "scale_in";
    case Reason::kScaleInCooldown:
      return "scale_in_cooldown";
    case Reason::kScaleInHeadroom:
      return "scale_in_headroom";
    case Reason::kCappedMaxReplicas:
      return "capped_max_replicas";
    case Reason::kCappedBudget:
      return "capped_budget";
    case Reason::kWindowClosed:
      return "window_closed";
    case Reason::kRegionNotAllowed:
      return "region_not_allowed";
    case Reason::kTeeNotAllowed:
      return "tee_not_allowed";
    case Reason::kPodTooLarge:
      return "pod_too_large";
    case Reason::kGateKbsUnreachable:
      return "gate_kbs_unreachable";
    case Reason::kGateAttestationFailing:
      return "gate_attestation_failing";
    case Reason::kSignalError:
      return "signal_error";
    case Reason::kWarmPool:
      return "warm_pool";
    case Reason::kTrend:
      return "trend";
    case Reason::kReserveDeferred:
      return "reserve_deferred";
    case Reason::kSignalsStale:
      return "signals_stale";
  }
  return "unknown";
}

int PodsPerInstance(const Resources& pod, const Resources& capacity) {
  double n = std::numeric_limits<double>::infinity();
  if (pod.cpu > 0) n = std::min(n, capacity.cpu / pod.cpu);
  if (pod.memory_gib > 0) n = std::min(n, capacity.memory_gib / pod.memory_gib);
  if (pod.gpus > 0) n = std::min(n, capacity.gpus / pod.gpus);
  if (std::isinf(n)) return 1;  // a pod that requests nothing: one per instance
  return static_cast<int>(std::floor(n + 1e-9));
}

Decider::Decider(InstanceProfile profile, PlacementPolicy policy, Resources pod_size)
    : profile_(std::move(profile)), policy_(std::move(policy)), pod_size_(pod_size) {}

int Decider::Cap() const {
  int cap = std::max(0, policy_.max_replicas);
  if (policy_.budget_per_hour > 0 && profile_.price_per_hour > 0) {
    cap = std::min(cap, static_cast<int>(
                            std::floor(policy_.budget_per_hour / profile_.price_per_hour + 1e-9)));
  }
  return cap;
}

std::chrono::seconds Decider::ScaleInCooldown(int pods_per_instance) const {
  if (!policy_.ski_rental || profile_.price_per_hour <= 0) return policy_.scale_in_cooldown;
  const double boot_pending = policy_.startup_seconds * std::max(1, pods_per_instance) *
                              policy_.pending_pod_hour / 3600;  // a reboot's pending, priced
  double hold = std::clamp(boot_pending * 3600 / profile_.price_per_hour, 60.0, 3600.0);
  if (policy_.learn_min_gaps <= 0 || gaps_.size() < static_cast<size_t>(policy_.learn_min_gaps)) {
    return std::chrono::seconds(static_cast<int64_t>(hold));
  }
  // What each hold would have cost over the remembered gaps: the idle VM's price while it waits,
  // and for a gap longer than the hold, the reboot (unless demand never came back).
  const double price = profile_.price_per_hour / 3600;
  const double reboot = boot_pending + policy_.flap_price;
  auto cost = [&](double t) {
    double c = 0;
    for (double g : gaps_) c += g <= t ? g * price : t * price + (std::isinf(g) ? 0 : reboot);
    return c;
  };
  // Candidates: the break-even hold, the shortest, and just past each remembered gap (up to an
  // hour); the cheapest wins, the longer on a tie (fewer pending pods). Only a shorter hold is
  // taken: when a longer one would have been cheapest, the break-even hold stays.
  double best = hold;
  double best_cost = cost(hold);
  std::vector<double> candidates{60.0};
  for (double g : gaps_) {
    if (!std::isinf(g)) candidates.push_back(std::clamp(g + 1, 60.0, 3600.0));
  }
  for (double t : candidates) {
    const double c = cost(t);
    if (c < best_cost - 1e-12 || (c <= best_cost + 1e-12 && t > best)) {
      best = t;
      best_cost = c;
    }
  }
  return std::chrono::seconds(static_cast<int64_t>(std::min(best, hold)));
}

void Decider::NoteGaps(int demand, core::TimePoint now) {
  auto note = [&](double seconds) {
    gaps_.push_back(seconds);
    while (gaps_.size() > 16) gaps_.pop_front();
  };
  // The last scale-in's gap ends when demand rises above the replicas again (or counts as never
  // after an hour).
  if (open_gap_) {
    const bool back = demand > replicas_;
    if (back || now - *open_gap_ > std::chrono::hours(1)) {
      note(back && now - *open_gap_ <= std::chrono::hours(1)
               ? std::chrono::duration<double>(now - *open_gap_).count()
               : std::numeric_limits<double>::infinity());
      open_gap_.reset();
    }
  }
  // Demand back at the replicas during a cool-down: a gap the hold covered.
  if (low_since_ && demand >= replicas_) {
    note(std::chrono::duration<double>(now - *low_since_).count());
  }
}

Decision Decider::Hold(std::string detail, GateState gate, core::TimePoint now, Reason reason) {
  Decision d;
  d.wanted = d.previous = replicas_;
  d.cap = Cap();
  d.gate = gate;
  d.reason = reason;
  d.detail = std::move(detail);
  // A fault interrupts the evidence that demand stayed low: the cool-down starts again.
  low_since_.reset();
  return d;
}

Decision Decider::Decide(const Signals& s, GateState gate, core::TimePoint now) {
  Decision d;
  d.previous = replicas_;
  d.gate = gate;
  d.cap = Cap();
  d.pending_pods = std::max(0.0, s.pending_pods);
  d.observed_cloud_replicas = s.cloud_replicas.value_or(-1);

  auto allowed = [](const std::vector<std::string>& list, const std::string& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!allowed(policy_.allowed_regions, profile_.region) ||
      !allowed(policy_.allowed_tees, profile_.tee)) {
    d.reason = allowed(policy_.allowed_regions, profile_.region) ? Reason::kTeeNotAllowed
                                                                 : Reason::kRegionNotAllowed;
    replicas_ = d.wanted = 0;
    history_.clear();
    low_since_.reset();
    return d;
  }

  // The size of one pending pod: measured sums / count when available.
  Resources pod = pod_size_;
  if (s.pending_requests && d.pending_pods > 0) {
    pod.cpu = s.pending_requests->cpu / d.pending_pods;
    pod.memory_gib = s.pending_requests->memory_gib / d.pending_pods;
    pod.gpus = s.pending_requests->gpus / d.pending_pods;
  }
  d.pods_per_instance = PodsPerInstance(pod, profile_.capacity);
  d.onprem_free_pods = FreePods(s.onprem_free, pod_size_);
  const bool too_large = d.pending_pods > 0 && d.pods_per_instance == 0;
  // The reserve (rule 6): warm room and the shortage's growth.
  double warm = 0;
  if (policy_.warm_pods > 0 && d.onprem_free_pods >= 0 &&
      d.pods_per_instance >= policy_.warm_min_pods_per_instance) {
    // In whole VMs of this pod size: warm_pods is rounded up to instances' worth.
    const double per = std::max(1, d.pods_per_instance);
    warm = std::max(0.0, std::ceil(policy_.warm_pods / per - 1e-9) * per - d.onprem_free_pods);
  }
  double trend = 0;
  if (policy_.trend_window.count() > 0 && d.onprem_free_pods >= 0 &&
      d.pods_per_instance >= policy_.warm_min_pods_per_instance) {
    const double shortage = d.pending_pods - d.onprem_free_pods;
    shortage_.emplace_back(now, shortage);
    while (shortage_.size() > 1 && shortage_[1].first <= now - 2 * policy_.trend_window) {
      shortage_.pop_front();
    }
    // The shortage as last seen at or before `t` (the oldest sample when none is that old).
    auto seen_at = [&](core::TimePoint t) {
      double v = shortage_.front().second;
      for (const auto& [at, x] : shortage_) {
        if (at > t) break;
        v = x;
      }
      return v;
    };
    const double one = seen_at(now - policy_.trend_window);
    const double two = seen_at(now - 2 * policy_.trend_window);
    const double rise = shortage - one;
    const double rise_before = one - two;
    // Sustained growth only (a ramp, not a step: a step is all there once it is seen): the smaller
    // rise of the last two windows, times trend_gain windows, less the free room on-prem still
    // has for it.
    trend = std::max(
        0.0, std::min(rise, rise_before) * policy_.trend_gain - std::max(0.0, d.onprem_free_pods));
    // A shortage that fell over both windows is draining: the warm room is not needed.
    if (rise < 0 && rise_before < 0) warm = 0;
  }
  d.reserve_pods = std::max(warm, trend);
  const int pending_replicas = too_large ? 0 : Pack(d.pending_pods, d.pods_per_instance);
  d.demand_replicas = too_large ? 0 : Pack(d.pending_pods + d.reserve_pods, d.pods_per_instance);
  const int demand = std::min(d.demand_replicas, d.cap);

  NoteGaps(demand, now);
  const std::chrono::seconds cooldown = ScaleInCooldown(d.pods_per_instance);
  history_.push_back({now, demand, d.onprem_free_pods});
  while (!history_.empty() && history_.front().t < now - cooldown) {
    history_.pop_front();
  }

  if (demand > replicas_) {
    low_since_.reset();
    Reason blocked = Reason::kIdle;
    if (gate == GateState::kKbsUnreachable) blocked = Reason::kGateKbsUnreachable;
    if (gate == GateState::kAttestationFailing) blocked = Reason::kGateAttestationFailing;
    if (blocked == Reason::kIdle && !policy_.windows.empty() &&
        std::none_of(policy_.windows.begin(), policy_.windows.end(),
                     [&](const TimeWindow& w) { return InWindow(w, now); })) {
      blocked = Reason::kWindowClosed;
    }
    if (blocked != Reason::kIdle) {
      d.reason = blocked;
      d.wanted = replicas_;
      return d;
    }
    if (std::min(pending_replicas, d.cap) <= replicas_ && last_scale_in_ &&
        now - *last_scale_in_ < policy_.reserve_flap_guard) {
      d.reason = Reason::kReserveDeferred;
      d.wanted = replicas_;
      return d;
    }
    replicas_ = demand;
    d.wanted = replicas_;
    d.reason = Reason::kScaleUp;
    if (pending_replicas < demand) d.reason = warm >= trend ? Reason::kWarmPool : Reason::kTrend;
    if (d.demand_replicas > demand) {
      d.reason = d.cap < policy_.max_replicas ? Reason::kCappedBudget : Reason::kCappedMaxReplicas;
    }
    return d;
  }

  if (demand == replicas_) {
    low_since_.reset();
    d.wanted = replicas_;
    d.reason =
        replicas_ == 0 ? (too_large ? Reason::kPodTooLarge : Reason::kIdle) : Reason::kSteady;
    if (d.demand_replicas > demand) {
      d.reason = d.cap < policy_.max_replicas ? Reason::kCappedBudget : Reason::kCappedMaxReplicas;
    }
    return d;
  }

  // demand < replicas_: scale in only after the cool-down.
  if (!low_since_) low_since_ = now;
  d.wanted = replicas_;
  if (now - *low_since_ < cooldown) {
    d.reason = Reason::kScaleInCooldown;
    return d;
  }
  int target = 0;
  bool headroom = true;
  for (const Sample& h : history_) {
    target = std::max(target, h.demand);
    if (h.free_pods >= 0 && h.free_pods < policy_.headroom_pods) headroom = false;
  }
  if (target == 0 && !headroom) target = 1;
  if (target >= replicas_) {
    d.reason = target == 1 && !headroom ? Reason::kScaleInHeadroom : Reason::kScaleInCooldown;
    return d;
  }
  replicas_ = target;
  d.wanted = replicas_;
  d.reason = Reason::kScaleIn;
  open_gap_ = *low_since_;
  low_since_.reset();
  last_scale_in_ = now;
  return d;
}

}  // namespace ccburst::scaler
