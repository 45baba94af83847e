// Encoding builtins: JSON (marshal, unmarshal, filter, remove), base64, hex, and the
// Kubernetes-style quantity parsers units.parse / units.parse_bytes.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "core/encoding.h"
#include "policy/builtins.h"

namespace ccburst::policy {

namespace {

using Args = BuiltinArgs;
using Result = std::optional<Value>;

// ---- JSON ----
Result JsonMarshal(BuiltinContext&, Args a) { return Value::String(a[0].ToJsonString()); }

// Go's json.MarshalIndent layout, with `prefix` also before the first line as OPA writes it.
void AppendIndented(std::string& out, const Value& v, const std::string& prefix,
                    const std::string& indent, int depth) {
  auto newline = [&](int d) {
    out.push_back('\n');
    out += prefix;
    for (int i = 0; i < d; ++i) out += indent;
  };
  if (v.IsArray() || v.IsSet()) {
    const auto& elems = v.AsArray();
    if (elems.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    for (size_t i = 0; i < elems.size(); ++i) {
      newline(depth + 1);
      AppendIndented(out, elems[i], prefix, indent, depth + 1);
      if (i + 1 < elems.size()) out.push_back(',');
    }
    newline(depth);
    out.push_back(']');
    return;
  }
  if (v.IsObject()) {
    if (v.AsObject().empty()) {
      out += "{}";
      return;
    }
    std::vector<std::pair<std::string, const Value*>> members;
    for (const auto& [k, e] : v.AsObject()) {
      members.emplace_back(k.IsString() ? k.AsString() : k.ToJsonString(), &e);
    }
    std::sort(members.begin(), members.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    out.push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
      newline(depth + 1);
      out += Value::String(members[i].first).ToJsonString();
      out += ": ";
      AppendIndented(out, *members[i].second, prefix, indent, depth + 1);
      if (i + 1 < members.size()) out.push_back(',');
    }
    newline(depth);
    out.push_back('}');
    return;
  }
  out += v.ToJsonString();
}

Result JsonMarshalWithOptions(BuiltinContext&, Args a) {
  const Value& opts = ArgObject("json.marshal_with_options", a, 1);
  bool pretty = false;
  bool pretty_set = false;
  std::string prefix, indent = "\t";
  bool have_prefix = false, have_indent = false;
  for (const auto& [k, v] : opts.AsObject()) {
    if (!k.IsString()) {
      ThrowTypeError("json.marshal_with_options", "operand 2 must have string keys");
    }
    const std::string& key = k.AsString();
    if (key == "pretty") {
      if (!v.IsBool()) ThrowTypeError("json.marshal_with_options", "pretty must be a boolean");
      pretty = v.AsBool();
      pretty_set = true;
    } else if (key == "prefix") {
      if (!v.IsString()) ThrowTypeError("json.marshal_with_options", "prefix must be a string");
      prefix = v.AsString();
      have_prefix = true;
    } else if (key == "indent") {
      if (!v.IsString()) ThrowTypeError("json.marshal_with_options", "indent must be a string");
      indent = v.AsString();
      have_indent = true;
    } else {
      ThrowTypeError("json.marshal_with_options", fmt::format("object contained unknown key {}",
                                                              Value::String(key).ToJsonString()));
    }
  }
  if (!pretty_set) pretty = have_prefix || have_indent;
  if (!pretty) return Value::String(a[0].ToJsonString());
  std::string out = prefix;
  AppendIndented(out, a[0], prefix, indent, 0);
  return Value::String(std::move(out));
}

Result JsonUnmarshal(BuiltinContext&, Args a) {
  const std::string& s = ArgString("json.unmarshal", a, 0);
  auto v = ParseJsonValue(s);
  if (!v.ok()) ThrowBuiltinError("json.unmarshal", core::Message(v.status()));
  return *std::move(v);
}

Result JsonIsValid(BuiltinContext&, Args a) {
  if (!a[0].IsString()) return Value::Bool(false);
  return Value::Bool(ParseJsonValue(a[0].AsString()).ok());
}

// A tree of JSON paths ("a/b/c" or ["a", "b", "c"]) for json.filter and json.remove.
struct PathTree {
  bool leaf = false;
  std::map<std::string, PathTree> kids;
};

PathTree BuildPathTree(std::string_view fn, const Value& paths) {
  if (!paths.IsArray() && !paths.IsSet()) ThrowOperandError(fn, 2, "one of {set, array}", paths);
  PathTree root;
  for (const auto& p : paths.AsArray()) {
    std::vector<std::string> segs;
    if (p.IsString()) {
      std::string s = p.AsString();
      if (!s.empty() && s[0] == '/') s = s.substr(1);
      size_t start = 0;
      while (true) {
        size_t pos = s.find('/', start);
        segs.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos) break;
        start = pos + 1;
      }
    } else if (p.IsArray()) {
      for (const auto& seg : p.AsArray()) {
        if (seg.IsString()) {
          segs.push_back(seg.AsString());
        } else if (seg.IsNumber()) {
          segs.push_back(seg.AsNumber().ToString());
        } else {
          ThrowTypeError(fn,
                         fmt::format("operand 2 must be one of {{set, array}} containing string "
                                     "paths or array of path segments but got {}",
                                     seg.TypeName()));
        }
      }
    } else {
      ThrowTypeError(fn,
                     fmt::format("operand 2 must be one of {{set, array}} containing string paths "
                                 "or array of path segments but got {}",
                                 p.TypeName()));
    }
    PathTree* node = &root;
    for (const auto& s : segs) {
      if (node->leaf) break;
      node = &node->kids[s];
    }
    node->leaf = true;
    node->kids.clear();
  }
  return root;
}

std::string KeyText(const Value& k) { return k.IsString() ? k.AsString() : k.ToJsonString(); }

std::optional<Value> FilterValue(const Value& v, const PathTree& t) {
  if (t.leaf) return v;
  if (v.IsObject()) {
    ObjectEntries out;
    for (const auto& [k, e] : v.AsObject()) {
      auto it = t.kids.find(KeyText(k));
      if (it == t.kids.end()) continue;
      if (auto f = FilterValue(e, it->second)) out.emplace_back(k, std::move(*f));
    }
    return Value::Object(std::move(out));
  }
  if (v.IsArray()) {
    ValueVector out;
    const auto& elems = v.AsArray();
    for (size_t i = 0; i < elems.size(); ++i) {
      auto it = t.kids.find(std::to_string(i));
      if (it == t.kids.end()) continue;
      if (auto f = FilterValue(elems[i], it->second)) out.push_back(std::move(*f));
    }
    return Value::Array(std::move(out));
  }
  if (v.IsSet()) {
    ValueVector out;
    for (const auto& e : v.AsSet()) {
      auto it = t.kids.find(KeyText(e));
      if (it == t.kids.end()) continue;
      if (auto f = FilterValue(e, it->second)) out.push_back(std::move(*f));
    }
    return Value::Set(std::move(out));
  }
  return std::nullopt;
}

Value RemoveValue(const Value& v, const PathTree& t) {
  if (v.IsObject()) {
    ObjectEntries out;
    for (const auto& [k, e] : v.AsObject()) {
      auto it = t.kids.find(KeyText(k));
      if (it == t.kids.end()) {
        out.emplace_back(k, e);
      } else if (!it->second.leaf) {
        out.emplace_back(k, RemoveValue(e, it->second));
      }
    }
    return Value::Object(std::move(out));
  }
  if (v.IsArray()) {
    ValueVector out;
    const auto& elems = v.AsArray();
    for (size_t i = 0; i < elems.size(); ++i) {
      auto it = t.kids.find(std::to_string(i));
      if (it == t.kids.end()) {
        out.push_back(elems[i]);
      } else if (!it->second.leaf) {
        out.push_back(RemoveValue(elems[i], it->second));
      }
    }
    return Value::Array(std::move(out));
  }
  if (v.IsSet()) {
    ValueVector out;
    for (const auto& e : v.AsSet()) {
      auto it = t.kids.find(KeyText(e));
      if (it == t.kids.end()) {
        out.push_back(e);
      } else if (!it->second.leaf) {
        out.push_back(RemoveValue(e, it->second));
      }
    }
    return Value::Set(std::move(out));
  }
  return v;
}

Result JsonFilter(BuiltinContext&, Args a) {
  const Value& obj = ArgObject("json.filter", a, 0);
  PathTree t = BuildPathTree("json.filter", a[1]);
  if (t.leaf) return obj;
  return FilterValue(obj, t);
}

Result JsonRemove(BuiltinContext&, Args a) {
  const Value& obj = ArgObject("json.remove", a, 0);
  PathTree t = BuildPathTree("json.remove", a[1]);
  if (t.leaf) return Value::EmptyObject();
  return RemoveValue(obj, t);
}

// ---- base64 / hex ----
Result Base64Encode(BuiltinContext&, Args a) {
  return Value::String(core::Base64Encode(ArgString("base64.encode", a, 0)));
}

Result Base64Decode(BuiltinContext&, Args a) {
  auto r = core::Base64Decode(ArgString("base64.decode", a, 0), core::Base64Alphabet::kStandard,
                              core::Base64Padding::kRequired);
  if (!r.ok()) ThrowBuiltinError("base64.decode", core::Message(r.status()));
  return Value::String(std::move(*r));
}

Result Base64IsValid(BuiltinContext&, Args a) {
  return Value::Bool(core::Base64Decode(ArgString("base64.is_valid", a, 0),
                                        core::Base64Alphabet::kStandard,
                                        core::Base64Padding::kRequired)
                         .ok());
}

Result Base64UrlEncode(BuiltinContext&, Args a) {
  return Value::String(
      core::Base64Encode(ArgString("base64url.encode", a, 0), core::Base64Alphabet::kUrl, true));
}

Result Base64UrlEncodeNoPad(BuiltinContext&, Args a) {
  return Value::String(core::Base64Encode(ArgString("base64url.encode_no_pad", a, 0),
                                          core::Base64Alphabet::kUrl, false));
}

Result Base64UrlDecode(BuiltinContext&, Args a) {
  auto r = core::Base64Decode(ArgString("base64url.decode", a, 0), core::Base64Alphabet::kUrl,
                              core::Base64Padding::kOptional);
  if (!r.ok()) ThrowBuiltinError("base64url.decode", core::Message(r.status()));
  return Value::String(std::move(*r));
}

Result HexEncode(BuiltinContext&, Args a) {
  return Value::String(core::HexEncode(ArgString("hex.encode", a, 0)));
}

Result HexDecode(BuiltinContext&, Args a) {
  auto r = core::HexDecode(ArgString("hex.decode", a, 0));
  if (!r.ok()) ThrowBuiltinError("hex.decode", core::Message(r.status()));
  return Value::String(std::move(*r));
}

// ---- units ----
// Splits "6.4E1GB" into the number "6.4E1" and the unit "GB".
std::pair<std::string, std::string> SplitAmount(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  size_t num_end = i;
  bool has_digit = false;
  for (size_t j = 0; j < num_end; ++j)
    has_digit |= std::isdigit(static_cast<unsigned char>(s[j])) != 0;
  if (!has_digit) return {"", s};
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      num_end = j;
    }
  }
  return {s.substr(0, num_end), s.substr(num_end)};
}

