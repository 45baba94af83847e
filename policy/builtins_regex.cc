// Regular expression builtins on RE2, whose syntax is Go's regexp syntax (OPA uses Go's
// regexp). Match iteration and `$1` replacement templates follow Go's semantics.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "policy/builtins.h"

namespace ccburst::policy {

namespace {

using Args = BuiltinArgs;
using Result = std::optional<Value>;

constexpr size_t kMaxCachedPatterns = 1024;

// Compiled patterns shared by all evaluations; bounded.
std::shared_ptr<const re2::RE2> Compile(std::string_view fn, const std::string& pattern) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(pattern);
    if (it != cache.end()) return it->second;
  }
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  if (!re->ok()) {
    ThrowBuiltinError(fn, fmt::format("error parsing regexp: {}: `{}`", re->error(), pattern));
  }
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= kMaxCachedPatterns) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

size_t RuneLen(const std::string& s, size_t pos) {
  if (pos >= s.size()) return 1;
  unsigned char c = static_cast<unsigned char>(s[pos]);
  size_t len = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 1;
  return std::min(len, s.size() - pos);
}

// Go's FindAll*: up to `n` (n < 0: all) non-overlapping matches; each match is the list of
// group spans (start, end), with (-1, -1) for groups that did not participate.
using Spans = std::vector<std::pair<int64_t, int64_t>>;

std::vector<Spans> FindAll(const re2::RE2& re, const std::string& s, int64_t n) {
  std::vector<Spans> out;
  if (n == 0) return out;
  int groups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(static_cast<size_t>(groups));
  re2::StringPiece text(s);
  size_t pos = 0;
  int64_t prev_end = -1;
  while (pos <= s.size()) {
    if (n >= 0 && static_cast<int64_t>(out.size()) >= n) break;
    if (!re.Match(text, pos, s.size(), re2::RE2::UNANCHORED, sub.data(), groups)) break;
    int64_t start = sub[0].data() - s.data();
    int64_t end = start + static_cast<int64_t>(sub[0].size());
    bool accept = !(end == start && start == prev_end);
    if (accept) {
      Spans spans;
      for (int g = 0; g < groups; ++g) {
        if (sub[static_cast<size_t>(g)].data() == nullptr) {
          spans.emplace_back(-1, -1);
        } else {
          int64_t gs = sub[static_cast<size_t>(g)].data() - s.data();
          spans.emplace_back(gs, gs + static_cast<int64_t>(sub[static_cast<size_t>(g)].size()));
        }
      }
      out.push_back(std::move(spans));
      prev_end = end;
    }
    if (end > start) {
      pos = static_cast<size_t>(end);
    } else {
      pos = static_cast<size_t>(end) + RuneLen(s, static_cast<size_t>(end));
    }
  }
  return out;
}

std::string Sub(const std::string& s, const std::pair<int64_t, int64_t>& span) {
  if (span.first < 0) return "";
  return s.substr(static_cast<size_t>(span.first), static_cast<size_t>(span.second - span.first));
}

Result Match(BuiltinContext&, Args a) {
  const std::string& pattern = ArgString("regex.match", a, 0);
  const std::string& value = ArgString("regex.match", a, 1);
  auto re = Compile("regex.match", pattern);
  return Value::Bool(re2::RE2::PartialMatch(value, *re));
}

Result IsValid(BuiltinContext&, Args a) {
  if (!a[0].IsString()) return Value::Bool(false);
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  re2::RE2 re(a[0].AsString(), opts);
  return Value::Bool(re.ok());
}

Result FindN(BuiltinContext&, Args a) {
  const std::string& pattern = ArgString("regex.find_n", a, 0);
  const std::string& value = ArgString("regex.find_n", a, 1);
  int64_t n = ArgInt("regex.find_n", a, 2);
  auto re = Compile("regex.find_n", pattern);
  ValueVector out;
  for (const auto& m : FindAll(*re, value, n)) out.push_back(Value::String(Sub(value, m[0])));
  return Value::Array(std::move(out));
}

Result FindAllSubmatchN(BuiltinContext&, Args a) {
  const char* fn = "regex.find_all_string_submatch_n";
  const std::string& pattern = ArgString(fn, a, 0);
  const std::string& value = ArgString(fn, a, 1);
  int64_t n = ArgInt(fn, a, 2);
  auto re = Compile(fn, pattern);
  ValueVector out;
  for (const auto& m : FindAll(*re, value, n)) {
    ValueVector groups;
    for (const auto& span : m) groups.push_back(Value::String(Sub(value, span)));
    out.push_back(Value::Array(std::move(groups)));
  }
  return Value::Array(std::move(out));
}

