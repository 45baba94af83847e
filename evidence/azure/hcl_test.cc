#include "evidence/azure/hcl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "crypto/test_keys.h"

namespace ccburst::evidence::azure {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string RealHcl(const std::string& c) {
  auto text =
      core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/azure/" + c + "/evidence.json");
  auto j = core::ParseJson(*text);
  return *core::Base64UrlDecode(j->at("hcl_report").as_string());
}

std::string VarData(const json::object& ak) {
  json::object o{{"keys", json::array{ak}},
                 {"vm-configuration", json::object{{"secure-boot", true}}},
                 {"user-data", std::string(128, '0')}};
  return json::serialize(o);
}

json::object AkJwk(const crypto::PrivateKey& k) {
  json::object j = k.Public().ToJwk();
  j["kid"] = "HCLAkPub";
  return j;
}

TEST(HclTest, ParsesBothHardwareTypes) {
  auto snp = ParseHclReport(RealHcl("a1-az-snp-vtpm-v1"));
  ASSERT_OK(snp);
  EXPECT_EQ(snp->type, HwReportType::kSnp);
  EXPECT_EQ(snp->hw_report.size(), 1184u);
  EXPECT_EQ(snp->hw_report_data().substr(0, 32), snp->var_data_sha256);
  auto tdx = ParseHclReport(RealHcl("a4-az-tdx-vtpm-v1"));
  ASSERT_OK(tdx);
  EXPECT_EQ(tdx->type, HwReportType::kTdx);
  EXPECT_EQ(tdx->hw_report.size(), 1024u);
  // The TDREPORT's REPORTDATA binds the variable data as the TD quote's does.
  EXPECT_EQ(tdx->hw_report_data().substr(0, 32), tdx->var_data_sha256);
}

TEST(HclTest, TruncatedAtEveryLengthRefused) {
  std::string hcl = RealHcl("a4-az-tdx-vtpm-v1");
  auto full = ParseHclReport(hcl);
  ASSERT_OK(full);
  size_t end = kHclVarDataOffset + full->var_data.size();
  for (size_t n = 0; n < end; ++n) {
    auto r = ParseHclReport(std::string_view(hcl).substr(0, n));
    ASSERT_THAT(r, StatusIs(_, StartsWith("hcl report: "))) << n;
  }
  EXPECT_OK(ParseHclReport(std::string_view(hcl).substr(0, end)));
}

TEST(HclTest, HeaderFieldsChecked) {
  std::string hcl = RealHcl("a1-az-snp-vtpm-v1");
  std::string bad = hcl;
  bad[0] = 'X';
  EXPECT_THAT(core::Message(ParseHclReport(bad).status()), HasSubstr("is not \"HCLA\""));
  bad = hcl;
  bad[kHclRequestDataOffset + 8] = 3;
  EXPECT_THAT(core::Message(ParseHclReport(bad).status()),
              HasSubstr("report_type 3 is neither SNP (2) nor TDX (4)"));
  bad = hcl;
  bad[kHclRequestDataOffset + 12] = 2;
  EXPECT_THAT(core::Message(ParseHclReport(bad).status()), HasSubstr("is not SHA-256"));
  bad = hcl;
  bad[kHclRequestDataOffset] ^= 1;
  EXPECT_THAT(core::Message(ParseHclReport(bad).status()), HasSubstr("data_size"));
  bad = hcl;
  bad[kHclRequestDataOffset + 19] = '\x7f';  // variable_data_size far past the buffer
  bad[kHclRequestDataOffset + 3] = '\x7f';
  EXPECT_THAT(ParseHclReport(bad), Not(IsOk()));
}

TEST(HclTest, RuntimeDataOfRealReports) {
  for (const char* c : {"a1-az-snp-vtpm-v2", "a4-az-tdx-vtpm-v1"}) {
    auto hcl = ParseHclReport(RealHcl(c));
    ASSERT_OK(hcl);
    auto rd = ParseRuntimeData(hcl->var_data);
    ASSERT_OK(rd);
    EXPECT_EQ(rd->ak_pub.type(), crypto::KeyType::kRsa);
    EXPECT_EQ(rd->vm_configuration.at("secure-boot"), json::value(true));
    EXPECT_EQ(rd->user_data->size(), 64u);
  }
}

TEST(HclTest, RuntimeDataRefusals) {
  auto msg = [](std::string_view var) { return core::Message(ParseRuntimeData(var).status()); };
  EXPECT_THAT(msg("{not json"), StartsWith("hcl report: variable data is not JSON"));
  EXPECT_EQ(msg("[1]"), "hcl report: variable data is not a JSON object");
  EXPECT_EQ(msg("{}"), "hcl report: variable data has no `keys` array");
  EXPECT_EQ(msg(R"({"keys":[{"kid":"HCLEkPub","kty":"RSA"}]})"),
            "hcl report: variable data has no HCLAkPub key");
  json::object ec = crypto::PrivateKey::GenerateEcP256().Public().ToJwk();
  ec["kid"] = "HCLAkPub";
  EXPECT_EQ(msg(VarData(ec)), "hcl report: HCLAkPub is not an RSA key (kty \"EC\")");
  // A 1024-bit modulus (the top bit set): refused before any key is built.
  json::object small = AkJwk(crypto::testing::CachedRsaKey(0));
  small["n"] = core::Base64UrlEncode(std::string(1, '\x80') + std::string(127, '\x01'));
  EXPECT_EQ(msg(VarData(small)),
            "hcl report: HCLAkPub is a 1024-bit RSA key, at least 2048 bits "
            "required");
  json::object ok = AkJwk(crypto::testing::CachedRsaKey(0));
  auto rd = ParseRuntimeData(VarData(ok));
  ASSERT_OK(rd);
  EXPECT_TRUE(rd->ak_pub.Equals(crypto::testing::CachedRsaKey(0).Public()));
  EXPECT_EQ(*rd->user_data, std::string(64, '\0'));
  json::object two{{"keys", json::array{ok, ok}}};
  EXPECT_EQ(msg(json::serialize(two)), "hcl report: variable data has two HCLAkPub keys");
  json::object bad_ud{{"keys", json::array{ok}}, {"user-data", "xyz"}};
  EXPECT_THAT(msg(json::serialize(bad_ud)), StartsWith("hcl report: `user-data`"));
}

TEST(HclTest, BuildRoundTrips) {
  std::string var = VarData(AkJwk(crypto::testing::CachedRsaKey(0)));
  std::string hw(1024, '\x07');
  auto h = ParseHclReport(BuildHclReport(HwReportType::kTdx, hw, var));
  ASSERT_OK(h);
  EXPECT_EQ(h->type, HwReportType::kTdx);
  EXPECT_EQ(h->hw_report, hw);
  EXPECT_EQ(h->var_data, var);
  EXPECT_EQ(h->var_data_sha256, crypto::Sha256(var));
}

}  // namespace
}  // namespace ccburst::evidence::azure
