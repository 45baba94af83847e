// `ccburst verify` command code (apps/verify_command): the real-hardware SNP cases and
// operator inputs (certificate and CRL files) through VerifySnpEvidence; the TDX cases through
// VerifyTdxEvidence / VerifyTdxFiles.
#include "apps/verify_command.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "collateral/dcap/sources.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/snp/testing/vectors.h"

namespace ccburst::apps {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace evidence::snp;

using namespace evidence::snp::testing;

// ---- Real hardware vectors (AMD's pinned roots) ----

TEST(SnpRealTest, MilanV2VcekIsValid) {
  json::object r = VerifySnpEvidence(Read(CaseDir("s3-milan-v2-vcek") + "/report.bin"),
                                     {Read(CaseDir("s3-milan-v2-vcek") + "/vcek.der")},
                                     VerifyAt("s3-milan-v2-vcek"));
  ASSERT_TRUE(r.at("verified").as_bool()) << Error(r);
  EXPECT_EQ(r.at("processor_generation").as_string(), "Milan");
  EXPECT_EQ(r.at("signing_key").as_string(), "VCEK");
  EXPECT_EQ(r.at("report_version").to_number<int>(), 2);
  ExpectClaimsMatchCase(r.at("claims").as_object(),
                        CaseJson("s3-milan-v2-vcek").at("expected").as_object());
}

TEST(SnpRealTest, MilanV2RefusedWhenTrusteeMinimumVersion) {
  SnpVerifierOptions o;
  o.min_report_version = 3;
  json::object r = VerifySnpEvidence(Read(CaseDir("s3-milan-v2-vcek") + "/report.bin"),
                                     {Read(CaseDir("s3-milan-v2-vcek") + "/vcek.der")},
                                     VerifyAt("s3-milan-v2-vcek"), o);
  EXPECT_FALSE(r.at("verified").as_bool());
  EXPECT_EQ(Error(r), "snp: report version 2 is below the minimum 3");
}

class InvalidVcekTest : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidVcekTest, FailsOnTheVcekSignature) {
  ASSERT_EQ(CaseJson(GetParam()).at("expected").at("result").as_string(), "invalid-vcek-signature");
  json::object r =
      VerifySnpEvidence(Read(CaseDir(GetParam()) + "/report.bin"),
                        {Read(CaseDir(GetParam()) + "/vcek.der")}, VerifyAt(GetParam()));
  EXPECT_FALSE(r.at("verified").as_bool());
  EXPECT_TRUE(r.at("claims").is_null());
  EXPECT_THAT(Error(r), StartsWith("snp: VCEK signature does not verify with ASK `SEV-Milan`"));
}

INSTANTIATE_TEST_SUITE_P(Cases, InvalidVcekTest,
                         ::testing::Values("s3-milan-v2-invalid-vcek-legacy",
                                           "s3-milan-v2-invalid-vcek-new"));

TEST(SnpRealTest, MilanVlekV3ValidWithAnyVmplAndRefusedAtVmpl1ByDefault) {
  std::string report = Read(CaseDir("s4-milan-vlek-v3") + "/report.bin");
  std::string vlek = Read(CaseDir("s4-milan-vlek-v3") + "/vlek.der");
  core::TimePoint at = VerifyAt("s4-milan-vlek-v3");

  json::object def = VerifySnpEvidence(report, {vlek}, at);
  EXPECT_FALSE(def.at("verified").as_bool());
  EXPECT_EQ(Error(def), "snp: VMPL 1 is not the required 0");

  SnpVerifierOptions any;
  any.required_vmpl = std::nullopt;
  json::object r = VerifySnpEvidence(report, {vlek}, at, any);
  ASSERT_TRUE(r.at("verified").as_bool()) << Error(r);
  EXPECT_EQ(r.at("signing_key").as_string(), "VLEK");
  EXPECT_EQ(r.at("processor_generation").as_string(), "Milan");
  ExpectClaimsMatchCase(r.at("claims").as_object(),
                        CaseJson("s4-milan-vlek-v3").at("expected").as_object());

  SnpVerifierOptions vmpl1;
  vmpl1.required_vmpl = 1;
  EXPECT_TRUE(VerifySnpEvidence(report, {vlek}, at, vmpl1).at("verified").as_bool());
}

