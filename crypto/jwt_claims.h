// The lifetime check of every JWT ccburst accepts (admin bearer tokens, attestation tokens
// presented as bearer tokens or kept in a session, tokens re-read by the attestation service):
// one set of rules for `exp`, `nbf` and `iat`, one leeway, and no arithmetic on a number before it
// is known to be a sane NumericDate, so a signed token carrying `exp: 1e300` is refused, never
// undefined behaviour.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"

namespace ccburst::crypto {

// Clock skew tolerated between the issuer and us, on every time claim.
inline constexpr std::chrono::seconds kJwtLeeway{60};

// The largest NumericDate accepted: 9999-12-31T23:59:59Z. Bounds every claim so that adding the
// leeway and formatting the time can neither overflow nor fail.
inline constexpr int64_t kMaxNumericDate = 253402300799;

// The NumericDate claim `name` of `claims` (RFC 7519 section 2), nullopt when absent. It must be
// a JSON number whose value is an integer in 0..kMaxNumericDate (`1700000000` and
// `1700000000.0` are the same date); anything else (a string, `1.5`, `-1`, `1e300`) is
// InvalidArgument "jwt: claim `exp` ...".
absl::StatusOr<std::optional<int64_t>> NumericDateClaim(const boost::json::object& claims,
                                                        std::string_view name);

struct JwtTimeRules {
  bool require_exp = true;   // a token without `exp` never expires: refuse it
  bool require_iat = false;  // our own EAR tokens always carry `iat`
};

// Checks a token's lifetime at `now` (Unix seconds) with kJwtLeeway on each side:
//  - `exp` (required unless `rules.require_exp` is false): now <= exp + leeway;
//  - `nbf` (optional): nbf <= now + leeway;
//  - `iat` (required when `rules.require_iat`): iat <= now + leeway.
// A missing or malformed claim is InvalidArgument ("jwt: no `exp` claim", "jwt: claim `nbf` is
// not a number"); a token outside its lifetime is PermissionDenied ("jwt: expired at
// 2024-01-01T00:00:00Z", "jwt: not valid before ... (`nbf`)", "jwt: issued in the future at ...
// (`iat`)"). Callers put their own context in front and may change the code (the admin API
// answers Unauthenticated), never the rules.
absl::Status CheckJwtTimeClaims(const boost::json::object& claims, int64_t now,
                                JwtTimeRules rules = {});

}  // namespace ccburst::crypto
