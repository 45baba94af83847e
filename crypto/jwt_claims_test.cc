#include "crypto/jwt_claims.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000;

boost::json::object Claims(std::string_view json) {
  auto v = core::ParseJson(json);
  EXPECT_OK(v);
  return v->as_object();
}

absl::Status Check(std::string_view json, JwtTimeRules rules = {}) {
  return CheckJwtTimeClaims(Claims(json), kNow, rules);
}

TEST(JwtTimeClaims, WithinLifetimeAndLeeway) {
  EXPECT_OK(Check(R"({"exp":1700000300,"nbf":1699999000,"iat":1699999000})"));
  // 60 s of leeway on each side, not 61.
  EXPECT_OK(Check(R"({"exp":1699999940})"));
  EXPECT_THAT(Check(R"({"exp":1699999939})"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_OK(Check(R"({"exp":1700000300,"nbf":1700000060})"));
  EXPECT_THAT(Check(R"({"exp":1700000300,"nbf":1700000061})"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_OK(Check(R"({"exp":1700000300,"iat":1700000060})"));
  EXPECT_THAT(Check(R"({"exp":1700000300,"iat":1700000061})"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // An integral double is the same date.
  EXPECT_OK(Check(R"({"exp":1700000300.0})"));
  EXPECT_EQ(kJwtLeeway, std::chrono::seconds(60));
}

TEST(JwtTimeClaims, OutsideLifetimeIsPermissionDeniedNamingTheDate) {
  absl::Status expired = Check(R"({"exp":1600000000})");
  EXPECT_THAT(expired, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(expired), "jwt: expired at 2020-09-13T12:26:40Z");
  absl::Status early = Check(R"({"exp":1800000000,"nbf":1800000000})");
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(early), "jwt: not valid before 2027-01-15T08:00:00Z (`nbf`)");
  absl::Status future = Check(R"({"exp":1800000000,"iat":1800000000})");
  EXPECT_THAT(future, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(future), HasSubstr("jwt: issued in the future"));
}

TEST(JwtTimeClaims, RequiredClaims) {
  EXPECT_EQ(core::Message(Check(R"({})")), "jwt: no `exp` claim");
  EXPECT_THAT(Check(R"({})"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(Check(R"({})", {.require_exp = false}));
  absl::Status no_iat = Check(R"({"exp":1700000300})", {.require_iat = true});
  EXPECT_THAT(no_iat, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(core::Message(no_iat), "jwt: no `iat` claim");
}

// Hostile values a signed token may carry (anyone can sign one under insecure_header_jwk): each
// is a precise InvalidArgument, never arithmetic on an out-of-range number.
TEST(JwtTimeClaims, HostileNumbersAreRefusedWithoutOverflow) {
  struct Case {
    const char* claims;
    const char* message;
  };
  const Case cases[] = {
      {R"({"exp":1e300})", "jwt: claim `exp` is not a date between 0 and 253402300799"},
      {R"({"exp":-1e300})", "jwt: claim `exp` is not a date between 0 and 253402300799"},
      {R"({"exp":9223372036854775807})", "jwt: claim `exp` is not a date between 0"},
      {R"({"exp":18446744073709551615})", "jwt: claim `exp` is not a date between 0"},
      {R"({"exp":-9223372036854775808})", "jwt: claim `exp` is not a date between 0"},
      {R"({"exp":-1})", "jwt: claim `exp` is not a date between 0"},
      {R"({"exp":1.5})", "jwt: claim `exp` = 1.5 is not a whole number of seconds"},
      {R"({"exp":"NaN"})", "jwt: claim `exp` is not a number"},
      {R"({"exp":"1700000300"})", "jwt: claim `exp` is not a number"},
      {R"({"exp":null})", "jwt: claim `exp` is not a number"},
      {R"({"exp":true})", "jwt: claim `exp` is not a number"},
      {R"({"exp":1700000300,"nbf":1e300})", "jwt: claim `nbf` is not a date between 0"},
      {R"({"exp":1700000300,"nbf":-1e300})", "jwt: claim `nbf` is not a date between 0"},
      {R"({"exp":1700000300,"nbf":"Infinity"})", "jwt: claim `nbf` is not a number"},
      {R"({"exp":1700000300,"nbf":0.25})", "jwt: claim `nbf` = 0.25 is not a whole number"},
      {R"({"exp":1700000300,"iat":1e300})", "jwt: claim `iat` is not a date between 0"},
      {R"({"exp":1700000300,"iat":-1e300})", "jwt: claim `iat` is not a date between 0"},
      {R"({"exp":1700000300,"iat":"NaN"})", "jwt: claim `iat` is not a number"},
      {R"({"exp":1700000300,"iat":1699999999.9})",
       "jwt: claim `iat` = 1699999999.9 is not a whole"},
  };
  for (const Case& c : cases) {
    absl::Status s = Check(c.claims, {.require_iat = false});
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.claims;
    EXPECT_THAT(core::Message(s), HasSubstr(c.message)) << c.claims;
  }
}

TEST(JwtTimeClaims, LargestDateIsAcceptedAndFormatted) {
  EXPECT_OK(Check(R"({"exp":253402300799})"));
  auto exp = NumericDateClaim(Claims(R"({"exp":253402300799})"), "exp");
  ASSERT_OK(exp);
  EXPECT_EQ(**exp, kMaxNumericDate);
  absl::Status s = CheckJwtTimeClaims(Claims(R"({"exp":253402300799})"), kMaxNumericDate + 61);
  EXPECT_EQ(core::Message(s), "jwt: expired at 9999-12-31T23:59:59Z");
  EXPECT_FALSE(NumericDateClaim(Claims("{}"), "exp")->has_value());
}

}  // namespace
}  // namespace ccburst::crypto
