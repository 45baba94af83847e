// End-to-end checks on quotes and collateral from the test hierarchy: binding, init-data,
// revocation, TCB status paths and the event log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/tdx/testing/quote_generator.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::evidence::tdx {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using testing::CollateralSpec;
using ::testing::HasSubstr;
using testing::QuoteSpec;
using testing::TdxTestHierarchy;

const core::TimePoint kNow = core::FromUnixSeconds(1'800'000'000);

class GeneratedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hierarchy_ = TdxTestHierarchy::Create().release(); }
  static void TearDownTestSuite() { delete hierarchy_; }

  CollateralSpec Spec() {
    CollateralSpec s;
    s.issue_date = kNow - std::chrono::hours(24);
    s.next_update = kNow + std::chrono::hours(24 * 30);
    return s;
  }
  std::unique_ptr<TdxVerifier> Verifier(const CollateralSpec& spec) {
    auto c = hierarchy_->MakeCollateral(spec);
    EXPECT_OK(c);
    return *TdxVerifier::Create(
        {std::make_shared<dcap::FixedCollateralSource>(*c), hierarchy_->anchor()});
  }
  json::value Evidence(const QuoteSpec& q, std::optional<std::string> log = std::nullopt) {
    auto quote = hierarchy_->IssueQuote(q);
    EXPECT_OK(quote);
    json::object ev{{"quote", core::Base64Encode(*quote)}, {"cc_eventlog", nullptr}};
    if (log) ev["cc_eventlog"] = core::Base64Encode(*log);
    return ev;
  }
  static QuoteSpec Bound(const std::string& digest) {
    QuoteSpec q;
    q.report_data = digest;
    return q;
  }
  static TdxTestHierarchy* hierarchy_;
};
TdxTestHierarchy* GeneratedTest::hierarchy_ = nullptr;

const std::string kDigest(48, '\x5c');

TEST_F(GeneratedTest, V4AndV5VerifyWithBinding) {
  for (int version : {4, 5}) {
    QuoteSpec q = Bound(kDigest);
    q.version = version;
    auto claims = Verifier(Spec())->Verify(Evidence(q), {kDigest, std::nullopt}, kNow);
    ASSERT_OK(claims) << version;
    EXPECT_EQ(claims->at("tcb_status"), json::value("UpToDate"));
    EXPECT_EQ(claims->at("report_data"),
              json::value(core::HexEncode(kDigest + std::string(16, '\0'))));
    EXPECT_EQ(claims->at("quote").at("header").at("version"),
              json::value(version == 4 ? "0400" : "0500"));
  }
}

TEST_F(GeneratedTest, BindingAndInitData) {
  auto v = Verifier(Spec());
  auto r = v->Verify(Evidence(Bound(kDigest)), {std::string(48, 'x'), std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied,
                          "tdx: report_data does not match the session binding"));

  QuoteSpec q = Bound(kDigest);
  q.mr_config_id = std::string(32, '\x77');
  EXPECT_OK(v->Verify(Evidence(q), {kDigest, std::string(32, '\x77')}, kNow));
  r = v->Verify(Evidence(q), {kDigest, std::string(32, '\x78')}, kNow);
  ASSERT_THAT(r, StatusIs(_, "tdx: mr_config_id does not match the init-data digest"));
}

TEST_F(GeneratedTest, RevokedPck) {
  CollateralSpec s = Spec();
  s.revoke_pck = true;
  auto r = Verifier(s)->Verify(Evidence(Bound(kDigest)), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied,
                          "tdx: pck certificate is revoked by the pck crl"));
}

TEST_F(GeneratedTest, RevokedPckCa) {
  CollateralSpec s = Spec();
  s.revoke_pck_ca = true;
  auto r = Verifier(s)->Verify(Evidence(Bound(kDigest)), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(_, HasSubstr("is revoked by the root ca crl")));
}

TEST_F(GeneratedTest, CollateralWindow) {
  auto v = Verifier(Spec());
  auto r = v->Verify(Evidence(Bound(kDigest)), {kDigest, std::nullopt},
                     kNow + std::chrono::hours(24 * 31));
  ASSERT_THAT(r, StatusIs(_, HasSubstr("expired (nextUpdate")));
}

TEST_F(GeneratedTest, IntelAnchorNeverTrustsTestRoot) {
  auto c = hierarchy_->MakeCollateral(Spec());
  auto v = *TdxVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(*c)});
  auto r = v->Verify(Evidence(Bound(kDigest)), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(_, HasSubstr("is not the trusted root CA")));
}

struct StatusCase {
  std::string tcb_status, module_status, qe_status;
  int version;
  std::array<uint8_t, 16> tee_tcb_svn;
  uint16_t qe_isvsvn;
  std::string want;
};

