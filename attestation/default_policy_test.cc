// Golden tests of the built-in attestation policies (attestation/policies/default_cpu.rego and
// default_gpu.rego): realistic claims of each TEE, shaped as PROTOCOL.md names them and as the
// verifiers produce them, with and without matching reference values, and the exact
// trustworthiness vector each yields.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "attestation/default_policies.h"
#include "attestation/ear.h"
#include "collateral/dcap/sources.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/azure/verifier.h"
#include "policy/rego.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;

// Claims of a TD from a real quote (PROTOCOL.md names; values hex as the verifier emits them).
constexpr char kTdxClaims[] = R"({
 "quote": {
  "header": {"version": "0400", "att_key_type": "0200", "tee_type": "81000000",
             "vendor_id": "939a7233f79c4ca9940a0db3957f0607", "user_data": "d099bfec0a477aa85a605dceabf2b10800000000"},
  "body": {
   "tcb_svn": "03000500000000000000000000000000",
   "mr_seam": "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1",
   "mrsigner_seam": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "seam_attributes": "0000000000000000", "td_attributes": "0000001000000000", "xfam": "e742060000000000",
   "mr_td": "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
   "mr_config_id": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "mr_owner": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "mr_owner_config": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "rtmr_0": "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288",
   "rtmr_1": "559cfcf42716ed6c40a48b5a9d2b1d4de4a00e1f6d3d3ddb7c5de5b31ff1ea2e3e0f5e5d0ed4c1a2b9f7a3e8d6c4b2a1",
   "rtmr_2": "2eab9c9f6d3c0e5f4a0f0d6b3c1a1e2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a",
   "rtmr_3": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "report_data": "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429"
  }
 },
 "td_attributes": {"debug": false, "key_locker": false, "perfmon": false, "protection_keys": false, "septve_disable": true},
 "tcb_status": "UpToDate", "advisory_ids": [], "collateral_expiration_status": "0"
})";

// Claims of an SEV-SNP guest (Trustee's claim names and types: TCB parts and policy bits are
// numbers and booleans).
constexpr char kSnpClaims[] = R"({
 "measurement": "8b35b5e6d5b9e1bd06c7ab53e2e4f0a14cd3b4bbd2aa33b6b8e29e3bb1cbd3c9e02e1a45bb4a73e6fbd4a5e1a2d86f1f",
 "report_data": "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429",
 "init_data": "0000000000000000000000000000000000000000000000000000000000000000",
 "chip_id": "d30d7b8e5d6bf8d0a1c3e5f70921436587a9cbedf0123456789abcdef0123456d30d7b8e5d6bf8d0a1c3e5f70921436587a9cbedf0123456789abcdef0123456",
 "reported_tcb_bootloader": 4, "reported_tcb_tee": 0, "reported_tcb_snp": 22, "reported_tcb_microcode": 213,
 "policy_debug_allowed": false, "policy_migrate_ma": false, "policy_smt_allowed": true,
 "policy_single_socket": false, "policy_abi_major": 0, "policy_abi_minor": 31,
 "platform_smt_enabled": true, "platform_tsme_enabled": false
})";

class DefaultPolicyTest : public ::testing::Test {
 protected:
  // Evaluates `id`'s trust_claims over `input` with the reference values in rvs_.
  json::object TrustVector(std::string_view id, const json::value& input) {
    auto text = BuiltinPolicy(id);
    EXPECT_TRUE(text.has_value()) << id;
    auto compiled =
        policy::Compile({policy::Module{std::string(id) + ".rego", std::string(*text)}});
    EXPECT_OK(compiled);
    std::vector<policy::HostFunction> hosts{policy::HostFunction{
        "query_reference_value", 1,
        [this](const std::vector<json::value>& args) -> absl::StatusOr<json::value> {
          auto it = rvs_.find(std::string(args[0].as_string()));
          return it == rvs_.end() ? json::value(nullptr) : it->second;
        }}};
    policy::EvalOptions options;
    options.host_functions = &hosts;
    auto r =
        policy::EvalRule(**compiled, "data.policy.trust_claims", &input, json::object(), options);
    EXPECT_OK(r);
    EXPECT_TRUE(r->has_value());
    return (*r)->as_object();
  }