TEST(SnpRealTest, VlekFailsAfterItExpired) {
  SnpVerifierOptions any;
  any.required_vmpl = std::nullopt;
  std::string report = Read(CaseDir("s4-milan-vlek-v3") + "/report.bin");
  std::string vlek = Read(CaseDir("s4-milan-vlek-v3") + "/vlek.der");
  EXPECT_TRUE(
      VerifySnpEvidence(report, {vlek}, At("2025-12-10T22:14:21Z"), any).at("verified").as_bool());
  json::object r = VerifySnpEvidence(report, {vlek}, At("2025-12-10T22:14:22Z"), any);
  EXPECT_FALSE(r.at("verified").as_bool());
  EXPECT_EQ(Error(r),
            "snp: VLEK certificate `SEV-VLEK` expired at 2025-12-10T22:14:21Z (verification time "
            "2025-12-10T22:14:22Z)");
  json::object early = VerifySnpEvidence(report, {vlek}, At("2024-12-10T22:14:20Z"), any);
  EXPECT_EQ(Error(early),
            "snp: VLEK certificate `SEV-VLEK` is not valid before 2024-12-10T22:14:21Z "
            "(verification time 2024-12-10T22:14:20Z)");
}

TEST(SnpRealTest, GenoaTsmEvidenceIsValidInEveryForm) {
  const json::object expected = CaseJson("s5-genoa-v3-tsm").at("expected").as_object();
  core::TimePoint at = VerifyAt("s5-genoa-v3-tsm");
  // configfs-tsm JSON with the certificate table.
  json::object r = VerifySnpEvidence(S5TsmEvidence(), {}, at);
  ASSERT_TRUE(r.at("verified").as_bool()) << Error(r);
  EXPECT_EQ(r.at("processor_generation").as_string(), "Genoa");
  ExpectClaimsMatchCase(r.at("claims").as_object(), expected);
  // Raw report plus the operator's certificate directory contents (DER and PEM).
  std::string raw = Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  for (std::vector<std::string> certs :
       {std::vector<std::string>{Read(CaseDir("s5-genoa-v3-tsm") + "/vcek.der")},
        std::vector<std::string>{Read(CaseDir("s5-genoa-v3-tsm") + "/certs/vcek.pem"),
                                 Read(CaseDir("s5-genoa-v3-tsm") + "/certs/ask.pem"),
                                 Read(CaseDir("s5-genoa-v3-tsm") + "/certs/ark.der")},
        std::vector<std::string>{Read(CaseDir("amd") + "/milan_ask_ark_asvk.pem"),
                                 Read(CaseDir("amd") + "/genoa_ask_ark_asvk.pem"),
                                 Read(CaseDir("s5-genoa-v3-tsm") + "/vcek.der")}}) {
    json::object rr = VerifySnpEvidence(raw, certs, at);
    EXPECT_TRUE(rr.at("verified").as_bool()) << Error(rr);
  }
  // No certificate anywhere.
  json::object none = VerifySnpEvidence(raw, {}, at);
  EXPECT_EQ(Error(none),
            "snp: the evidence carries no VCEK and no certificate source is configured");
}

TEST(SnpRealTest, ReferenceAttesterJsonIsValid) {
  const json::object expected = CaseJson("trustee-genoa-v3-json").at("expected").as_object();
  json::object r = VerifySnpEvidence(Read(CaseDir("trustee-genoa-v3-json") + "/evidence.json"), {},
                                     VerifyAt("trustee-genoa-v3-json"));
  ASSERT_TRUE(r.at("verified").as_bool()) << Error(r);
  EXPECT_EQ(r.at("processor_generation").as_string(), "Genoa");
  ExpectClaimsMatchCase(r.at("claims").as_object(), expected);
}

TEST(SnpRealTest, ByteFlipsInEachCertificateFail) {
  std::string report = Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  const std::string dir = CaseDir("s5-genoa-v3-tsm") + "/certs/";
  const std::vector<EvidenceCert> good = {{CertKind::kVcek, Read(dir + "vcek.der")},
                                          {CertKind::kAsk, Read(dir + "ask.der")},
                                          {CertKind::kArk, Read(dir + "ark.der")}};
  core::TimePoint at = VerifyAt("s5-genoa-v3-tsm");
  ASSERT_TRUE(VerifySnpEvidence(TsmEvidence(report, good), {}, at).at("verified").as_bool());
  for (size_t which = 0; which < good.size(); ++which) {
    size_t size = good[which].data.size();
    int checked = 0;
    // Bytes spread over the whole certificate, including names, key and signature.
    for (size_t pos = 4; pos < size; pos += 37) {
      std::vector<EvidenceCert> certs = good;
      certs[which].data[pos] ^= 0x01;
      json::object r = VerifySnpEvidence(TsmEvidence(report, certs), {}, at);
      EXPECT_FALSE(r.at("verified").as_bool()) << CertKindName(good[which].kind) << " byte " << pos;
      ++checked;
    }
    EXPECT_GT(checked, 30);
  }
}

