#include "evidence/snp/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/snp/evidence.h"

namespace ccburst::evidence::snp {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::Not;

namespace json = boost::json;

std::string CaseDir(std::string_view name) {
  return fmt::format("{}/testdata/snp/{}", CCB_SHARED_DIR, name);
}

std::string Read(const std::string& path) {
  auto data = core::ReadFile(path);
  EXPECT_OK(data);
  return data.ok() ? *data : std::string();
}

json::object Expected(std::string_view name) {
  auto v = core::ParseJson(Read(CaseDir(name) + "/case.json"));
  EXPECT_OK(v);
  return v->as_object().at("expected").as_object();
}

std::string Str(const json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

void ExpectTcb(const Tcb& tcb, const json::object& e) {
  EXPECT_EQ(tcb.bootloader, e.at("bootloader").to_number<int>());
  EXPECT_EQ(tcb.tee, e.at("tee").to_number<int>());
  EXPECT_EQ(tcb.snp, e.at("snp").to_number<int>());
  EXPECT_EQ(tcb.microcode, e.at("microcode").to_number<int>());
  std::string raw(8, '\0');
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<char>(tcb.raw >> (8 * i));
  EXPECT_EQ(core::HexEncode(raw), Str(e, "raw"));
}

std::string Fw(const FirmwareVersion& v) {
  return fmt::format("{}.{}.{}", v.major, v.minor, v.build);
}

class RealReportTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RealReportTest, FieldsMatchCaseJson) {
  const json::object e = Expected(GetParam());
  auto report = ParseReport(Read(CaseDir(GetParam()) + "/report.bin"));
  ASSERT_OK(report);
  EXPECT_EQ(report->version, e.at("report_version").to_number<uint32_t>());
  EXPECT_EQ(report->vmpl, e.at("vmpl").to_number<uint32_t>());
  EXPECT_EQ(report->guest_svn, e.at("guest_svn").to_number<uint32_t>());
  EXPECT_EQ(fmt::format("{:#x}", report->policy.raw), Str(e, "policy"));
  EXPECT_EQ(fmt::format("{:#x}", report->platform_info.raw), Str(e, "platform_info"));
  EXPECT_EQ(fmt::format("{:#x}", report->key_info), Str(e, "signer_info"));
  EXPECT_EQ(SigningKeyName(report->signing_key()), Str(e, "signing_key"));
  EXPECT_EQ(core::HexEncode(report->measurement), Str(e, "measurement"));
  EXPECT_EQ(core::HexEncode(report->report_data), Str(e, "report_data"));
  EXPECT_EQ(core::HexEncode(report->host_data), Str(e, "host_data"));
  EXPECT_EQ(core::HexEncode(report->family_id), Str(e, "family_id"));
  EXPECT_EQ(core::HexEncode(report->image_id), Str(e, "image_id"));
  EXPECT_EQ(core::HexEncode(report->id_key_digest), Str(e, "id_key_digest"));
  EXPECT_EQ(core::HexEncode(report->author_key_digest), Str(e, "author_key_digest"));
  EXPECT_EQ(core::HexEncode(report->report_id), Str(e, "report_id"));
  EXPECT_EQ(core::HexEncode(report->chip_id), Str(e, "chip_id"));
  ExpectTcb(report->current_tcb, e.at("current_tcb").as_object());
  ExpectTcb(report->reported_tcb, e.at("reported_tcb").as_object());
  ExpectTcb(report->committed_tcb, e.at("committed_tcb").as_object());
  ExpectTcb(report->launch_tcb, e.at("launch_tcb").as_object());
  EXPECT_EQ(Fw(report->current_fw), Str(e, "current_fw"));
  EXPECT_EQ(Fw(report->committed_fw), Str(e, "committed_fw"));
  const json::object& flags = e.at("policy_flags").as_object();
  EXPECT_EQ(fmt::format("{}.{}", report->policy.abi_major(), report->policy.abi_minor()),
            Str(flags, "abi"));
  EXPECT_EQ(report->policy.smt_allowed(), flags.at("smt").to_number<int>() == 1);
  EXPECT_EQ(report->policy.debug_allowed(), flags.at("debug").to_number<int>() == 1);
  EXPECT_EQ(report->policy.migrate_ma_allowed(), flags.at("migrate_ma").to_number<int>() == 1);
  EXPECT_EQ(report->policy.single_socket_required(),
            flags.at("single_socket").to_number<int>() == 1);
  EXPECT_TRUE(report->policy.reserved_bit17());
  if (e.contains("cpuid")) {
    const json::object& c = e.at("cpuid").as_object();
    ASSERT_TRUE(report->cpuid_family.has_value());
    EXPECT_EQ(fmt::format("{:#04x}", *report->cpuid_family), Str(c, "family"));
    EXPECT_EQ(fmt::format("{:#04x}", *report->cpuid_model), Str(c, "model"));
    EXPECT_EQ(fmt::format("{:#04x}", *report->cpuid_stepping), Str(c, "stepping"));
    EXPECT_EQ(GenerationName(report->generation), Str(e, "processor_generation"));
  } else {
    EXPECT_FALSE(report->cpuid_family.has_value());
    EXPECT_EQ(report->generation, Generation::kUnknown);
  }
  auto sig = SignatureRawBigEndian(*report);
  ASSERT_OK(sig);
  EXPECT_EQ(sig->size(), 96u);
}

INSTANTIATE_TEST_SUITE_P(Cases, RealReportTest,
                         ::testing::Values("s3-milan-v2-vcek", "s4-milan-vlek-v3",
                                           "s5-genoa-v3-tsm"));

TEST(ReportTest, TruncatedAtEveryLengthIsInvalidArgument) {
  std::string bytes = Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = ParseReport(std::string_view(bytes).substr(0, n));
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument,
                            fmt::format("snp: report is {} bytes, expected 1184", n)))
        << n;
    auto ev = ParseEvidenceBytes(std::string_view(bytes).substr(0, n));
    EXPECT_THAT(ev, StatusIs(absl::StatusCode::kInvalidArgument)) << n;
  }
  EXPECT_THAT(ParseReport(bytes + std::string(1, '\0')), Not(IsOk()));
}