  // The vector as "executables/hardware/configuration" with the other claims checked to be 0.
  std::string Ehc(std::string_view id, const json::value& input) {
    json::object tv = TrustVector(id, input);
    for (const char* other :
         {"instance-identity", "file-system", "runtime-opaque", "storage-opaque", "sourced-data"}) {
      EXPECT_EQ(tv.at(other), json::value(0)) << other;
    }
    EXPECT_EQ(tv.size(), 8u);
    return core::Serialize(tv.at("executables")) + "/" + core::Serialize(tv.at("hardware")) + "/" +
           core::Serialize(tv.at("configuration"));
  }

  static json::value Input(std::string_view tee, const json::value& claims) {
    return json::object{{tee, claims},
                        {"report_data", "fCxx"},
                        {"init_data", ""},
                        {"runtime_data_claims", json::object{{"nonce", "q6ZPOVfHQHnsIXDU"}}},
                        {"init_data_claims", json::object()}};
  }

  static json::value Tdx() { return json::parse(kTdxClaims); }
  static json::value Snp() { return json::parse(kSnpClaims); }

  void RegisterTdx(const json::value& claims) {
    const json::object& body = claims.at("quote").at("body").as_object();
    for (const char* id : {"mr_td", "rtmr_1", "rtmr_2", "xfam"}) {
      rvs_[id] = json::array{body.at(id)};
    }
  }

  void RegisterSnp(const json::value& claims) {
    rvs_["snp_launch_measurement"] = json::array{claims.at("measurement")};
    rvs_["snp_bootloader"] = json::array{claims.at("reported_tcb_bootloader")};
    rvs_["snp_microcode"] = json::array{claims.at("reported_tcb_microcode")};
    rvs_["snp_snp_svn"] = json::array{claims.at("reported_tcb_snp")};
    rvs_["snp_tee_svn"] = json::array{claims.at("reported_tcb_tee")};
  }

  std::map<std::string, json::value> rvs_;
};

TEST_F(DefaultPolicyTest, TdxWithoutReferenceValuesIsUnrecognized) {
  // Nothing registered: measurements, platform and configuration (xfam) are all unknown.
  EXPECT_EQ(Ehc("default_cpu", Input("tdx", Tdx())), "33/97/36");
}

TEST_F(DefaultPolicyTest, TdxAllMeasurementsRegisteredIsAffirming) {
  json::value tdx = Tdx();
  RegisterTdx(tdx);
  EXPECT_EQ(Ehc("default_cpu", Input("tdx", tdx)), "3/2/2");
}

TEST_F(DefaultPolicyTest, TdxEachFailedCheckLowersItsClaim) {
  json::value tdx = Tdx();
  RegisterTdx(tdx);
  {
    json::value t = tdx;
    t.at("quote").at("body").as_object()["rtmr_2"] = std::string(96, 'f');
    EXPECT_EQ(Ehc("default_cpu", Input("tdx", t)), "33/2/2") << "unknown rtmr_2";
  }
  {
    json::value t = tdx;
    t.as_object()["tcb_status"] = "OutOfDate";
    EXPECT_EQ(Ehc("default_cpu", Input("tdx", t)), "3/97/2") << "TCB out of date";
  }
  {
    json::value t = tdx;
    t.at("td_attributes").as_object()["debug"] = true;
    EXPECT_EQ(Ehc("default_cpu", Input("tdx", t)), "3/2/36") << "debug TD";
  }
  {
    json::value t = tdx;
    t.at("quote").at("body").as_object()["mr_td"] = std::string(96, '0');
    EXPECT_EQ(Ehc("default_cpu", Input("tdx", t)), "3/97/2") << "unknown MRTD";
  }
}