TEST_F(GeneratedTest, TcbStatusConvergence) {
  std::array<uint8_t, 16> current = {6, 1, 3};
  std::array<uint8_t, 16> old_module = {2, 1, 3};
  StatusCase cases[] = {
      {"UpToDate", "UpToDate", "UpToDate", 4, current, 6, "UpToDate"},
      {"SWHardeningNeeded", "UpToDate", "UpToDate", 4, current, 6, "SWHardeningNeeded"},
      {"ConfigurationNeeded", "UpToDate", "UpToDate", 4, current, 6, "ConfigurationNeeded"},
      {"ConfigurationAndSWHardeningNeeded", "UpToDate", "UpToDate", 4, current, 6,
       "ConfigurationAndSWHardeningNeeded"},
      {"OutOfDate", "UpToDate", "UpToDate", 4, current, 6, "OutOfDate"},
      // The TDX module's own level is OutOfDate: converges.
      {"UpToDate", "UpToDate", "UpToDate", 4, old_module, 6, "OutOfDate"},
      {"ConfigurationNeeded", "UpToDate", "UpToDate", 4, old_module, 6,
       "OutOfDateConfigurationNeeded"},
      // QE below the latest QE identity level: OutOfDate.
      {"UpToDate", "UpToDate", "UpToDate", 4, current, 2, "OutOfDate"},
      {"SWHardeningNeeded", "UpToDate", "UpToDate", 4, current, 2, "OutOfDate"},
      {"UpToDate", "UpToDate", "Revoked", 4, current, 6, "Revoked"},
      {"UpToDate", "Revoked", "UpToDate", 4, current, 6, "Revoked"},
      {"Revoked", "UpToDate", "UpToDate", 4, current, 6, "Revoked"},
      // TD report 1.5: the running module is out of date but TEE_TCB_SVN2 is current.
      {"UpToDate", "UpToDate", "UpToDate", 5, old_module, 6, "TDRelaunchAdvised"},
      {"ConfigurationNeeded", "UpToDate", "UpToDate", 5, old_module, 6,
       "TDRelaunchAdvisedConfigurationNeeded"},
  };
  for (const auto& c : cases) {
    CollateralSpec s = Spec();
    s.tcb_status = c.tcb_status;
    s.module_status = c.module_status;
    s.qe_status = c.qe_status;
    s.advisory_ids = {"INTEL-SA-01234"};
    QuoteSpec q = Bound(kDigest);
    q.version = c.version;
    q.tee_tcb_svn = c.tee_tcb_svn;
    q.qe_isvsvn = c.qe_isvsvn;
    auto quote = hierarchy_->IssueQuote(q);
    ASSERT_OK(quote);
    auto r = Verifier(s)->VerifyEvidence({*quote, std::nullopt}, nullptr, kNow);
    ASSERT_OK(r) << c.want;
    EXPECT_EQ(r->verdict.tcb_status, c.want)
        << c.tcb_status << "/" << c.module_status << "/" << c.qe_status << " v" << c.version;
    EXPECT_EQ(r->verdict.advisory_ids, std::vector<std::string>{"INTEL-SA-01234"});
  }
}

TEST_F(GeneratedTest, RevokedIsRejectedByVerify) {
  CollateralSpec s = Spec();
  s.tcb_status = "Revoked";
  auto r = Verifier(s)->Verify(Evidence(Bound(kDigest)), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(_, "tdx: tcb status is Revoked"));
}

TEST_F(GeneratedTest, TcbNotSupported) {
  QuoteSpec q = Bound(kDigest);
  q.qe_isvsvn = 0;
  auto r = Verifier(Spec())->Verify(Evidence(q), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(_, HasSubstr("tdx: tcb not supported: qe isvsvn 0")));
  q = Bound(kDigest);
  q.tee_tcb_svn = {6, 1, 2};  // TDX component 2 below the latest level: the older level matches
  auto older =
      Verifier(Spec())->VerifyEvidence({*hierarchy_->IssueQuote(q), std::nullopt}, nullptr, kNow);
  ASSERT_OK(older);
  EXPECT_EQ(older->verdict.tcb_status, "OutOfDate");
  EXPECT_EQ(older->verdict.tcb_date, "2018-01-04T00:00:00Z");
  EXPECT_EQ(older->verdict.advisory_ids, std::vector<std::string>{"INTEL-SA-00106"});
  q = Bound(kDigest);
  q.tee_tcb_svn = {6, 3, 3};  // module major version 3: no TDX_03 identity
  r = Verifier(Spec())->Verify(Evidence(q), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(_, "tdx: tdx module identity TDX_03 is not in the tcb info"));
}

TEST_F(GeneratedTest, EventLogMustReplayToRtmrs) {
  std::string log =
      *core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/eventlog/ccel-data/ccel.bin");
  auto parsed = eventlog::ParseCcel(log);
  ASSERT_OK(parsed);
  QuoteSpec q = Bound(kDigest);
  for (int i = 0; i < 4; ++i) q.rtmr[i] = eventlog::Replay(*parsed, i + 1, eventlog::kAlgSha384);
  auto claims = Verifier(Spec())->Verify(Evidence(q, log), {kDigest, std::nullopt}, kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("uefi_event_logs").as_array().size(), 5u);
  q.rtmr[1][0] ^= 1;
  auto r = Verifier(Spec())->Verify(Evidence(q, log), {kDigest, std::nullopt}, kNow);
  ASSERT_THAT(r, StatusIs(_, HasSubstr("tdx: eventlog: replayed rtmr1")));
}

TEST_F(GeneratedTest, MalformedEvidence) {
  auto v = Verifier(Spec());
  ExpectedBinding b{kDigest, std::nullopt};
  struct Case {
    json::value ev;
    std::string msg;
  } cases[] = {
      {json::array{}, "tdx: evidence is not a JSON object"},
      {json::object{}, "tdx: missing field `quote`"},
      {json::object{{"quote", 1}}, "tdx: `quote` must be a string"},
      {json::object{{"quote", "!!"}}, "tdx: `quote` is not standard base64"},
      {json::object{{"quote", "AAAA"}, {"cc_eventlog", 3}},
       "tdx: `cc_eventlog` must be a string or null"},
  };
  for (const auto& c : cases) {
    auto r = v->Verify(c.ev, b, kNow);
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, c.msg));
  }
}

}  // namespace
}  // namespace ccburst::evidence::tdx
