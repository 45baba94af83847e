// Rego value representation, total order and conversions.
#include "policy/value.h"

#include <fmt/format.h>

#include <algorithm>

namespace ccburst::policy {

namespace {

struct ArrayRep {
  ValueVector elems;
};
struct ObjectRep {
  ObjectEntries entries;
};
struct SetRep {
  ValueVector elems;
};

const std::string kEmptyString;
const ValueVector kEmptyVector;
const ObjectEntries kEmptyEntries;

int KindRank(Value::Kind k) { return static_cast<int>(k); }

void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
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
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else if (c == '<' || c == '>' || c == '&') {
          // Go's encoding/json escapes these for HTML safety.
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void AppendTermQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
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
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void AppendJson(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.AsBool() ? "true" : "false";
      return;
    case Value::Kind::kNumber:
      out += v.AsNumber().ToString();
      return;
    case Value::Kind::kString:
      AppendQuoted(out, v.AsString());
      return;
    case Value::Kind::kArray:
    case Value::Kind::kSet: {
      out.push_back('[');
      bool first = true;
      for (const Value& e : v.AsArray()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(out, e);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::kObject: {
      // Keys are written as strings; non-string keys use their JSON text. Sort by the
      // written key so the output is canonical.
      std::vector<std::pair<std::string, const Value*>> members;
      for (const auto& [k, val] : v.AsObject()) {
        members.emplace_back(k.IsString() ? k.AsString() : k.ToJsonString(), &val);
      }
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : members) {
        if (!first) out.push_back(',');
        first = false;
        AppendQuoted(out, k);
        out.push_back(':');
        AppendJson(out, *val);
      }
      out.push_back('}');
      return;
    }
  }
}

void AppendTerm(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      AppendTermQuoted(out, v.AsString());
      return;
    case Value::Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Value& e : v.AsArray()) {
        if (!first) out += ", ";
        first = false;
        AppendTerm(out, e);
      }
      out.push_back(']');
      return;
    }
    case Value::Kind::kSet: {
      if (v.AsSet().empty()) {
        out += "set()";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const Value& e : v.AsSet()) {
        if (!first) out += ", ";
        first = false;
        AppendTerm(out, e);
      }
      out.push_back('}');
      return;
    }
    case Value::Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : v.AsObject()) {
        if (!first) out += ", ";
        first = false;
        AppendTerm(out, k);
        out += ": ";
        AppendTerm(out, val);
      }
      out.push_back('}');
      return;
    }
    default:
      AppendJson(out, v);
  }
}

}  // namespace

std::string_view TypeName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "boolean";
    case Value::Kind::kNumber:
      return "number";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kObject:
      return "object";
    case Value::Kind::kSet:
      return "set";
  }
  return "unknown";
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::Num(Number n) {
  Value v;
  v.kind_ = Kind::kNumber;
  v.num_ = std::move(n);
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.p_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::Array(ValueVector elems) {
  Value v;
  v.kind_ = Kind::kArray;
  v.p_ = std::make_shared<const ArrayRep>(ArrayRep{std::move(elems)});
  return v;
}

Value Value::Object(ObjectEntries entries) {
  bool sorted = true;
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i - 1].first.Compare(entries[i].first) >= 0) {
      sorted = false;
      break;
    }
  }
  if (!sorted) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // Keep the last of equal keys.
    ObjectEntries dedup;
    dedup.reserve(entries.size());
    for (auto& e : entries) {
      if (!dedup.empty() && dedup.back().first == e.first) {
        dedup.back().second = std::move(e.second);
      } else {
        dedup.push_back(std::move(e));
      }
    }
    entries = std::move(dedup);
  }
  Value v;
  v.kind_ = Kind::kObject;
  v.p_ = std::make_shared<const ObjectRep>(ObjectRep{std::move(entries)});
  return v;
}

Value Value::Set(ValueVector elems) {
  bool sorted = true;
  for (size_t i = 1; i < elems.size(); ++i) {
    if (elems[i - 1].Compare(elems[i]) >= 0) {
      sorted = false;
      break;
    }
  }
  if (!sorted) {
    std::sort(elems.begin(), elems.end());
    elems.erase(std::unique(elems.begin(), elems.end()), elems.end());
  }
  Value v;
  v.kind_ = Kind::kSet;
  v.p_ = std::make_shared<const SetRep>(SetRep{std::move(elems)});
  return v;
}