TEST(SnpGeneratedCommandTest, VerifyCommandChecksCrlFiles) {
  const core::TimePoint kNow = core::FromUnixSeconds(1767225600);  // 2026-01-01
  evidence::snp::testing::HierarchyOptions o;
  o.product = Generation::kGenoa;
  auto hierarchy = evidence::snp::testing::TestHierarchy::Create(o);
  const evidence::snp::testing::TestHierarchy& h = *hierarchy;
  evidence::snp::testing::ReportSpec spec;
  std::string ev = h.TsmEvidenceJson(spec);
  json::object r = VerifySnpEvidence(ev, {h.IssueCrl({0x123})}, kNow, h.VerifierOptions());
  EXPECT_TRUE(r.at("verified").as_bool()) << Error(r);
  r = VerifySnpEvidence(ev, {h.vcek_der(), h.IssueCrl({0x10001})}, kNow, h.VerifierOptions());
  EXPECT_FALSE(r.at("verified").as_bool());
  EXPECT_EQ(Error(r), "snp: ASK `SEV-Genoa` (serial 10001) is revoked by the ARK-Genoa CRL");
}

std::string TdxCaseDir(std::string_view name) {
  return fmt::format("{}/testdata/tdx/{}", CCB_SHARED_DIR, name);
}

TEST(VerifyCommandTest, RawReportWithCertsDir) {
  auto at = *core::ParseRfc3339("2026-01-01T00:00:00Z");
  std::string report = *core::ReadFile(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  boost::json::object r = VerifySnpFiles(report, CaseDir("s5-genoa-v3-tsm") + "/certs", at);
  ASSERT_TRUE(r.at("verified").as_bool()) << boost::json::serialize(r);
  EXPECT_EQ(std::string(r.at("claims").at("chip_id").as_string()).substr(0, 8), "7b1584c9");
  r = VerifySnpFiles(report, std::nullopt, at);
  EXPECT_FALSE(r.at("verified").as_bool());
  r = VerifySnpFiles(report, std::string("/nonexistent/snp"), at);
  EXPECT_THAT(std::string(r.at("error").as_string()),
              StartsWith("snp: certificate directory: cannot read `/nonexistent/snp`"));
}

TEST(VerifyTdxFilesTest, OperatorCommandOnEveryCase) {
  struct Case {
    const char* name;
    const char* at;
    bool verified;
    const char* status;
  } cases[] = {
      {"t1-emr-uptodate", "2025-07-01T00:00:00Z", true, "UpToDate"},
      {"t3-spr-outofdate", "2025-03-10T00:00:00Z", true, "OutOfDate"},
      {"t5-spr-e4-tcb-not-supported", "2023-07-01T01:00:00Z", false, nullptr},
  };
  for (const Case& c : cases) {
    json::object r = VerifyTdxFiles(TdxCaseDir(c.name) + "/quote.bin",
                                    TdxCaseDir(c.name) + "/collateral", At(c.at));
    EXPECT_EQ(r.at("verified").as_bool(), c.verified) << c.name;
    if (c.status) {
      EXPECT_EQ(r.at("tcb_status"), json::value(c.status)) << c.name;
    } else {
      EXPECT_THAT(std::string(r.at("error").as_string()), HasSubstr("tcb not supported"));
    }
  }
  json::object r =
      VerifyTdxFiles(TdxCaseDir("t3-spr-outofdate") + "/quote.bin",
                     TdxCaseDir("t3-spr-outofdate") + "/collateral", At("2025-03-15T03:39:01Z"));
  EXPECT_FALSE(r.at("verified").as_bool());
  EXPECT_EQ(r.at("error"),
            json::value("tdx: qe identity: expired (nextUpdate 2025-03-15T03:39:00Z)"));
  r = VerifyTdxFiles("/nonexistent/quote.bin", TdxCaseDir("t1-emr-uptodate") + "/collateral",
                     At("2025-07-01T00:00:00Z"));
  EXPECT_FALSE(r.at("verified").as_bool());
}

}  // namespace
}  // namespace ccburst::apps
