// String builtins and sprintf. Positions and lengths are in runes (code points), as in OPA.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "policy/builtins.h"

namespace ccburst::policy {

namespace {

using Args = BuiltinArgs;
using Result = std::optional<Value>;

// Strings from a string, or an array or set of strings ("one of {string, set, array}").
std::vector<std::string> StringOrList(std::string_view fn, Args a, int i) {
  const Value& v = a[i];
  if (v.IsString()) return {v.AsString()};
  if (!v.IsArray() && !v.IsSet()) ThrowOperandError(fn, i + 1, "one of {string, set, array}", v);
  std::vector<std::string> out;
  for (const auto& e : v.AsArray()) {
    if (!e.IsString()) {
      ThrowTypeError(fn,
                     fmt::format("operand {} must be {} of strings but got {} containing {}", i + 1,
                                 v.IsSet() ? "set" : "array", v.TypeName(), e.TypeName()));
    }
    out.push_back(e.AsString());
  }
  return out;
}

Result Concat(BuiltinContext&, Args a) {
  const std::string& delim = ArgString("concat", a, 0);
  if (!a[1].IsArray() && !a[1].IsSet()) ThrowOperandError("concat", 2, "one of {array, set}", a[1]);
  std::string out;
  bool first = true;
  for (const auto& e : a[1].AsArray()) {
    if (!e.IsString()) {
      ThrowTypeError("concat",
                     fmt::format("operand 2 must be {} of strings but got {} containing {}",
                                 a[1].TypeName(), a[1].TypeName(), e.TypeName()));
    }
    if (!first) out += delim;
    first = false;
    out += e.AsString();
  }
  return Value::String(std::move(out));
}

Result Contains(BuiltinContext&, Args a) {
  const std::string& s = ArgString("contains", a, 0);
  const std::string& sub = ArgString("contains", a, 1);
  return Value::Bool(s.find(sub) != std::string::npos);
}

Result StartsWith(BuiltinContext&, Args a) {
  const std::string& s = ArgString("startswith", a, 0);
  const std::string& p = ArgString("startswith", a, 1);
  return Value::Bool(s.rfind(p, 0) == 0);
}

Result EndsWith(BuiltinContext&, Args a) {
  const std::string& s = ArgString("endswith", a, 0);
  const std::string& p = ArgString("endswith", a, 1);
  return Value::Bool(s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
}

Result AnyPrefixMatch(BuiltinContext&, Args a) {
  auto search = StringOrList("strings.any_prefix_match", a, 0);
  auto base = StringOrList("strings.any_prefix_match", a, 1);
  for (const auto& s : search) {
    for (const auto& b : base) {
      if (s.rfind(b, 0) == 0) return Value::Bool(true);
    }
  }
  return Value::Bool(false);
}

Result AnySuffixMatch(BuiltinContext&, Args a) {
  auto search = StringOrList("strings.any_suffix_match", a, 0);
  auto base = StringOrList("strings.any_suffix_match", a, 1);
  for (const auto& s : search) {
    for (const auto& b : base) {
      if (s.size() >= b.size() && s.compare(s.size() - b.size(), b.size(), b) == 0) {
        return Value::Bool(true);
      }
    }
  }
  return Value::Bool(false);
}

int64_t RuneIndex(const std::u32string& s, const std::u32string& sub, size_t from = 0) {
  auto pos = s.find(sub, from);
  return pos == std::u32string::npos ? -1 : static_cast<int64_t>(pos);
}

Result IndexOf(BuiltinContext&, Args a) {
  auto s = DecodeUtf8(ArgString("indexof", a, 0));
  auto sub = DecodeUtf8(ArgString("indexof", a, 1));
  if (sub.empty()) return Value::Int(0);
  return Value::Int(RuneIndex(s, sub));
}

Result IndexOfN(BuiltinContext&, Args a) {
  auto s = DecodeUtf8(ArgString("indexof_n", a, 0));
  auto sub = DecodeUtf8(ArgString("indexof_n", a, 1));
  ValueVector out;
  if (sub.empty()) return Value::Array({});
  size_t from = 0;
  while (true) {
    auto pos = s.find(sub, from);
    if (pos == std::u32string::npos) break;
    out.push_back(Value::Int(static_cast<int64_t>(pos)));
    from = pos + 1;
  }
  return Value::Array(std::move(out));
}

Result Substring(BuiltinContext&, Args a) {
  const std::string& str = ArgString("substring", a, 0);
  int64_t start = ArgInt("substring", a, 1);
  int64_t length = ArgInt("substring", a, 2);
  if (start < 0) ThrowBuiltinError("substring", "negative offset");
  auto s = DecodeUtf8(str);
  if (static_cast<size_t>(start) >= s.size()) return Value::String("");
  size_t n = s.size() - static_cast<size_t>(start);
  if (length >= 0 && static_cast<size_t>(length) < n) n = static_cast<size_t>(length);
  return Value::String(EncodeUtf8(s.substr(static_cast<size_t>(start), n)));
}

char32_t LowerRune(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  return c;
}

char32_t UpperRune(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  return c;
}

Result Lower(BuiltinContext&, Args a) {
  auto s = DecodeUtf8(ArgString("lower", a, 0));
  for (auto& c : s) c = LowerRune(c);
  return Value::String(EncodeUtf8(s));
}

Result Upper(BuiltinContext&, Args a) {
  auto s = DecodeUtf8(ArgString("upper", a, 0));
  for (auto& c : s) c = UpperRune(c);
  return Value::String(EncodeUtf8(s));
}

Result Split(BuiltinContext&, Args a) {
  const std::string& s = ArgString("split", a, 0);
  const std::string& d = ArgString("split", a, 1);
  ValueVector out;
  if (d.empty()) {
    for (char32_t c : DecodeUtf8(s)) out.push_back(Value::String(EncodeUtf8(std::u32string(1, c))));
    return Value::Array(std::move(out));
  }
  size_t start = 0;
  while (true) {
    size_t pos = s.find(d, start);
    if (pos == std::string::npos) {
      out.push_back(Value::String(s.substr(start)));
      break;
    }
    out.push_back(Value::String(s.substr(start, pos - start)));
    start = pos + d.size();
  }
  return Value::Array(std::move(out));
}

std::string ReplaceAll(const std::string& s, const std::string& old, const std::string& repl,
                       int64_t limit = -1) {
  if (old.empty()) {
    // Go inserts the replacement before every rune and at the end.
    std::string out;
    auto runes = DecodeUtf8(s);
    int64_t n = 0;
    for (char32_t c : runes) {
      if (limit < 0 || n < limit) {
        out += repl;
        ++n;
      }
      AppendUtf8(out, c);
    }
    if (limit < 0 || n < limit) out += repl;
    return out;
  }
  std::string out;
  size_t start = 0;
  int64_t n = 0;
  while (limit < 0 || n < limit) {
    size_t pos = s.find(old, start);
    if (pos == std::string::npos) break;
    out.append(s, start, pos - start);
    out += repl;
    start = pos + old.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

Result Replace(BuiltinContext& ctx, Args a) {
  const std::string& s = ArgString("replace", a, 0);
  const std::string& old = ArgString("replace", a, 1);
  const std::string& repl = ArgString("replace", a, 2);
  // Worst case: every rune (empty `old`) or every occurrence replaced.
  uint64_t matches = old.empty() ? CountRunes(s) + 1 : s.size() / old.size();
  ctx.Charge(matches * repl.size() / 64);
  return Value::String(ReplaceAll(s, old, repl));
}

Result ReplaceN(BuiltinContext& ctx, Args a) {
  const Value& patterns = ArgObject("strings.replace_n", a, 0);
  const std::string& s = ArgString("strings.replace_n", a, 1);
  size_t longest = 0;
  for (const auto& [k, v] : patterns.AsObject()) longest = std::max(longest, v.AsString().size());
  ctx.Charge(s.size() * longest / 64);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [k, v] : patterns.AsObject()) {
    if (!k.IsString())
      ThrowTypeError("strings.replace_n", "operand 1 non-string key found in pattern object");
    if (!v.IsString())
      ThrowTypeError("strings.replace_n", "operand 1 non-string value found in pattern object");
    pairs.emplace_back(k.AsString(), v.AsString());
  }
  // Like Go's strings.NewReplacer: at each position, the first matching old string in
  // argument order (here: sorted key order) wins; no rescanning of replaced text.
  std::string out;
  size_t i = 0;
  while (i <= s.size()) {
    bool matched = false;
    for (const auto& [old, repl] : pairs) {
      if (old.empty()) continue;
      if (s.compare(i, old.size(), old) == 0) {
        out += repl;
        i += old.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (i == s.size()) break;
    out.push_back(s[i]);
    ++i;
  }
  return Value::String(std::move(out));
}

bool InCutset(const std::u32string& cutset, char32_t c) {
  return cutset.find(c) != std::u32string::npos;
}

std::string TrimLeftRunes(const std::string& s, const std::string& cut) {
  auto r = DecodeUtf8(s);
  auto c = DecodeUtf8(cut);
  size_t i = 0;
  while (i < r.size() && InCutset(c, r[i])) ++i;
  return EncodeUtf8(r.substr(i));
}

std::string TrimRightRunes(const std::string& s, const std::string& cut) {
  auto r = DecodeUtf8(s);
  auto c = DecodeUtf8(cut);
  size_t n = r.size();
  while (n > 0 && InCutset(c, r[n - 1])) --n;
  return EncodeUtf8(r.substr(0, n));
}

Result Trim(BuiltinContext&, Args a) {
  const std::string& s = ArgString("trim", a, 0);
  const std::string& cut = ArgString("trim", a, 1);
  return Value::String(TrimRightRunes(TrimLeftRunes(s, cut), cut));
}

Result TrimLeft(BuiltinContext&, Args a) {
  return Value::String(TrimLeftRunes(ArgString("trim_left", a, 0), ArgString("trim_left", a, 1)));
}

Result TrimRight(BuiltinContext&, Args a) {
  return Value::String(
      TrimRightRunes(ArgString("trim_right", a, 0), ArgString("trim_right", a, 1)));
}

Result TrimPrefix(BuiltinContext&, Args a) {
  const std::string& s = ArgString("trim_prefix", a, 0);
  const std::string& p = ArgString("trim_prefix", a, 1);
  if (s.rfind(p, 0) == 0) return Value::String(s.substr(p.size()));
  return Value::String(s);
}

Result TrimSuffix(BuiltinContext&, Args a) {
  const std::string& s = ArgString("trim_suffix", a, 0);
  const std::string& p = ArgString("trim_suffix", a, 1);
  if (s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0) {
    return Value::String(s.substr(0, s.size() - p.size()));
  }
  return Value::String(s);
}

bool IsSpaceRune(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

Result TrimSpace(BuiltinContext&, Args a) {
  auto r = DecodeUtf8(ArgString("trim_space", a, 0));
  size_t i = 0, n = r.size();
  while (i < n && IsSpaceRune(r[i])) ++i;
  while (n > i && IsSpaceRune(r[n - 1])) --n;
  return Value::String(EncodeUtf8(r.substr(i, n - i)));
}

Result FormatInt(BuiltinContext&, Args a) {
  const Number& n = ArgNumber("format_int", a, 0);
  const Number& base = ArgNumber("format_int", a, 1);
  auto b = base.AsInt64();
  if (!b || (*b != 2 && *b != 8 && *b != 10 && *b != 16)) {
    ThrowTypeError("format_int", "operand 2 must be one of {2, 8, 10, 16}");
  }
  Number v = n;
  if (!v.IsInteger()) v = v.IsNegative() ? v.Ceil() : v.Floor();
  return Value::String(v.FormatInteger(static_cast<int>(*b)));
}

Result Reverse(BuiltinContext&, Args a) {
  auto r = DecodeUtf8(ArgString("strings.reverse", a, 0));
  std::reverse(r.begin(), r.end());
  return Value::String(EncodeUtf8(r));
}

Result CountSub(BuiltinContext&, Args a) {
  const std::string& s = ArgString("strings.count", a, 0);
  const std::string& sub = ArgString("strings.count", a, 1);
  if (sub.empty()) return Value::Int(static_cast<int64_t>(CountRunes(s) + 1));
  int64_t n = 0;
  size_t pos = 0;
  while ((pos = s.find(sub, pos)) != std::string::npos) {
    ++n;
    pos += sub.size();
  }
  return Value::Int(n);
}

Result Sprintf(BuiltinContext& ctx, Args a) {
  const std::string& format = ArgString("sprintf", a, 0);
  if (!a[1].IsArray()) ThrowOperandError("sprintf", 2, "array", a[1]);
  // Widths and precisions are the only way to make the output much larger than the inputs.
  uint64_t width_total = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(format[i]))) continue;
    uint64_t w = 0;
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
      w = std::min<uint64_t>(w * 10 + static_cast<uint64_t>(format[i] - '0'), 1ull << 40);
      ++i;
    }
    width_total += w;
  }
  ctx.Charge(width_total / 64);
  return Value::String(FormatSprintf(format, a[1].AsArray()));
}

// ---- Go fmt emulation ----
struct Spec {
  bool minus = false, plus = false, space = false, zero = false, sharp = false;
  int width = -1;
  int prec = -1;
  char verb = 'v';
};

std::string Pad(const std::string& s, const Spec& sp, bool numeric) {
  size_t len = CountRunes(s);
  if (sp.width < 0 || static_cast<size_t>(sp.width) <= len) return s;
  size_t pad = static_cast<size_t>(sp.width) - len;
  if (sp.minus) return s + std::string(pad, ' ');
  if (sp.zero && numeric) {
    size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    return s.substr(0, sign) + std::string(pad, '0') + s.substr(sign);
  }
  return std::string(pad, ' ') + s;
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (char32_t c : DecodeUtf8(s)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        } else {
          AppendUtf8(out, c);
        }
    }
  }
  return out + "\"";
}

// Go's %v for float64: shortest representation, exponent form outside [1e-4, 1e21).
std::string GoFloatV(double d) {
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (std::isnan(d)) return "NaN";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  double ad = std::fabs(d);
  if (ad < 1e-4 || ad >= 1e21) {
    // Shortest digits in exponent form.
    std::string s = fmt::format("{:e}", d);
    for (int p = 0; p <= 17; ++p) {
      std::string t = fmt::format("{:.{}e}", d, p);
      if (std::strtod(t.c_str(), nullptr) == d) {
        s = t;
        break;
      }
    }
    // Go writes e+21 / e-05 with at least two exponent digits (same as C).
    return s;
  }
  return fmt::format("{}", d);
}

std::string FormatNumber(const Number& n, const Spec& sp) {
  bool integer = n.kind() != Number::Kind::kFloat;
  std::string sign = n.IsNegative() ? "-" : (sp.plus ? "+" : (sp.space ? " " : ""));
  switch (sp.verb) {
    case 'd':
    case 'v':
    case 's':
      if (integer) {
        std::string digits = n.Abs().FormatInteger(10);
        if (sp.prec >= 0 && static_cast<int>(digits.size()) < sp.prec) {
          digits = std::string(static_cast<size_t>(sp.prec) - digits.size(), '0') + digits;
        }
        return Pad(sign + digits, sp, true);
      }
      if (sp.verb == 'd') return fmt::format("%!d(float64={})", GoFloatV(n.AsDouble()));
      if (sp.verb == 's') return fmt::format("%!s(float64={})", GoFloatV(n.AsDouble()));
      return Pad((sp.plus && !n.IsNegative() ? "+" : "") + GoFloatV(n.AsDouble()), sp, true);
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
      if (!integer) return fmt::format("%!{}(float64={})", sp.verb, GoFloatV(n.AsDouble()));
      int base = sp.verb == 'o' ? 8 : sp.verb == 'b' ? 2 : 16;
      std::string digits = n.Abs().FormatInteger(base);
      if (sp.verb == 'X') {
        for (auto& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      if (sp.sharp)
        digits = (base == 16 ? (sp.verb == 'X' ? "0X" : "0x") : base == 8 ? "0" : "") + digits;
      if (sp.prec >= 0 && static_cast<int>(digits.size()) < sp.prec) {
        digits = std::string(static_cast<size_t>(sp.prec) - digits.size(), '0') + digits;
      }
      return Pad(sign + digits, sp, true);
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (integer) return fmt::format("%!{}(int={})", sp.verb, n.ToString());
      double d = n.AsDouble();
      std::string body;
      int prec = sp.prec;
      switch (sp.verb) {
        case 'f':
        case 'F':
          body = fmt::format("{:.{}f}", std::fabs(d), prec < 0 ? 6 : prec);
          break;
        case 'e':
          body = fmt::format("{:.{}e}", std::fabs(d), prec < 0 ? 6 : prec);
          break;
        case 'E':
          body = fmt::format("{:.{}E}", std::fabs(d), prec < 0 ? 6 : prec);
          break;
        default:
          body = prec < 0 ? GoFloatV(std::fabs(d)) : fmt::format("{:.{}g}", std::fabs(d), prec);
      }
      return Pad(sign + body, sp, true);
    }
    case 't':
      return fmt::format("%!t({}={})", integer ? "int" : "float64", n.ToString());
    case 'q':
      return fmt::format("%!q({}={})", integer ? "int" : "float64", n.ToString());
    default:
      return fmt::format("%!{}({}={})", sp.verb, integer ? "int" : "float64", n.ToString());
  }
}

std::string FormatStringArg(const std::string& s, const Spec& sp) {
  switch (sp.verb) {
    case 's':
    case 'v': {
      std::string v = s;
      if (sp.prec >= 0) {
        auto r = DecodeUtf8(v);
        if (r.size() > static_cast<size_t>(sp.prec))
          v = EncodeUtf8(r.substr(0, static_cast<size_t>(sp.prec)));
      }
      return Pad(v, sp, false);
    }
    case 'q':
      return Pad(GoQuote(s), sp, false);
    case 'x':
    case 'X': {
      std::string out;
      for (unsigned char c : s)
        out += sp.verb == 'x' ? fmt::format("{:02x}", c) : fmt::format("{:02X}", c);
      return Pad(out, sp, false);
    }
    default:
      return fmt::format("%!{}(string={})", sp.verb, s);
  }
}

}  // namespace

std::string FormatSprintf(std::string_view format, const ValueVector& args) {
  constexpr int kMaxWidth = 1 << 16;
  std::string out;
  size_t argi = 0;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    if (format[i] == '%') {
      out.push_back('%');
      ++i;
      continue;
    }
    Spec sp;
    while (i < format.size()) {
      char f = format[i];
      if (f == '-') {
        sp.minus = true;
      } else if (f == '+') {
        sp.plus = true;
      } else if (f == ' ') {
        sp.space = true;
      } else if (f == '0') {
        sp.zero = true;
      } else if (f == '#') {
        sp.sharp = true;
      } else {
        break;
      }
      ++i;
    }
    if (i < format.size() && format[i] == '*') {
      ++i;
      if (argi < args.size() && args[argi].IsNumber()) {
        sp.width = static_cast<int>(
            std::clamp<int64_t>(args[argi].AsNumber().AsInt64().value_or(0), -(1 << 24), 1 << 24));
      }
      ++argi;
    } else {
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        sp.width = std::min((sp.width < 0 ? 0 : sp.width) * 10 + (format[i] - '0'), 1 << 24);
        ++i;
      }
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      sp.prec = 0;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        sp.prec = std::min(sp.prec * 10 + (format[i] - '0'), 1 << 24);
        ++i;
      }
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    // Bound padding and precision so a format cannot request gigabytes of output.
    sp.width = std::min(sp.width, kMaxWidth);
    sp.prec = std::min(sp.prec, kMaxWidth);
    sp.verb = format[i++];
    if (argi >= args.size()) {
      out += fmt::format("%!{}(MISSING)", sp.verb);
      continue;
    }
    const Value& v = args[argi++];
    if (v.IsNumber()) {
      out += FormatNumber(v.AsNumber(), sp);
    } else if (v.IsString()) {
      out += FormatStringArg(v.AsString(), sp);
    } else {
      // Other values are passed to Go's fmt as their Rego text.
      out += FormatStringArg(v.ToTermString(), sp);
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t j = argi; j < args.size(); ++j) {
      if (j > argi) out += ", ";
      const Value& v = args[j];
      if (v.IsNumber()) {
        out += fmt::format("{}={}", v.AsNumber().kind() == Number::Kind::kFloat ? "float64" : "int",
                           v.AsNumber().ToString());
      } else if (v.IsString()) {
        out += "string=" + v.AsString();
      } else {
        out += "string=" + v.ToTermString();
      }
    }
    out += ")";
  }
  return out;
}

