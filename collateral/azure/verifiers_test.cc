// The Azure verifier factories: the registered TEE names, the settings errors, and the real
// Azure vectors through the verifiers they build (offline TD quote collateral, AMD's roots).
#include "collateral/azure/verifiers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"

namespace ccburst::collateral::azure {
namespace {

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

DcapSettings OfflineT3() {
  DcapSettings s;
  s.collateral_dir = Testdata("tdx/t3-spr-outofdate/collateral");
  return s;
}

TEST(AzureFactoryTest, TdxVerifierVerifiesTheRealVectorsWithOfflineCollateral) {
  auto v = NewAzTdxVtpmVerifier(OfflineT3());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->tee(), "az-tdx-vtpm");
  for (const char* name : {"a4-az-tdx-vtpm-v0", "a4-az-tdx-vtpm-v1"}) {
    Vector c = Load(name);
    auto claims = (*v)->Verify(c.evidence, c.binding, c.at);
    ASSERT_TRUE(claims.ok()) << name << ": " << claims.status();
    EXPECT_EQ(claims->at("tcb_status"), c.expected.at("td_quote").at("tcb_status")) << name;
    EXPECT_EQ(claims->at("tpm").at("pcr00"), c.expected.at("pcr00")) << name;
  }
}

TEST(AzureFactoryTest, SnpVerifierVerifiesTheRealVectorsWithAmdRoots) {
  auto v = NewAzSnpVtpmVerifier(std::nullopt);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->tee(), "az-snp-vtpm");
  for (const char* name : {"a1-az-snp-vtpm-v0", "a1-az-snp-vtpm-v1", "a1-az-snp-vtpm-v2"}) {
    Vector c = Load(name);
    auto claims = (*v)->Verify(c.evidence, c.binding, c.at);
    ASSERT_TRUE(claims.ok()) << name << ": " << claims.status();
    EXPECT_EQ(claims->at("measurement"), c.expected.at("snp_report").at("measurement")) << name;
  }
}

TEST(AzureFactoryTest, WrongNonceIsRefusedNamingTheCheck) {
  auto v = NewAzTdxVtpmVerifier(OfflineT3());
  ASSERT_TRUE(v.ok()) << v.status();
  Vector c = Load("a4-az-tdx-vtpm-v1");
  c.binding.report_data_digest = "another";
  auto claims = (*v)->Verify(c.evidence, c.binding, c.at);
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(claims.status().message(), HasSubstr("az-tdx-vtpm: tpm quote"));
}

TEST(AzureFactoryTest, SettingsErrorsNameTheSetting) {
  DcapSettings bad_root = OfflineT3();
  bad_root.trusted_root_ca = "/nonexistent/root.pem";
  auto v = NewAzTdxVtpmVerifier(bad_root);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("dcap_verifier.trusted_root_ca"));

  DcapSettings bad_update;
  bad_update.collateral_service = "https://pccs.example:8081/sgx/certification/v4/";
  bad_update.tcb_update_type = "sometimes";
  v = NewAzTdxVtpmVerifier(bad_update);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("dcap_verifier.tcb_update_type"));

  auto snp = NewAzSnpVtpmVerifier("/nonexistent/ark.pem");
  EXPECT_EQ(snp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(snp.status().message(), HasSubstr("snp_verifier.trusted_ark"));
}

TEST(AzureFactoryTest, PcsBaseUrlDropsTheCertificationPath) {
  EXPECT_EQ(PcsBaseUrl("https://api.trustedservices.intel.com/sgx/certification/v4/"),
            "https://api.trustedservices.intel.com");
  EXPECT_EQ(PcsBaseUrl("https://pccs:8081/tdx/certification/v4"), "https://pccs:8081");
}

}  // namespace
}  // namespace ccburst::collateral::azure
