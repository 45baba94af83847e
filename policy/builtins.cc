// Builtin registry, argument helpers, and the core builtins: comparison, arithmetic,
// aggregates, sets, types, objects, arrays, numbers and bits.
#include "policy/builtins.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

namespace ccburst::policy {

void BuiltinRegistry::Add(std::string_view name, int arity, BuiltinFn fn) {
  builtins_.push_back(Builtin{name, arity, fn});
}

const Builtin* BuiltinRegistry::Find(std::string_view name) const {
  for (const auto& b : builtins_) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const Builtin* FindBuiltin(std::string_view name) {
  static const BuiltinRegistry* registry = [] {
    auto* r = new BuiltinRegistry();
    RegisterCoreBuiltins(*r);
    RegisterStringBuiltins(*r);
    RegisterRegexBuiltins(*r);
    RegisterEncodingBuiltins(*r);
    RegisterTimeBuiltins(*r);
    std::sort(r->builtins_.begin(), r->builtins_.end(),
              [](const Builtin& a, const Builtin& b) { return a.name < b.name; });
    return r;
  }();
  auto it = std::lower_bound(registry->builtins_.begin(), registry->builtins_.end(), name,
                             [](const Builtin& b, std::string_view n) { return b.name < n; });
  if (it != registry->builtins_.end() && it->name == name) return &*it;
  return nullptr;
}

void ThrowTypeError(std::string_view fn, std::string message) {
  throw BuiltinError{kTypeError, fmt::format("{}: {}", fn, message)};
}

void ThrowBuiltinError(std::string_view fn, std::string message) {
  throw BuiltinError{kBuiltinError, fmt::format("{}: {}", fn, message)};
}

void ThrowOperandError(std::string_view fn, int operand, std::string_view expected,
                       const Value& got) {
  ThrowTypeError(
      fn, fmt::format("operand {} must be {} but got {}", operand, expected, got.TypeName()));
}

const std::string& ArgString(std::string_view fn, BuiltinArgs args, int i) {
  if (!args[i].IsString()) ThrowOperandError(fn, i + 1, "string", args[i]);
  return args[i].AsString();
}

const Number& ArgNumber(std::string_view fn, BuiltinArgs args, int i) {
  if (!args[i].IsNumber()) ThrowOperandError(fn, i + 1, "number", args[i]);
  return args[i].AsNumber();
}

const Value& ArgArray(std::string_view fn, BuiltinArgs args, int i) {
  if (!args[i].IsArray()) ThrowOperandError(fn, i + 1, "array", args[i]);
  return args[i];
}

const Value& ArgObject(std::string_view fn, BuiltinArgs args, int i) {
  if (!args[i].IsObject()) ThrowOperandError(fn, i + 1, "object", args[i]);
  return args[i];
}

const Value& ArgSet(std::string_view fn, BuiltinArgs args, int i) {
  if (!args[i].IsSet()) ThrowOperandError(fn, i + 1, "set", args[i]);
  return args[i];
}

bool ArgBool(std::string_view fn, BuiltinArgs args, int i) {
  if (!args[i].IsBool()) ThrowOperandError(fn, i + 1, "boolean", args[i]);
  return args[i].AsBool();
}

int64_t ArgInt(std::string_view fn, BuiltinArgs args, int i) {
  const Number& n = ArgNumber(fn, args, i);
  if (!n.IsInteger()) {
    ThrowTypeError(
        fn, fmt::format("operand {} must be integer number but got floating-point number", i + 1));
  }
  auto v = n.AsInt64();
  if (!v)
    ThrowTypeError(fn, fmt::format("operand {} must be integer number but got big number", i + 1));
  return *v;
}

namespace {

using Args = BuiltinArgs;
using Result = std::optional<Value>;

// ---- comparison ----
Result Equal(BuiltinContext&, Args a) { return Value::Bool(a[0] == a[1]); }
Result NotEqual(BuiltinContext&, Args a) { return Value::Bool(a[0] != a[1]); }
Result Lt(BuiltinContext&, Args a) { return Value::Bool(a[0].Compare(a[1]) < 0); }
Result Lte(BuiltinContext&, Args a) { return Value::Bool(a[0].Compare(a[1]) <= 0); }
Result Gt(BuiltinContext&, Args a) { return Value::Bool(a[0].Compare(a[1]) > 0); }
Result Gte(BuiltinContext&, Args a) { return Value::Bool(a[0].Compare(a[1]) >= 0); }

// ---- arithmetic ----
Value CheckedNum(std::string_view fn, Number n) {
  if (n.MagnitudeBits() > kMaxIntegerBits) {
    ThrowBuiltinError(fn, fmt::format("result exceeds {} bits", kMaxIntegerBits));
  }
  return Value::Num(std::move(n));
}

Result Plus(BuiltinContext&, Args a) {
  return CheckedNum("plus", ArgNumber("plus", a, 0) + ArgNumber("plus", a, 1));
}

Value SetDiff(const Value& a, const Value& b) {
  ValueVector out;
  for (const auto& e : a.AsSet()) {
    if (!b.SetContains(e)) out.push_back(e);
  }
  return Value::Set(std::move(out));
}

Result Minus(BuiltinContext&, Args a) {
  if (a[0].IsSet()) {
    if (!a[1].IsSet()) ThrowOperandError("minus", 2, "set", a[1]);
    return SetDiff(a[0], a[1]);
  }
  if (!a[0].IsNumber()) ThrowOperandError("minus", 1, "one of {number, set}", a[0]);
  if (!a[1].IsNumber()) ThrowOperandError("minus", 2, "number", a[1]);
  return CheckedNum("minus", a[0].AsNumber() - a[1].AsNumber());
}

Result Mul(BuiltinContext&, Args a) {
  const Number& x = ArgNumber("mul", a, 0);
  const Number& y = ArgNumber("mul", a, 1);
  if (x.MagnitudeBits() + y.MagnitudeBits() > kMaxIntegerBits + 64) {
    ThrowBuiltinError("mul", fmt::format("result exceeds {} bits", kMaxIntegerBits));
  }
  return CheckedNum("mul", x * y);
}

Result Div(BuiltinContext&, Args a) {
  const Number& x = ArgNumber("div", a, 0);
  const Number& y = ArgNumber("div", a, 1);
  if (y.IsZero()) ThrowBuiltinError("div", "divide by zero");
  return Value::Num(x / y);
}

Result Rem(BuiltinContext&, Args a) {
  const Number& x = ArgNumber("rem", a, 0);
  const Number& y = ArgNumber("rem", a, 1);
  if (!x.IsInteger() || !y.IsInteger()) ThrowBuiltinError("rem", "modulo on floating-point number");
  if (y.IsZero()) ThrowBuiltinError("rem", "modulo by zero");
  return Value::Num(x.Rem(y));
}

Result Abs(BuiltinContext&, Args a) { return Value::Num(ArgNumber("abs", a, 0).Abs()); }
Result Round(BuiltinContext&, Args a) { return Value::Num(ArgNumber("round", a, 0).Round()); }
Result Ceil(BuiltinContext&, Args a) { return Value::Num(ArgNumber("ceil", a, 0).Ceil()); }
Result Floor(BuiltinContext&, Args a) { return Value::Num(ArgNumber("floor", a, 0).Floor()); }

// ---- sets ----
Result And(BuiltinContext&, Args a) {
  const Value& x = ArgSet("and", a, 0);
  const Value& y = ArgSet("and", a, 1);
  ValueVector out;
  for (const auto& e : x.AsSet()) {
    if (y.SetContains(e)) out.push_back(e);
  }
  return Value::Set(std::move(out));
}

Result Or(BuiltinContext&, Args a) {
  const Value& x = ArgSet("or", a, 0);
  const Value& y = ArgSet("or", a, 1);
  ValueVector out = x.AsSet();
  out.insert(out.end(), y.AsSet().begin(), y.AsSet().end());
  return Value::Set(std::move(out));
}

Result Intersection(BuiltinContext&, Args a) {
  const Value& s = ArgSet("intersection", a, 0);
  if (s.AsSet().empty()) return Value::EmptySet();
  std::optional<Value> acc;
  for (const auto& e : s.AsSet()) {
    if (!e.IsSet()) ThrowOperandError("intersection", 1, "set of sets", s);
    if (!acc) {
      acc = e;
      continue;
    }
    ValueVector out;
    for (const auto& x : acc->AsSet()) {
      if (e.SetContains(x)) out.push_back(x);
    }
    acc = Value::Set(std::move(out));
  }
  return *acc;
}

Result Union(BuiltinContext&, Args a) {
  const Value& s = ArgSet("union", a, 0);
  ValueVector out;
  for (const auto& e : s.AsSet()) {
    if (!e.IsSet()) ThrowOperandError("union", 1, "set of sets", s);
    out.insert(out.end(), e.AsSet().begin(), e.AsSet().end());
  }
  return Value::Set(std::move(out));
}

// ---- membership ----
Result Member2(BuiltinContext&, Args a) {
  const Value& x = a[0];
  const Value& c = a[1];
  switch (c.kind()) {
    case Value::Kind::kArray:
      for (const auto& e : c.AsArray()) {
        if (e == x) return Value::Bool(true);
      }
      return Value::Bool(false);
    case Value::Kind::kSet:
      return Value::Bool(c.SetContains(x));
    case Value::Kind::kObject:
      for (const auto& [k, v] : c.AsObject()) {
        if (v == x) return Value::Bool(true);
      }
      return Value::Bool(false);
    default:
      return Value::Bool(false);
  }
}

Result Member3(BuiltinContext&, Args a) {
  const Value& key = a[0];
  const Value& val = a[1];
  const Value& c = a[2];
  switch (c.kind()) {
    case Value::Kind::kArray: {
      if (!key.IsNumber() || !key.AsNumber().IsInteger()) return Value::Bool(false);
      auto i = key.AsNumber().AsInt64();
      if (!i || *i < 0 || static_cast<size_t>(*i) >= c.AsArray().size()) return Value::Bool(false);
      return Value::Bool(c.AsArray()[static_cast<size_t>(*i)] == val);
    }
    case Value::Kind::kSet:
      return Value::Bool(key == val && c.SetContains(key));
    case Value::Kind::kObject: {
      const Value* v = c.Find(key);
      return Value::Bool(v && *v == val);
    }
    default:
      return Value::Bool(false);
  }
}

// ---- aggregates ----
Result Count(BuiltinContext&, Args a) {
  switch (a[0].kind()) {
    case Value::Kind::kArray:
    case Value::Kind::kObject:
    case Value::Kind::kSet:
    case Value::Kind::kString:
      return Value::Int(static_cast<int64_t>(a[0].Size()));
    default:
      ThrowOperandError("count", 1, "one of {array, object, set, string}", a[0]);
  }
}

const ValueVector& Collection(std::string_view fn, Args a) {
  if (!a[0].IsArray() && !a[0].IsSet()) ThrowOperandError(fn, 1, "one of {array, set}", a[0]);
  return a[0].AsArray();
}

Result Sum(BuiltinContext&, Args a) {
  Number acc = Number::Int(0);
  for (const auto& e : Collection("sum", a)) {
    if (!e.IsNumber()) ThrowOperandError("sum", 1, "one of {array, set} of numbers", a[0]);
    acc = acc + e.AsNumber();
  }
  return CheckedNum("sum", acc);
}

Result Product(BuiltinContext&, Args a) {
  Number acc = Number::Int(1);
  for (const auto& e : Collection("product", a)) {
    if (!e.IsNumber()) ThrowOperandError("product", 1, "one of {array, set} of numbers", a[0]);
    if (acc.MagnitudeBits() + e.AsNumber().MagnitudeBits() > kMaxIntegerBits + 64) {
      ThrowBuiltinError("product", fmt::format("result exceeds {} bits", kMaxIntegerBits));
    }
    acc = acc * e.AsNumber();
  }
  return CheckedNum("product", acc);
}

Result Max(BuiltinContext&, Args a) {
  const auto& elems = Collection("max", a);
  if (elems.empty()) return std::nullopt;
  return *std::max_element(elems.begin(), elems.end());
}

Result Min(BuiltinContext&, Args a) {
  const auto& elems = Collection("min", a);
  if (elems.empty()) return std::nullopt;
  return *std::min_element(elems.begin(), elems.end());
}

Result Sort(BuiltinContext&, Args a) {
  ValueVector elems = Collection("sort", a);
  std::stable_sort(elems.begin(), elems.end());
  return Value::Array(std::move(elems));
}

Result All(BuiltinContext&, Args a) {
  for (const auto& e : Collection("all", a)) {
    if (!e.IsTrue()) return Value::Bool(false);
  }
  return Value::Bool(true);
}

Result Any(BuiltinContext&, Args a) {
  for (const auto& e : Collection("any", a)) {
    if (e.IsTrue()) return Value::Bool(true);
  }
  return Value::Bool(false);
}

// ---- types ----
Result IsNumber(BuiltinContext&, Args a) { return Value::Bool(a[0].IsNumber()); }
Result IsString(BuiltinContext&, Args a) { return Value::Bool(a[0].IsString()); }
Result IsBoolean(BuiltinContext&, Args a) { return Value::Bool(a[0].IsBool()); }
Result IsArray(BuiltinContext&, Args a) { return Value::Bool(a[0].IsArray()); }
Result IsSet(BuiltinContext&, Args a) { return Value::Bool(a[0].IsSet()); }
Result IsObject(BuiltinContext&, Args a) { return Value::Bool(a[0].IsObject()); }
Result IsNull(BuiltinContext&, Args a) { return Value::Bool(a[0].IsNull()); }
Result TypeNameFn(BuiltinContext&, Args a) { return Value::String(std::string(a[0].TypeName())); }

Result ToNumber(BuiltinContext&, Args a) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Value::Kind::kNull:
      return Value::Int(0);
    case Value::Kind::kBool:
      return Value::Int(v.AsBool() ? 1 : 0);
    case Value::Kind::kNumber:
      return v;
    case Value::Kind::kString: {
      auto n = Number::Parse(v.AsString());
      if (!n) {
        ThrowBuiltinError("to_number", fmt::format("strconv.ParseFloat: parsing {}: invalid syntax",
                                                   Value::String(v.AsString()).ToJsonString()));
      }
      return Value::Num(*n);
    }
    default:
      ThrowOperandError("to_number", 1, "one of {null, boolean, number, string}", v);
  }
}

// ---- objects ----
Result ObjectGet(BuiltinContext&, Args a) {
  const Value& obj = ArgObject("object.get", a, 0);
  const Value& key = a[1];
  if (key.IsArray()) {
    const Value* cur = &obj;
    for (const auto& k : key.AsArray()) {
      const Value* next = nullptr;
      if (cur->IsObject()) {
        next = cur->Find(k);
      } else if (cur->IsArray()) {
        if (k.IsNumber() && k.AsNumber().IsInteger()) {
          auto i = k.AsNumber().AsInt64();
          if (i && *i >= 0 && static_cast<size_t>(*i) < cur->AsArray().size()) {
            next = &cur->AsArray()[static_cast<size_t>(*i)];
          }
        }
      } else if (cur->IsSet()) {
        if (cur->SetContains(k)) {
          const auto& elems = cur->AsSet();
          next = &*std::lower_bound(elems.begin(), elems.end(), k);
        }
      }
      if (!next) return a[2];
      cur = next;
    }
    return *cur;
  }
  const Value* v = obj.Find(key);
  return v ? *v : a[2];
}

Result ObjectKeys(BuiltinContext&, Args a) {
  const Value& obj = ArgObject("object.keys", a, 0);
  ValueVector keys;
  for (const auto& [k, v] : obj.AsObject()) keys.push_back(k);
  return Value::Set(std::move(keys));
}

Value MergeObjects(const Value& a, const Value& b) {
  ObjectEntries out;
  const auto& ea = a.AsObject();
  const auto& eb = b.AsObject();
  size_t i = 0, j = 0;
  while (i < ea.size() || j < eb.size()) {
    if (j == eb.size() || (i < ea.size() && ea[i].first < eb[j].first)) {
      out.push_back(ea[i++]);
    } else if (i == ea.size() || eb[j].first < ea[i].first) {
      out.push_back(eb[j++]);
    } else {
      const Value& va = ea[i].second;
      const Value& vb = eb[j].second;
      if (va.IsObject() && vb.IsObject()) {
        out.emplace_back(ea[i].first, MergeObjects(va, vb));
      } else {
        out.emplace_back(eb[j].first, vb);
      }
      ++i;
      ++j;
    }
  }
  return Value::Object(std::move(out));
}

Result ObjectUnion(BuiltinContext&, Args a) {
  const Value& x = ArgObject("object.union", a, 0);
  const Value& y = ArgObject("object.union", a, 1);
  return MergeObjects(x, y);
}

Result ObjectUnionN(BuiltinContext&, Args a) {
  if (!a[0].IsArray()) ThrowOperandError("object.union_n", 1, "array", a[0]);
  Value acc = Value::EmptyObject();
  for (const auto& e : a[0].AsArray()) {
    if (!e.IsObject()) {
      ThrowTypeError("object.union_n",
                     fmt::format("operand 1 must be array of objects but got array containing {}",
                                 e.TypeName()));
    }
    acc = MergeObjects(acc, e);
  }
  return acc;
}

// Keys given as an array, set or object (its keys).
ValueVector KeyList(std::string_view fn, const Value& keys, int operand) {
  switch (keys.kind()) {
    case Value::Kind::kArray:
    case Value::Kind::kSet:
      return keys.AsArray();
    case Value::Kind::kObject: {
      ValueVector out;
      for (const auto& [k, v] : keys.AsObject()) out.push_back(k);
      return out;
    }
    default:
      ThrowOperandError(fn, operand, "one of {object, set, array}", keys);
  }
}

Result ObjectRemove(BuiltinContext&, Args a) {
  const Value& obj = ArgObject("object.remove", a, 0);
  ValueVector keys = KeyList("object.remove", a[1], 2);
  Value remove = Value::Set(std::move(keys));
  ObjectEntries out;
  for (const auto& e : obj.AsObject()) {
    if (!remove.SetContains(e.first)) out.push_back(e);
  }
  return Value::Object(std::move(out));
}

Result ObjectFilter(BuiltinContext&, Args a) {
  const Value& obj = ArgObject("object.filter", a, 0);
  ValueVector keys = KeyList("object.filter", a[1], 2);
  Value keep = Value::Set(std::move(keys));
  ObjectEntries out;
  for (const auto& e : obj.AsObject()) {
    if (keep.SetContains(e.first)) out.push_back(e);
  }
  return Value::Object(std::move(out));
}

bool IsSubset(const Value& super, const Value& sub) {
  if (super.IsObject() && sub.IsObject()) {
    for (const auto& [k, v] : sub.AsObject()) {
      const Value* sv = super.Find(k);
      if (!sv) return false;
      bool composite = (sv->IsObject() && v.IsObject()) || (sv->IsSet() && v.IsSet()) ||
                       (sv->IsArray() && v.IsArray()) || (sv->IsArray() && v.IsSet());
      if (composite) {
        if (!IsSubset(*sv, v)) return false;
      } else if (*sv != v) {
        return false;
      }
    }
    return true;
  }
  if (super.IsSet() && sub.IsSet()) {
    for (const auto& e : sub.AsSet()) {
      if (!super.SetContains(e)) return false;
    }
    return true;
  }
  if (super.IsArray() && sub.IsArray()) {
    // A contiguous sub-sequence.
    const auto& sa = super.AsArray();
    const auto& sb = sub.AsArray();
    if (sb.empty()) return true;
    if (sb.size() > sa.size()) return false;
    for (size_t i = 0; i + sb.size() <= sa.size(); ++i) {
      bool match = true;
      for (size_t j = 0; j < sb.size(); ++j) {
        if (sa[i + j] != sb[j]) {
          match = false;
          break;
        }
      }
      if (match) return true;
    }
    return false;
  }
  if (super.IsArray() && sub.IsSet()) {
    for (const auto& e : sub.AsSet()) {
      if (std::find(super.AsArray().begin(), super.AsArray().end(), e) == super.AsArray().end()) {
        return false;
      }
    }
    return true;
  }
  return false;
}

Result ObjectSubset(BuiltinContext&, Args a) {
  const Value& super = a[0];
  const Value& sub = a[1];
  if (!super.IsObject() && !super.IsSet() && !super.IsArray()) {
    ThrowOperandError("object.subset", 1, "one of {object, set, array}", super);
  }
  if (!sub.IsObject() && !sub.IsSet() && !sub.IsArray()) {
    ThrowOperandError("object.subset", 2, "one of {object, set, array}", sub);
  }
  if (super.IsObject() != sub.IsObject() && !(super.IsArray() && sub.IsSet())) {
    ThrowTypeError("object.subset", "both arguments must be objects, sets, or arrays");
  }
  if (super.IsSet() && sub.IsArray()) {
    ThrowTypeError("object.subset", "both arguments must be objects, sets, or arrays");
  }
  return Value::Bool(IsSubset(super, sub));
}

// ---- arrays ----
Result ArrayConcat(BuiltinContext&, Args a) {
  const Value& x = ArgArray("array.concat", a, 0);
  const Value& y = ArgArray("array.concat", a, 1);
  ValueVector out = x.AsArray();
  out.insert(out.end(), y.AsArray().begin(), y.AsArray().end());
  return Value::Array(std::move(out));
}

Result ArraySlice(BuiltinContext&, Args a) {
  const Value& arr = ArgArray("array.slice", a, 0);
  int64_t start = ArgInt("array.slice", a, 1);
  int64_t stop = ArgInt("array.slice", a, 2);
  int64_t n = static_cast<int64_t>(arr.AsArray().size());
  if (start < 0) start = 0;
  if (stop > n) stop = n;
  if (start >= stop) return Value::EmptyArray();
  return Value::Array(ValueVector(arr.AsArray().begin() + start, arr.AsArray().begin() + stop));
}

Result ArrayReverse(BuiltinContext&, Args a) {
  const Value& arr = ArgArray("array.reverse", a, 0);
  ValueVector out(arr.AsArray().rbegin(), arr.AsArray().rend());
  return Value::Array(std::move(out));
}

void Flatten(const Value& v, ValueVector& out) {
  for (const auto& e : v.AsArray()) {
    if (e.IsArray()) {
      out.insert(out.end(), e.AsArray().begin(), e.AsArray().end());
    } else {
      out.push_back(e);
    }
  }
}

Result ArrayFlatten(BuiltinContext&, Args a) {
  const Value& arr = ArgArray("array.flatten", a, 0);
  ValueVector out;
  Flatten(arr, out);
  return Value::Array(std::move(out));
}

// ---- numbers ----
const Number& IntArg(std::string_view fn, Args a, int i) {
  const Number& n = ArgNumber(fn, a, i);
  if (!n.IsInteger()) {
    ThrowTypeError(
        fn, fmt::format("operand {} must be integer number but got floating-point number", i + 1));
  }
  return n;
}

Result NumbersRange(BuiltinContext& ctx, Args a) {
  int64_t x = ArgInt("numbers.range", a, 0);
  int64_t y = ArgInt("numbers.range", a, 1);
  uint64_t span =
      static_cast<uint64_t>(x <= y ? static_cast<__int128>(y) - x : static_cast<__int128>(x) - y);
  ctx.Charge(span);
  ValueVector out;
  out.reserve(span + 1);
  if (x <= y) {
    for (int64_t i = x; i <= y; ++i) out.push_back(Value::Int(i));
  } else {
    for (int64_t i = x; i >= y; --i) out.push_back(Value::Int(i));
  }
  return Value::Array(std::move(out));
}

Result NumbersRangeStep(BuiltinContext& ctx, Args a) {
  int64_t x = ArgInt("numbers.range_step", a, 0);
  int64_t y = ArgInt("numbers.range_step", a, 1);
  const Number& step_n = IntArg("numbers.range_step", a, 2);
  if (step_n.IsNegative() || step_n.IsZero()) {
    ThrowBuiltinError("numbers.range_step", "step must be a positive integer");
  }
  // A step past int64 can only ever produce the first element.
  int64_t step = step_n.AsInt64().value_or(std::numeric_limits<int64_t>::max());
  __int128 span = x <= y ? static_cast<__int128>(y) - x : static_cast<__int128>(x) - y;
  ctx.Charge(static_cast<uint64_t>(span / step));
  ValueVector out;
  if (x <= y) {
    for (int64_t i = x;; i += step) {
      out.push_back(Value::Int(i));
      if (y - i < step) break;
    }
  } else {
    for (int64_t i = x;; i -= step) {
      out.push_back(Value::Int(i));
      if (i - y < step) break;
    }
  }
  return Value::Array(std::move(out));
}

// ---- bits ----
Result BitsAnd(BuiltinContext&, Args a) {
  return Value::Num(IntArg("bits.and", a, 0).BitAnd(IntArg("bits.and", a, 1)));
}
Result BitsOr(BuiltinContext&, Args a) {
  return Value::Num(IntArg("bits.or", a, 0).BitOr(IntArg("bits.or", a, 1)));
}
Result BitsXor(BuiltinContext&, Args a) {
  return Value::Num(IntArg("bits.xor", a, 0).BitXor(IntArg("bits.xor", a, 1)));
}
Result BitsNegate(BuiltinContext&, Args a) {
  return Value::Num(IntArg("bits.negate", a, 0).BitNot());
}

uint64_t ShiftArg(std::string_view fn, Args a) {
  const Number& n = IntArg(fn, a, 1);
  if (n.IsNegative()) {
    ThrowTypeError(fn, "operand 2 must be an unsigned integer number but got a negative integer");
  }
  auto v = n.AsInt64();
  if (!v || *v > static_cast<int64_t>(4 * kMaxIntegerBits)) {
    ThrowBuiltinError(fn, fmt::format("result exceeds {} bits", kMaxIntegerBits));
  }
  return static_cast<uint64_t>(*v);
}

Result BitsLsh(BuiltinContext&, Args a) {
  const Number& x = IntArg("bits.lsh", a, 0);
  uint64_t n = ShiftArg("bits.lsh", a);
  if (x.MagnitudeBits() + n > kMaxIntegerBits + 64) {
    ThrowBuiltinError("bits.lsh", fmt::format("result exceeds {} bits", kMaxIntegerBits));
  }
  return Value::Num(x.ShiftLeft(n));
}

Result BitsRsh(BuiltinContext&, Args a) {
  const Number& x = IntArg("bits.rsh", a, 0);
  return Value::Num(x.ShiftRight(ShiftArg("bits.rsh", a)));
}

Result Print(BuiltinContext&, Args) { return Value::Bool(true); }

}  // namespace

