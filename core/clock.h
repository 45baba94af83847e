// Time as an injectable dependency: verifiers take an explicit time, servers take a Clock so
// tests can pin "now" (collateral and tokens expire; a test must never depend on the wall clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::core {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Get();
};

// Seconds since the Unix epoch.
int64_t ToUnixSeconds(TimePoint t);
TimePoint FromUnixSeconds(int64_t s);

// "2025-01-02T03:04:05Z" (UTC, second precision).
std::string FormatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)".
absl::StatusOr<TimePoint> ParseRfc3339(std::string_view text);
// "Thu, 01 Jan 2026 00:00:00 GMT" for cookies and HTTP headers.
std::string FormatHttpDate(TimePoint t);

}  // namespace ccburst::core