// Parses decimal text exactly: integers stay exact, fractions divide at the end.
std::optional<Number> ParseDecimal(const std::string& text, const Number& factor,
                                   const Number& divisor) {
  std::string mant;
  int64_t exp10 = 0;
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  int dots = 0;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      if (++dots > 1) return std::nullopt;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    mant.push_back(text[i]);
    if (dots) --exp10;
  }
  if (mant.empty()) return std::nullopt;
  if (i < text.size()) {
    auto e = Number::ParseInteger(text.substr(i + 1));
    if (!e || !e->AsInt64() || std::abs(*e->AsInt64()) > 400) return std::nullopt;
    exp10 += *e->AsInt64();
  }
  auto m = Number::ParseInteger(mant);
  if (!m) return std::nullopt;
  Number v = *m * factor;
  Number div = divisor;
  if (exp10 >= 0) {
    v = v * Number::Pow(10, static_cast<int>(exp10));
  } else {
    div = div * Number::Pow(10, static_cast<int>(-exp10));
  }
  v = v / div;
  return neg ? v.Negate() : v;
}

std::string Unquote(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c != '"') out.push_back(c);
  }
  return out;
}

Result UnitsParse(BuiltinContext&, Args a) {
  std::string s = Unquote(ArgString("units.parse", a, 0));
  if (s.find(' ') != std::string::npos) {
    ThrowBuiltinError("units.parse", "spaces not allowed in resource strings");
  }
  auto [num, unit] = SplitAmount(s);
  if (num.empty()) ThrowBuiltinError("units.parse", "no amount provided");
  if (unit.size() > 1) {
    for (size_t i = 1; i < unit.size(); ++i) {
      unit[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(unit[i])));
    }
  }
  static const std::map<std::string, std::pair<int64_t, int>> kDecimal = {
      {"", {10, 0}},   {"k", {10, 3}},  {"K", {10, 3}},  {"M", {10, 6}},  {"g", {10, 9}},
      {"G", {10, 9}},  {"t", {10, 12}}, {"T", {10, 12}}, {"p", {10, 15}}, {"P", {10, 15}},
      {"e", {10, 18}}, {"E", {10, 18}}, {"ki", {2, 10}}, {"Ki", {2, 10}}, {"mi", {2, 20}},
      {"Mi", {2, 20}}, {"gi", {2, 30}}, {"Gi", {2, 30}}, {"ti", {2, 40}}, {"Ti", {2, 40}},
      {"pi", {2, 50}}, {"Pi", {2, 50}}, {"ei", {2, 60}}, {"Ei", {2, 60}}};
  Number factor = Number::Int(1);
  Number divisor = Number::Int(1);
  if (unit == "m") {
    divisor = Number::Int(1000);
  } else {
    auto it = kDecimal.find(unit);
    if (it == kDecimal.end())
      ThrowBuiltinError("units.parse", fmt::format("unknown unit {}", unit));
    factor = Number::Pow(it->second.first, it->second.second);
  }
  auto v = ParseDecimal(num, factor, divisor);
  if (!v) ThrowBuiltinError("units.parse", "could not parse amount to a number");
  return Value::Num(*v);
}

