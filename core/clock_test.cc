#include "core/clock.h"

#include <gtest/gtest.h>

namespace ccburst::core {
namespace {

TEST(Rfc3339, ParsesAndFormats) {
  auto t = ParseRfc3339("2025-03-15T03:39:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ToUnixSeconds(*t), 1742009940);
  EXPECT_EQ(FormatRfc3339(*t), "2025-03-15T03:39:00Z");
  auto off = ParseRfc3339("2025-03-15T05:39:00.5+02:00");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(ToUnixSeconds(*off), 1742009940);
  EXPECT_FALSE(ParseRfc3339("2025-03-15 03:39:00").ok());
  EXPECT_FALSE(ParseRfc3339("2025-03-15T03:39:00").ok());
  EXPECT_EQ(FormatHttpDate(FromUnixSeconds(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace ccburst::core
