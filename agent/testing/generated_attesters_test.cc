// The generated-evidence attesters: evidence carries the session digest (or not, on request) and
// verifies against the hierarchy's anchor, also when the hierarchy is loaded from a directory.
#include "agent/testing/generated_attesters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "evidence/azure/verifier.h"
#include "evidence/snp/verifier.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::agent::testing {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
namespace tdx = evidence::tdx;
namespace snp = evidence::snp;
namespace dcap = evidence::dcap;

const core::TimePoint kNow = core::FromUnixSeconds(1'800'000'000);
const std::string kDigest(48, '\x5c');

absl::StatusOr<core::json::object> VerifyTdx(const Attester& attester,
                                             const tdx::testing::TdxTestHierarchy& h) {
  CCB_ASSIGN_OR_RETURN(core::json::value ev, attester.Evidence(kDigest));
  tdx::testing::CollateralSpec spec;
  spec.issue_date = kNow - std::chrono::hours(24);
  spec.next_update = kNow + std::chrono::hours(24);
  CCB_ASSIGN_OR_RETURN(dcap::Collateral c, h.MakeCollateral(spec));
  CCB_ASSIGN_OR_RETURN(
      auto verifier,
      tdx::TdxVerifier::Create(
          {std::make_shared<dcap::FixedCollateralSource>(std::move(c)), h.anchor()}));
  return verifier->Verify(ev, {kDigest, std::nullopt}, kNow);
}

absl::StatusOr<core::json::object> VerifySnp(const Attester& attester,
                                             const snp::testing::TestHierarchy& h) {
  CCB_ASSIGN_OR_RETURN(core::json::value ev, attester.Evidence(kDigest));
  CCB_ASSIGN_OR_RETURN(auto verifier, snp::SnpVerifier::Create(h.VerifierOptions()));
  return verifier->Verify(ev, {kDigest, std::nullopt}, kNow);
}

TEST(GeneratedAttesters, TdxEvidenceIsBoundToTheSessionUnlessToldOtherwise) {
  auto h = tdx::testing::TdxTestHierarchy::Create();
  auto good = NewGeneratedTdxAttester(*h);
  EXPECT_EQ(good->tee(), "tdx");
  auto claims = VerifyTdx(*good, *h);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data"),
            core::json::value(core::HexEncode(kDigest + std::string(16, '\0'))));

  auto bad = VerifyTdx(
      *NewGeneratedTdxAttester(*h, {.wrong_report_data = true, .init_data_digest = {}}), *h);
  ASSERT_THAT(bad, StatusIs(_, "tdx: report_data does not match the session binding"));
}

TEST(GeneratedAttesters, SnpEvidenceIsBoundToTheSessionUnlessToldOtherwise) {
  auto h = snp::testing::TestHierarchy::Create();
  auto good = NewGeneratedSnpAttester(*h);
  EXPECT_EQ(good->tee(), "snp");
  auto claims = VerifySnp(*good, *h);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data"),
            core::json::value(core::HexEncode(kDigest + std::string(16, '\0'))));

  auto bad = VerifySnp(
      *NewGeneratedSnpAttester(*h, {.wrong_report_data = true, .init_data_digest = {}}), *h);
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("does not match the session binding")));
}

TEST(GeneratedAttesters, LoadedFromSavedHierarchies) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("generated_attesters_" + std::to_string(::getpid()));
  auto tdx_h = tdx::testing::TdxTestHierarchy::Create();
  auto snp_h = snp::testing::TestHierarchy::Create();
  ASSERT_OK(tdx_h->Save(dir + "/tdx"));
  ASSERT_OK(snp_h->Save(dir + "/snp"));

  auto tdx_factory = LoadGeneratedAttesters("tdx", dir + "/tdx");
  ASSERT_OK(tdx_factory);
  auto snp_factory = LoadGeneratedAttesters("snp", dir + "/snp");
  ASSERT_OK(snp_factory);
  // The attesters keep the loaded hierarchy alive after the factory is gone.
  std::unique_ptr<Attester> tdx_attester = (*tdx_factory)({});
  std::unique_ptr<Attester> snp_attester = (*snp_factory)({});
  tdx_factory = absl::InternalError("released");
  snp_factory = absl::InternalError("released");
  EXPECT_OK(VerifyTdx(*tdx_attester, *tdx_h));
  EXPECT_OK(VerifySnp(*snp_attester, *snp_h));

  auto sample = LoadGeneratedAttesters("sample", dir + "/tdx");
  ASSERT_THAT(sample, StatusIs(absl::StatusCode::kInvalidArgument));
  auto missing = LoadGeneratedAttesters("tdx", dir + "/absent");
  ASSERT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  std::filesystem::remove_all(dir);
}