TEST_F(DefaultPolicyTest, ReferenceValueMayBeAScalar) {
  json::value tdx = Tdx();
  RegisterTdx(tdx);
  rvs_["xfam"] = tdx.at("quote").at("body").at("xfam");  // a single value, not a list
  EXPECT_EQ(Ehc("default_cpu", Input("tdx", tdx)), "3/2/2");
  rvs_["xfam"] = "0000000000000000";
  EXPECT_EQ(Ehc("default_cpu", Input("tdx", tdx)), "3/2/36");
}

TEST_F(DefaultPolicyTest, SnpAllRegisteredIsAffirming) {
  json::value snp = Snp();
  EXPECT_EQ(Ehc("default_cpu", Input("snp", snp)), "33/97/2");
  RegisterSnp(snp);
  EXPECT_EQ(Ehc("default_cpu", Input("snp", snp)), "3/2/2");
}

TEST_F(DefaultPolicyTest, SnpEachFailedCheckLowersItsClaim) {
  json::value snp = Snp();
  RegisterSnp(snp);
  {
    json::value s = snp;
    s.as_object()["reported_tcb_microcode"] = 200;  // older microcode than registered
    EXPECT_EQ(Ehc("default_cpu", Input("snp", s)), "3/97/2");
  }
  {
    json::value s = snp;
    s.as_object()["policy_debug_allowed"] = true;
    EXPECT_EQ(Ehc("default_cpu", Input("snp", s)), "3/2/36");
  }
  {
    json::value s = snp;
    s.as_object()["policy_migrate_ma"] = true;
    EXPECT_EQ(Ehc("default_cpu", Input("snp", s)), "3/2/36");
  }
  {
    json::value s = snp;
    s.as_object()["measurement"] = std::string(96, '0');
    EXPECT_EQ(Ehc("default_cpu", Input("snp", s)), "33/2/2");
  }
  // A TCB part registered as a string does not match the number the verifier reports.
  rvs_["snp_bootloader"] = json::array{"4"};
  EXPECT_EQ(Ehc("default_cpu", Input("snp", snp)), "3/97/2");
}

// The HCL's vm-configuration as evidence/azure emits it (`vm_configuration`, HCL member names).
json::object VmConfiguration(bool console_enabled) {
  return json::object{{"console-enabled", console_enabled},
                      {"secure-boot", true},
                      {"tpm-enabled", true},
                      {"vmUniqueId", "26F8BC30-774E-4290-8E7A-535F3B672AEE"}};
}

TEST_F(DefaultPolicyTest, AzureSnpVtpmUsesPcr11AndTcb) {
  json::value az = Snp();
  json::object tpm;
  for (int i = 0; i < 24; ++i) tpm[fmt::format("pcr{:02}", i)] = std::string(64, 'a' + i % 6);
  az.as_object()["tpm"] = tpm;
  az.as_object()["vm_configuration"] = VmConfiguration(false);
  EXPECT_EQ(Ehc("default_cpu", Input("az-snp-vtpm", az)), "33/97/2");
  rvs_["measurement"] = json::array{az.at("measurement")};
  rvs_["snp_pcr11"] = json::array{tpm.at("pcr11")};
  rvs_["tcb_bootloader"] = json::array{4};
  rvs_["tcb_microcode"] = json::array{213};
  rvs_["tcb_snp"] = json::array{22};
  rvs_["tcb_tee"] = json::array{0};
  EXPECT_EQ(Ehc("default_cpu", Input("az-snp-vtpm", az)), "3/2/2");
  rvs_["snp_pcr11"] = json::array{std::string(64, '0')};
  EXPECT_EQ(Ehc("default_cpu", Input("az-snp-vtpm", az)), "33/2/2");
}

