// Save/Load of the TDX test hierarchy: a loaded copy issues quotes and collateral that verify
// against the original's anchor, and broken directories are refused naming the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/tdx/testing/quote_generator.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::evidence::tdx::testing {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

const core::TimePoint kNow = core::FromUnixSeconds(1'800'000'000);
const std::string kDigest(48, '\x5c');

class TdxHierarchyIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tdx_hierarchy_io_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static CollateralSpec Spec() {
    CollateralSpec s;
    s.issue_date = kNow - std::chrono::hours(24);
    s.next_update = kNow + std::chrono::hours(24 * 30);
    return s;
  }

  // Verifies a quote bound to kDigest from `issuer` against `anchor` with `issuer`'s collateral.
  static absl::StatusOr<core::json::object> VerifyQuote(const TdxTestHierarchy& issuer,
                                                        const dcap::TrustAnchor& anchor) {
    QuoteSpec q;
    q.report_data = kDigest;
    CCB_ASSIGN_OR_RETURN(std::string quote, issuer.IssueQuote(q));
    CCB_ASSIGN_OR_RETURN(dcap::Collateral c, issuer.MakeCollateral(Spec()));
    CCB_ASSIGN_OR_RETURN(
        auto verifier,
        TdxVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(std::move(c)), anchor}));
    core::json::object ev{{"quote", core::Base64Encode(quote)}, {"cc_eventlog", nullptr}};
    return verifier->Verify(ev, {kDigest, std::nullopt}, kNow);
  }

  std::string dir_;
};

TEST_F(TdxHierarchyIoTest, LoadedHierarchyIssuesQuotesTheOriginalAnchorAccepts) {
  HierarchyOptions options;
  options.fmspc = std::string("\x00\x80\x6f\x05\x00\x00", 6);
  options.pcesvn = 13;
  auto original = TdxTestHierarchy::Create(options);
  ASSERT_OK(original->Save(dir_));
  for (const char* file :
       {"hierarchy.json", "root.key", "root.crt", "pck_ca.key", "pck_ca.crt", "tcb_signer.key",
        "tcb_signer.crt", "pck.key", "pck.crt", "attestation.key"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/" + file)) << file;
  }

  auto loaded = TdxTestHierarchy::Load(dir_);
  ASSERT_OK(loaded);
  EXPECT_EQ((*loaded)->root_pem(), original->root_pem());
  EXPECT_TRUE((*loaded)->root_key().Equals(original->root_key()));

  auto claims = VerifyQuote(**loaded, original->anchor());
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("tcb_status"), core::json::value("UpToDate"));
  EXPECT_EQ(claims->at("report_data"),
            core::json::value(core::HexEncode(kDigest + std::string(16, '\0'))));
  // The options survived: the FMSPC in the PCK certificate matches the loaded TCB Info.
  auto tcb = (*loaded)->MakeCollateral(Spec());
  ASSERT_OK(tcb);
  EXPECT_THAT(tcb->tcb_info_json, HasSubstr("\"fmspc\":\"00806F050000\""));
  EXPECT_THAT(tcb->tcb_info_json, HasSubstr("\"pcesvn\":13"));

  // Another hierarchy's anchor still refuses the loaded one's quotes.
  auto other = TdxTestHierarchy::Create();
  auto refused = VerifyQuote(**loaded, other->anchor());
  ASSERT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied)) << refused.status();
}

TEST_F(TdxHierarchyIoTest, MissingOrMismatchedFilesAreRefusedNamingThem) {
  auto missing = TdxTestHierarchy::Load(dir_);
  ASSERT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, HasSubstr("hierarchy.json")));

  ASSERT_OK(TdxTestHierarchy::Create()->Save(dir_));
  std::string other_dir = dir_ + "/other";
  ASSERT_OK(TdxTestHierarchy::Create()->Save(other_dir));
  std::filesystem::copy_file(other_dir + "/pck.key", dir_ + "/pck.key",
                             std::filesystem::copy_options::overwrite_existing);
  auto mismatched = TdxTestHierarchy::Load(dir_);
  ASSERT_THAT(mismatched, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pck.crt")));

  std::ofstream(dir_ + "/hierarchy.json") << R"({"not_before":1})";
  auto bad_options = TdxTestHierarchy::Load(dir_);
  ASSERT_THAT(bad_options, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not_after")));

  std::filesystem::remove(dir_ + "/hierarchy.json");
  ASSERT_OK(TdxTestHierarchy::Create()->Save(dir_));
  std::filesystem::remove(dir_ + "/attestation.key");
  auto no_key = TdxTestHierarchy::Load(dir_);
  ASSERT_THAT(no_key, StatusIs(absl::StatusCode::kNotFound, HasSubstr("attestation.key")));
}

}  // namespace
}  // namespace ccburst::evidence::tdx::testing
