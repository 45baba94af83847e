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

TEST(NormalizePathTest, DecodesEachSegment) {
  EXPECT_EQ(*NormalizePath("/"), "/");
  EXPECT_EQ(*NormalizePath("/kbs/v0/resource/a/b/c"), "/kbs/v0/resource/a/b/c");
  EXPECT_EQ(*NormalizePath("/a/%62/c%2e"), "/a/b/c.");
  EXPECT_EQ(*NormalizePath("/a//b/"), "/a//b/");
  EXPECT_EQ(*NormalizePath("/a+b/..."), "/a+b/...");
}

TEST(NormalizePathTest, RefusesWhatCouldBeReadTwoWays) {
  for (std::string_view bad :
       {"", "a/b", "/a?x=/b", "/a#b", "/..", "/a/../b", "/a/./b", "/a/.", "/a/%2e%2e/b", "/a/%2E/b",
        "/a%2Fb", "/a%2fb", "/a%5Cb", "/a%00b", "/a%0Ab", "/a%", "/a%zz"}) {
    auto r = NormalizePath(bad);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_EQ(core::Message(NormalizePath("/x/a%2Fb").status()),
            "path segment 1 encodes a `/`, `\\` or a control byte");
  EXPECT_EQ(core::Message(NormalizePath("/x/%2e%2e").status()), "path segment 1 is a dot segment");
}

}  // namespace
}  // namespace ccburst::net
