#include "core/clock.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::core {
namespace {

using ::ccburst::core::testing::IsOk;
using ::testing::Not;

TEST(Rfc3339, ParsesAndFormats) {
  auto t = ParseRfc3339("2025-03-15T03:39:00Z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixSeconds(*t), 1742009940);
  EXPECT_EQ(FormatRfc3339(*t), "2025-03-15T03:39:00Z");
  auto off = ParseRfc3339("2025-03-15T05:39:00.5+02:00");
  ASSERT_OK(off);
  EXPECT_EQ(ToUnixSeconds(*off), 1742009940);
  EXPECT_THAT(ParseRfc3339("2025-03-15 03:39:00"), Not(IsOk()));
  EXPECT_THAT(ParseRfc3339("2025-03-15T03:39:00"), Not(IsOk()));
  EXPECT_EQ(FormatHttpDate(FromUnixSeconds(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace ccburst::core
