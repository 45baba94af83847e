#include "core/encoding.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::core {
namespace {

using ::ccburst::core::testing::IsOk;
using ::testing::Not;

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*Base64Decode("Zm9vYg"), "foob");
}

TEST(Base64, UrlAlphabetWithoutPadding) {
  std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(*Base64UrlDecode("-_-_"), bytes);
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
}

TEST(Base64, RejectsBadInput) {
  auto r = Base64Decode("Zm9v!A==");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_NE(r.status().message().find("invalid character at offset 4"), std::string::npos);
  EXPECT_THAT(Base64Decode("Z"), Not(IsOk()));
  EXPECT_THAT(Base64Decode("Zh=="), Not(IsOk()));  // non-zero trailing bits
  EXPECT_THAT(Base64Decode("Zg=", Base64Alphabet::kStandard), Not(IsOk()));
  EXPECT_THAT(Base64Decode("Zg==", Base64Alphabet::kUrl, Base64Padding::kForbidden), Not(IsOk()));
  EXPECT_THAT(Base64Decode("Zg", Base64Alphabet::kStandard, Base64Padding::kRequired), Not(IsOk()));
  EXPECT_THAT(Base64UrlDecode("+/+/"), Not(IsOk()));
}

TEST(Hex, RoundTrip) {
  EXPECT_EQ(HexEncode(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(*HexDecode("00ABff"), std::string("\x00\xab\xff", 3));
  EXPECT_THAT(HexDecode("abc"), Not(IsOk()));
  EXPECT_THAT(HexDecode("zz"), Not(IsOk()));
}

}  // namespace
}  // namespace ccburst::core
