#include "attestation/verifier_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestation/tee_names.h"
#include "core/testing/status_matchers.h"
#include "core/toml_config.h"

namespace ccburst::attestation {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kWhere = "attestation_service.verifier_config";

absl::StatusOr<VerifierConfig> Parse(std::string_view text, std::vector<std::string>* warnings) {
  CCB_ASSIGN_OR_RETURN(toml::table t, core::config::ParseToml(text, "config"));
  VerifierConfig c;
  std::vector<std::string> ignored;
  CCB_RETURN_IF_ERROR(ParseVerifierConfig(t, kWhere, "/base", c, warnings ? *warnings : ignored));
  return c;
}

TEST(VerifierRegistryTest, BuildsOneVerifierPerRegisteredTee) {
  EXPECT_THAT(RegisteredTees(), ElementsAre("sample", "tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm"));
  auto verifiers = BuildVerifiers(VerifierConfig{});
  ASSERT_OK(verifiers);
  ASSERT_EQ(verifiers->size(), 5u);
  for (size_t i = 0; i < verifiers->size(); ++i) {
    EXPECT_EQ((*verifiers)[i]->tee(), RegisteredTees()[i]);
  }
  auto tdx = BuildVerifier("tdx", VerifierConfig{});
  ASSERT_OK(tdx);
  EXPECT_EQ((*tdx)->tee(), "tdx");
  auto sgx = BuildVerifier("sgx", VerifierConfig{});
  EXPECT_THAT(sgx, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(core::Message(sgx.status()), "no verifier for TEE `sgx`");
}

TEST(VerifierRegistryTest, ParsesEachTeeSectionWithItsParser) {
  std::vector<std::string> warnings;
  auto c = Parse(R"(
[dcap_verifier]
collateral_service = "file://collateral"
trusted_root_ca = "root.pem"
[snp_verifier]
required_vmpl = 2
vcek_sources = [{type = "OfflineStore", path = "kds"}]
)",
                 &warnings);
  ASSERT_OK(c);
  EXPECT_EQ(c->dcap_verifier.collateral_dir, "/base/collateral");
  EXPECT_EQ(c->dcap_verifier.trusted_root_ca, "/base/root.pem");
  EXPECT_EQ(c->snp_verifier.required_vmpl, 2u);
  ASSERT_EQ(c->snp_verifier.vcek_sources.size(), 1u);
  EXPECT_EQ(c->snp_verifier.vcek_sources[0].path, "/base/kds");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("verifier_config.dcap_verifier.trusted_root_ca"));

  auto unknown = Parse("[sgx_verifier]\nx = 1\n", nullptr);
  EXPECT_EQ(core::Message(unknown.status()),
            "config: unknown key `attestation_service.verifier_config.sgx_verifier`");
  auto bad = Parse("[snp_verifier]\nrequired_vmpl = 9\n", nullptr);
  EXPECT_THAT(core::Message(bad.status()),
              HasSubstr("`attestation_service.verifier_config.snp_verifier.required_vmpl` = 9"));
}

TEST(VerifierRegistryTest, NvidiaRimFetchingIsOffByDefaultAndNeedsItsRoot) {
  auto c = Parse("[nvidia_verifier]\nmax_devices = 4\n", nullptr);
  ASSERT_OK(c);
  EXPECT_FALSE(c->nvidia_verifier.rim_service_url.has_value());
  c = Parse(R"([nvidia_verifier]
rim_service_url = "http://127.0.0.1:1"
rim_root = "rim_root.pem"
fetch_wait_ms = 250
max_retry_after_seconds = 60
)",
            nullptr);
  ASSERT_OK(c);
  EXPECT_EQ(c->nvidia_verifier.rim_root, "/base/rim_root.pem");
  EXPECT_EQ(c->nvidia_verifier.rim_limits.wait, std::chrono::milliseconds(250));
  EXPECT_EQ(c->nvidia_verifier.rim_limits.max_retry_after, std::chrono::seconds(60));
  auto alone = Parse("[nvidia_verifier]\nrim_service_url = \"http://127.0.0.1:1\"\n", nullptr);
  EXPECT_THAT(core::Message(alone.status()),
              HasSubstr("`attestation_service.verifier_config.nvidia_verifier.rim_service_url` "
                        "and `attestation_service.verifier_config.nvidia_verifier.rim_root` go "
                        "together"));
  auto devices = BuildDeviceVerifiers(*c);  // the root file does not exist
  EXPECT_THAT(core::Message(devices.status()),
              HasSubstr("attestation_service.verifier_config.nvidia_verifier.rim_root"));
}

TEST(VerifierRegistryTest, NvidiaOcspIsOffByDefault) {
  auto c = Parse("[nvidia_verifier]\nmax_devices = 4\n", nullptr);
  ASSERT_OK(c);
  EXPECT_FALSE(c->nvidia_verifier.ocsp_url.has_value());
  EXPECT_TRUE(c->nvidia_verifier.ocsp_nonce);
  c = Parse(R"([nvidia_verifier]
ocsp_url = "http://127.0.0.1:1"
ocsp_nonce = false
ocsp_ca = "ocsp_ca.pem"
)",
            nullptr);
  ASSERT_OK(c);
  EXPECT_EQ(c->nvidia_verifier.ocsp_url, "http://127.0.0.1:1");
  EXPECT_FALSE(c->nvidia_verifier.ocsp_nonce);
  EXPECT_EQ(c->nvidia_verifier.ocsp_ca, "/base/ocsp_ca.pem");
  c->nvidia_verifier.ocsp_ca.reset();
  EXPECT_OK(BuildDeviceVerifiers(*c));
  c->nvidia_verifier.ocsp_url = "ftp://x";
  EXPECT_THAT(core::Message(BuildDeviceVerifiers(*c).status()),
              HasSubstr("attestation_service.verifier_config.nvidia_verifier.ocsp_url"));
}

TEST(VerifierRegistryTest, BuildErrorsNameTheFullKey) {
  VerifierConfig c;
  c.dcap_verifier.trusted_root_ca = "/nonexistent/root.pem";
  auto v = BuildVerifiers(c);
  ASSERT_THAT(v, Not(IsOk()));
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(core::Message(v.status()),
              HasSubstr("attestation_service.verifier_config.dcap_verifier.trusted_root_ca "
                        "`/nonexistent/root.pem`"));
}

TEST(VerifierRegistryTest, ProtocolTees) {
  for (std::string_view tee : {"tdx", "snp", "sgx", "az-snp-vtpm", "sample", "nvidia"}) {
    EXPECT_TRUE(IsProtocolTee(tee)) << tee;
  }
  for (std::string_view tee : {"", "TDX", "sev", "tdx "}) EXPECT_FALSE(IsProtocolTee(tee)) << tee;
  for (std::string_view tee : RegisteredTees()) EXPECT_TRUE(IsProtocolTee(tee)) << tee;
}

}  // namespace
}  // namespace ccburst::attestation
