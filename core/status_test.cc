#include "core/status.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::core {
namespace {

using ::ccburst::core::testing::StatusIs;

absl::StatusOr<int> Fails() { return absl::PermissionDeniedError("signature does not verify"); }
absl::StatusOr<int> Gives() { return 7; }

absl::StatusOr<int> WithContext(int n) {
  CCB_ASSIGN_OR_RETURN(int v, Fails(), "pck chain certificate {}", n);
  return v;
}
absl::StatusOr<int> WithoutContext() {
  CCB_ASSIGN_OR_RETURN(int v, Fails());
  return v;
}
absl::Status ReturnIf(bool context) {
  if (context) CCB_RETURN_IF_ERROR(absl::NotFoundError("no such file"), "reading `{}`", "a.pem");
  CCB_RETURN_IF_ERROR(absl::NotFoundError("no such file"));
  return absl::OkStatus();
}
absl::StatusOr<int> Passes() {
  CCB_ASSIGN_OR_RETURN(int v, Gives(), "never shown");
  CCB_RETURN_IF_ERROR(absl::OkStatus(), "never shown");
  return v + 1;
}

TEST(StatusMacros, ContextGoesInFrontAndTheCodeStays) {
  auto r = WithContext(2);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Message(r.status()), "pck chain certificate 2: signature does not verify");
  EXPECT_EQ(Message(WithoutContext().status()), "signature does not verify");
  EXPECT_EQ(Message(ReturnIf(true)), "reading `a.pem`: no such file");
  EXPECT_THAT(ReturnIf(true), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Message(ReturnIf(false)), "no such file");
  EXPECT_EQ(*Passes(), 8);
}

TEST(StatusMacros, AnnotateAndWithCode) {
  EXPECT_OK(Annotate(absl::OkStatus(), "x"));
  EXPECT_EQ(Message(Annotate(absl::InternalError("b"), "")), "b");
  absl::Status s = WithCode(absl::InvalidArgumentError("bad"), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Message(s), "bad");
}

}  // namespace
}  // namespace ccburst::core
