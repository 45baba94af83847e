// Rego number arithmetic: int64 fast paths, Boost.Multiprecision integers past int64, doubles
// for everything that is not an integer.
#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "policy/value.h"

namespace ccburst::policy {

struct BigInt {
  boost::multiprecision::cpp_int v;
};

namespace {

using boost::multiprecision::cpp_int;

const cpp_int kInt64Min = std::numeric_limits<int64_t>::min();
const cpp_int kInt64Max = std::numeric_limits<int64_t>::max();

double BigToDouble(const cpp_int& v) {
  // convert_to<double> aborts (throws from a noexcept function) past the double range.
  if (v != 0 && boost::multiprecision::msb(abs(v)) >= 1020) {
    return v < 0 ? -std::numeric_limits<double>::infinity()
                 : std::numeric_limits<double>::infinity();
  }
  return v.convert_to<double>();
}

// Decimal digits to an integer. (cpp_int's string constructor reads a leading 0 as octal.)
cpp_int FromDecimal(std::string_view digits) {
  cpp_int v = 0;
  size_t i = 0;
  while (i < digits.size()) {
    // Nine digits at a time keep the number of big multiplications small.
    size_t n = std::min<size_t>(9, digits.size() - i);
    uint32_t chunk = 0, scale = 1;
    for (size_t k = 0; k < n; ++k) {
      chunk = chunk * 10 + static_cast<uint32_t>(digits[i + k] - '0');
      scale *= 10;
    }
    v = v * scale + chunk;
    i += n;
  }
  return v;
}

bool DoubleIsIntegral(double d) { return std::isfinite(d) && std::floor(d) == d; }

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (DoubleIsIntegral(d) && std::fabs(d) < 1e21) {
    cpp_int v(d);
    return v.str();
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s(buf, res.ptr);
  // Go prints exponents with at least two digits and a sign ("1e-07"); std::to_chars prints
  // "1e-07" too, so the text matches already.
  return s;
}

}  // namespace

Number Number::Int(int64_t v) {
  Number n;
  n.kind_ = Kind::kInt;
  n.i_ = v;
  return n;
}

Number Number::Float(double v) {
  if (DoubleIsIntegral(v) && v >= -9.2e18 && v <= 9.2e18) return Int(static_cast<int64_t>(v));
  Number n;
  n.kind_ = Kind::kFloat;
  n.d_ = v;
  return n;
}

Number Number::FromBig(const BigInt& b) {
  if (b.v >= kInt64Min && b.v <= kInt64Max) return Int(b.v.convert_to<int64_t>());
  Number n;
  n.kind_ = Kind::kBig;
  n.big_ = std::make_shared<BigInt>(b);
  return n;
}

BigInt Number::ToBig() const {
  switch (kind_) {
    case Kind::kInt:
      return BigInt{cpp_int(i_)};
    case Kind::kBig:
      return *big_;
    case Kind::kFloat:
      if (!std::isfinite(d_)) return BigInt{cpp_int(0)};
      return BigInt{cpp_int(std::trunc(d_))};
  }
  return BigInt{};
}

std::optional<Number> Number::ParseInteger(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t start = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (start == text.size()) return std::nullopt;
  for (size_t i = start; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  int64_t v = 0;
  auto res = std::from_chars(text.data() + (text[0] == '+' ? 1 : 0), text.data() + text.size(), v);
  if (res.ec == std::errc() && res.ptr == text.data() + text.size()) return Int(v);
  BigInt b;
  b.v = FromDecimal(text.substr(start));
  if (text[0] == '-') b.v = -b.v;
  return FromBig(b);
}

std::optional<Number> Number::Parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // Validate JSON-ish number syntax (leading '+' and '.' are accepted for to_number).
  size_t i = 0;
  if (text[i] == '-' || text[i] == '+') ++i;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  bool is_int = true;
  if (i < text.size() && text[i] == '.') {
    is_int = false;
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    is_int = false;
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  if (is_int) return ParseInteger(text);
  std::string copy(text[0] == '+' ? text.substr(1) : text);
  double d = std::strtod(copy.c_str(), nullptr);
  if (!std::isfinite(d)) return std::nullopt;
  // Integral values written with an exponent or fraction ("1e3", "2.0") may exceed int64.
  if (DoubleIsIntegral(d) && std::fabs(d) >= 9.2e18 && std::fabs(d) < 1e300) {
    // Keep exactness for decimal text like "1.0e20": rebuild from mantissa and exponent.
    std::string mant;
    int64_t exp10 = 0;
    size_t j = 0;
    bool neg = false;
    if (copy[j] == '-') neg = true, ++j;
    bool after_dot = false;
    for (; j < copy.size() && copy[j] != 'e' && copy[j] != 'E'; ++j) {
      if (copy[j] == '.') {
        after_dot = true;
        continue;
      }
      mant.push_back(copy[j]);
      if (after_dot) --exp10;
    }
    if (j < copy.size()) exp10 += std::strtoll(copy.c_str() + j + 1, nullptr, 10);
    if (mant.size() > 1000 || exp10 < -1000) return Float(d);  // keep parsing linear
    if (exp10 >= 0 && exp10 < 400) {
      cpp_int v = FromDecimal(mant);
      for (int64_t k = 0; k < exp10; ++k) v *= 10;
      if (neg) v = -v;
      return FromBig(BigInt{v});
    }
    if (exp10 < 0) {
      cpp_int v = FromDecimal(mant);
      cpp_int div = 1;
      for (int64_t k = 0; k < -exp10; ++k) div *= 10;
      if (v % div == 0) {
        v /= div;
        if (neg) v = -v;
        return FromBig(BigInt{v});
      }
    }
  }
  return Float(d);
}

bool Number::IsInteger() const { return kind_ != Kind::kFloat || DoubleIsIntegral(d_); }

std::optional<int64_t> Number::AsInt64() const {
  switch (kind_) {
    case Kind::kInt:
      return i_;
    case Kind::kBig:
      return std::nullopt;
    case Kind::kFloat:
      if (DoubleIsIntegral(d_) && d_ >= -9.2e18 && d_ <= 9.2e18) return static_cast<int64_t>(d_);
      return std::nullopt;
  }
  return std::nullopt;
}

double Number::AsDouble() const {
  switch (kind_) {
    case Kind::kInt:
      return static_cast<double>(i_);
    case Kind::kBig:
      return BigToDouble(big_->v);
    case Kind::kFloat:
      return d_;
  }
  return 0;
}

bool Number::IsNegative() const {
  switch (kind_) {
    case Kind::kInt:
      return i_ < 0;
    case Kind::kBig:
      return big_->v < 0;
    case Kind::kFloat:
      return d_ < 0;
  }
  return false;
}

size_t Number::MagnitudeBits() const {
  switch (kind_) {
    case Kind::kInt:
      return 64;
    case Kind::kBig:
      return big_->v == 0 ? 0 : boost::multiprecision::msb(abs(big_->v)) + 1;
    case Kind::kFloat:
      return 0;
  }
  return 0;
}

bool Number::IsZero() const {
  switch (kind_) {
    case Kind::kInt:
      return i_ == 0;
    case Kind::kBig:
      return big_->v == 0;
    case Kind::kFloat:
      return d_ == 0;
  }
  return false;
}

int Number::Compare(const Number& o) const {
  if (kind_ == Kind::kInt && o.kind_ == Kind::kInt) return i_ < o.i_ ? -1 : (i_ > o.i_ ? 1 : 0);
  if (kind_ != Kind::kFloat && o.kind_ != Kind::kFloat) {
    cpp_int a = ToBig().v, b = o.ToBig().v;
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  // At least one double. Compare exactly when both are integral.
  bool exact = (kind_ != Kind::kFloat || DoubleIsIntegral(d_)) &&
               (o.kind_ != Kind::kFloat || DoubleIsIntegral(o.d_));
  if (exact) {
    cpp_int a = kind_ == Kind::kFloat ? cpp_int(d_) : ToBig().v;
    cpp_int b = o.kind_ == Kind::kFloat ? cpp_int(o.d_) : o.ToBig().v;
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  double a = AsDouble(), b = o.AsDouble();
  // Keep the order total: NaN (only reachable through inf - inf) sorts first.
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) == std::isnan(b) ? 0 : (std::isnan(a) ? -1 : 1);
  return a < b ? -1 : (a > b ? 1 : 0);
}

std::string Number::ToString() const {
  switch (kind_) {
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kBig:
      return big_->v.str();
    case Kind::kFloat:
      return FormatDouble(d_);
  }
  return "0";
}

Number operator+(const Number& a, const Number& b) {
  if (a.kind_ == Number::Kind::kInt && b.kind_ == Number::Kind::kInt) {
    int64_t r;
    if (!__builtin_add_overflow(a.i_, b.i_, &r)) return Number::Int(r);
  }
  if (a.kind_ != Number::Kind::kFloat && b.kind_ != Number::Kind::kFloat) {
    return Number::FromBig(BigInt{a.ToBig().v + b.ToBig().v});
  }
  return Number::Float(a.AsDouble() + b.AsDouble());
}

Number operator-(const Number& a, const Number& b) {
  if (a.kind_ == Number::Kind::kInt && b.kind_ == Number::Kind::kInt) {
    int64_t r;
    if (!__builtin_sub_overflow(a.i_, b.i_, &r)) return Number::Int(r);
  }
  if (a.kind_ != Number::Kind::kFloat && b.kind_ != Number::Kind::kFloat) {
    return Number::FromBig(BigInt{a.ToBig().v - b.ToBig().v});
  }
  return Number::Float(a.AsDouble() - b.AsDouble());
}

Number operator*(const Number& a, const Number& b) {
  if (a.kind_ == Number::Kind::kInt && b.kind_ == Number::Kind::kInt) {
    int64_t r;
    if (!__builtin_mul_overflow(a.i_, b.i_, &r)) return Number::Int(r);
  }
  if (a.kind_ != Number::Kind::kFloat && b.kind_ != Number::Kind::kFloat) {
    return Number::FromBig(BigInt{a.ToBig().v * b.ToBig().v});
  }
  return Number::Float(a.AsDouble() * b.AsDouble());
}

Number operator/(const Number& a, const Number& b) {
  if (a.kind_ != Number::Kind::kFloat && b.kind_ != Number::Kind::kFloat) {
    if (a.kind_ == Number::Kind::kInt && b.kind_ == Number::Kind::kInt) {
      if (b.i_ != 0 && !(a.i_ == std::numeric_limits<int64_t>::min() && b.i_ == -1) &&
          a.i_ % b.i_ == 0) {
        return Number::Int(a.i_ / b.i_);
      }
    } else {
      cpp_int x = a.ToBig().v, y = b.ToBig().v;
      if (y != 0 && x % y == 0) return Number::FromBig(BigInt{x / y});
    }
  }
  return Number::Float(a.AsDouble() / b.AsDouble());
}

Number Number::Rem(const Number& b) const {
  if (kind_ == Kind::kInt && b.kind_ == Kind::kInt) {
    if (b.i_ == -1) return Int(0);
    return Int(i_ % b.i_);
  }
  return FromBig(BigInt{ToBig().v % b.ToBig().v});
}

Number Number::Negate() const {
  switch (kind_) {
    case Kind::kInt:
      if (i_ != std::numeric_limits<int64_t>::min()) return Int(-i_);
      return FromBig(BigInt{-cpp_int(i_)});
    case Kind::kBig:
      return FromBig(BigInt{-big_->v});
    case Kind::kFloat:
      return Float(-d_);
  }
  return *this;
}

Number Number::Abs() const { return IsNegative() ? Negate() : *this; }

Number Number::Floor() const {
  if (kind_ != Kind::kFloat || !std::isfinite(d_)) return *this;
  double f = std::floor(d_);
  if (std::fabs(f) < 9e18) return Int(static_cast<int64_t>(f));
  return FromBig(BigInt{cpp_int(f)});
}

Number Number::Ceil() const {
  if (kind_ != Kind::kFloat || !std::isfinite(d_)) return *this;
  double f = std::ceil(d_);
  if (std::fabs(f) < 9e18) return Int(static_cast<int64_t>(f));
  return FromBig(BigInt{cpp_int(f)});
}

Number Number::Round() const {
  if (kind_ != Kind::kFloat || !std::isfinite(d_)) return *this;
  double f = std::round(d_);
  if (std::fabs(f) < 9e18) return Int(static_cast<int64_t>(f));
  return FromBig(BigInt{cpp_int(f)});
}

Number Number::BitAnd(const Number& b) const {
  if (kind_ == Kind::kInt && b.kind_ == Kind::kInt) return Int(i_ & b.i_);
  return FromBig(BigInt{ToBig().v & b.ToBig().v});
}

Number Number::BitOr(const Number& b) const {
  if (kind_ == Kind::kInt && b.kind_ == Kind::kInt) return Int(i_ | b.i_);
  return FromBig(BigInt{ToBig().v | b.ToBig().v});
}

Number Number::BitXor(const Number& b) const {
  if (kind_ == Kind::kInt && b.kind_ == Kind::kInt) return Int(i_ ^ b.i_);
  return FromBig(BigInt{ToBig().v ^ b.ToBig().v});
}

Number Number::BitNot() const {
  if (kind_ == Kind::kInt) return Int(~i_);
  return FromBig(BigInt{-ToBig().v - 1});
}

Number Number::ShiftLeft(uint64_t n) const {
  return FromBig(BigInt{ToBig().v << static_cast<unsigned>(n)});
}

Number Number::ShiftRight(uint64_t n) const {
  // Arithmetic shift (floor division by 2^n), as Go's big.Int.Rsh does.
  cpp_int v = ToBig().v;
  if (v >= 0) return FromBig(BigInt{v >> static_cast<unsigned>(n)});
  cpp_int d = cpp_int(1) << static_cast<unsigned>(n);
  cpp_int q = v / d;
  if (q * d != v) q -= 1;
  return FromBig(BigInt{q});
}

Number Number::Pow(int64_t base, int exp) {
  cpp_int v = 1;
  for (int i = 0; i < exp; ++i) v *= base;
  return FromBig(BigInt{v});
}

std::string Number::FormatInteger(int base) const {
  cpp_int v = ToBig().v;
  bool neg = v < 0;
  if (neg) v = -v;
  if (v == 0) return "0";
  std::string digits;
  static const char kDigits[] = "0123456789abcdef";
  while (v > 0) {
    int d = static_cast<int>(v % base);
    digits.push_back(kDigits[d]);
    v /= base;
  }
  if (neg) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

}  // namespace ccburst::policy
