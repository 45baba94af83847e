// The Azure verifier factories: the registered TEE names, the settings errors, and the real
// Azure vectors through the verifiers they build (offline TD quote collateral, AMD's roots).
#include "collateral/azure/verifiers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::collateral::azure {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

std::string Testdata(const std::string& rel) {
  return std::string(CCB_SHARED_DIR) + "/testdata/" + rel;
}

struct Vector {
  boost::json::value evidence;
  evidence::ExpectedBinding binding;
  core::TimePoint at;
  boost::json::object expected;
};

Vector Load(const std::string& name) {
  Vector v;
  auto meta = core::ParseJson(*core::ReadFile(Testdata("azure/" + name + "/case.json")));
  v.evidence = *core::ParseJson(*core::ReadFile(Testdata("azure/" + name + "/evidence.json")));
  v.at = *core::ParseRfc3339(std::string(meta->at("verify_at").as_string()));
  v.expected = meta->at("expected").as_object();
  v.binding.report_data_digest =
      *core::HexDecode(v.expected.at("expected_report_data").at("hex").as_string());
  return v;
}

constexpr std::string_view kDcap = "attestation_service.verifier_config.dcap_verifier";
constexpr std::string_view kSnp = "attestation_service.verifier_config.snp_verifier";

dcap::DcapVerifierConfig OfflineT3() {
  dcap::DcapVerifierConfig s;
  s.collateral_dir = Testdata("tdx/t3-spr-outofdate/collateral");
  return s;
}

TEST(AzureFactoryTest, TdxVerifierVerifiesTheRealVectorsWithOfflineCollateral) {
  auto v = NewAzTdxVtpmVerifier(OfflineT3(), kDcap);
  ASSERT_OK(v);
  EXPECT_EQ((*v)->tee(), "az-tdx-vtpm");
  for (const char* name : {"a4-az-tdx-vtpm-v0", "a4-az-tdx-vtpm-v1"}) {
    Vector c = Load(name);
    auto claims = (*v)->Verify(c.evidence, c.binding, c.at);
    ASSERT_OK(claims) << name;
    EXPECT_EQ(claims->at("tcb_status"), c.expected.at("td_quote").at("tcb_status")) << name;
    EXPECT_EQ(claims->at("tpm").at("pcr00"), c.expected.at("pcr00")) << name;
  }
}

TEST(AzureFactoryTest, SnpVerifierVerifiesTheRealVectorsWithAmdRoots) {
  auto v = NewAzSnpVtpmVerifier({}, kSnp);
  ASSERT_OK(v);
  EXPECT_EQ((*v)->tee(), "az-snp-vtpm");
  for (const char* name : {"a1-az-snp-vtpm-v0", "a1-az-snp-vtpm-v1", "a1-az-snp-vtpm-v2"}) {
    Vector c = Load(name);
    auto claims = (*v)->Verify(c.evidence, c.binding, c.at);
    ASSERT_OK(claims) << name;
    EXPECT_EQ(claims->at("measurement"), c.expected.at("snp_report").at("measurement")) << name;
  }
}

TEST(AzureFactoryTest, WrongNonceIsRefusedNamingTheCheck) {
  auto v = NewAzTdxVtpmVerifier(OfflineT3(), kDcap);
  ASSERT_OK(v);
  Vector c = Load("a4-az-tdx-vtpm-v1");
  c.binding.report_data_digest = "another";
  auto claims = (*v)->Verify(c.evidence, c.binding, c.at);
  EXPECT_THAT(claims, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(claims.status().message(), HasSubstr("az-tdx-vtpm: tpm quote"));
}

TEST(AzureFactoryTest, SettingsErrorsNameTheSetting) {
  dcap::DcapVerifierConfig bad_root = OfflineT3();
  bad_root.trusted_root_ca = "/nonexistent/root.pem";
  auto v = NewAzTdxVtpmVerifier(bad_root, kDcap);
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.status().message(), HasSubstr("dcap_verifier.trusted_root_ca"));

  dcap::DcapVerifierConfig bad_update;
  bad_update.collateral_service = "https://pccs.example:8081/sgx/certification/v4/";
  bad_update.tcb_update_type = "sometimes";
  v = NewAzTdxVtpmVerifier(bad_update, kDcap);
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(v.status().message(), HasSubstr("dcap_verifier.tcb_update_type"));

  snp::SnpVerifierConfig bad_ark;
  bad_ark.trusted_ark = "/nonexistent/ark.pem";
  auto snp = NewAzSnpVtpmVerifier(bad_ark, kSnp);
  EXPECT_THAT(snp, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(snp.status().message(), HasSubstr("snp_verifier.trusted_ark"));
}

}  // namespace
}  // namespace ccburst::collateral::azure