Value Value::EmptyObject() { return Object({}); }
Value Value::EmptySet() { return Set({}); }
Value Value::EmptyArray() { return Array({}); }

const std::string& Value::AsString() const {
  if (kind_ != Kind::kString) return kEmptyString;
  return *static_cast<const std::string*>(p_.get());
}

const ValueVector& Value::AsArray() const {
  if (kind_ == Kind::kArray) return static_cast<const ArrayRep*>(p_.get())->elems;
  if (kind_ == Kind::kSet) return static_cast<const SetRep*>(p_.get())->elems;
  return kEmptyVector;
}

const ObjectEntries& Value::AsObject() const {
  if (kind_ != Kind::kObject) return kEmptyEntries;
  return static_cast<const ObjectRep*>(p_.get())->entries;
}

const ValueVector& Value::AsSet() const {
  if (kind_ != Kind::kSet) return kEmptyVector;
  return static_cast<const SetRep*>(p_.get())->elems;
}

std::optional<size_t> FindEntry(const ObjectEntries& entries, const Value& key) {
  auto it = std::lower_bound(entries.begin(), entries.end(), key,
                             [](const auto& e, const Value& k) { return e.first < k; });
  if (it != entries.end() && it->first == key) return it - entries.begin();
  return std::nullopt;
}

const Value* Value::Find(const Value& key) const {
  if (kind_ != Kind::kObject) return nullptr;
  const ObjectEntries& entries = AsObject();
  auto idx = FindEntry(entries, key);
  return idx ? &entries[*idx].second : nullptr;
}

const Value* Value::FindKey(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  const ObjectEntries& entries = AsObject();
  // Strings sort after null, booleans and numbers and before composites.
  auto it =
      std::lower_bound(entries.begin(), entries.end(), key, [](const auto& e, std::string_view k) {
        if (e.first.kind() != Kind::kString) return e.first.kind() < Kind::kString;
        return std::string_view(e.first.AsString()) < k;
      });
  if (it != entries.end() && it->first.IsString() && it->first.AsString() == key)
    return &it->second;
  return nullptr;
}

bool Value::SetContains(const Value& v) const {
  if (kind_ != Kind::kSet) return false;
  const ValueVector& elems = AsSet();
  return std::binary_search(elems.begin(), elems.end(), v);
}

size_t Value::Size() const {
  switch (kind_) {
    case Kind::kString:
      return CountRunes(AsString());
    case Kind::kArray:
    case Kind::kSet:
      return AsArray().size();
    case Kind::kObject:
      return AsObject().size();
    default:
      return 0;
  }
}

