// Save/Load of the SEV-SNP test hierarchy: a loaded copy signs reports that verify against the
// original's anchor, and broken directories are refused naming the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/snp/verifier.h"

namespace ccburst::evidence::snp::testing {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

const core::TimePoint kNow = core::FromUnixSeconds(1767225600);  // 2026-01-01
const std::string kDigest(64, '\x5c');

class SnpHierarchyIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("snp_hierarchy_io_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Verifies a report bound to kDigest signed by `signer` with the verifier options of `trusted`.
  static absl::StatusOr<core::json::object> VerifyReport(const TestHierarchy& signer,
                                                         const TestHierarchy& trusted,
                                                         SigningKey key = SigningKey::kVcek) {
    ReportSpec spec;
    spec.report_data = kDigest;
    spec.signing_key = key;
    CCB_ASSIGN_OR_RETURN(auto verifier, SnpVerifier::Create(trusted.VerifierOptions()));
    CCB_ASSIGN_OR_RETURN(core::json::value ev, core::ParseJson(signer.TsmEvidenceJson(spec)));
    return verifier->Verify(ev, {kDigest, std::nullopt}, kNow);
  }

  std::string dir_;
};

TEST_F(SnpHierarchyIoTest, LoadedHierarchySignsReportsTheOriginalAnchorAccepts) {
  HierarchyOptions options;
  options.product = Generation::kMilan;
  auto original = TestHierarchy::Create(options);
  ASSERT_OK(original->Save(dir_));
  for (const char* file : {"hierarchy.json", "ark.key", "ark.der", "ask.key", "ask.der", "asvk.key",
                           "asvk.der", "vcek.key", "vcek.der", "vlek.key", "vlek.der"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/" + file)) << file;
  }

  auto loaded = TestHierarchy::Load(dir_);
  ASSERT_OK(loaded);
  const TestHierarchy& h = **loaded;
  EXPECT_EQ(h.ark_der(), original->ark_der());
  EXPECT_EQ(h.ask_der(), original->ask_der());
  EXPECT_EQ(h.asvk_der(), original->asvk_der());
  EXPECT_EQ(h.vcek_der(), original->vcek_der());
  EXPECT_EQ(h.vlek_der(), original->vlek_der());
  EXPECT_EQ(h.options().product, Generation::kMilan);
  EXPECT_EQ(h.options().tcb, original->options().tcb);
  EXPECT_EQ(h.options().chip_id, original->options().chip_id);
  EXPECT_EQ(h.options().rsa_bits, original->options().rsa_bits);
  EXPECT_EQ(core::ToUnixSeconds(h.options().not_after),
            core::ToUnixSeconds(original->options().not_after));

  for (SigningKey key : {SigningKey::kVcek, SigningKey::kVlek}) {
    auto claims = VerifyReport(h, *original, key);
    ASSERT_OK(claims);
    EXPECT_EQ(claims->at("report_data"), core::json::value(core::HexEncode(kDigest)));
    EXPECT_EQ(claims->at("reported_tcb_snp").to_number<int>(), h.options().tcb.snp);
  }

  // Another hierarchy's ARK still refuses the loaded one's reports.
  auto refused = VerifyReport(h, *TestHierarchy::Create(options));
  ASSERT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied)) << refused.status();
}

TEST_F(SnpHierarchyIoTest, MissingOrMismatchedFilesAreRefusedNamingThem) {
  auto missing = TestHierarchy::Load(dir_);
  ASSERT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, HasSubstr("hierarchy.json")));

  auto h = TestHierarchy::Create();
  ASSERT_OK(h->Save(dir_));
  std::filesystem::copy_file(dir_ + "/vlek.key", dir_ + "/vcek.key",
                             std::filesystem::copy_options::overwrite_existing);
  auto mismatched = TestHierarchy::Load(dir_);
  ASSERT_THAT(mismatched, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vcek.der")));

  ASSERT_OK(h->Save(dir_));
  std::ofstream(dir_ + "/hierarchy.json") << R"({"product":"Zen9"})";
  auto bad_options = TestHierarchy::Load(dir_);
  ASSERT_THAT(bad_options,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown product `Zen9`")));
}

}  // namespace
}  // namespace ccburst::evidence::snp::testing