void RegisterCoreBuiltins(BuiltinRegistry& r) {
  r.Add("equal", 2, Equal);
  r.Add("neq", 2, NotEqual);
  r.Add("lt", 2, Lt);
  r.Add("lte", 2, Lte);
  r.Add("gt", 2, Gt);
  r.Add("gte", 2, Gte);
  r.Add("plus", 2, Plus);
  r.Add("minus", 2, Minus);
  r.Add("mul", 2, Mul);
  r.Add("div", 2, Div);
  r.Add("rem", 2, Rem);
  r.Add("abs", 1, Abs);
  r.Add("round", 1, Round);
  r.Add("ceil", 1, Ceil);
  r.Add("floor", 1, Floor);
  r.Add("and", 2, And);
  r.Add("or", 2, Or);
  r.Add("intersection", 1, Intersection);
  r.Add("union", 1, Union);
  r.Add("internal.member_2", 2, Member2);
  r.Add("internal.member_3", 3, Member3);
  r.Add("count", 1, Count);
  r.Add("sum", 1, Sum);
  r.Add("product", 1, Product);
  r.Add("max", 1, Max);
  r.Add("min", 1, Min);
  r.Add("sort", 1, Sort);
  r.Add("all", 1, All);
  r.Add("any", 1, Any);
  r.Add("is_number", 1, IsNumber);
  r.Add("is_string", 1, IsString);
  r.Add("is_boolean", 1, IsBoolean);
  r.Add("is_array", 1, IsArray);
  r.Add("is_set", 1, IsSet);
  r.Add("is_object", 1, IsObject);
  r.Add("is_null", 1, IsNull);
  r.Add("type_name", 1, TypeNameFn);
  r.Add("to_number", 1, ToNumber);
  r.Add("object.get", 3, ObjectGet);
  r.Add("object.keys", 1, ObjectKeys);
  r.Add("object.union", 2, ObjectUnion);
  r.Add("object.union_n", 1, ObjectUnionN);
  r.Add("object.remove", 2, ObjectRemove);
  r.Add("object.filter", 2, ObjectFilter);
  r.Add("object.subset", 2, ObjectSubset);
  r.Add("array.concat", 2, ArrayConcat);
  r.Add("array.slice", 3, ArraySlice);
  r.Add("array.reverse", 1, ArrayReverse);
  r.Add("array.flatten", 1, ArrayFlatten);
  r.Add("numbers.range", 2, NumbersRange);
  r.Add("numbers.range_step", 3, NumbersRangeStep);
  r.Add("bits.and", 2, BitsAnd);
  r.Add("bits.or", 2, BitsOr);
  r.Add("bits.xor", 2, BitsXor);
  r.Add("bits.negate", 1, BitsNegate);
  r.Add("bits.lsh", 2, BitsLsh);
  r.Add("bits.rsh", 2, BitsRsh);
  r.Add("print", -1, Print);
}

}  // namespace ccburst::policy