int Value::Compare(const Value& o) const {
  if (kind_ != o.kind_) return KindRank(kind_) < KindRank(o.kind_) ? -1 : 1;
  switch (kind_) {
    case Kind::kNull:
      return 0;
    case Kind::kBool:
      return b_ == o.b_ ? 0 : (b_ ? 1 : -1);
    case Kind::kNumber:
      return num_.Compare(o.num_);
    case Kind::kString: {
      if (p_ == o.p_) return 0;
      int c = AsString().compare(o.AsString());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Kind::kArray:
    case Kind::kSet: {
      if (p_ == o.p_) return 0;
      const ValueVector& a = AsArray();
      const ValueVector& b = o.AsArray();
      size_t n = std::min(a.size(), b.size());
      for (size_t i = 0; i < n; ++i) {
        int c = a[i].Compare(b[i]);
        if (c != 0) return c;
      }
      return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
    }
    case Kind::kObject: {
      if (p_ == o.p_) return 0;
      const ObjectEntries& a = AsObject();
      const ObjectEntries& b = o.AsObject();
      size_t n = std::min(a.size(), b.size());
      for (size_t i = 0; i < n; ++i) {
        int c = a[i].first.Compare(b[i].first);
        if (c != 0) return c;
        c = a[i].second.Compare(b[i].second);
        if (c != 0) return c;
      }
      return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
    }
  }
  return 0;
}

std::string Value::ToTermString() const {
  std::string out;
  AppendTerm(out, *this);
  return out;
}

std::string Value::ToJsonString() const {
  std::string out;
  AppendJson(out, *this);
  return out;
}

std::string_view Value::TypeName() const { return policy::TypeName(kind_); }

core::json::value Value::ToJson() const {
  namespace json = core::json;
  switch (kind_) {
    case Kind::kNull:
      return nullptr;
    case Kind::kBool:
      return b_;
    case Kind::kNumber: {
      if (auto i = num_.AsInt64()) return *i;
      if (num_.kind() == Number::Kind::kBig && !num_.IsNegative()) {
        // Values up to 2^64-1 stay exact as unsigned.
        std::string text = num_.ToString();
        json::error_code ec;
        json::value parsed = json::parse(text, ec);
        if (!ec && parsed.is_uint64()) return parsed;
      }
      return num_.AsDouble();
    }
    case Kind::kString:
      return json::string(AsString());
    case Kind::kArray:
    case Kind::kSet: {
      json::array arr;
      arr.reserve(AsArray().size());
      for (const Value& e : AsArray()) arr.push_back(e.ToJson());
      return arr;
    }
    case Kind::kObject: {
      json::object obj(AsObject().size());
      for (const auto& [k, v] : AsObject()) {
        if (k.IsString()) {
          obj[k.AsString()] = v.ToJson();
        } else {
          obj[k.ToJsonString()] = v.ToJson();
        }
      }
      return obj;
    }
  }
  return nullptr;
}

Value Value::FromJson(const core::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return Null();
    case boost::json::kind::bool_:
      return Bool(v.get_bool());
    case boost::json::kind::int64:
      return Int(v.get_int64());
    case boost::json::kind::uint64: {
      uint64_t u = v.get_uint64();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Int(static_cast<int64_t>(u));
      return Num(*Number::ParseInteger(std::to_string(u)));
    }
    case boost::json::kind::double_:
      return Num(Number::Float(v.get_double()));
    case boost::json::kind::string:
      return String(std::string(v.get_string()));
    case boost::json::kind::array: {
      ValueVector elems;
      elems.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) elems.push_back(FromJson(e));
      return Array(std::move(elems));
    }
    case boost::json::kind::object: {
      ObjectEntries entries;
      entries.reserve(v.get_object().size());
      for (const auto& [k, e] : v.get_object()) {
        entries.emplace_back(String(std::string(k)), FromJson(e));
      }
      return Object(std::move(entries));
    }
  }
  return Null();
}

// ---- JSON text parser keeping exact integers ----

namespace {

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  absl::StatusOr<Value> Parse() {
    auto v = ParseValue(0);
    SkipWs();
    if (v && pos_ != s_.size()) {
      Fail("unexpected trailing characters");
      v.reset();
    }
    if (!v) return absl::InvalidArgumentError(fmt::format("{} at offset {}", error_, pos_));
    return std::move(*v);
  }

