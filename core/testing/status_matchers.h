// Test support: GMock matchers and assertion macros for absl::Status and absl::StatusOr<T>, so a
// failing test prints the error it got instead of "false". Debian 12's abseil (20220623) ships no
// absl/status/status_matchers.h; these follow its names and behaviour:
//
//   EXPECT_OK(store->Put("k", "v"));
//   ASSERT_OK_AND_ASSIGN(auto quote, ParseQuote(bytes));
//   EXPECT_THAT(ParseQuote(""), StatusIs(absl::StatusCode::kInvalidArgument,
//                                        HasSubstr("quote: header")));
//   EXPECT_THAT(Lookup("k"), IsOkAndHolds("v"));
//
// Every matcher accepts both absl::Status and absl::StatusOr<T>; on a mismatch the explanation
// contains the actual status code and message.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/status.h"

namespace ccburst::core::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// "INVALID_ARGUMENT: quote: header too short", or "OK".
inline std::string Describe(const absl::Status& status) { return status.ToString(); }

template <typename T>
class MonoIsOkMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  void DescribeTo(std::ostream* os) const override { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const override { *os << "is not OK"; }
  bool MatchAndExplain(T actual, ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(actual);
    *listener << "which has status " << Describe(status);
    return status.ok();
  }
};

class IsOkMatcher {
 public:
  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT(google-explicit-constructor)
    return ::testing::Matcher<T>(new MonoIsOkMatcherImpl<const T&>());
  }
};

template <typename StatusOrType>
class IsOkAndHoldsMatcherImpl : public ::testing::MatcherInterface<StatusOrType> {
 public:
  using ValueType = typename std::remove_cv_t<std::remove_reference_t<StatusOrType>>::value_type;

  template <typename InnerMatcher>
  explicit IsOkAndHoldsMatcherImpl(InnerMatcher&& inner)
      : inner_(::testing::SafeMatcherCast<const ValueType&>(std::forward<InnerMatcher>(inner))) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "isn't OK or has a value that ";
    inner_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(StatusOrType actual,
                       ::testing::MatchResultListener* listener) const override {
    if (!actual.ok()) {
      *listener << "which has status " << Describe(actual.status());
      return false;
    }
    ::testing::StringMatchResultListener inner_listener;
    const bool matches = inner_.MatchAndExplain(*actual, &inner_listener);
    *listener << "which contains value " << ::testing::PrintToString(*actual);
    const std::string explanation = inner_listener.str();
    if (!explanation.empty()) *listener << ", " << explanation;
    return matches;
  }

 private:
  ::testing::Matcher<const ValueType&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT(google-explicit-constructor)
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<const StatusOrType&>(inner_));
  }

 private:
  InnerMatcher inner_;
};

class StatusIsMatcherCommonImpl {
 public:
  StatusIsMatcherCommonImpl(::testing::Matcher<absl::StatusCode> code,
                            ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_.DescribeTo(os);
    *os << ", and has an error message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_.DescribeNegationTo(os);
    *os << ", or has an error message that ";
    message_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(const absl::Status& status, ::testing::MatchResultListener* listener) const {
    *listener << "which has status " << Describe(status);
    ::testing::StringMatchResultListener inner;
    if (!code_.MatchAndExplain(status.code(), &inner)) {
      *listener << " (the code does not match)";
      return false;
    }
    if (!message_.MatchAndExplain(core::Message(status), &inner)) {
      *listener << " (the message does not match)";
      return false;
    }
    return true;
  }

 private:
  const ::testing::Matcher<absl::StatusCode> code_;
  const ::testing::Matcher<const std::string&> message_;
};

template <typename T>
class MonoStatusIsMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  explicit MonoStatusIsMatcherImpl(StatusIsMatcherCommonImpl common) : common_(std::move(common)) {}
  void DescribeTo(std::ostream* os) const override { common_.DescribeTo(os); }
  void DescribeNegationTo(std::ostream* os) const override { common_.DescribeNegationTo(os); }
  bool MatchAndExplain(T actual, ::testing::MatchResultListener* listener) const override {
    return common_.MatchAndExplain(GetStatus(actual), listener);
  }

 private:
  StatusIsMatcherCommonImpl common_;
};

