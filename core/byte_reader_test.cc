#include "core/byte_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::core {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kBytes("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);

TEST(ByteReaderTest, ReadsLittleAndBigEndianIntegers) {
  ByteReader r(kBytes, "t");
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  ASSERT_OK(r.U8("a", &a));
  ASSERT_OK(r.U16("b", &b));
  ASSERT_OK(r.U32Be("c", &c));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0302);
  EXPECT_EQ(c, 0x04050607u);
  EXPECT_EQ(r.offset(), 7u);
  EXPECT_EQ(r.remaining(), 3u);

  ByteReader le(kBytes), be(kBytes);
  uint64_t x = 0, y = 0;
  ASSERT_OK(le.U64("x", &x));
  ASSERT_OK(be.U64Be("y", &y));
  EXPECT_EQ(x, 0x0807060504030201u);
  EXPECT_EQ(y, 0x0102030405060708u);
  uint16_t z = 0;
  ASSERT_OK(be.U16Be("z", &z));
  EXPECT_EQ(z, 0x090a);
  EXPECT_OK(be.ExpectEnd());
}

TEST(ByteReaderTest, ShortReadNamesFieldAndOffsetAndDoesNotAdvance) {
  ByteReader r(kBytes, "tdx: quote");
  ASSERT_OK(r.Skip(8, "header"));
  uint32_t v = 0;
  absl::Status s = r.U32("body size", &v);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Message(s), "tdx: quote: body size needs 4 bytes but 2 remain at offset 8");
  EXPECT_EQ(r.offset(), 8u);
  std::string out;
  EXPECT_EQ(Message(r.Bytes(3, "tail", &out)),
            "tdx: quote: tail needs 3 bytes but 2 remain at offset 8");
  EXPECT_EQ(Message(r.Skip(SIZE_MAX, "huge")),
            "tdx: quote: huge needs 18446744073709551615 bytes but 2 remain at offset 8");
}

TEST(ByteReaderTest, FixedSizeReadsFillArrays) {
  ByteReader r(kBytes, "t");
  std::array<uint8_t, 4> guid{};
  ASSERT_OK(r.Read("guid", &guid));
  EXPECT_EQ(guid, (std::array<uint8_t, 4>{1, 2, 3, 4}));
  std::array<uint8_t, 8> big{};
  EXPECT_THAT(r.Read("big", &big), Not(IsOk()));
  std::string_view view;
  ASSERT_OK(r.View(2, "v", &view));
  EXPECT_EQ(view, kBytes.substr(4, 2));
  EXPECT_EQ(r.rest(), kBytes.substr(6));
}

TEST(ByteReaderTest, SubReaderCountsOffsetsFromTheOuterStart) {
  ByteReader r(kBytes, "outer");
  ASSERT_OK(r.Skip(2, "head"));
  ByteReader sub;
  ASSERT_OK(r.Sub(4, "inner", "inner", &sub));
  EXPECT_EQ(r.offset(), 6u);
  EXPECT_EQ(sub.remaining(), 4u);
  uint16_t v = 0;
  ASSERT_OK(sub.U16("a", &v));
  EXPECT_EQ(v, 0x0403);
  EXPECT_EQ(Message(sub.ExpectEnd()), "inner: 2 bytes left over at offset 4");
  uint32_t w = 0;
  EXPECT_EQ(Message(sub.U32("b", &w)), "inner: b needs 4 bytes but 2 remain at offset 4");
  EXPECT_THAT(r.Sub(5, "too long", "x", &sub), Not(IsOk()));
}

TEST(ByteReaderTest, SkipToMovesForwardOnly) {
  ByteReader r(kBytes, "snp: report");
  ASSERT_OK(r.SkipTo(4, "a"));
  EXPECT_EQ(r.offset(), 4u);
  EXPECT_THAT(r.SkipTo(2, "b"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(Message(r.SkipTo(11, "c")), HasSubstr("c needs 7 bytes but 6 remain at offset 4"));
  EXPECT_OK(r.SkipTo(10, "end"));
  EXPECT_OK(r.ExpectEnd());
}

TEST(ByteReaderTest, EmptyWhatHasNoPrefix) {
  ByteReader r{std::string_view()};
  uint8_t v = 0;
  EXPECT_EQ(Message(r.U8("flag", &v)), "flag needs 1 bytes but 0 remain at offset 0");
}

}  // namespace
}  // namespace ccburst::core