 private:
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
  }

  std::optional<Value> ParseValue(int depth) {
    if (depth > 512) {
      Fail("nesting too deep");
      return std::nullopt;
    }
    SkipWs();
    if (pos_ >= s_.size()) {
      Fail("unexpected end of input");
      return std::nullopt;
    }
    char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      ObjectEntries entries;
      SkipWs();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Value::Object({});
      }
      while (true) {
        SkipWs();
        auto key = ParseString();
        if (!key) return std::nullopt;
        SkipWs();
        if (pos_ >= s_.size() || s_[pos_] != ':') {
          Fail("expected ':'");
          return std::nullopt;
        }
        ++pos_;
        auto val = ParseValue(depth + 1);
        if (!val) return std::nullopt;
        entries.emplace_back(Value::String(std::move(*key)), std::move(*val));
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return Value::Object(std::move(entries));
        }
        Fail("expected ',' or '}'");
        return std::nullopt;
      }
    }
    if (c == '[') {
      ++pos_;
      ValueVector elems;
      SkipWs();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Value::Array({});
      }
      while (true) {
        auto val = ParseValue(depth + 1);
        if (!val) return std::nullopt;
        elems.push_back(std::move(*val));
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return Value::Array(std::move(elems));
        }
        Fail("expected ',' or ']'");
        return std::nullopt;
      }
    }
    if (c == '"') {
      auto str = ParseString();
      if (!str) return std::nullopt;
      return Value::String(std::move(*str));
    }
    if (s_.substr(pos_, 4) == "true") {
      pos_ += 4;
      return Value::Bool(true);
    }
    if (s_.substr(pos_, 5) == "false") {
      pos_ += 5;
      return Value::Bool(false);
    }
    if (s_.substr(pos_, 4) == "null") {
      pos_ += 4;
      return Value::Null();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      ++pos_;
      while (pos_ < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
              s_[pos_] == 'e' || s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      auto n = Number::Parse(s_.substr(start, pos_ - start));
      if (!n) {
        pos_ = start;
        Fail("invalid number");
        return std::nullopt;
      }
      return Value::Num(std::move(*n));
    }
    Fail(fmt::format("unexpected character '{}'", c));
    return std::nullopt;
  }

  std::optional<std::string> ParseString() {
    if (pos_ >= s_.size() || s_[pos_] != '"') {
      Fail("expected string");
      return std::nullopt;
    }
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) {
        Fail("control character in string");
        return std::nullopt;
      }
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) break;
      if (const char* what = DecodeEscape(s_, &pos_, out)) {
        Fail(what);
        return std::nullopt;
      }
    }
    Fail("unterminated string");
    return std::nullopt;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

absl::StatusOr<Value> ParseJsonValue(std::string_view text) { return JsonParser(text).Parse(); }

// ---- UTF-8 ----

std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    if (i + len > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

namespace {

// Four hex digits at text[pos]; -1 when short or not hex (*short_input says which).
int32_t Hex4(std::string_view text, size_t pos, bool* short_input) {
  *short_input = pos + 4 > text.size();
  if (*short_input) return -1;
  int32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    char h = text[pos + i];
    v <<= 4;
    if (h >= '0' && h <= '9') {
      v |= h - '0';
    } else if (h >= 'a' && h <= 'f') {
      v |= h - 'a' + 10;
    } else if (h >= 'A' && h <= 'F') {
      v |= h - 'A' + 10;
    } else {
      return -1;
    }
  }
  return v;
}

}  // namespace

const char* DecodeEscape(std::string_view text, size_t* pos, std::string& out) {
  if (*pos >= text.size()) return "invalid escape";
  char e = text[(*pos)++];
  switch (e) {
    case '"':
    case '\\':
    case '/':
      out.push_back(e);
      return nullptr;
    case 'b':
      out.push_back('\b');
      return nullptr;
    case 'f':
      out.push_back('\f');
      return nullptr;
    case 'n':
      out.push_back('\n');
      return nullptr;
    case 'r':
      out.push_back('\r');
      return nullptr;
    case 't':
      out.push_back('\t');
      return nullptr;
    case 'u':
      break;
    default:
      return "invalid escape";
  }
  bool short_input = false;
  int32_t cp = Hex4(text, *pos, &short_input);
  if (cp < 0) return short_input ? "short unicode escape" : "invalid unicode escape";
  *pos += 4;
  if (cp >= 0xD800 && cp < 0xDC00 && text.substr(*pos, 2) == "\\u") {
    *pos += 2;
    int32_t lo = Hex4(text, *pos, &short_input);
    if (lo < 0) return short_input ? "short unicode escape" : "invalid unicode escape";
    *pos += 4;
    if (lo >= 0xDC00 && lo < 0xE000) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else {
      AppendUtf8(out, 0xFFFD);
      cp = lo;
    }
  }
  AppendUtf8(out, static_cast<char32_t>(cp));
  return nullptr;
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    AppendUtf8(out, 0xFFFD);
  }
}

std::string EncodeUtf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) AppendUtf8(out, c);
  return out;
}

size_t CountRunes(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if (c < 0x80) ++n;
  }
  if (n == s.size()) return n;
  return DecodeUtf8(s).size();
}

}  // namespace ccburst::policy
