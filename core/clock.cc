#include "core/clock.h"

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace ccburst::core {

const SystemClock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

std::string FormatRfc3339(TimePoint t) {
  std::time_t tt = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatHttpDate(TimePoint t) {
  std::time_t tt = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

absl::StatusOr<TimePoint> ParseRfc3339(std::string_view text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19) {
    return absl::InvalidArgumentError(fmt::format("time: `{}` is not RFC 3339", text));
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return absl::InvalidArgumentError(fmt::format("time: `{}` has a field out of range", text));
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (i < str.size() && str[i] == '.') {
    ++i;
    int digits = 0;
    while (i < str.size() && str[i] >= '0' && str[i] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (str[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return absl::InvalidArgumentError("time: empty fraction");
    for (int k = digits; k < 9; ++k) nanos *= 10;
  }
  int offset_s = 0;
  if (i < str.size() && (str[i] == 'Z' || str[i] == 'z')) {
    ++i;
  } else if (i + 6 == str.size() && (str[i] == '+' || str[i] == '-') && str[i + 3] == ':') {
    int oh = std::atoi(str.substr(i + 1, 2).c_str());
    int om = std::atoi(str.substr(i + 4, 2).c_str());
    offset_s = (oh * 3600 + om * 60) * (str[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return absl::InvalidArgumentError(fmt::format("time: `{}` lacks a zone (Z or +hh:mm)", text));
  }
  if (i != str.size()) {
    return absl::InvalidArgumentError(fmt::format("time: trailing text in `{}`", text));
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return TimePoint(std::chrono::seconds(secs)) +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(nanos));
}

}  // namespace ccburst::core
