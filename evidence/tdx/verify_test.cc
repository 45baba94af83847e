#include "evidence/tdx/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"

namespace ccburst::evidence::tdx {
namespace {

using ::testing::HasSubstr;

std::string Dir(const std::string& c) { return std::string(CCB_SHARED_DIR) + "/testdata/tdx/" + c; }

TdxCollateral LoadCollateral(const std::string& c) {
  std::string d = Dir(c) + "/collateral/";
  TdxCollateral col;
  col.tcb_info_json = *core::ReadFile(d + "tcb_info.json");
  col.tcb_info_issuer_chain = *core::ReadFile(d + "tcb_info_issuer_chain.pem");
  col.qe_identity_json = *core::ReadFile(d + "qe_identity.json");
  col.qe_identity_issuer_chain = *core::ReadFile(d + "qe_identity_issuer_chain.pem");
  col.pck_crl = *core::ReadFile(d + "pck_crl.der");
  col.pck_crl_issuer_chain = *core::ReadFile(d + "pck_crl_issuer_chain.pem");
  col.root_ca_crl = *core::ReadFile(d + "root_ca_crl.der");
  return col;
}

core::TimePoint At(const char* t) { return *core::ParseRfc3339(t); }

absl::StatusOr<TdxVerdict> RunCase(const std::string& c, const TdxCollateral& col,
                                   core::TimePoint now, std::string quote_bytes = "") {
  if (quote_bytes.empty()) quote_bytes = *core::ReadFile(Dir(c) + "/quote.bin");
  CCB_ASSIGN_OR_RETURN(auto verified, VerifyCollateral(col, TrustAnchor::IntelSgxRootCa(), now));
  CCB_ASSIGN_OR_RETURN(Quote q, ParseQuote(quote_bytes));
  return VerifyQuote(q, *verified, TrustAnchor::IntelSgxRootCa(), now);
}

TEST(VerifyTest, T1UpToDate) {
  auto v =
      RunCase("t1-emr-uptodate", LoadCollateral("t1-emr-uptodate"), At("2025-07-01T00:00:00Z"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->tcb_status, "UpToDate");
  EXPECT_TRUE(v->advisory_ids.empty());
  EXPECT_EQ(v->tcb_date, "2024-03-13T00:00:00Z");
  EXPECT_EQ(v->tdx_module_status, "UpToDate");
  EXPECT_EQ(v->qe_tcb_status, "UpToDate");
  EXPECT_EQ(v->pck_issuer, "Intel SGX PCK Platform CA");
}

TEST(VerifyTest, T3OutOfDate) {
  auto v =
      RunCase("t3-spr-outofdate", LoadCollateral("t3-spr-outofdate"), At("2025-03-10T00:00:00Z"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->tcb_status, "OutOfDate");
  EXPECT_EQ(v->tcb_date, "2023-08-09T00:00:00Z");
  EXPECT_EQ(v->advisory_ids,
            (std::vector<std::string>{"INTEL-SA-00960", "INTEL-SA-00982", "INTEL-SA-00986"}));
}

TEST(VerifyTest, T5TcbNotSupported) {
  auto v = RunCase("t5-spr-e4-tcb-not-supported", LoadCollateral("t5-spr-e4-tcb-not-supported"),
                   At("2023-07-01T01:00:00Z"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(core::Message(v.status()), HasSubstr("tdx: tcb not supported"));
}

}  // namespace
}  // namespace ccburst::evidence::tdx
