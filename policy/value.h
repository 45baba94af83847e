// Rego values: the JSON types plus sets, with Rego's total order (null < booleans < numbers <
// strings < arrays < objects < sets). Numbers are int64 when they fit, arbitrary-precision
// integers past int64, and doubles for non-integers; `1 == 1.0` holds because comparison is
// numeric. Composite values are immutable and share their storage, so copying a Value is cheap
// and a Value may be read from several threads at once.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace ccburst::policy {

struct BigInt;  // Arbitrary-precision integer, defined in number.cc.

// A Rego number. Integers stay exact (int64 or big); non-integers are doubles.
class Number {
 public:
  enum class Kind : uint8_t { kInt, kBig, kFloat };

  Number() = default;
  static Number Int(int64_t v);
  // A double that holds an integral value within int64 range becomes an Int.
  static Number Float(double v);
  // Parses JSON/Rego number text ("12", "-3.5e2", "123456789123456789123"); nullopt if malformed.
  static std::optional<Number> Parse(std::string_view text);
  // Parses a decimal integer of any length ("-1208925819614629174706175").
  static std::optional<Number> ParseInteger(std::string_view text);

  Kind kind() const { return kind_; }
  // True for exact integers and for doubles with an integral value.
  bool IsInteger() const;
  // The value as int64 when it is an integer that fits.
  std::optional<int64_t> AsInt64() const;
  double AsDouble() const;
  bool IsNegative() const;
  // Bits needed for the magnitude of an integer (0 for doubles).
  size_t MagnitudeBits() const;
  bool IsZero() const;

  // Numeric comparison across representations.
  int Compare(const Number& other) const;
  // Canonical text: integers in decimal, doubles in shortest round-trip form (integral doubles
  // without a fraction).
  std::string ToString() const;

  friend Number operator+(const Number& a, const Number& b);
  friend Number operator-(const Number& a, const Number& b);
  friend Number operator*(const Number& a, const Number& b);
  // Exact for integers when the division has no remainder; the caller checks for zero.
  friend Number operator/(const Number& a, const Number& b);
  // Integer remainder (sign of the dividend); the caller checks integrality and zero.
  Number Rem(const Number& b) const;
  Number Negate() const;
  Number Abs() const;
  Number Floor() const;
  Number Ceil() const;
  Number Round() const;  // Half away from zero.

  // Integer bit operations; both operands must be integers (caller checks).
  Number BitAnd(const Number& b) const;
  Number BitOr(const Number& b) const;
  Number BitXor(const Number& b) const;
  Number BitNot() const;
  Number ShiftLeft(uint64_t n) const;
  Number ShiftRight(uint64_t n) const;
  // Integer power of ten / two multiplier helpers for units parsing.
  static Number Pow(int64_t base, int exp);

  // Formats an integer in the given base (2, 8, 10, 16) with '-' for negatives; the number
  // must be an integer (doubles are truncated toward zero).
  std::string FormatInteger(int base) const;

 private:
  static Number FromBig(const BigInt& b);
  BigInt ToBig() const;

  Kind kind_ = Kind::kInt;
  union {
    int64_t i_ = 0;
    double d_;
  };
  std::shared_ptr<const BigInt> big_;
};

class Value;
using ValueVector = std::vector<Value>;
using ObjectEntries = std::vector<std::pair<Value, Value>>;

class Value {
 public:
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject, kSet };

  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Num(Number n);
  static Value Int(int64_t i) { return Num(Number::Int(i)); }
  static Value String(std::string s);
  static Value Array(ValueVector elems);
  // Builds an object; duplicate keys keep the last value.
  static Value Object(ObjectEntries entries);
  // Builds a set; duplicates are removed.
  static Value Set(ValueVector elems);
  static Value EmptyObject();
  static Value EmptySet();
  static Value EmptyArray();

  Kind kind() const { return kind_; }
  bool IsNull() const { return kind_ == Kind::kNull; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsNumber() const { return kind_ == Kind::kNumber; }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsArray() const { return kind_ == Kind::kArray; }
  bool IsObject() const { return kind_ == Kind::kObject; }
  bool IsSet() const { return kind_ == Kind::kSet; }
  bool IsFalse() const { return kind_ == Kind::kBool && !b_; }
  bool IsTrue() const { return kind_ == Kind::kBool && b_; }

  bool AsBool() const { return b_; }
  const Number& AsNumber() const { return num_; }
  const std::string& AsString() const;
  const ValueVector& AsArray() const;     // also valid for sets (sorted, unique)
  const ObjectEntries& AsObject() const;  // sorted by key
  const ValueVector& AsSet() const;

  // Object member or set element lookup; nullptr when absent or not an object.
  const Value* Find(const Value& key) const;
  const Value* FindKey(std::string_view key) const;
  bool SetContains(const Value& v) const;
  // Number of elements (array, object, set) or runes (string); 0 for scalars.
  size_t Size() const;

  // Rego's total order.
  int Compare(const Value& other) const;
  bool operator==(const Value& o) const { return Compare(o) == 0; }
  bool operator!=(const Value& o) const { return Compare(o) != 0; }
  bool operator<(const Value& o) const { return Compare(o) < 0; }

  // Rego term text: strings quoted, sets as `{1, 2}` or `set()`, objects as `{"a": 1}`.
  std::string ToTermString() const;
  // JSON text as OPA's json.marshal writes it (sets as sorted arrays, non-string keys as
  // their JSON text, object keys sorted).
  std::string ToJsonString() const;
  // A readable name of the type as OPA reports it ("number", "string", "set", ...).
  std::string_view TypeName() const;

  // Conversions at the API edge. Sets become sorted arrays; non-string object keys become
  // their compact JSON text.
  core::json::value ToJson() const;
  static Value FromJson(const core::json::value& v);

 private:
  Kind kind_ = Kind::kNull;
  bool b_ = false;
  Number num_;
  std::shared_ptr<const void> p_;
};

std::string_view TypeName(Value::Kind k);

// Builds objects and sets incrementally; the result is sorted and deduplicated once.
class ObjectBuilder {
 public:
  void Add(Value key, Value value) { entries_.emplace_back(std::move(key), std::move(value)); }
  Value Build() { return Value::Object(std::move(entries_)); }

 private:
  ObjectEntries entries_;
};

// Returns the index of `key` in sorted `entries`, or nullopt.
std::optional<size_t> FindEntry(const ObjectEntries& entries, const Value& key);

// Parses a JSON text directly into Values, keeping integers of any length exact.
// Errors: InvalidArgument naming the first problem and its byte offset
// ("expected ':' at offset 7").
absl::StatusOr<Value> ParseJsonValue(std::string_view text);

// UTF-8 helpers used by string builtins: decode into code points (invalid bytes become
// U+FFFD) and encode back.
std::u32string DecodeUtf8(std::string_view s);
std::string EncodeUtf8(std::u32string_view s);
void AppendUtf8(std::string& out, char32_t c);
size_t CountRunes(std::string_view s);

// Decodes the escape sequence after a backslash in a JSON or Rego string literal: `text[*pos]`
// is the character after the backslash. Appends the decoded UTF-8 to `out` and moves *pos past
// the sequence (a \uD8xx\uDCxx surrogate pair is one sequence; a high surrogate without its
// low half becomes U+FFFD). Returns nullptr on success, else what is wrong: "invalid escape",
// "short unicode escape" or "invalid unicode escape" (*pos is then unspecified).
const char* DecodeEscape(std::string_view text, size_t* pos, std::string& out);

}  // namespace ccburst::policy
