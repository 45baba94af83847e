#include "crypto/jwt_claims.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace ccburst::crypto {
namespace {

// RFC 3339 from Unix seconds directly: a TimePoint (nanoseconds) ends in 2262, before the largest
// NumericDate we accept.
std::string Date(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

absl::Status OutOfRange(std::string_view name) {
  return absl::InvalidArgumentError(
      fmt::format("jwt: claim `{}` is not a date between 0 and {} (9999-12-31T23:59:59Z)", name,
                  kMaxNumericDate));
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> NumericDateClaim(const boost::json::object& claims,
                                                        std::string_view name) {
  const boost::json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) {
    int64_t s = v->get_int64();
    if (s < 0 || s > kMaxNumericDate) return OutOfRange(name);
    return s;
  }
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<uint64_t>(kMaxNumericDate)) return OutOfRange(name);
    return static_cast<int64_t>(v->get_uint64());
  }
  if (v->is_double()) {
    // Compare as doubles first: converting 1e300 or NaN to an integer is undefined behaviour.
    double d = v->get_double();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxNumericDate)) {
      return OutOfRange(name);
    }
    if (d != std::floor(d)) {
      return absl::InvalidArgumentError(
          fmt::format("jwt: claim `{}` = {} is not a whole number of seconds", name, d));
    }
    return static_cast<int64_t>(d);
  }
  return absl::InvalidArgumentError(fmt::format("jwt: claim `{}` is not a number", name));
}

absl::Status CheckJwtTimeClaims(const boost::json::object& claims, int64_t now,
                                JwtTimeRules rules) {
  const int64_t leeway = kJwtLeeway.count();
  CCB_ASSIGN_OR_RETURN(std::optional<int64_t> exp, NumericDateClaim(claims, "exp"));
  CCB_ASSIGN_OR_RETURN(std::optional<int64_t> nbf, NumericDateClaim(claims, "nbf"));
  CCB_ASSIGN_OR_RETURN(std::optional<int64_t> iat, NumericDateClaim(claims, "iat"));
  if (!exp && rules.require_exp) return absl::InvalidArgumentError("jwt: no `exp` claim");
  if (!iat && rules.require_iat) return absl::InvalidArgumentError("jwt: no `iat` claim");
  // Claims are within 0..kMaxNumericDate, so `claim + leeway` cannot overflow; `now` comes from
  // our clock and is only ever compared.
  if (exp && now > *exp + leeway) {
    return absl::PermissionDeniedError(fmt::format("jwt: expired at {}", Date(*exp)));
  }
  if (nbf && *nbf > now && *nbf - leeway > now) {
    return absl::PermissionDeniedError(fmt::format("jwt: not valid before {} (`nbf`)", Date(*nbf)));
  }
  if (iat && *iat > now && *iat - leeway > now) {
    return absl::PermissionDeniedError(
        fmt::format("jwt: issued in the future at {} (`iat`)", Date(*iat)));
  }
  return absl::OkStatus();
}

}  // namespace ccburst::crypto