// Go's Regexp.Expand for `$1`, `${1}`, `$name`, `${name}` and `$$`.
void Expand(std::string& out, const std::string& tmpl, const re2::RE2& re, const std::string& s,
            const Spans& m) {
  const auto& names = re.NamedCapturingGroups();
  auto group_value = [&](const std::string& name) -> std::string {
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (numeric) {
      if (name.size() > 4) return "";
      size_t idx = static_cast<size_t>(std::stoi(name));
      return idx < m.size() ? Sub(s, m[idx]) : "";
    }
    auto it = names.find(name);
    if (it == names.end() || static_cast<size_t>(it->second) >= m.size()) return "";
    return Sub(s, m[static_cast<size_t>(it->second)]);
  };
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    auto is_name = [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    };
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string::npos) {
        out.push_back(c);
        ++i;
        continue;
      }
      std::string name = tmpl.substr(i + 2, close - i - 2);
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name)) {
        out.push_back(c);
        ++i;
        continue;
      }
      out += group_value(name);
      i = close + 1;
      continue;
    }
    size_t j = i + 1;
    while (j < tmpl.size() && is_name(tmpl[j])) ++j;
    if (j == i + 1) {
      out.push_back(c);
      ++i;
      continue;
    }
    out += group_value(tmpl.substr(i + 1, j - i - 1));
    i = j;
  }
}

Result Replace(BuiltinContext& ctx, Args a) {
  const std::string& s = ArgString("regex.replace", a, 0);
  const std::string& pattern = ArgString("regex.replace", a, 1);
  const std::string& repl = ArgString("regex.replace", a, 2);
  auto re = Compile("regex.replace", pattern);
  std::string out;
  size_t last = 0;
  for (const auto& m : FindAll(*re, s, -1)) {
    ctx.Charge(out.size() / 64);
    out.append(s, last, static_cast<size_t>(m[0].first) - last);
    Expand(out, repl, *re, s, m);
    last = static_cast<size_t>(m[0].second);
  }
  out.append(s, last, std::string::npos);
  return Value::String(std::move(out));
}

Result Split(BuiltinContext&, Args a) {
  const std::string& pattern = ArgString("regex.split", a, 0);
  const std::string& s = ArgString("regex.split", a, 1);
  auto re = Compile("regex.split", pattern);
  if (s.empty()) return Value::Array({Value::String("")});
  ValueVector out;
  size_t beg = 0, end = 0;
  for (const auto& m : FindAll(*re, s, -1)) {
    end = static_cast<size_t>(m[0].first);
    if (m[0].second != 0) out.push_back(Value::String(s.substr(beg, end - beg)));
    beg = static_cast<size_t>(m[0].second);
  }
  if (end != s.size()) out.push_back(Value::String(s.substr(beg)));
  return Value::Array(std::move(out));
}

Result TemplateMatch(BuiltinContext&, Args a) {
  const char* fn = "regex.template_match";
  const std::string& tmpl = ArgString(fn, a, 0);
  const std::string& value = ArgString(fn, a, 1);
  const std::string& open = ArgString(fn, a, 2);
  const std::string& close = ArgString(fn, a, 3);
  if (open.empty() || close.empty()) ThrowBuiltinError(fn, "delimiters must not be empty");
  std::string pattern = "^";
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t o = tmpl.find(open, i);
    if (o == std::string::npos) {
      pattern += re2::RE2::QuoteMeta(tmpl.substr(i));
      break;
    }
    pattern += re2::RE2::QuoteMeta(tmpl.substr(i, o - i));
    // Find the matching close delimiter, allowing nested delimiters inside the pattern.
    int depth = 1;
    size_t j = o + open.size();
    size_t inner_start = j;
    while (j < tmpl.size() && depth > 0) {
      if (tmpl.compare(j, close.size(), close) == 0) {
        if (--depth == 0) break;
        j += close.size();
      } else if (tmpl.compare(j, open.size(), open) == 0) {
        ++depth;
        j += open.size();
      } else {
        ++j;
      }
    }
    if (depth != 0) ThrowBuiltinError(fn, fmt::format("unbalanced braces in template `{}`", tmpl));
    pattern += "(" + tmpl.substr(inner_start, j - inner_start) + ")";
    i = j + close.size();
  }
  pattern += "$";
  auto re = Compile(fn, pattern);
  return Value::Bool(re2::RE2::PartialMatch(value, *re));
}

}  // namespace

void RegisterRegexBuiltins(BuiltinRegistry& r) {
  r.Add("regex.match", 2, Match);
  r.Add("re_match", 2, Match);
  r.Add("regex.is_valid", 1, IsValid);
  r.Add("regex.find_n", 3, FindN);
  r.Add("regex.find_all_string_submatch_n", 3, FindAllSubmatchN);
  r.Add("regex.replace", 3, Replace);
  r.Add("regex.split", 2, Split);
  r.Add("regex.template_match", 4, TemplateMatch);
}

}  // namespace ccburst::policy