TEST_F(DefaultPolicyTest, AzureTdxVtpmUsesPcr11AndMrtd) {
  json::value az = Tdx();
  az.as_object()["tpm"] = json::object{{"pcr11", std::string(64, 'b')}};
  az.as_object()["vm_configuration"] = VmConfiguration(false);
  EXPECT_EQ(Ehc("default_cpu", Input("az-tdx-vtpm", az)), "33/97/36");
  rvs_["tdx_pcr11"] = json::array{std::string(64, 'b')};
  EXPECT_EQ(Ehc("default_cpu", Input("az-tdx-vtpm", az)), "33/97/36");
  rvs_["mr_td"] = json::array{az.at("quote").at("body").at("mr_td")};
  EXPECT_EQ(Ehc("default_cpu", Input("az-tdx-vtpm", az)), "3/2/36");
  rvs_["xfam"] = json::array{az.at("quote").at("body").at("xfam")};
  EXPECT_EQ(Ehc("default_cpu", Input("az-tdx-vtpm", az)), "3/2/2");
  json::value debug = az;
  debug.as_object()["td_attributes"].as_object()["debug"] = true;
  EXPECT_EQ(Ehc("default_cpu", Input("az-tdx-vtpm", debug)), "3/2/36");
}

TEST_F(DefaultPolicyTest, AzureConsoleAndSecureBootGateTheConfiguration) {
  for (const char* tee : {"az-snp-vtpm", "az-tdx-vtpm"}) {
    SCOPED_TRACE(tee);
    rvs_.clear();
    json::value az = std::string_view(tee) == "az-snp-vtpm" ? Snp() : Tdx();
    az.as_object()["tpm"] = json::object{{"pcr11", std::string(64, 'b')}};
    rvs_["xfam"] = json::array{Tdx().at("quote").at("body").at("xfam")};
    az.as_object()["vm_configuration"] = VmConfiguration(false);
    EXPECT_THAT(Ehc("default_cpu", Input(tee, az)), ::testing::EndsWith("/2"));
    // The serial console is on: not approved until the operator accepts it.
    az.as_object()["vm_configuration"] = VmConfiguration(true);
    EXPECT_THAT(Ehc("default_cpu", Input(tee, az)), ::testing::EndsWith("/36"));
    rvs_["az_console_enabled"] = json::array{true};
    EXPECT_THAT(Ehc("default_cpu", Input(tee, az)), ::testing::EndsWith("/2"));
    // Secure boot off is never approved; neither is a missing vm-configuration.
    az.as_object()["vm_configuration"].as_object()["secure-boot"] = false;
    EXPECT_THAT(Ehc("default_cpu", Input(tee, az)), ::testing::EndsWith("/36"));
    az.as_object().erase("vm_configuration");
    EXPECT_THAT(Ehc("default_cpu", Input(tee, az)), ::testing::EndsWith("/36"));
  }
}