Result UnitsParseBytes(BuiltinContext&, Args a) {
  std::string s = Unquote(ArgString("units.parse_bytes", a, 0));
  if (s.find(' ') != std::string::npos) {
    ThrowBuiltinError("units.parse_bytes", "spaces not allowed in resource strings");
  }
  auto [num, unit] = SplitAmount(s);
  if (num.empty()) ThrowBuiltinError("units.parse_bytes", "no byte amount provided");
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::pair<int64_t, int>> kUnits = {
      {"", {10, 0}},    {"b", {10, 0}},   {"k", {10, 3}},   {"kb", {10, 3}},  {"ki", {2, 10}},
      {"kib", {2, 10}}, {"m", {10, 6}},   {"mb", {10, 6}},  {"mi", {2, 20}},  {"mib", {2, 20}},
      {"g", {10, 9}},   {"gb", {10, 9}},  {"gi", {2, 30}},  {"gib", {2, 30}}, {"t", {10, 12}},
      {"tb", {10, 12}}, {"ti", {2, 40}},  {"tib", {2, 40}}, {"p", {10, 15}},  {"pb", {10, 15}},
      {"pi", {2, 50}},  {"pib", {2, 50}}, {"e", {10, 18}},  {"eb", {10, 18}}, {"ei", {2, 60}},
      {"eib", {2, 60}}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) {
    ThrowBuiltinError("units.parse_bytes", fmt::format("unknown unit {}", unit));
  }
  auto v = ParseDecimal(num, Number::Pow(it->second.first, it->second.second), Number::Int(1));
  if (!v) ThrowBuiltinError("units.parse_bytes", "could not parse byte amount to a number");
  return Value::Num(v->IsNegative() ? v->Ceil() : v->Floor());
}

}  // namespace

void RegisterEncodingBuiltins(BuiltinRegistry& r) {
  r.Add("json.marshal", 1, JsonMarshal);
  r.Add("json.marshal_with_options", 2, JsonMarshalWithOptions);
  r.Add("json.unmarshal", 1, JsonUnmarshal);
  r.Add("json.is_valid", 1, JsonIsValid);
  r.Add("json.filter", 2, JsonFilter);
  r.Add("json.remove", 2, JsonRemove);
  r.Add("base64.encode", 1, Base64Encode);
  r.Add("base64.decode", 1, Base64Decode);
  r.Add("base64.is_valid", 1, Base64IsValid);
  r.Add("base64url.encode", 1, Base64UrlEncode);
  r.Add("base64url.encode_no_pad", 1, Base64UrlEncodeNoPad);
  r.Add("base64url.decode", 1, Base64UrlDecode);
  r.Add("hex.encode", 1, HexEncode);
  r.Add("hex.decode", 1, HexDecode);
  r.Add("units.parse", 1, UnitsParse);
  r.Add("units.parse_bytes", 1, UnitsParseBytes);
}

}  // namespace ccburst::policy
