#include "evidence/tdx/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/tdx/claims.h"

namespace ccburst::evidence::tdx {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Shared(const std::string& rel) {
  return *core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/" + rel);
}

dcap::Collateral LoadCollateral(const std::string& c) {
  std::string d = "tdx/" + c + "/collateral/";
  dcap::Collateral col;
  col.tcb_info_json = Shared(d + "tcb_info.json");
  col.tcb_info_issuer_chain = Shared(d + "tcb_info_issuer_chain.pem");
  col.qe_identity_json = Shared(d + "qe_identity.json");
  col.qe_identity_issuer_chain = Shared(d + "qe_identity_issuer_chain.pem");
  col.pck_crl = Shared(d + "pck_crl.der");
  col.pck_crl_issuer_chain = Shared(d + "pck_crl_issuer_chain.pem");
  col.root_ca_crl = Shared(d + "root_ca_crl.der");
  return col;
}

core::TimePoint At(std::string_view t) { return *core::ParseRfc3339(t); }

std::unique_ptr<TdxVerifier> NewVerifier(const dcap::Collateral& col) {
  auto v = TdxVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(col)});
  EXPECT_OK(v);
  return *std::move(v);
}

// The operator's view: raw quote or evidence JSON, no session binding.
absl::StatusOr<Verification> VerifyOffline(std::string evidence, const dcap::Collateral& col,
                                           core::TimePoint at) {
  CCB_ASSIGN_OR_RETURN(Evidence ev, ParseEvidenceBytes(evidence));
  return NewVerifier(col)->VerifyEvidence(ev, nullptr, at);
}

std::string Error(const absl::StatusOr<Verification>& r) {
  return r.ok() ? "" : core::Message(r.status());
}

// Every case with collateral verifies to case.json expected.result at verify_at.
TEST(TdxCasesTest, EveryCaseMatchesExpectedResult) {
  for (const char* c : {"t1-emr-uptodate", "t3-spr-outofdate", "t5-spr-e4-tcb-not-supported"}) {
    auto cj = core::ParseJson(Shared(std::string("tdx/") + c + "/case.json"));
    ASSERT_OK(cj);
    std::string expected(cj->at("expected").at("result").as_string());
    core::TimePoint at = At(std::string(cj->at("verify_at").as_string()));
    auto r = VerifyOffline(Shared(std::string("tdx/") + c + "/quote.bin"), LoadCollateral(c), at);
    if (expected == "TCB_NOT_SUPPORTED") {
      EXPECT_THAT(r, Not(IsOk())) << c;
      EXPECT_THAT(Error(r), HasSubstr("tdx: tcb not supported")) << c;
      continue;
    }
    ASSERT_OK(r) << c << ": " << Error(r);
    EXPECT_EQ(r->verdict.tcb_status, expected) << c;
    json::array advisories;
    if (const auto* a = cj->at("expected").as_object().if_contains("advisory_ids")) {
      advisories = a->as_array();
    }
    json::array got;
    for (const auto& a : r->verdict.advisory_ids) got.emplace_back(a);
    EXPECT_EQ(got, advisories) << c;
    const auto& claims = r->claims;
    EXPECT_EQ(claims.at("tcb_status"), json::value(expected));
    EXPECT_EQ(claims.at("collateral_expiration_status"), json::value("0"));
    EXPECT_EQ(claims.at("quote").at("body").at("mr_td"), cj->at("expected").at("mr_td"));
    EXPECT_EQ(claims.at("report_data"), cj->at("expected").at("report_data"));
  }
}

TEST(TdxCasesTest, AcceptsEvidenceJson) {
  std::string quote = Shared("tdx/t1-emr-uptodate/quote.bin");
  std::string ev =
      core::Serialize(json::object{{"quote", core::Base64Encode(quote)}, {"cc_eventlog", nullptr}});
  auto r = VerifyOffline(ev, LoadCollateral("t1-emr-uptodate"), At("2025-07-01T00:00:00Z"));
  EXPECT_OK(r) << Error(r);
}