TEST(ReportTest, RejectsUnknownVersionAndProcessor) {
  std::string bytes = Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  for (uint8_t v : {0, 1, 6, 255}) {
    std::string b = bytes;
    b[0] = static_cast<char>(v);
    auto r = ParseReport(b);
    ASSERT_THAT(
        r, StatusIs(_, fmt::format("snp: unsupported report version {} (supported: 2..5)", v)));
  }
  std::string b = bytes;
  b[0x188] = 0x17;
  auto r = ParseReport(b);
  ASSERT_THAT(r, StatusIs(_, "snp: unsupported processor (CPUID family 0x17 model 0x11)"));
}

TEST(ReportTest, GenerationFromCpuid) {
  EXPECT_EQ(GenerationFromCpuid(0x19, 0x01), Generation::kMilan);
  EXPECT_EQ(GenerationFromCpuid(0x19, 0x11), Generation::kGenoa);
  EXPECT_EQ(GenerationFromCpuid(0x19, 0xa0), Generation::kGenoa);
  EXPECT_EQ(GenerationFromCpuid(0x1a, 0x02), Generation::kTurin);
  EXPECT_EQ(GenerationFromCpuid(0x1a, 0x12), Generation::kUnknown);
  EXPECT_EQ(GenerationFromCpuid(0x19, 0x20), Generation::kUnknown);
  EXPECT_EQ(GenerationFromName("Milan-B0"), Generation::kMilan);
  EXPECT_EQ(GenerationFromName("Genoa"), Generation::kGenoa);
  EXPECT_EQ(GenerationFromName("Genoax"), Generation::kUnknown);
}

TEST(ReportTest, TurinTcbLayout) {
  // Bytes 0..7: FMC 1, boot loader 2, TEE 3, SNP 4, reserved, microcode 0x99.
  uint64_t raw = 0x9900000004030201ull;
  Tcb t = DecodeTcb(raw, Generation::kTurin);
  EXPECT_EQ(t.fmc, 1);
  EXPECT_EQ(t.bootloader, 2);
  EXPECT_EQ(t.tee, 3);
  EXPECT_EQ(t.snp, 4);
  EXPECT_EQ(t.microcode, 0x99);
  EXPECT_EQ(EncodeTcb(t, Generation::kTurin), raw);
  Tcb m = DecodeTcb(raw, Generation::kMilan);
  EXPECT_FALSE(m.fmc.has_value());
  EXPECT_EQ(m.bootloader, 1);
  EXPECT_EQ(m.tee, 2);
  EXPECT_EQ(m.snp, 0);
  EXPECT_EQ(m.microcode, 0x99);
}

