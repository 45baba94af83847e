#include "core/log_safe.h"

#include <gtest/gtest.h>

namespace ccburst::core {
namespace {

TEST(LogSafeTest, EscapesEveryByteThatCouldForgeALine) {
  EXPECT_EQ(LogSafe("sample"), "sample");
  EXPECT_EQ(LogSafe("x\n[info] admin: resource `a/b/c` deleted"),
            "x\\n[info] admin: resource `a/b/c` deleted");
  EXPECT_EQ(LogSafe(std::string("a\r\t\\\0\x1b\xff", 7)), "a\\r\\t\\\\\\x00\\x1b\\xff");
}

TEST(LogSafeTest, Truncates) {
  std::string big(2 * 1024 * 1024, 'A');
  std::string safe = LogSafe(big, 16);
  EXPECT_EQ(safe, "AAAAAAAAAAAAAAAA...(2097152 bytes)");
  EXPECT_LE(LogSafe(big).size(), 300u);
}

TEST(LogRateLimiterTest, IdenticalLinesAreCappedPerWindow) {
  LogRateLimiter limiter(2, std::chrono::seconds(10), 4);
  auto t0 = std::chrono::steady_clock::time_point{};
  EXPECT_TRUE(limiter.Admit("a", t0).log);
  EXPECT_TRUE(limiter.Admit("a", t0).log);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(limiter.Admit("a", t0).log);
  EXPECT_TRUE(limiter.Admit("b", t0).log);  // another line is not affected
  auto later = limiter.Admit("a", t0 + std::chrono::seconds(10));
  EXPECT_TRUE(later.log);
  EXPECT_EQ(later.suppressed, 20u);
  // Many distinct keys never grow the table past its bound and never block logging.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Admit(std::to_string(i), t0).log);
}

}  // namespace
}  // namespace ccburst::core
