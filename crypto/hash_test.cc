#include "crypto/hash.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/random.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::Not;

// RFC 5869, appendix A.1 (test case 1).
TEST(Hash, HkdfSha256Rfc5869Case1) {
  std::string ikm(22, '\x0b');
  auto salt = core::HexDecode("000102030405060708090a0b0c");
  auto info = core::HexDecode("f0f1f2f3f4f5f6f7f8f9");
  ASSERT_TRUE(salt.ok() && info.ok());
  EXPECT_EQ(core::HexEncode(HkdfSha256(ikm, *salt, *info, 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

TEST(Hash, KnownVectors) {
  EXPECT_EQ(core::HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(core::HexEncode(Sha384("abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(core::HexEncode(Sha512("abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(core::HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Hash, ProtocolJcsVector) {
  auto v = core::ParseJson(R"({"b":1,"a":"test","c":{"d":"e"}})");
  ASSERT_OK(v);
  std::string jcs = core::Jcs(*v);
  EXPECT_EQ(jcs, R"({"a":"test","b":1,"c":{"d":"e"}})");
  EXPECT_EQ(core::HexEncode(Sha384(jcs)),
            "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c"
            "4597480a186427c813ca941da78870c3");
}

TEST(Hash, DigestByName) {
  EXPECT_EQ(*Digest("sha256", "abc"), Sha256("abc"));
  EXPECT_EQ(*Digest("sha384", "abc"), Sha384("abc"));
  EXPECT_EQ(*Digest("sha512", "abc"), Sha512("abc"));
  auto bad = Digest("md5", "abc");
  ASSERT_THAT(bad,
              StatusIs(absl::StatusCode::kInvalidArgument, "hash: unsupported algorithm `md5`"));
  EXPECT_THAT(Digest("SHA256", "abc"), Not(IsOk()));
}

TEST(Hash, SizesAndNames) {
  for (HashAlg a : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    EXPECT_EQ(Hash(a, "x").size(), HashSize(a));
    EXPECT_EQ(*ParseHashAlg(HashAlgName(a)), a);
  }
}

TEST(Random, LengthAndVariety) {
  EXPECT_EQ(RandomBytes(0), "");
  std::string a = RandomBytes(32);
  std::string b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(RandomBytes(1000).size(), 1000u);
}

}  // namespace
}  // namespace ccburst::crypto
