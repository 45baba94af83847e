// End-to-end tests of the hardware TEE verifiers over real HTTP on loopback: a KbsServer is
// configured from TOML with the test hierarchies' roots (TDX: the generator's root CA and a
// collateral directory written with it; SNP: the generator's ARK bundle), and an agent
// KbsClient runs /auth -> /attest with generated evidence bound to the session, then fetches a
// resource. The negative cases send evidence whose report data is not the session binding.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/kbs_client.h"
#include "agent/testing/generated_attesters.h"
#include "collateral/dcap/sources.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/key.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/testing/quote_generator.h"
#include "kbs/kbs_service.h"
#include "kbs/policy_presets.h"
#include "net/http_client.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::Not;

namespace json = core::json;

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string DerToPem(std::string_view der) {
  std::string b64 = core::Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

// The hierarchies are slow to generate: once for all tests.
const evidence::tdx::testing::TdxTestHierarchy& Tdx() {
  static auto* h = evidence::tdx::testing::TdxTestHierarchy::Create().release();
  return *h;
}
const evidence::snp::testing::TestHierarchy& Snp() {
  static auto* h = evidence::snp::testing::TestHierarchy::Create().release();
  return *h;
}

class KbsTeeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kbs_tee_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);

    evidence::tdx::testing::CollateralSpec cspec;
    cspec.issue_date = core::FromUnixSeconds(1'799'000'000);
    cspec.next_update = core::FromUnixSeconds(1'810'000'000);
    auto collateral = Tdx().MakeCollateral(cspec);
    ASSERT_OK(collateral);
    ASSERT_OK(collateral::dcap::WriteCollateralDir(*collateral, dir_ + "/tdx-collateral"));
    WriteFile(dir_ + "/tdx-root.pem", Tdx().root_pem());
    WriteFile(dir_ + "/ark.pem",
              DerToPem(Snp().ark_der()) + DerToPem(Snp().ask_der()) + DerToPem(Snp().asvk_der()));
    WriteFile(dir_ + "/policy.rego", kAllowAllResourcePolicy);

    // Relative paths resolve against the config directory, as for a config file.
    auto config = ParseKbsConfig(R"(
[http_server]
sockets = ["127.0.0.1:0"]
insecure_http = true

[admin]
authorization_mode = "InsecureAllowAll"

[storage_backend]
storage_type = "Memory"

[policy_engine]
policy_path = "policy.rego"

[attestation_service.verifier_config.dcap_verifier]
collateral_service = "file://tdx-collateral"
tcb_update_type = "standard"
trusted_root_ca = "tdx-root.pem"

[attestation_service.verifier_config.snp_verifier]
vcek_sources = [{ type = "OfflineStore", path = "kds-store" }]
trusted_ark = "ark.pem"
)",
                                 dir_);
    ASSERT_OK(config);
    auto server = KbsServer::Start(*config, clock_);
    ASSERT_OK(server);
    server_ = std::move(*server);
    base_url_ = "http://127.0.0.1:" + std::to_string(server_->ports().at(0));

    net::HttpClientOptions options;
    options.base_url = base_url_;
    auto admin = net::HttpClient::Create(options);
    ASSERT_OK(admin);
    auto r = (*admin)->Send("POST", "/kbs/v0/resource/default/key/model", "s3cret");
    ASSERT_OK(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }

  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  agent::KbsClient Client(std::unique_ptr<agent::Attester> attester) {
    net::HttpClientOptions options;
    options.base_url = base_url_;
    auto http = net::HttpClient::Create(options);
    EXPECT_OK(http);
    return agent::KbsClient(*std::move(http), std::move(attester),
                            crypto::PrivateKey::GenerateEcP256(), "ECDH-ES+A256KW");
  }

  // The `cpu0` appraisal of an EAR token (signature checked by the KBS on use, not here).
  static json::object Submod(const std::string& token) {
    size_t a = token.find('.'), b = token.find('.', a + 1);
    auto payload = core::Base64UrlDecode(token.substr(a + 1, b - a - 1));
    EXPECT_OK(payload);
    auto doc = core::ParseJson(payload.ok() ? *payload : "{}");
    EXPECT_OK(doc);
    const json::value* cpu0 = core::FindPath(*doc, "submods/cpu0");
    EXPECT_NE(cpu0, nullptr);
    return cpu0 && cpu0->is_object() ? cpu0->get_object() : json::object{};
  }

  // Attests with `good`, fetches the resource and returns the annotated evidence in the token.
  json::object AttestAndFetch(std::unique_ptr<agent::Attester> good) {
    agent::KbsClient client = Client(std::move(good));
    auto token = client.Attest();
    EXPECT_OK(token);
    if (!token.ok()) return {};
    auto secret = client.GetResource("default/key/model");
    EXPECT_OK(secret);
    if (secret.ok()) {
      EXPECT_EQ(*secret, "s3cret");
    }
    json::object submod = Submod(*token);
    const json::value* annotated = submod.if_contains("ear.veraison.annotated-evidence");
    EXPECT_NE(annotated, nullptr);
    return annotated && annotated->is_object() ? annotated->get_object() : json::object{};
  }

  // Attestation with evidence bound to other report data is refused, naming the binding check.
  void ExpectBindingRefused(std::unique_ptr<agent::Attester> bad, std::string_view check) {
    agent::KbsClient client = Client(std::move(bad));
    auto token = client.Attest();
    ASSERT_THAT(token, StatusIs(absl::StatusCode::kPermissionDenied)) << token.status();
    std::string message = core::Message(token.status());
    EXPECT_NE(message.find("401"), std::string::npos) << message;
    EXPECT_NE(message.find("AttestationError"), std::string::npos) << message;
    EXPECT_NE(message.find(check), std::string::npos) << message;
    auto secret = client.GetResource("default/key/model");
    EXPECT_THAT(secret, Not(IsOk()));
  }

  FakeClock clock_{core::FromUnixSeconds(1'800'000'000)};
  std::string dir_;
  std::string base_url_;
  std::unique_ptr<KbsServer> server_;
};

TEST_F(KbsTeeTest, TdxEndToEnd) {
  json::object annotated = AttestAndFetch(agent::testing::NewGeneratedTdxAttester(Tdx()));
  ASSERT_TRUE(annotated.contains("tdx")) << json::serialize(annotated);
  const json::value& tdx = annotated.at("tdx");
  ASSERT_TRUE(tdx.is_object());
  EXPECT_NE(core::FindPath(tdx, "quote/body/mr_td"), nullptr) << json::serialize(tdx);
  ASSERT_TRUE(annotated.contains("report_data"));
  EXPECT_EQ(annotated.at("report_data").as_string().size(), 128u);
  EXPECT_TRUE(annotated.contains("runtime_data_claims"));
}

TEST_F(KbsTeeTest, TdxWrongReportDataIsRefusedAndTheServiceKeepsWorking) {
  ExpectBindingRefused(agent::testing::NewGeneratedTdxAttester(
                           Tdx(), {.wrong_report_data = true, .init_data_digest = {}}),
                       "tdx: report_data does not match the session binding");
  json::object annotated = AttestAndFetch(agent::testing::NewGeneratedTdxAttester(Tdx()));
  EXPECT_TRUE(annotated.contains("tdx"));
}

TEST_F(KbsTeeTest, SnpEndToEnd) {
  json::object annotated = AttestAndFetch(agent::testing::NewGeneratedSnpAttester(Snp()));
  ASSERT_TRUE(annotated.contains("snp")) << json::serialize(annotated);
  const json::value& snp = annotated.at("snp");
  ASSERT_TRUE(snp.is_object());
  EXPECT_EQ(snp.as_object().at("measurement"),
            json::value(core::HexEncode(std::string(48, '\x11'))));
  EXPECT_EQ(snp.as_object().at("chip_id"), json::value(core::HexEncode(Snp().options().chip_id)));
  ASSERT_TRUE(annotated.contains("report_data"));
  EXPECT_EQ(annotated.at("report_data").as_string().size(), 128u);
}

TEST_F(KbsTeeTest, SnpWrongReportDataIsRefusedAndTheServiceKeepsWorking) {
  ExpectBindingRefused(agent::testing::NewGeneratedSnpAttester(
                           Snp(), {.wrong_report_data = true, .init_data_digest = {}}),
                       "does not match the session binding");
  json::object annotated = AttestAndFetch(agent::testing::NewGeneratedSnpAttester(Snp()));
  EXPECT_TRUE(annotated.contains("snp"));
}

TEST(KbsTeeVerifiers, DefaultsRegisterTdxAndSnpWithoutNetwork) {
  KbsConfig c;
  c.http_server.insecure_http = true;
  c.storage.type = "Memory";
  auto kbs = KbsService::Create(c);
  ASSERT_OK(kbs);
  for (std::string tee : {"tdx", "snp", "sample"}) {
    net::HttpRequest r;
    r.method = "POST";
    r.target = r.path = "/kbs/v0/auth";
    r.body = R"({"version":"0.4.0","tee":")" + tee + R"(","extra-params":{}})";
    r.remote = "127.0.0.1:1";
    EXPECT_EQ((*kbs)->Handle(r).status, 200) << tee;
  }
}

TEST(KbsTeeVerifiers, BadTestRootsStopStartUpNamingTheKey) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("kbs_tee_roots_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/garbage.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  // A certificate that is not an ARK, ASK or ASVK.
  WriteFile(dir + "/vcek.pem", DerToPem(Snp().vcek_der()));
  KbsConfig c;
  c.http_server.insecure_http = true;
  c.storage.type = "Memory";

  c.attestation_service.verifier_config.dcap_verifier.trusted_root_ca = dir + "/missing.pem";
  auto missing = KbsService::Create(c);
  ASSERT_THAT(missing, Not(IsOk()));
  EXPECT_NE(core::Message(missing.status())
                .find("attestation_service.verifier_config.dcap_verifier.trusted_root_ca"),
            std::string::npos)
      << missing.status();
  c.attestation_service.verifier_config.dcap_verifier.trusted_root_ca.reset();

  for (std::string file : {"garbage.pem", "vcek.pem", "missing.pem"}) {
    c.attestation_service.verifier_config.snp_verifier.trusted_ark = dir + "/" + file;
    auto bad = KbsService::Create(c);
    ASSERT_THAT(bad, Not(IsOk())) << file;
    EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_NE(core::Message(bad.status())
                  .find("attestation_service.verifier_config.snp_verifier.trusted_ark"),
              std::string::npos)
        << bad.status();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccburst::kbs
