#include "scaler/tracegen.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

namespace ccburst::scaler {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Portable draws on top of mt19937_64 (whose output the standard fixes).
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed * 0x9E3779B97F4A7C15ULL + 17) {}
  double Uniform() { return static_cast<double>(g_() >> 11) * (1.0 / 9007199254740992.0); }
  double Uniform(double a, double b) { return a + (b - a) * Uniform(); }
  int64_t Int(int64_t a, int64_t b) {  // inclusive
    return a + static_cast<int64_t>(g_() % static_cast<uint64_t>(b - a + 1));
  }
  // Sum of 12 uniforms - 6: a portable, roughly normal draw.
  double Normal(double sigma) {
    double s = 0;
    for (int i = 0; i < 12; ++i) s += Uniform();
    return (s - 6.0) * sigma;
  }

 private:
  std::mt19937_64 g_;
};

struct Shape {
  int64_t duration = 6 * 3600;
  int64_t step = 30;
  double capacity = 20;
  Resources pod{1, 4, 0};
};

std::vector<TraceRow> Sample(const Shape& s, const std::function<double(int64_t)>& demand) {
  std::vector<TraceRow> rows;
  for (int64_t t = 0; t < s.duration; t += s.step) {
    rows.push_back({t, std::max(0.0, std::round(demand(t))), s.capacity, s.pod});
  }
  return rows;
}

// A step function: value changes at the given (time, value) points.
double StepAt(const std::vector<std::pair<int64_t, double>>& points, int64_t t, double base) {
  double v = base;
  for (const auto& [at, value] : points) {
    if (at <= t) v = value;
  }
  return v;
}

std::vector<TraceRow> Diurnal(Rng& rng) {
  Shape s{24 * 3600, 60, 20, {1, 4, 0}};
  const double trough = rng.Uniform(6, 10);
  const double peak = rng.Uniform(24, 32);
  const double start = rng.Uniform(6.5, 8.5);
  const double end = rng.Uniform(18, 20);
  const double noise = rng.Uniform(0.4, 1.0);
  return Sample(s, [&](int64_t t) {
    double hour = static_cast<double>(t) / 3600;
    double d = trough;
    if (hour > start && hour < end) {
      d += (peak - trough) * std::pow(std::sin(kPi * (hour - start) / (end - start)), 1.5);
    }
    return d + rng.Normal(noise);
  });
}

std::vector<TraceRow> FlashSpikes(Rng& rng) {
  Shape s{6 * 3600, 10, 20, {1, 4, 0}};
  const double base = rng.Uniform(15, 19);
  struct Spike {
    int64_t at, len;
    double height;
  };
  std::vector<Spike> spikes;
  int n = static_cast<int>(rng.Int(3, 8));
  for (int i = 0; i < n; ++i) {
    spikes.push_back(
        {rng.Int(600, s.duration - 1200), rng.Int(60, 720), static_cast<double>(rng.Int(4, 14))});
  }
  return Sample(s, [&](int64_t t) {
    double d = base + rng.Normal(0.4);
    for (const Spike& k : spikes) {
      if (t >= k.at && t < k.at + k.len) d += k.height;
    }
    return d;
  });
}

std::vector<TraceRow> Ramps(Rng& rng) {
  Shape s{6 * 3600, 30, 20, {1, 4, 0}};
  // Piecewise linear between random knots: below capacity, a slow climb, a plateau, down.
  std::vector<std::pair<double, double>> knots{{0, rng.Uniform(12, 18)}};
  double t = 0;
  while (t < s.duration) {
    t += rng.Uniform(1200, 3600);
    knots.push_back({t, rng.Uniform(0, 1) < 0.5 ? rng.Uniform(12, 19) : rng.Uniform(24, 34)});
    t += rng.Uniform(600, 2400);
    knots.push_back({t, knots.back().second});
  }
  return Sample(s, [&](int64_t ti) {
    double x = static_cast<double>(ti);
    for (size_t i = 1; i < knots.size(); ++i) {
      if (x <= knots[i].first) {
        double f = (x - knots[i - 1].first) / (knots[i].first - knots[i - 1].first);
        return knots[i - 1].second + f * (knots[i].second - knots[i - 1].second) + rng.Normal(0.3);
      }
    }
    return knots.back().second;
  });
}

std::vector<TraceRow> MonthEnd(Rng& rng) {
  Shape s{12 * 3600, 30, 20, {1, 4, 0}};
  const double base = rng.Uniform(8, 14);
  const int64_t at = rng.Int(2 * 3600, 5 * 3600);
  const double batch = static_cast<double>(rng.Int(8 + 6, 16 + 6));  // beyond the free slots
  const int64_t drain = rng.Int(2 * 3600, 4 * 3600);
  const int64_t stair = rng.Int(300, 900);
  return Sample(s, [&](int64_t t) {
    double d = base + rng.Normal(0.3);
    if (t >= at && t < at + drain) {
      // The batch's pods finish in stairs: the remaining fraction, rounded to a stair.
      double left =
          1.0 - static_cast<double>((t - at) / stair * stair) / static_cast<double>(drain);
      d += std::ceil(batch * left);
    }
    return d;
  });
}