TEST(ReportTest, SignaturePaddingMustBeZero) {
  std::string bytes = Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  bytes[kSignatureROffset + 60] ^= 1;
  auto r = ParseReport(bytes);
  ASSERT_OK(r);
  auto sig = SignatureRawBigEndian(*r);
  EXPECT_THAT(sig, StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(CertTableTest, ParsesRealAuxblob) {
  std::string table = Read(CaseDir("s5-genoa-v3-tsm") + "/auxblob.bin");
  auto certs = ParseCertTable(table);
  ASSERT_OK(certs);
  ASSERT_EQ(certs->size(), 3u);
  EXPECT_EQ((*certs)[0].kind, CertKind::kArk);
  EXPECT_EQ((*certs)[1].kind, CertKind::kAsk);
  EXPECT_EQ((*certs)[2].kind, CertKind::kVcek);
  EXPECT_EQ((*certs)[0].data, Read(CaseDir("s5-genoa-v3-tsm") + "/certs/ark.pem"));
  EXPECT_EQ((*certs)[1].data, Read(CaseDir("s5-genoa-v3-tsm") + "/certs/ask.pem"));
  EXPECT_EQ((*certs)[2].data, Read(CaseDir("s5-genoa-v3-tsm") + "/certs/vcek.pem"));

  auto again = ParseCertTable(EncodeCertTable(*certs));
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 3u);
  EXPECT_EQ((*again)[2].data, (*certs)[2].data);
}

TEST(CertTableTest, TruncatedOrCorruptTablesAreInvalidArgument) {
  std::string table = Read(CaseDir("s5-genoa-v3-tsm") + "/auxblob.bin");
  for (size_t n = 0; n < 4 * 24; ++n) {
    auto r = ParseCertTable(std::string_view(table).substr(0, n));
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << n;
  }
  // Truncated inside the certificates: the last entry points outside the table.
  auto r = ParseCertTable(std::string_view(table).substr(0, table.size() - 1));
  ASSERT_THAT(
      r,
      StatusIs(_,
               "snp: certificate table entry 2 (offset 4698, length 1879) is outside the 6576-byte "
               "table"));
}

TEST(EvidenceJsonTest, TrusteeJsonRoundTripsToReportBytes) {
  std::string bytes = Read(CaseDir("s4-milan-vlek-v3") + "/report.bin");
  auto report = ParseReport(bytes);
  ASSERT_OK(report);
  json::object ev{{"attestation_report", ReportToTrusteeJson(*report)}, {"cert_chain", nullptr}};
  auto parsed = ParseEvidenceJson(ev);
  ASSERT_OK(parsed);
  // Reserved bytes are zero in real reports, so the re-encoding is exact.
  EXPECT_EQ(parsed->report.bytes.substr(0, kSignatureSOffset + kSignatureFieldSize),
            bytes.substr(0, kSignatureSOffset + kSignatureFieldSize));
}

TEST(EvidenceJsonTest, ParsesReferenceAttesterJson) {
  auto parsed = ParseEvidenceBytes(Read(CaseDir("trustee-genoa-v3-json") + "/evidence.json"));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->report.version, 3u);
  EXPECT_EQ(parsed->report.generation, Generation::kGenoa);
  EXPECT_EQ(parsed->report.reported_tcb.bootloader, 10);
  EXPECT_EQ(parsed->report.reported_tcb.snp, 23);
  EXPECT_EQ(parsed->report.reported_tcb.microcode, 25);
  ASSERT_EQ(parsed->certs.size(), 1u);
  EXPECT_EQ(parsed->certs[0].kind, CertKind::kVcek);
  EXPECT_EQ(parsed->certs[0].data.size(), 1347u);
}

TEST(EvidenceJsonTest, MalformedJsonIsInvalidArgument) {
  for (const char* text :
       {"[]", "{}", R"({"report":5})", R"({"report":"!!"})", R"({"report":"AAAA"})",
        R"({"attestation_report":{}})", R"({"attestation_report":{"version":3}})"}) {
    auto v = core::ParseJson(text);
    ASSERT_OK(v);
    auto r = ParseEvidenceJson(*v);
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  }
}

// The agent form's base64 fields accept padded and unpadded input and report core's errors.
TEST(EvidenceJsonTest, TsmBase64MatchesCoreDecoder) {
  std::string report = Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin");
  auto parse = [](const std::string& report_b64, const std::string& aux_b64) {
    return ParseEvidenceJson(json::object{{"report", report_b64}, {"auxblob", aux_b64}});
  };
  std::string report_b64 = core::Base64Encode(report);
  ASSERT_EQ(report_b64.back(), '=');  // 1184 bytes: one padding character
  // Certificates of 3k, 3k+1 and 3k+2 bytes: tables with 0, 2 and 1 padding characters.
  for (size_t len : {300u, 301u, 302u}) {
    std::string cert(len, '\0');
    for (size_t i = 0; i < len; ++i) cert[i] = static_cast<char>(i * 7 + len);
    std::string table = EncodeCertTable({{CertKind::kVcek, cert}});
    for (bool padded : {true, false}) {
      std::string aux = core::Base64Encode(table, core::Base64Alphabet::kStandard, padded);
      auto ev = parse(report_b64, aux);
      ASSERT_OK(ev) << len << " " << padded;
      EXPECT_EQ(ev->report.bytes, report);
      ASSERT_EQ(ev->certs.size(), 1u);
      EXPECT_EQ(ev->certs[0].data, cert);
    }
  }
  // Errors are core's.
  std::string bad = report_b64;
  bad[100] = '-';
  EXPECT_EQ(core::Message(parse(bad, "").status()),
            "snp: `report` is not standard base64: base64: invalid character at offset 100");
  bad = report_b64;
  bad[bad.size() - 2] = 'B';  // non-zero bits after the last byte
  EXPECT_EQ(core::Message(parse(bad, "").status()),
            "snp: `report` is not standard base64: base64: non-zero trailing bits");
  bad = report_b64.substr(0, report_b64.size() - 4) + "A===";
  EXPECT_THAT(parse(bad, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = report_b64;
  bad[8] = '=';
  EXPECT_THAT(parse(bad, ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ccburst::evidence::snp
