#include "net/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::net {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::Pair;

TEST(PercentDecodeTest, DecodesEscapesInBothCases) {
  EXPECT_EQ(*PercentDecode("-----BEGIN%20CERTIFICATE-----%0A"), "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(*PercentDecode("%2d%2D%00"), std::string("--\0", 3));
  EXPECT_EQ(*PercentDecode(""), "");
}

TEST(PercentDecodeTest, PlusIsASpaceOnlyInQueries) {
  EXPECT_EQ(*PercentDecode("a+b%2B", PercentForm::kPath), "a+b+");
  EXPECT_EQ(*PercentDecode("a+b%2B", PercentForm::kQuery), "a b+");
}

TEST(PercentDecodeTest, BadEscapesAreErrorsNamingTheOffset) {
  for (std::string_view bad : {"%", "%4", "ab%4", "%zz", "%4g"}) {
    auto r = PercentDecode(bad);
    ASSERT_THAT(r, Not(IsOk())) << bad;
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(core::Message(PercentDecode("ab%4").status()),
            "percent escape at offset 2 is truncated");
  EXPECT_EQ(core::Message(PercentDecode("%zz").status()),
            "percent escape at offset 0 is not hexadecimal");
}

TEST(PercentEncodeTest, KeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode(R"(sum(x{a="b"}) or vector(0))"),
            "sum%28x%7Ba%3D%22b%22%7D%29%20or%20vector%280%29");
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode(std::string("\xff+/", 3)), "%FF%2B%2F");
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(*PercentDecode(PercentEncode(all)), all);
  EXPECT_EQ(*PercentDecode(PercentEncode(all), PercentForm::kQuery), all);
}

TEST(ParseQueryTest, PairsInOrderDecoded) {
  auto q = ParseQuery("a=1&b=x%20y+z&c&&d=&a=2");
  ASSERT_OK(q);
  EXPECT_THAT(*q, ElementsAre(Pair("a", "1"), Pair("b", "x y z"), Pair("c", ""), Pair("d", ""),
                              Pair("a", "2")));
  EXPECT_TRUE(ParseQuery("")->empty());
  auto bad = ParseQuery("ok=1&v=%zz");
  ASSERT_THAT(
      bad, StatusIs(_, "query parameter `v=%zz`: percent escape at offset 0 is not hexadecimal"));
}

TEST(SplitPathTest, EverySlashSeparates) {
  EXPECT_THAT(SplitPath("a/b/c"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitPath(""), ElementsAre(""));
  EXPECT_THAT(SplitPath("a//b/"), ElementsAre("a", "", "b", ""));
}

}  // namespace
}  // namespace ccburst::net
