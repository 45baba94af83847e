#include "core/json.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::core {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::Not;

TEST(Jcs, ProtocolVectorSortsAndCompacts) {
  auto v = ParseJson(R"({"b":1,"a":"test","c":{"d":"e"}})");
  ASSERT_OK(v);
  EXPECT_EQ(Jcs(*v), R"({"a":"test","b":1,"c":{"d":"e"}})");
}

TEST(Jcs, NumbersFollowEcmaScript) {
  auto v =
      ParseJson(R"([0, -0.0, 1.0, 1e21, 1e20, 0.000001, 1e-7, 1.5, -123.456, 333333333.3333333])");
  ASSERT_OK(v);
  EXPECT_EQ(Jcs(*v),
            "[0,0,1,1e+21,100000000000000000000,0.000001,1e-7,1.5,-123.456,333333333.3333333]");
}

TEST(Jcs, StringsEscapeMinimally) {
  json::value v = json::string("a\"\\\n\x01\xc3\xa9/");
  EXPECT_EQ(Jcs(v), "\"a\\\"\\\\\\n\\u0001\xc3\xa9/\"");
}

TEST(Jcs, SortsByUtf16CodeUnits) {
  // U+1F600 (surrogate pair d83d..) sorts before U+FB33 in UTF-16 though not in UTF-8.
  auto v = ParseJson("{\"\xef\xac\xb3\":1,\"\xf0\x9f\x98\x80\":2}");
  ASSERT_OK(v);
  EXPECT_EQ(Jcs(*v), "{\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":1}");
}

TEST(ParseJson, ReportsOffsetAndRejectsTrailingData) {
  auto bad = ParseJson(R"({"a":)");
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  auto trailing = ParseJson(R"({"a":1} x)");
  ASSERT_THAT(trailing, Not(IsOk()));
  EXPECT_NE(trailing.status().message().find("offset 8"), std::string::npos);
  EXPECT_OK(ParseJson(" {\"a\":1}\n"));
}

TEST(ParseJson, BoundsDepth) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_THAT(ParseJson(deep), Not(IsOk()));
  EXPECT_OK(ParseJson(deep, {.max_depth = 200}));
}

TEST(JsonAccess, NamesMissingField) {
  auto v = ParseJson(R"({"a":1,"o":{"b":"x"}})");
  const auto& o = v->get_object();
  auto s = GetString(o, "tee", "request");
  ASSERT_THAT(s, StatusIs(_, "request: missing field `tee`"));
  EXPECT_THAT(GetString(o, "a", "request"), Not(IsOk()));
  ASSERT_NE(FindPath(*v, "o/b"), nullptr);
  EXPECT_EQ(FindPath(*v, "o/b")->get_string(), "x");
  EXPECT_EQ(FindPath(*v, "o/c"), nullptr);
}

}  // namespace
}  // namespace ccburst::core
