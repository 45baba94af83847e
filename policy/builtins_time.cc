// Time builtins with Go's semantics: nanoseconds since the Unix epoch in int64, Go reference
// layouts ("2006-01-02T15:04:05Z07:00"), Go durations, and IANA time zones read from the
// system's zoneinfo files (TZif).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

#include "policy/builtins.h"

namespace ccburst::policy {

namespace {

using Args = BuiltinArgs;
using Result = std::optional<Value>;

constexpr int64_t kNsPerSec = 1'000'000'000;

// ---- civil calendar (proleptic Gregorian) ----
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t DaysIn(int64_t y, int64_t m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};
const char* const kDaysOfWeek[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                   "Thursday", "Friday", "Saturday"};

// ---- time zones ----
struct ZoneType {
  int32_t offset = 0;
  bool dst = false;
  std::string abbr;
};

struct Zone {
  std::string name;
  std::vector<int64_t> transitions;
  std::vector<uint8_t> type_index;
  std::vector<ZoneType> types{ZoneType{0, false, "UTC"}};

  const ZoneType& Lookup(int64_t unix_sec) const {
    if (transitions.empty()) return types[0];
    auto it = std::upper_bound(transitions.begin(), transitions.end(), unix_sec);
    if (it == transitions.begin()) {
      for (const auto& t : types) {
        if (!t.dst) return t;
      }
      return types[0];
    }
    return types[type_index[static_cast<size_t>(it - transitions.begin() - 1)]];
  }
};

bool ValidZoneName(const std::string& name) {
  if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

uint32_t Be32(const std::string& b, size_t off) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[off])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[off + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[off + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[off + 3]));
}

std::optional<Zone> ParseTzif(const std::string& name, const std::string& b) {
  if (b.size() < 44 || b.compare(0, 4, "TZif") != 0) return std::nullopt;
  auto counts = [&](size_t off, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(b, off + 20 + 4 * static_cast<size_t>(i));
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  bool v2 = b[4] >= '2';
  size_t off = 44;
  int time_size = 4;
  if (v2) {
    off += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (b.size() < off + 44 || b.compare(off, 4, "TZif") != 0) return std::nullopt;
    counts(off, c);
    off += 44;
    time_size = 8;
  }
  size_t need = c[3] * static_cast<size_t>(time_size) + c[3] + c[4] * 6 + c[5];
  if (b.size() < off + need || c[4] == 0) return std::nullopt;
  Zone z;
  z.name = name;
  for (uint32_t i = 0; i < c[3]; ++i) {
    int64_t t;
    if (time_size == 8) {
      t = static_cast<int64_t>((static_cast<uint64_t>(Be32(b, off)) << 32) | Be32(b, off + 4));
    } else {
      t = static_cast<int32_t>(Be32(b, off));
    }
    z.transitions.push_back(t);
    off += static_cast<size_t>(time_size);
  }
  for (uint32_t i = 0; i < c[3]; ++i) {
    uint8_t idx = static_cast<uint8_t>(b[off++]);
    if (idx >= c[4]) return std::nullopt;
    z.type_index.push_back(idx);
  }
  size_t types_off = off;
  size_t chars_off = off + c[4] * 6;
  z.types.clear();
  for (uint32_t i = 0; i < c[4]; ++i) {
    ZoneType t;
    t.offset = static_cast<int32_t>(Be32(b, types_off + i * 6));
    t.dst = b[types_off + i * 6 + 4] != 0;
    size_t ai = static_cast<unsigned char>(b[types_off + i * 6 + 5]);
    if (ai < c[5]) t.abbr = std::string(b.c_str() + chars_off + ai);
    z.types.push_back(std::move(t));
  }
  return z;
}

const Zone& LoadZone(std::string_view fn, const std::string& name) {
  static const Zone kUtc{};
  if (name.empty() || name == "UTC" || name == "Local") return kUtc;
  static std::mutex mu;
  static std::map<std::string, Zone> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  if (!ValidZoneName(name)) ThrowBuiltinError(fn, fmt::format("unknown time zone {}", name));
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  if (!in) ThrowBuiltinError(fn, fmt::format("unknown time zone {}", name));
  std::ostringstream ss;
  ss << in.rdbuf();
  auto z = ParseTzif(name, ss.str());
  if (!z) ThrowBuiltinError(fn, fmt::format("unknown time zone {}", name));
  return cache.emplace(name, std::move(*z)).first->second;
}

// ---- broken-down time ----
struct Civil {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, nsec = 0;
  int64_t yday = 1;
  int weekday = 4;
  int32_t offset = 0;
  std::string abbr = "UTC";
  bool utc = true;
};

Civil ToCivil(int64_t ns, const Zone& zone) {
  int64_t sec = FloorDiv(ns, kNsPerSec);
  Civil c;
  c.nsec = ns - sec * kNsPerSec;
  const ZoneType& t = zone.Lookup(sec);
  c.offset = t.offset;
  c.abbr = t.abbr;
  c.utc = zone.transitions.empty() && zone.name.empty();
  int64_t local = sec + t.offset;
  int64_t days = FloorDiv(local, 86400);
  int64_t sod = local - days * 86400;
  CivilFromDays(days, c.year, c.month, c.day);
  c.hour = sod / 3600;
  c.minute = sod / 60 % 60;
  c.second = sod % 60;
  c.yday = days - DaysFromCivil(c.year, 1, 1) + 1;
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  return c;
}

// Nanoseconds for a civil time in UTC offset `offset`; nullopt outside int64.
std::optional<int64_t> FromCivil(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s,
                                 int64_t ns, int64_t offset) {
  // Normalize the month into the year first (Go's time.Date does the same).
  int64_t m0 = mo - 1;
  y += FloorDiv(m0, 12);
  m0 -= FloorDiv(m0, 12) * 12;
  if (y < -300000 || y > 300000) return std::nullopt;
  __int128 days = DaysFromCivil(y, m0 + 1, 1) + (d - 1);
  __int128 secs = days * 86400 + static_cast<__int128>(h) * 3600 + mi * 60 + s - offset;
  __int128 total = secs * kNsPerSec + ns;
  if (total < std::numeric_limits<int64_t>::min() || total > std::numeric_limits<int64_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(total);
}

// ---- arguments ----
int64_t NsArg(std::string_view fn, const Value& v) {
  if (!v.IsNumber())
    ThrowTypeError(fn, fmt::format("operand 1 must be number but got {}", v.TypeName()));
  const Number& n = v.AsNumber();
  auto i = n.AsInt64();
  if (!i) {
    if (n.kind() == Number::Kind::kFloat && std::fabs(n.AsDouble()) < 9.2e18) {
      return static_cast<int64_t>(n.AsDouble());
    }
    ThrowBuiltinError(fn, "timestamp too big");
  }
  return *i;
}

// `ns` or `[ns, tz]` or `[ns, tz, layout]`.
struct TimeArg {
  int64_t ns = 0;
  const Zone* zone = nullptr;
  std::string layout;
};

TimeArg ParseTimeArg(std::string_view fn, const Value& v, bool allow_layout) {
  TimeArg out;
  if (v.IsNumber()) {
    out.ns = NsArg(fn, v);
    out.zone = &LoadZone(fn, "UTC");
    return out;
  }
  if (!v.IsArray() || v.AsArray().size() < 2 || v.AsArray().size() > (allow_layout ? 3u : 2u)) {
    ThrowTypeError(
        fn, fmt::format("operand 1 must be one of {{number, array}} but got {}", v.TypeName()));
  }
  const auto& a = v.AsArray();
  out.ns = NsArg(fn, a[0]);
  if (!a[1].IsString()) ThrowTypeError(fn, "time zone must be a string");
  out.zone = &LoadZone(fn, a[1].AsString());
  if (a.size() == 3) {
    if (!a[2].IsString()) ThrowTypeError(fn, "layout must be a string");
    out.layout = a[2].AsString();
  }
  return out;
}

// ---- Go layouts ----
enum class Std {
  kNone,
  kLongMonth,
  kMonth,
  kNumMonth,
  kZeroMonth,
  kLongWeekDay,
  kWeekDay,
  kDay,
  kUnderDay,
  kZeroDay,
  kUnderYearDay,
  kZeroYearDay,
  kHour,
  kHour12,
  kZeroHour12,
  kMinute,
  kZeroMinute,
  kSecond,
  kZeroSecond,
  kLongYear,
  kYear,
  kPM,
  kpm,
  kTZ,
  kISO8601TZ,
  kISO8601SecondsTZ,
  kISO8601ShortTZ,
  kISO8601ColonTZ,
  kISO8601ColonSecondsTZ,
  kNumTZ,
  kNumSecondsTz,
  kNumShortTZ,
  kNumColonTZ,
  kNumColonSecondsTZ,
  kFracSecond0,
  kFracSecond9,
};

struct Chunk {
  std::string prefix;
  Std std = Std::kNone;
  int frac_digits = 0;
  char frac_sep = '.';
  std::string suffix;
};

bool StartsWithAt(const std::string& s, size_t i, std::string_view p) {
  return s.compare(i, p.size(), p) == 0;
}

// Splits `layout` at its first standard element, as Go's nextStdChunk does.
Chunk NextChunk(const std::string& layout) {
  Chunk c;
  for (size_t i = 0; i < layout.size(); ++i) {
    auto found = [&](Std s, size_t len) {
      c.prefix = layout.substr(0, i);
      c.std = s;
      c.suffix = layout.substr(i + len);
      return c;
    };
    char ch = layout[i];
    switch (ch) {
      case 'J':
        if (StartsWithAt(layout, i, "Jan")) {
          if (StartsWithAt(layout, i, "January")) return found(Std::kLongMonth, 7);
          return found(Std::kMonth, 3);
        }
        break;
      case 'M':
        if (StartsWithAt(layout, i, "Mon")) {
          if (StartsWithAt(layout, i, "Monday")) return found(Std::kLongWeekDay, 6);
          return found(Std::kWeekDay, 3);
        }
        if (StartsWithAt(layout, i, "MST")) return found(Std::kTZ, 3);
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          static const Std kZero[] = {Std::kZeroMonth,  Std::kZeroDay,    Std::kZeroHour12,
                                      Std::kZeroMinute, Std::kZeroSecond, Std::kYear};
          return found(kZero[layout[i + 1] - '1'], 2);
        }
        if (StartsWithAt(layout, i, "002")) return found(Std::kZeroYearDay, 3);
        break;
      case '1':
        if (StartsWithAt(layout, i, "15")) return found(Std::kHour, 2);
        return found(Std::kNumMonth, 1);
      case '2':
        if (StartsWithAt(layout, i, "2006")) return found(Std::kLongYear, 4);
        return found(Std::kDay, 1);
      case '_':
        if (StartsWithAt(layout, i, "_2")) {
          if (StartsWithAt(layout, i, "_2006")) {
            c.prefix = layout.substr(0, i + 1);
            c.std = Std::kLongYear;
            c.suffix = layout.substr(i + 5);
            return c;
          }
          return found(Std::kUnderDay, 2);
        }
        if (StartsWithAt(layout, i, "__2")) return found(Std::kUnderYearDay, 3);
        break;
      case '3':
        return found(Std::kHour12, 1);
      case '4':
        return found(Std::kMinute, 1);
      case '5':
        return found(Std::kSecond, 1);
      case 'P':
        if (StartsWithAt(layout, i, "PM")) return found(Std::kPM, 2);
        break;
      case 'p':
        if (StartsWithAt(layout, i, "pm")) return found(Std::kpm, 2);
        break;
      case '-':
        if (StartsWithAt(layout, i, "-070000")) return found(Std::kNumSecondsTz, 7);
        if (StartsWithAt(layout, i, "-07:00:00")) return found(Std::kNumColonSecondsTZ, 9);
        if (StartsWithAt(layout, i, "-0700")) return found(Std::kNumTZ, 5);
        if (StartsWithAt(layout, i, "-07:00")) return found(Std::kNumColonTZ, 6);
        if (StartsWithAt(layout, i, "-07")) return found(Std::kNumShortTZ, 3);
        break;
      case 'Z':
        if (StartsWithAt(layout, i, "Z070000")) return found(Std::kISO8601SecondsTZ, 7);
        if (StartsWithAt(layout, i, "Z07:00:00")) return found(Std::kISO8601ColonSecondsTZ, 9);
        if (StartsWithAt(layout, i, "Z0700")) return found(Std::kISO8601TZ, 5);
        if (StartsWithAt(layout, i, "Z07:00")) return found(Std::kISO8601ColonTZ, 6);
        if (StartsWithAt(layout, i, "Z07")) return found(Std::kISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          char d = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == d) ++j;
          if (j >= layout.size() || !std::isdigit(static_cast<unsigned char>(layout[j]))) {
            found(d == '0' ? Std::kFracSecond0 : Std::kFracSecond9, j - i);
            c.frac_digits = static_cast<int>(j - i - 1);
            c.frac_sep = ch;
            return c;
          }
        }
        break;
      default:
        break;
    }
  }
  c.prefix = layout;
  return c;
}

std::string NamedLayout(const std::string& name) {
  static const std::map<std::string, std::string> kLayouts = {
      {"ANSIC", "Mon Jan _2 15:04:05 2006"},
      {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
      {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"},
      {"RFC822", "02 Jan 06 15:04 MST"},
      {"RFC822Z", "02 Jan 06 15:04 -0700"},
      {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
      {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
      {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
      {"RFC3339", "2006-01-02T15:04:05Z07:00"},
      {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
      {"Kitchen", "3:04PM"},
      {"Stamp", "Jan _2 15:04:05"},
      {"StampMilli", "Jan _2 15:04:05.000"},
      {"StampMicro", "Jan _2 15:04:05.000000"},
      {"StampNano", "Jan _2 15:04:05.000000000"},
      {"DateTime", "2006-01-02 15:04:05"},
      {"DateOnly", "2006-01-02"},
      {"TimeOnly", "15:04:05"},
  };
  auto it = kLayouts.find(name);
  return it == kLayouts.end() ? name : it->second;
}

std::string Pad(int64_t v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (static_cast<int>(s.size()) < width)
    s = std::string(static_cast<size_t>(width) - s.size(), fill) + s;
  return v < 0 ? "-" + s : s;
}

std::string FormatOffset(int32_t offset, bool colon, bool seconds, bool short_form, bool z) {
  if (z && offset == 0) return "Z";
  std::string out = offset < 0 ? "-" : "+";
  int32_t a = std::abs(offset);
  out += Pad(a / 3600, 2);
  if (short_form) return out;
  if (colon) out += ":";
  out += Pad(a / 60 % 60, 2);
  if (seconds) {
    if (colon) out += ":";
    out += Pad(a % 60, 2);
  }
  return out;
}

std::string FormatLayout(const Civil& t, std::string layout) {
  std::string out;
  while (!layout.empty()) {
    Chunk c = NextChunk(layout);
    out += c.prefix;
    if (c.std == Std::kNone) break;
    layout = c.suffix;
    switch (c.std) {
      case Std::kLongMonth:
        out += kMonths[t.month - 1];
        break;
      case Std::kMonth:
        out += std::string(kMonths[t.month - 1]).substr(0, 3);
        break;
      case Std::kNumMonth:
        out += std::to_string(t.month);
        break;
      case Std::kZeroMonth:
        out += Pad(t.month, 2);
        break;
      case Std::kLongWeekDay:
        out += kDaysOfWeek[t.weekday];
        break;
      case Std::kWeekDay:
        out += std::string(kDaysOfWeek[t.weekday]).substr(0, 3);
        break;
      case Std::kDay:
        out += std::to_string(t.day);
        break;
      case Std::kUnderDay:
        out += Pad(t.day, 2, ' ');
        break;
      case Std::kZeroDay:
        out += Pad(t.day, 2);
        break;
      case Std::kUnderYearDay:
        out += Pad(t.yday, 3, ' ');
        break;
      case Std::kZeroYearDay:
        out += Pad(t.yday, 3);
        break;
      case Std::kHour:
        out += Pad(t.hour, 2);
        break;
      case Std::kHour12:
        out += std::to_string(t.hour % 12 == 0 ? 12 : t.hour % 12);
        break;
      case Std::kZeroHour12:
        out += Pad(t.hour % 12 == 0 ? 12 : t.hour % 12, 2);
        break;
      case Std::kMinute:
        out += std::to_string(t.minute);
        break;
      case Std::kZeroMinute:
        out += Pad(t.minute, 2);
        break;
      case Std::kSecond:
        out += std::to_string(t.second);
        break;
      case Std::kZeroSecond:
        out += Pad(t.second, 2);
        break;
      case Std::kLongYear:
        out += Pad(t.year, 4);
        break;
      case Std::kYear:
        out += Pad(((t.year % 100) + 100) % 100, 2);
        break;
      case Std::kPM:
        out += t.hour >= 12 ? "PM" : "AM";
        break;
      case Std::kpm:
        out += t.hour >= 12 ? "pm" : "am";
        break;
      case Std::kTZ:
        out += !t.abbr.empty() ? t.abbr : FormatOffset(t.offset, false, false, false, false);
        break;
      case Std::kISO8601TZ:
        out += FormatOffset(t.offset, false, false, false, true);
        break;
      case Std::kISO8601SecondsTZ:
        out += FormatOffset(t.offset, false, true, false, true);
        break;
      case Std::kISO8601ShortTZ:
        out += FormatOffset(t.offset, false, false, true, true);
        break;
      case Std::kISO8601ColonTZ:
        out += FormatOffset(t.offset, true, false, false, true);
        break;
      case Std::kISO8601ColonSecondsTZ:
        out += FormatOffset(t.offset, true, true, false, true);
        break;
      case Std::kNumTZ:
        out += FormatOffset(t.offset, false, false, false, false);
        break;
      case Std::kNumSecondsTz:
        out += FormatOffset(t.offset, false, true, false, false);
        break;
      case Std::kNumShortTZ:
        out += FormatOffset(t.offset, false, false, true, false);
        break;
      case Std::kNumColonTZ:
        out += FormatOffset(t.offset, true, false, false, false);
        break;
      case Std::kNumColonSecondsTZ:
        out += FormatOffset(t.offset, true, true, false, false);
        break;
      case Std::kFracSecond0:
      case Std::kFracSecond9: {
        std::string digits = Pad(t.nsec, 9).substr(0, static_cast<size_t>(c.frac_digits));
        if (c.std == Std::kFracSecond9) {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (digits.empty()) break;
        }
        out.push_back(c.frac_sep);
        out += digits;
        break;
      }
      case Std::kNone:
        break;
    }
  }
  return out;
}

struct ParseFail {};

// Parses `value` with a Go layout; returns nanoseconds since the epoch.
int64_t ParseLayout(std::string_view fn, std::string layout, const std::string& value) {
  const std::string original_layout = layout;
  size_t pos = 0;
  int64_t year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nsec = 0, yday = -1;
  bool pm_set = false, pm = false;
  std::optional<int64_t> offset;
  auto fail = [&]() {
    ThrowBuiltinError(
        fn, fmt::format("parsing time {} as {}: cannot parse", Value::String(value).ToJsonString(),
                        Value::String(original_layout).ToJsonString()));
  };
  auto digits = [&](int min, int max) -> int64_t {
    size_t start = pos;
    while (pos < value.size() && static_cast<int>(pos - start) < max &&
           std::isdigit(static_cast<unsigned char>(value[pos]))) {
      ++pos;
    }
    if (static_cast<int>(pos - start) < min) fail();
    return std::stoll(value.substr(start, pos - start));
  };
  auto lookup = [&](const char* const* names, int count, size_t len) -> int {
    for (int i = 0; i < count; ++i) {
      std::string n = len ? std::string(names[i]).substr(0, len) : names[i];
      if (value.size() >= pos + n.size()) {
        bool eq = true;
        for (size_t k = 0; k < n.size(); ++k) {
          if (std::tolower(static_cast<unsigned char>(value[pos + k])) !=
              std::tolower(static_cast<unsigned char>(n[k]))) {
            eq = false;
            break;
          }
        }
        if (eq) {
          pos += n.size();
          return i;
        }
      }
    }
    fail();
    return 0;
  };
  auto parse_offset = [&](bool colon, bool seconds, bool short_form, bool z) {
    if (z && pos < value.size() && value[pos] == 'Z') {
      ++pos;
      offset = 0;
      return;
    }
    if (pos >= value.size() || (value[pos] != '+' && value[pos] != '-')) fail();
    int64_t sign = value[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t h = digits(2, 2), m = 0, s = 0;
    if (!short_form) {
      if (colon) {
        if (pos >= value.size() || value[pos] != ':') fail();
        ++pos;
      }
      m = digits(2, 2);
      if (seconds) {
        if (colon) {
          if (pos >= value.size() || value[pos] != ':') fail();
          ++pos;
        }
        s = digits(2, 2);
      }
    }
    offset = sign * (h * 3600 + m * 60 + s);
  };
  auto parse_fraction = [&]() {
    if (pos + 1 < value.size() && (value[pos] == '.' || value[pos] == ',') &&
        std::isdigit(static_cast<unsigned char>(value[pos + 1]))) {
      ++pos;
      size_t start = pos;
      while (pos < value.size() && std::isdigit(static_cast<unsigned char>(value[pos]))) ++pos;
      std::string frac = value.substr(start, pos - start);
      if (frac.size() > 9) frac = frac.substr(0, 9);
      while (frac.size() < 9) frac.push_back('0');
      nsec = std::stoll(frac);
    }
  };
  while (true) {
    Chunk c = NextChunk(layout);
    if (value.compare(pos, c.prefix.size(), c.prefix) != 0) fail();
    pos += c.prefix.size();
    if (c.std == Std::kNone) break;
    layout = c.suffix;
    switch (c.std) {
      case Std::kLongMonth:
        month = lookup(kMonths, 12, 0) + 1;
        break;
      case Std::kMonth:
        month = lookup(kMonths, 12, 3) + 1;
        break;
      case Std::kNumMonth:
      case Std::kZeroMonth:
        month = digits(c.std == Std::kZeroMonth ? 2 : 1, 2);
        if (month < 1 || month > 12) fail();
        break;
      case Std::kLongWeekDay:
        lookup(kDaysOfWeek, 7, 0);
        break;
      case Std::kWeekDay:
        lookup(kDaysOfWeek, 7, 3);
        break;
      case Std::kDay:
      case Std::kUnderDay:
      case Std::kZeroDay:
        if (c.std == Std::kUnderDay && pos < value.size() && value[pos] == ' ') ++pos;
        day = digits(c.std == Std::kZeroDay ? 2 : 1, 2);
        break;
      case Std::kUnderYearDay:
      case Std::kZeroYearDay:
        while (c.std == Std::kUnderYearDay && pos < value.size() && value[pos] == ' ') ++pos;
        yday = digits(c.std == Std::kZeroYearDay ? 3 : 1, 3);
        break;
      case Std::kHour:
        hour = digits(2, 2);
        if (hour > 23) fail();
        break;
      case Std::kHour12:
      case Std::kZeroHour12:
        hour = digits(c.std == Std::kZeroHour12 ? 2 : 1, 2);
        if (hour > 12) fail();
        break;
      case Std::kMinute:
      case Std::kZeroMinute:
        minute = digits(c.std == Std::kZeroMinute ? 2 : 1, 2);
        if (minute > 59) fail();
        break;
      case Std::kSecond:
      case Std::kZeroSecond: {
        second = digits(c.std == Std::kZeroSecond ? 2 : 1, 2);
        if (second > 59) fail();
        Chunk next = NextChunk(layout);
        if (!(next.prefix.empty() &&
              (next.std == Std::kFracSecond0 || next.std == Std::kFracSecond9))) {
          parse_fraction();
        }
        break;
      }
      case Std::kLongYear: {
        bool neg = pos < value.size() && value[pos] == '-';
        if (neg) ++pos;
        year = digits(4, 4);
        if (neg) year = -year;
        break;
      }
      case Std::kYear:
        year = digits(2, 2);
        year += year >= 69 ? 1900 : 2000;
        break;
      case Std::kPM:
      case Std::kpm: {
        if (pos + 2 > value.size()) fail();
        std::string ap = value.substr(pos, 2);
        for (auto& ch : ap) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (ap != "AM" && ap != "PM") fail();
        pm_set = true;
        pm = ap == "PM";
        pos += 2;
        break;
      }
      case Std::kTZ: {
        if (StartsWithAt(value, pos, "UTC")) {
          pos += 3;
          offset = 0;
          break;
        }
        size_t start = pos;
        while (pos < value.size() && std::isupper(static_cast<unsigned char>(value[pos]))) ++pos;
        if (pos - start < 3) fail();
        if (!offset) offset = 0;
        break;
      }
      case Std::kISO8601TZ:
        parse_offset(false, false, false, true);
        break;
      case Std::kISO8601SecondsTZ:
        parse_offset(false, true, false, true);
        break;
      case Std::kISO8601ShortTZ:
        parse_offset(false, false, true, true);
        break;
      case Std::kISO8601ColonTZ:
        parse_offset(true, false, false, true);
        break;
      case Std::kISO8601ColonSecondsTZ:
        parse_offset(true, true, false, true);
        break;
      case Std::kNumTZ:
        parse_offset(false, false, false, false);
        break;
      case Std::kNumSecondsTz:
        parse_offset(false, true, false, false);
        break;
      case Std::kNumShortTZ:
        parse_offset(false, false, true, false);
        break;
      case Std::kNumColonTZ:
        parse_offset(true, false, false, false);
        break;
      case Std::kNumColonSecondsTZ:
        parse_offset(true, true, false, false);
        break;
      case Std::kFracSecond0:
      case Std::kFracSecond9:
        parse_fraction();
        break;
      case Std::kNone:
        break;
    }
  }
  if (pos != value.size()) {
    ThrowBuiltinError(
        fn, fmt::format("parsing time {}: extra text: {}", Value::String(value).ToJsonString(),
                        Value::String(value.substr(pos)).ToJsonString()));
  }
  if (pm_set) {
    if (pm && hour < 12) hour += 12;
    if (!pm && hour == 12) hour = 0;
  }
  if (yday >= 0) {
    month = 1;
    day = yday;
  }
  if (day < 1 || day > DaysIn(year, month)) {
    ThrowBuiltinError(
        fn, fmt::format("parsing time {}: day out of range", Value::String(value).ToJsonString()));
  }
  auto ns = FromCivil(year, month, day, hour, minute, second, nsec, offset.value_or(0));
  if (!ns) ThrowBuiltinError(fn, "time outside of valid range");
  return *ns;
}

// ---- builtins ----
Result NowNs(BuiltinContext& ctx, Args) { return Value::Int(ctx.NowNs()); }

Result ParseNs(BuiltinContext&, Args a) {
  const std::string& layout = ArgString("time.parse_ns", a, 0);
  const std::string& value = ArgString("time.parse_ns", a, 1);
  return Value::Int(ParseLayout("time.parse_ns", NamedLayout(layout), value));
}

Result ParseRfc3339Ns(BuiltinContext&, Args a) {
  const std::string& value = ArgString("time.parse_rfc3339_ns", a, 0);
  return Value::Int(ParseLayout("time.parse_rfc3339_ns", "2006-01-02T15:04:05Z07:00", value));
}

Result ParseDurationNs(BuiltinContext&, Args a) {
  const std::string& s = ArgString("time.parse_duration_ns", a, 0);
  auto invalid = [&]() {
    ThrowBuiltinError("time.parse_duration_ns",
                      fmt::format("time: invalid duration {}", Value::String(s).ToJsonString()));
  };
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (s.substr(i) == "0") return Value::Int(0);
  if (i == s.size()) invalid();
  __int128 total = 0;
  while (i < s.size()) {
    size_t start = i;
    __int128 whole = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > std::numeric_limits<int64_t>::max()) invalid();
      ++i;
    }
    bool had_whole = i > start;
    __int128 frac = 0, scale = 1;
    bool had_frac = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        if (scale < static_cast<__int128>(1e18)) {
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
        had_frac = true;
        ++i;
      }
    }
    if (!had_whole && !had_frac) invalid();
    size_t ustart = i;
    while (i < s.size() && s[i] != '.' && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(ustart, i - ustart);
    int64_t mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") {
      mult = 1000;
    } else if (unit == "ms") {
      mult = 1000000;
    } else if (unit == "s") {
      mult = kNsPerSec;
    } else if (unit == "m") {
      mult = 60 * kNsPerSec;
    } else if (unit == "h") {
      mult = 3600 * kNsPerSec;
    } else {
      invalid();
      mult = 0;
    }
    total += whole * mult + frac * mult / scale;
    if (total > std::numeric_limits<int64_t>::max()) invalid();
  }
  return Value::Int(static_cast<int64_t>(neg ? -total : total));
}

Result Date(BuiltinContext&, Args a) {
  TimeArg t = ParseTimeArg("time.date", a[0], false);
  Civil c = ToCivil(t.ns, *t.zone);
  return Value::Array({Value::Int(c.year), Value::Int(c.month), Value::Int(c.day)});
}

Result Clock(BuiltinContext&, Args a) {
  TimeArg t = ParseTimeArg("time.clock", a[0], false);
  Civil c = ToCivil(t.ns, *t.zone);
  return Value::Array({Value::Int(c.hour), Value::Int(c.minute), Value::Int(c.second)});
}

Result Weekday(BuiltinContext&, Args a) {
  TimeArg t = ParseTimeArg("time.weekday", a[0], false);
  Civil c = ToCivil(t.ns, *t.zone);
  return Value::String(kDaysOfWeek[c.weekday]);
}

Result Format(BuiltinContext&, Args a) {
  TimeArg t = ParseTimeArg("time.format", a[0], true);
  Civil c = ToCivil(t.ns, *t.zone);
  std::string layout =
      t.layout.empty() ? "2006-01-02T15:04:05.999999999Z07:00" : NamedLayout(t.layout);
  return Value::String(FormatLayout(c, layout));
}

Result AddDate(BuiltinContext&, Args a) {
  int64_t ns = NsArg("time.add_date", a[0]);
  int64_t years = ArgInt("time.add_date", a, 1);
  int64_t months = ArgInt("time.add_date", a, 2);
  int64_t days = ArgInt("time.add_date", a, 3);
  Civil c = ToCivil(ns, LoadZone("time.add_date", "UTC"));
  if (std::abs(years) > 100000 || std::abs(months) > 1200000 || std::abs(days) > 40000000) {
    ThrowBuiltinError("time.add_date", "time outside of valid range");
  }
  auto r = FromCivil(c.year + years, c.month + months, c.day + days, c.hour, c.minute, c.second,
                     c.nsec, 0);
  if (!r) ThrowBuiltinError("time.add_date", "time outside of valid range");
  return Value::Int(*r);
}

Result Diff(BuiltinContext&, Args a) {
  TimeArg t1 = ParseTimeArg("time.diff", a[0], false);
  TimeArg t2 = ParseTimeArg("time.diff", a[1], false);
  // Both times are compared in the first one's zone.
  const Zone* zone = t1.zone;
  int64_t n1 = t1.ns, n2 = t2.ns;
  if (n1 > n2) std::swap(n1, n2);
  Civil c1 = ToCivil(n1, *zone);
  Civil c2 = ToCivil(n2, *zone);
  int64_t year = c2.year - c1.year, month = c2.month - c1.month, day = c2.day - c1.day;
  int64_t hour = c2.hour - c1.hour, min = c2.minute - c1.minute, sec = c2.second - c1.second;
  if (sec < 0) {
    sec += 60;
    --min;
  }
  if (min < 0) {
    min += 60;
    --hour;
  }
  if (hour < 0) {
    hour += 24;
    --day;
  }
  if (day < 0) {
    day += DaysIn(c1.year, c1.month);
    --month;
  }
  if (month < 0) {
    month += 12;
    --year;
  }
  return Value::Array({Value::Int(year), Value::Int(month), Value::Int(day), Value::Int(hour),
                       Value::Int(min), Value::Int(sec)});
}

}  // namespace

void RegisterTimeBuiltins(BuiltinRegistry& r) {
  r.Add("time.now_ns", 0, NowNs);
  r.Add("time.parse_ns", 2, ParseNs);
  r.Add("time.parse_rfc3339_ns", 1, ParseRfc3339Ns);
  r.Add("time.parse_duration_ns", 1, ParseDurationNs);
  r.Add("time.date", 1, Date);
  r.Add("time.clock", 1, Clock);
  r.Add("time.weekday", 1, Weekday);
  r.Add("time.format", 1, Format);
  r.Add("time.add_date", 4, AddDate);
  r.Add("time.diff", 2, Diff);
}

}  // namespace ccburst::policy