// The real Azure vectors through the path the KBS runs (verifier -> annotated evidence ->
// default_cpu), so that the claim names the policy reads are the ones the verifiers emit. Their
// nonce is fixed ("challenge"), which is why they cannot go through Attest()'s session binding.
TEST_F(DefaultPolicyTest, AzureRealVectorsThroughTheVerifierPath) {
  auto shared = [](const std::string& rel) {
    auto text = core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/" + rel);
    EXPECT_OK(text);
    return text.ok() ? *text : std::string();
  };
  auto collateral = collateral::dcap::LoadCollateralDir(
      std::string(CCB_SHARED_DIR) + "/testdata/tdx/t3-spr-outofdate/collateral");
  ASSERT_OK(collateral);
  auto tdx_verifier = evidence::azure::AzTdxVtpmVerifier::Create(
      {std::make_shared<evidence::dcap::FixedCollateralSource>(*collateral)});
  ASSERT_OK(tdx_verifier);
  const evidence::azure::AzTdxVtpmVerifier& tdx = **tdx_verifier;
  auto snp = evidence::azure::AzSnpVtpmVerifier::Create();
  ASSERT_OK(snp);

  for (const char* name : {"a1-az-snp-vtpm-v1", "a4-az-tdx-vtpm-v1"}) {
    SCOPED_TRACE(name);
    rvs_.clear();
    json::object meta = json::parse(shared(fmt::format("azure/{}/case.json", name))).as_object();
    std::string tee(meta.at("kind").as_string());
    const evidence::Verifier& verifier =
        tee == "az-snp-vtpm" ? static_cast<const evidence::Verifier&>(**snp) : tdx;
    auto at = core::ParseRfc3339(std::string(meta.at("verify_at").as_string()));
    ASSERT_OK(at);
    evidence::ExpectedBinding binding{"challenge", std::nullopt};
    auto claims = verifier.Verify(json::parse(shared(fmt::format("azure/{}/evidence.json", name))),
                                  binding, *at);
    ASSERT_OK(claims);
    json::object tee_claims = *claims;
    auto annotated =
        AnnotateEvidence(tee, *std::move(claims), json::object{{"nonce", "challenge"}}, nullptr);
    ASSERT_OK(annotated);
    EXPECT_EQ(annotated->at("report_data"), json::value("6368616c6c656e6765"));
    // Nothing registered; the VMs' serial console is on.
    EXPECT_EQ(Ehc("default_cpu", *annotated), "33/97/36");
    rvs_["az_console_enabled"] = json::array{true};
    rvs_[tee == "az-snp-vtpm" ? "snp_pcr11" : "tdx_pcr11"] =
        json::array{tee_claims.at("tpm").at("pcr11")};
    if (tee == "az-snp-vtpm") {
      EXPECT_EQ(Ehc("default_cpu", *annotated), "33/97/2");
      rvs_["measurement"] = json::array{tee_claims.at("measurement")};
      EXPECT_EQ(Ehc("default_cpu", *annotated), "3/97/2");
      for (const char* part : {"bootloader", "microcode", "snp", "tee"}) {
        rvs_[fmt::format("tcb_{}", part)] =
            json::array{tee_claims.at(fmt::format("reported_tcb_{}", part))};
      }
      EXPECT_EQ(Ehc("default_cpu", *annotated), "3/2/2");
    } else {
      EXPECT_EQ(Ehc("default_cpu", *annotated), "33/97/36");
      rvs_["mr_td"] = json::array{tee_claims.at("quote").at("body").at("mr_td")};
      EXPECT_EQ(Ehc("default_cpu", *annotated), "3/97/36");
      rvs_["xfam"] = json::array{tee_claims.at("quote").at("body").at("xfam")};
      // The TD quote's TCB is OutOfDate: the hardware stays unrecognized.
      EXPECT_EQ(Ehc("default_cpu", *annotated), "3/97/2");
    }
  }
}

TEST_F(DefaultPolicyTest, OnlyTheTeeInTheInputIsAppraised) {
  // SNP reference values do not make a TDX guest trustworthy, and vice versa.
  RegisterSnp(Snp());
  EXPECT_EQ(Ehc("default_cpu", Input("tdx", Tdx())), "33/97/36");
  rvs_.clear();
  RegisterTdx(Tdx());
  EXPECT_EQ(Ehc("default_cpu", Input("snp", Snp())), "33/97/2");
}

TEST_F(DefaultPolicyTest, GpuPolicyAppraisesTheSampleDevice) {
  json::value dev = json::object{{"svn", "2"}};
  EXPECT_EQ(Ehc("default_gpu", Input("sampledevice", dev)), "33/97/36");
  rvs_["device_svn"] = json::array{"1", "2"};
  EXPECT_EQ(Ehc("default_gpu", Input("sampledevice", dev)), "33/2/36");
}

}  // namespace
}  // namespace ccburst::attestation
