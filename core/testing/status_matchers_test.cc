#include "core/testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ccburst::core::testing {
namespace {

using ::testing::_;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Status Bad() { return absl::InvalidArgumentError("quote: header too short"); }
absl::StatusOr<int> BadInt() { return absl::NotFoundError("no such key `k`"); }
absl::StatusOr<int> Seven() { return 7; }

// What a matcher prints when it rejects `value`: the "Expected:" and "Actual: ... which ..."
// parts of a failure message.
template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  ::testing::Matcher<const T&> m = matcher;
  ::testing::StringMatchResultListener listener;
  m.MatchAndExplain(value, &listener);
  return ::testing::DescribeMatcher<const T&>(m) + " / " + listener.str();
}

TEST(IsOk, MatchesStatusAndStatusOr) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(Seven(), IsOk());
  EXPECT_THAT(Bad(), Not(IsOk()));
  EXPECT_THAT(BadInt(), Not(IsOk()));
}

TEST(IsOk, ExplanationHasTheStatus) {
  EXPECT_THAT(Explain(IsOk(), Bad()),
              HasSubstr("which has status INVALID_ARGUMENT: quote: header too short"));
  EXPECT_THAT(Explain(IsOk(), BadInt()), HasSubstr("NOT_FOUND: no such key `k`"));
}

TEST(IsOkAndHolds, MatchesTheValue) {
  EXPECT_THAT(Seven(), IsOkAndHolds(7));
  EXPECT_THAT(Seven(), IsOkAndHolds(AllOf(Eq(7), Not(Eq(8)))));
  EXPECT_THAT(Seven(), Not(IsOkAndHolds(8)));
  EXPECT_THAT(BadInt(), Not(IsOkAndHolds(_)));
  EXPECT_THAT(absl::StatusOr<std::string>("abc"), IsOkAndHolds(HasSubstr("b")));
  EXPECT_THAT(Explain(IsOkAndHolds(8), Seven()), HasSubstr("which contains value 7"));
  EXPECT_THAT(Explain(IsOkAndHolds(8), BadInt()), HasSubstr("NOT_FOUND: no such key `k`"));
}

TEST(IsOkAndHolds, WorksOnMoveOnlyValues) {
  absl::StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(3);
  EXPECT_THAT(p, IsOkAndHolds(::testing::Pointee(3)));
}

TEST(StatusIs, MatchesCodeAndMessage) {
  EXPECT_THAT(Bad(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Bad(), StatusIs(absl::StatusCode::kInvalidArgument, "quote: header too short"));
  EXPECT_THAT(Bad(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("header")));
  EXPECT_THAT(Bad(), StatusIs(_, HasSubstr("header")));
  EXPECT_THAT(BadInt(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("`k`")));
  EXPECT_THAT(Seven(), StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(Bad(), Not(StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_THAT(Bad(), Not(StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailer"))));
}

TEST(StatusIs, ExplanationHasTheStatusAndWhatDiffered) {
  std::string code = Explain(StatusIs(absl::StatusCode::kNotFound), Bad());
  EXPECT_THAT(code, HasSubstr("has a status code that is equal to NOT_FOUND"));
  EXPECT_THAT(code, HasSubstr("which has status INVALID_ARGUMENT: quote: header too short"));
  EXPECT_THAT(code, HasSubstr("the code does not match"));
  std::string message =
      Explain(StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailer")), Bad());
  EXPECT_THAT(message, HasSubstr("has an error message that has substring \"trailer\""));
  EXPECT_THAT(message, HasSubstr("the message does not match"));
}

TEST(AssertionMacros, PassOnOk) {
  EXPECT_OK(absl::OkStatus());
  ASSERT_OK(Seven());
  ASSERT_OK_AND_ASSIGN(int seven, Seven());
  EXPECT_EQ(seven, 7);
  ASSERT_OK_AND_ASSIGN(auto p, absl::StatusOr<std::unique_ptr<int>>(std::make_unique<int>(4)));
  EXPECT_EQ(*p, 4);
}

TEST(AssertionMacros, FailureNamesTheExpressionAndPrintsTheStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(Bad()),
                          "`Bad()` is not OK: INVALID_ARGUMENT: quote: header too short");
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(BadInt()) << "while reading k", "while reading k");
  EXPECT_FATAL_FAILURE(ASSERT_OK(BadInt()), "`BadInt()` is not OK: NOT_FOUND: no such key `k`");
  EXPECT_FATAL_FAILURE(
      {
        ASSERT_OK_AND_ASSIGN(int v, BadInt());
        (void)v;
      },
      "`BadInt()` is not OK: NOT_FOUND: no such key `k`");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Bad(), StatusIs(absl::StatusCode::kNotFound)),
                          "INVALID_ARGUMENT: quote: header too short");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(BadInt(), IsOk()), "NOT_FOUND: no such key `k`");
}

TEST(AssertionMacros, StatusOrPrintsItsStatusNotItsBytes) {
  EXPECT_EQ(::testing::PrintToString(BadInt()), "NOT_FOUND: no such key `k`");
  EXPECT_EQ(::testing::PrintToString(Seven()), "OK: 7");
}

}  // namespace
}  // namespace ccburst::core::testing