// After the earliest nextUpdate the collateral item is named.
TEST(TdxCasesTest, ExpiredCollateralNamesTheItem) {
  auto r = VerifyOffline(Shared("tdx/t3-spr-outofdate/quote.bin"),
                         LoadCollateral("t3-spr-outofdate"), At("2025-03-15T03:39:01Z"));
  EXPECT_THAT(r, Not(IsOk()));
  EXPECT_EQ(Error(r), "tdx: qe identity: expired (nextUpdate 2025-03-15T03:39:00Z)");
  r = VerifyOffline(Shared("tdx/t1-emr-uptodate/quote.bin"), LoadCollateral("t1-emr-uptodate"),
                    At("2025-07-19T10:00:35Z"));
  EXPECT_EQ(Error(r), "tdx: pck crl: expired (nextUpdate 2025-07-19T10:00:35Z)");
  r = VerifyOffline(Shared("tdx/t1-emr-uptodate/quote.bin"), LoadCollateral("t1-emr-uptodate"),
                    At("2025-06-19T10:20:00Z"));
  EXPECT_EQ(Error(r), "tdx: qe identity: not yet valid (issueDate 2025-06-19T10:32:27Z)");
}

// The cached path re-checks the window: verification after nextUpdate fails even when the
// collateral was verified (and cached) earlier.
TEST(TdxCasesTest, CachedCollateralExpires) {
  auto v = NewVerifier(LoadCollateral("t3-spr-outofdate"));
  Evidence quote{Shared("tdx/t3-spr-outofdate/quote.bin"), std::nullopt};
  ASSERT_OK(v->VerifyEvidence(quote, nullptr, At("2025-03-10T00:00:00Z")));
  ASSERT_OK(v->VerifyEvidence(quote, nullptr, At("2025-03-11T00:00:00Z")));
  auto r = v->VerifyEvidence(quote, nullptr, At("2025-03-16T00:00:00Z"));
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("expired")));
}

TEST(TdxClaimsTest, MatchesTrusteeParsedClaims) {
  auto quote = ParseQuote(Shared("tdx/trustee-quote4-v4-parse/quote.bin"));
  ASSERT_OK(quote);
  auto pck = dcap::ReadPckInfo(quote->pck_chain_pem);
  ASSERT_OK(pck);
  auto log = eventlog::ParseCcel(Shared("eventlog/ccel-data/ccel.bin"));
  ASSERT_OK(log);
  json::object claims = ParsedQuoteClaims(*quote, pck->ext, &*log);
  auto expected =
      core::ParseJson(Shared("tdx/trustee-quote4-v4-parse/parse_tdx_claims_expected.json"));
  ASSERT_OK(expected);
  for (const auto& [k, v] : expected->as_object()) {
    ASSERT_TRUE(claims.contains(k)) << k;
    EXPECT_EQ(claims.at(k), v) << k << "\n got: " << core::Serialize(claims.at(k));
  }
  EXPECT_EQ(claims.size(), expected->as_object().size());
  // That event log does not belong to this TD: replay must not match its RTMRs.
  EXPECT_THAT(eventlog::CheckRtmrs(*log, quote->body.rtmr), Not(IsOk()));
}

TEST(TdxClaimsTest, V5ClaimsCarryTd15Fields) {
  auto quote = ParseQuote(Shared("tdx/trustee-quote5-v5-parse/quote.bin"));
  ASSERT_OK(quote);
  auto pck = dcap::ReadPckInfo(quote->pck_chain_pem);
  ASSERT_OK(pck);
  json::object claims = ParsedQuoteClaims(*quote, pck->ext, nullptr);
  EXPECT_EQ(claims.at("quote").at("header").at("version"), json::value("0500"));
  EXPECT_EQ(claims.at("quote").at("type"), json::value("0300"));
  EXPECT_EQ(claims.at("quote").at("size"), json::value("88020000"));
  EXPECT_EQ(claims.at("quote").at("body").at("tee_tcb_svn2"),
            json::value("05010200000000000000000000000000"));
  EXPECT_FALSE(claims.contains("uefi_event_logs"));
  EXPECT_EQ(claims.at("td_attributes").at("debug"), json::value(false));
}

}  // namespace
}  // namespace ccburst::evidence::tdx
