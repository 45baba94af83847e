#include "evidence/tdx/quote.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/testing/status_matchers.h"
#include "evidence/dcap/pck.h"
#include "evidence/dcap/verify.h"

namespace ccburst::evidence::tdx {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string CaseFile(const std::string& c, const std::string& f) {
  return *core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/tdx/" + c + "/" + f);
}

TEST(QuoteTest, ParsesV4WithTrailingBytes) {
  auto q = ParseQuote(CaseFile("t1-emr-uptodate", "quote.bin"));
  ASSERT_OK(q);
  EXPECT_EQ(q->header.version, 4);
  EXPECT_EQ(q->header.tee_type, 0x81u);
  EXPECT_EQ(q->header.att_key_type, 2);
  EXPECT_EQ(core::HexEncode(q->header.qe_vendor_id), "939a7233f79c4ca9940a0db3957f0607");
  EXPECT_EQ(core::HexEncode(q->body.tee_tcb_svn), "06010300000000000000000000000000");
  EXPECT_EQ(core::HexEncode(q->body.mr_td),
            "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b"
            "2538873118b7");
  EXPECT_EQ(core::HexEncode(q->body.rtmr[2]),
            "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d733073364"
            "2e01d48c3132");
  EXPECT_EQ(q->signed_data.size(), 632u);
  EXPECT_EQ(q->trailing_bytes, 70u);
  EXPECT_EQ(q->qe_report.isv_svn, 6);
  EXPECT_EQ(q->qe_report.isv_prod_id, 2);
  EXPECT_EQ(core::HexEncode(q->qe_report.mr_signer),
            "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  EXPECT_EQ(q->qe_auth_data.size(), 32u);
  EXPECT_FALSE(q->body.is_td15);
  auto pck = dcap::ReadPckInfo(q->pck_chain_pem);
  ASSERT_OK(pck);
  EXPECT_EQ(core::HexEncode(pck->ext.fmspc), "b0c06f000000");
  EXPECT_EQ(core::HexEncode(pck->ext.pce_id), "0000");
  EXPECT_EQ(pck->ca, "platform");
  EXPECT_EQ(pck->ext.pcesvn, 11);
  EXPECT_EQ(pck->ext.sgx_type, 1);
  std::array<uint8_t, 16> svns = {3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(pck->ext.sgx_tcb_comp_svns, svns);
}

TEST(QuoteTest, ParsesV5Td15Body) {
  auto q = ParseQuote(CaseFile("trustee-quote5-v5-parse", "quote.bin"));
  ASSERT_OK(q);
  EXPECT_EQ(q->header.version, 5);
  EXPECT_EQ(q->body_type, 3);
  EXPECT_EQ(q->body_size, 648u);
  EXPECT_TRUE(q->body.is_td15);
  EXPECT_EQ(q->signed_data.size(), 702u);
  EXPECT_EQ(core::HexEncode(q->body.tee_tcb_svn2), "05010200000000000000000000000000");
  EXPECT_EQ(core::HexEncode(q->body.mr_servicetd),
            "383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd848fe8d47629e08b3f6cbd4a0"
            "0dd47a5a033d");
  EXPECT_EQ(q->trailing_bytes, 0u);
  auto pck = dcap::ReadPckInfo(q->pck_chain_pem);
  ASSERT_OK(pck);
  EXPECT_EQ(core::HexEncode(pck->ext.fmspc), "90c06f000000");
  EXPECT_EQ(pck->ext.pcesvn, 13);
  ASSERT_TRUE(pck->ext.platform_instance_id.has_value());
  EXPECT_EQ(core::HexEncode(*pck->ext.platform_instance_id), "6a9ea3b8d9e734495dc40b70f595f961");
  EXPECT_EQ(pck->ext.dynamic_platform, true);
  EXPECT_EQ(pck->ext.cached_keys, true);
  EXPECT_EQ(pck->ext.smt_enabled, true);
}

TEST(QuoteTest, EveryTruncationIsInvalidArgument) {
  for (const char* c : {"t1-emr-uptodate", "trustee-quote5-v5-parse", "t3-spr-outofdate"}) {
    std::string quote = CaseFile(c, "quote.bin");
    auto full = ParseQuote(quote);
    ASSERT_OK(full);
    size_t exact = quote.size() - full->trailing_bytes;
    for (size_t n = 0; n < exact; ++n) {
      auto q = ParseQuote(std::string_view(quote).substr(0, n));
      ASSERT_THAT(q, Not(IsOk())) << c << " length " << n;
      ASSERT_THAT(q, StatusIs(absl::StatusCode::kInvalidArgument)) << n;
      ASSERT_THAT(core::Message(q.status()), HasSubstr("tdx: quote")) << n;
    }
    EXPECT_OK(ParseQuote(std::string_view(quote).substr(0, exact)));
  }
}

TEST(QuoteTest, RejectsWrongVersionTeeAndKeyType) {
  std::string quote = CaseFile("t1-emr-uptodate", "quote.bin");
  std::string v3 = quote;
  v3[0] = 3;
  EXPECT_EQ(core::Message(ParseQuote(v3).status()),
            "tdx: quote: unsupported version 3 (want 4 or 5)");
  std::string sgx = quote;
  sgx[4] = 0;
  EXPECT_EQ(core::Message(ParseQuote(sgx).status()), "tdx: quote: tee type 0x0 is not TDX (0x81)");
  std::string key = quote;
  key[2] = 3;
  EXPECT_THAT(core::Message(ParseQuote(key).status()), HasSubstr("attestation key type 3"));
}

}  // namespace
}  // namespace ccburst::evidence::tdx