std::vector<TraceRow> TradingDay(Rng& rng) {
  Shape s{9 * 3600, 30, 20, {1, 4, 0}};
  const double open = rng.Uniform(10, 14);
  const double morning = rng.Uniform(24, 32);
  const double lunch = rng.Uniform(14, 19);
  const double afternoon = rng.Uniform(24, 34);
  const double noise = rng.Uniform(0.8, 2.0);
  // Hours after the 08:00 open: ramp to 1.5, morning peak to 3.5, lunch dip 4-5, afternoon peak
  // 5.5-8, close.
  std::vector<std::pair<double, double>> knots{{0, open},        {1.5, morning}, {3.5, morning},
                                               {4.0, lunch},     {5.0, lunch},   {5.5, afternoon},
                                               {8.0, afternoon}, {9.0, open}};
  for (auto& k : knots) k.second += rng.Normal(1.0);
  return Sample(s, [&](int64_t t) {
    double h = static_cast<double>(t) / 3600;
    for (size_t i = 1; i < knots.size(); ++i) {
      if (h <= knots[i].first) {
        double f = (h - knots[i - 1].first) / (knots[i].first - knots[i - 1].first);
        return knots[i - 1].second + f * (knots[i].second - knots[i - 1].second) +
               rng.Normal(noise);
      }
    }
    return knots.back().second;
  });
}

std::vector<TraceRow> Noisy(Rng& rng) {
  Shape s{6 * 3600, 30, 20, {1, 4, 0}};
  double level = rng.Uniform(17, 21);
  const double center = rng.Uniform(18, 21);
  const double jitter = rng.Uniform(1.0, 2.0);
  return Sample(s, [&](int64_t) {
    level += rng.Normal(0.35);
    level = std::clamp(level + (center - level) * 0.02, 12.0, 28.0);
    return level + rng.Normal(jitter);
  });
}

std::vector<TraceRow> GpuHeavy(Rng& rng) {
  Shape s{8 * 3600, 10, 4, {4, 16, 0}};
  // Jobs of one large pod arrive (Poisson-like) and run 10-60 min; 4 fit on-prem.
  std::vector<std::pair<int64_t, int64_t>> jobs;
  int64_t t = 0;
  const double mean_gap = rng.Uniform(300, 900);
  while (t < s.duration) {
    t += static_cast<int64_t>(-std::log(1 - rng.Uniform()) * mean_gap) + 1;
    jobs.push_back({t, t + rng.Int(600, 3600)});
  }
  return Sample(s, [&](int64_t x) {
    double d = 0;
    for (const auto& [a, b] : jobs) {
      if (x >= a && x < b) d += 1;
    }
    return d;
  });
}

std::vector<TraceRow> LongQuiet(Rng& rng) {
  Shape s{12 * 3600, 30, 20, {1, 4, 0}};
  const double base = rng.Uniform(5, 12);
  std::vector<std::pair<int64_t, double>> changes;
  int n = static_cast<int>(rng.Int(1, 2));
  for (int i = 0; i < n; ++i) {
    int64_t at = rng.Int(6 * 3600, 11 * 3600);
    int64_t len = rng.Int(300, 1800);
    changes.push_back({at, static_cast<double>(rng.Int(22, 30))});
    changes.push_back({at + len, base});
  }
  std::sort(changes.begin(), changes.end());
  return Sample(s, [&](int64_t t) { return StepAt(changes, t, base) + rng.Normal(0.3); });
}

std::vector<TraceRow> MemoryPending(Rng& rng) {
  Shape s{6 * 3600, 30, 12, {0.5, 8, 0}};
  const double base = rng.Uniform(8, 11);
  const double peak = rng.Uniform(15, 20);
  const double period = rng.Uniform(3600, 7200);
  return Sample(s, [&](int64_t t) {
    double x = std::sin(2 * kPi * static_cast<double>(t) / period);
    return base + (peak - base) * std::max(0.0, x) + rng.Normal(0.5);
  });
}

}  // namespace

const std::vector<std::string_view>& TraceFamilies() {
  static const std::vector<std::string_view> kFamilies{
      "diurnal", "flash-spikes", "ramps",      "month-end",     "trading-day",
      "noisy",   "gpu-heavy",    "long-quiet", "memory-pending"};
  return kFamilies;
}

absl::StatusOr<std::vector<TraceRow>> GenerateTrace(std::string_view family, uint64_t seed) {
  Rng rng(seed);
  if (family == "diurnal") return Diurnal(rng);
  if (family == "flash-spikes") return FlashSpikes(rng);
  if (family == "ramps") return Ramps(rng);
  if (family == "month-end") return MonthEnd(rng);
  if (family == "trading-day") return TradingDay(rng);
  if (family == "noisy") return Noisy(rng);
  if (family == "gpu-heavy") return GpuHeavy(rng);
  if (family == "long-quiet") return LongQuiet(rng);
  if (family == "memory-pending") return MemoryPending(rng);
  std::string known;
  for (auto f : TraceFamilies()) known += fmt::format("{}{}", known.empty() ? "" : ", ", f);
  return absl::InvalidArgumentError(
      fmt::format("unknown trace family `{}` (known: {})", family, known));
}

std::string TraceToCsv(const std::vector<TraceRow>& trace) {
  std::string out = "t_seconds,demand_pods,onprem_capacity_pods,pod_cpu,pod_memory_gib\n";
  for (const TraceRow& r : trace) {
    Resources pod = r.pod.value_or(Resources{1, 4, 0});
    out += fmt::format("{},{},{},{},{}\n", r.t_seconds, r.demand_pods, r.onprem_capacity_pods,
                       pod.cpu, pod.memory_gib);
  }
  return out;
}

}  // namespace ccburst::scaler