absl::StatusOr<core::json::object> VerifyAz(const Attester& attester,
                                            const tdx::testing::TdxTestHierarchy& h,
                                            const evidence::ExpectedBinding& binding) {
  CCB_ASSIGN_OR_RETURN(core::json::value ev, attester.Evidence(kDigest));
  tdx::testing::CollateralSpec spec;
  spec.issue_date = kNow - std::chrono::hours(24);
  spec.next_update = kNow + std::chrono::hours(24);
  CCB_ASSIGN_OR_RETURN(dcap::Collateral c, h.MakeCollateral(spec));
  CCB_ASSIGN_OR_RETURN(
      auto verifier,
      evidence::azure::AzTdxVtpmVerifier::Create(
          {std::make_shared<dcap::FixedCollateralSource>(std::move(c)), h.anchor()}));
  return verifier->Verify(ev, binding, kNow);
}

absl::StatusOr<core::json::object> VerifyAz(const Attester& attester,
                                            const snp::testing::TestHierarchy& h,
                                            const evidence::ExpectedBinding& binding) {
  CCB_ASSIGN_OR_RETURN(core::json::value ev, attester.Evidence(kDigest));
  CCB_ASSIGN_OR_RETURN(auto verifier,
                       evidence::azure::AzSnpVtpmVerifier::Create(h.VerifierOptions()));
  return verifier->Verify(ev, binding, kNow);
}

template <typename H>
void CheckAzureAttester(std::string_view tee, const H& h,
                        std::unique_ptr<Attester> (*make)(const H&, GeneratedAttesterOptions)) {
  SCOPED_TRACE(tee);
  auto good = make(h, {});
  EXPECT_EQ(good->tee(), tee);
  auto claims = VerifyAz(*good, h, {kDigest, std::nullopt});
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data"), core::json::value(core::HexEncode(kDigest)));
  EXPECT_EQ(claims->at("init_data"), core::json::value(std::string(64, '0')));

  auto bad = VerifyAz(*make(h, {.wrong_report_data = true, .init_data_digest = {}}), h,
                      {kDigest, std::nullopt});
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kPermissionDenied,
                            HasSubstr("does not match the session binding")));

  // Init-data is bound through PCR8: the digest the attester measured verifies, another does not.
  std::string digest(32, '\x11');
  auto bound = VerifyAz(*make(h, {.wrong_report_data = false, .init_data_digest = digest}), h,
                        {kDigest, digest});
  ASSERT_OK(bound);
  EXPECT_EQ(bound->at("init_data"),
            core::json::value(core::HexEncode(crypto::Sha256(std::string(32, '\0') + digest))));
  auto other = VerifyAz(*make(h, {}), h, {kDigest, digest});
  ASSERT_THAT(other, StatusIs(_, HasSubstr("init-data: PCR8")));
}

TEST(GeneratedAttesters, AzureEvidenceIsBoundToTheSessionAndInitData) {
  auto tdx_h = tdx::testing::TdxTestHierarchy::Create();
  CheckAzureAttester<tdx::testing::TdxTestHierarchy>("az-tdx-vtpm", *tdx_h,
                                                     &NewGeneratedAzTdxAttester);
  auto snp_h = snp::testing::TestHierarchy::Create();
  CheckAzureAttester<snp::testing::TestHierarchy>("az-snp-vtpm", *snp_h,
                                                  &NewGeneratedAzSnpAttester);
}

TEST(GeneratedAttesters, AzureLoadedFromSavedHierarchies) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("generated_az_attesters_" + std::to_string(::getpid()));
  auto tdx_h = tdx::testing::TdxTestHierarchy::Create();
  auto snp_h = snp::testing::TestHierarchy::Create();
  ASSERT_OK(tdx_h->Save(dir + "/tdx"));
  ASSERT_OK(snp_h->Save(dir + "/snp"));
  auto az_tdx = LoadGeneratedAttesters("az-tdx-vtpm", dir + "/tdx");
  ASSERT_OK(az_tdx);
  auto az_snp = LoadGeneratedAttesters("az-snp-vtpm", dir + "/snp");
  ASSERT_OK(az_snp);
  auto tdx_claims = VerifyAz(*(*az_tdx)({}), *tdx_h, {kDigest, std::nullopt});
  EXPECT_OK(tdx_claims);
  auto snp_claims = VerifyAz(*(*az_snp)({}), *snp_h, {kDigest, std::nullopt});
  EXPECT_OK(snp_claims);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccburst::agent::testing