void RegisterStringBuiltins(BuiltinRegistry& r) {
  r.Add("concat", 2, Concat);
  r.Add("contains", 2, Contains);
  r.Add("startswith", 2, StartsWith);
  r.Add("endswith", 2, EndsWith);
  r.Add("strings.any_prefix_match", 2, AnyPrefixMatch);
  r.Add("strings.any_suffix_match", 2, AnySuffixMatch);
  r.Add("indexof", 2, IndexOf);
  r.Add("indexof_n", 2, IndexOfN);
  r.Add("substring", 3, Substring);
  r.Add("lower", 1, Lower);
  r.Add("upper", 1, Upper);
  r.Add("split", 2, Split);
  r.Add("replace", 3, Replace);
  r.Add("strings.replace_n", 2, ReplaceN);
  r.Add("trim", 2, Trim);
  r.Add("trim_left", 2, TrimLeft);
  r.Add("trim_right", 2, TrimRight);
  r.Add("trim_prefix", 2, TrimPrefix);
  r.Add("trim_suffix", 2, TrimSuffix);
  r.Add("trim_space", 1, TrimSpace);
  r.Add("format_int", 2, FormatInt);
  r.Add("strings.reverse", 1, Reverse);
  r.Add("strings.count", 2, CountSub);
  r.Add("sprintf", 2, Sprintf);
}

}  // namespace ccburst::policy
