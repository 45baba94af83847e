#include "core/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

namespace ccburst::core {
namespace {

void JcsString(std::string_view s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// ECMAScript Number::toString for finite doubles (RFC 8785 section 3.2.2.3).
void JcsNumber(double d, std::string& out) {
  if (d == 0) {
    out += '0';
    return;
  }
  if (!std::isfinite(d)) {
    out += "null";  // not representable in JSON; Boost never produces it from parsing
    return;
  }
  if (d < 0) {
    out += '-';
    d = -d;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);  // d[.ddd]e[+-]xx, shortest round-trip digits
  size_t epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos)) {
    if (c != '.') digits += c;
  }
  int exp10 = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+'), sci.data() + sci.size(), exp10);
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // position of the decimal point relative to the digits
  if (k <= n && n <= 21) {
    out += digits;
    out.append(n - k, '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, n);
    out += '.';
    out += digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(-n, '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
}

// Compares two UTF-8 strings by their UTF-16 code units, as RFC 8785 requires for member order.
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    uint32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0f;
      len = 3;
    } else {
      cp = c & 0x07;
      len = 4;
    }
    for (int j = 1; j < len && i + j < s.size(); ++j) cp = (cp << 6) | (s[i + j] & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xd800 + (cp >> 10));
      out += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

bool Utf16Less(std::string_view a, std::string_view b) {
  bool ascii = true;
  for (unsigned char c : a) ascii &= c < 0x80;
  for (unsigned char c : b) ascii &= c < 0x80;
  if (ascii) return a < b;
  return ToUtf16(a) < ToUtf16(b);
}

void JcsValue(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: out += std::to_string(v.get_int64()); break;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case json::kind::double_: JcsNumber(v.get_double(), out); break;
    case json::kind::string: JcsString(v.get_string(), out); break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        JcsValue(e, out);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      const auto& o = v.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(o.size());
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(), [](auto* a, auto* b) {
        return Utf16Less(a->key(), b->key());
      });
      out += '{';
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ',';
        first = false;
        JcsString(kv->key(), out);
        out += ':';
        JcsValue(kv->value(), out);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

absl::StatusOr<json::value> ParseJson(std::string_view text, JsonLimits limits) {
  json::parse_options opts;
  opts.max_depth = limits.max_depth;
  json::stream_parser p({}, opts);
  boost::system::error_code ec;
  size_t n = p.write_some(text.data(), text.size(), ec);
  if (!ec && n < text.size()) {
    // write_some stops after one complete value; only whitespace may follow.
    for (size_t i = n; i < text.size(); ++i) {
      char c = text[i];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return absl::InvalidArgumentError(
            fmt::format("json: unexpected data after the document at offset {}", i));
      }
    }
  }
  if (!ec) p.finish(ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("json: {} at offset {}", ec.message(), std::min(n, text.size())));
  }
  return p.release();
}

std::string Jcs(const json::value& value) {
  std::string out;
  JcsValue(value, out);
  return out;
}

absl::StatusOr<const json::object*> AsObject(const json::value& v, std::string_view what) {
  if (!v.is_object()) return absl::InvalidArgumentError(fmt::format("{}: not a JSON object", what));
  return &v.get_object();
}

absl::StatusOr<const json::value*> GetMember(const json::object& o, std::string_view key,
                                             std::string_view what) {
  auto it = o.find(key);
  if (it == o.end()) {
    return absl::InvalidArgumentError(fmt::format("{}: missing field `{}`", what, key));
  }
  return &it->value();
}

absl::StatusOr<std::string_view> GetString(const json::object& o, std::string_view key,
                                           std::string_view what) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, GetMember(o, key, what));
  if (!v->is_string()) {
    return absl::InvalidArgumentError(fmt::format("{}: field `{}` is not a string", what, key));
  }
  return std::string_view(v->get_string());
}

absl::StatusOr<const json::object*> GetObject(const json::object& o, std::string_view key,
                                              std::string_view what) {
  CCB_ASSIGN_OR_RETURN(const json::value* v, GetMember(o, key, what));
  if (!v->is_object()) {
    return absl::InvalidArgumentError(fmt::format("{}: field `{}` is not an object", what, key));
  }
  return &v->get_object();
}

namespace {
std::vector<std::string_view> SplitPath(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (end > start) parts.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}
}  // namespace

const json::value* FindPath(const json::value& root, std::string_view slash_path) {
  const json::value* cur = &root;
  for (std::string_view part : SplitPath(slash_path)) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->get_object().find(part);
    if (it == cur->get_object().end()) return nullptr;
    cur = &it->value();
  }
  return cur;
}

}  // namespace ccburst::core