class StatusIsMatcher {
 public:
  template <typename CodeMatcher, typename MessageMatcher>
  StatusIsMatcher(CodeMatcher&& code, MessageMatcher&& message)
      : common_(::testing::MatcherCast<absl::StatusCode>(std::forward<CodeMatcher>(code)),
                ::testing::MatcherCast<const std::string&>(std::forward<MessageMatcher>(message))) {
  }

  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT(google-explicit-constructor)
    return ::testing::Matcher<T>(new MonoStatusIsMatcherImpl<const T&>(common_));
  }

 private:
  StatusIsMatcherCommonImpl common_;
};

// The predicate-formatter behind ASSERT_OK / EXPECT_OK: "`expr` is not OK: CODE: message".
template <typename T>
::testing::AssertionResult AssertOk(const char* expr_text, const T& actual) {
  const absl::Status& status = GetStatus(actual);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "`" << expr_text << "` is not OK: " << Describe(status);
}
// The same with the expression's text passed as a value (ASSERT_OK_AND_ASSIGN names `expr`, not
// the temporary that holds it).
template <typename T>
::testing::AssertionResult AssertOkNamed(const char*, const char*, const char* expr_text,
                                         const T& actual) {
  return AssertOk(expr_text, actual);
}

}  // namespace internal_status

// Matches an OK absl::Status or an absl::StatusOr<T> that holds a value.
inline internal_status::IsOkMatcher IsOk() { return {}; }

// Matches an absl::StatusOr<T> that holds a value matched by `inner` (a matcher or a value).
template <typename InnerMatcher>
internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

// Matches a status (or the status of a StatusOr) whose code matches `code` and whose message
// matches `message`; both may be values or matchers (`_`, `HasSubstr("...")`).
template <typename CodeMatcher, typename MessageMatcher>
internal_status::StatusIsMatcher StatusIs(CodeMatcher&& code, MessageMatcher&& message) {
  return internal_status::StatusIsMatcher(std::forward<CodeMatcher>(code),
                                          std::forward<MessageMatcher>(message));
}
template <typename CodeMatcher>
internal_status::StatusIsMatcher StatusIs(CodeMatcher&& code) {
  return StatusIs(std::forward<CodeMatcher>(code), ::testing::_);
}

}  // namespace ccburst::core::testing

// Debian's abseil has no printer for StatusOr, so GoogleTest would print its bytes in the
// "Actual:" line of a failed EXPECT_THAT. PrintTo must live in the type's namespace.
#if ABSL_LTS_RELEASE_VERSION < 20230802
namespace absl {
template <typename T>
void PrintTo(const StatusOr<T>& status_or, std::ostream* os) {
  if (status_or.ok()) {
    *os << "OK: " << ::testing::PrintToString(*status_or);
  } else {
    *os << status_or.status();
  }
}
}  // namespace absl
#endif

// Fails the test (ASSERT_) or records a failure (EXPECT_) when `expr`, an absl::Status or
// absl::StatusOr<T>, is not OK; the failure names the expression and prints the status. Both take
// `<< extra` context like every GoogleTest assertion.
#define EXPECT_OK(expr) \
  EXPECT_PRED_FORMAT1(::ccburst::core::testing::internal_status::AssertOk, expr)
#define ASSERT_OK(expr) \
  ASSERT_PRED_FORMAT1(::ccburst::core::testing::internal_status::AssertOk, expr)

// `ASSERT_OK_AND_ASSIGN(auto v, F())`: evaluates `F()` (a StatusOr), fails the test with its
// status when not OK, else moves the value into `lhs`. Only usable in void-returning functions,
// like every ASSERT_.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  CCB_ASSERT_OK_AND_ASSIGN_IMPL_(CCB_CONCAT_(ccb_testing_statusor_, __LINE__), lhs, rexpr, #rexpr)
#define CCB_ASSERT_OK_AND_ASSIGN_IMPL_(var, lhs, rexpr, text)                               \
  auto var = (rexpr);                                                                       \
  ASSERT_PRED_FORMAT2(::ccburst::core::testing::internal_status::AssertOkNamed, text, var); \
  lhs = std::move(var).value()
