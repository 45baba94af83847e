#include "evidence/nvidia/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "evidence/nvidia/testing/vectors.h"

namespace ccburst::evidence::nvidia {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using namespace nvidia::testing;

TEST(NvidiaReportTest, ParsesTheH100SampleAsTheCaseSays) {
  json::object expected = CaseJson(kN1).at("expected").as_object();
  ASSERT_OK_AND_ASSIGN(Report r, ParseReport(N1Report()));
  EXPECT_EQ(core::HexEncode(r.request_nonce), expected.at("nonce").as_string());
  const json::object& resp = expected.at("response").as_object();
  EXPECT_EQ(r.signature_offset, resp.at("signature_offset").as_int64());
  EXPECT_EQ(core::HexEncode(r.responder_nonce), resp.at("responder_nonce").as_string());
  EXPECT_EQ(r.measurements.size(), resp.at("number_of_blocks").as_int64());
  EXPECT_EQ(core::HexEncode(std::string_view(r.bytes).substr(r.signature_offset + kSignatureSize)),
            expected.at("trailing_bytes_after_signature").as_string());
  EXPECT_EQ(r.bytes.size(), expected.at("report_size").as_int64());
  EXPECT_EQ(r.signed_bytes().size(), 4021u);
  EXPECT_EQ(r.request_param1, 0x01);
  EXPECT_EQ(r.request_param2, 0xFF);
  EXPECT_EQ(r.signature.size(), kSignatureSize);

  json::object claims = core::ParseJson(Read(CaseDir(kN1) + "/trustee_claims.json"))->as_object();
  ASSERT_OK_AND_ASSIGN(json::object config, ConfigClaims(r));
  EXPECT_EQ(json::value(config), claims.at("config"));
  EXPECT_EQ(json::value(MeasurementClaims(r)), claims.at("measurements"));
  EXPECT_EQ(config.at("driver_version"), "550.90.07");
  EXPECT_EQ(config.at("vbios_version"), "96.00.9f.00.01");
}

TEST(NvidiaReportTest, TrailingBytesAreToleratedAndNotSigned) {
  std::string bytes = N1Report();
  ASSERT_OK_AND_ASSIGN(Report base, ParseReport(bytes));
  ASSERT_OK_AND_ASSIGN(Report r, ParseReport(bytes + std::string(17, '\x5a')));
  EXPECT_EQ(r.trailing_bytes, base.trailing_bytes + 17);
  EXPECT_EQ(r.signed_bytes(), base.signed_bytes());
  EXPECT_EQ(r.signature, base.signature);
}

TEST(NvidiaReportTest, EveryTruncationIsRefusedNamingTheField) {
  std::string bytes = N1Report();
  ASSERT_OK_AND_ASSIGN(Report base, ParseReport(bytes));
  size_t full = base.signature_offset + kSignatureSize;
  for (size_t n = 0; n < full; ++n) {
    auto r = ParseReport(std::string_view(bytes).substr(0, n));
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << n;
    EXPECT_THAT(core::Message(r.status()), HasSubstr("nvidia: report: ")) << n;
    EXPECT_THAT(core::Message(r.status()), HasSubstr("needs")) << n;
  }
  EXPECT_OK(ParseReport(std::string_view(bytes).substr(0, full)));
}

struct Mutation {
  const char* name;
  size_t offset;
  std::string bytes;
  const char* message;
};

TEST(NvidiaReportTest, MalformedFieldsAreRefusedNamingTheCheck) {
  const std::string bytes = N1Report();
  // Offsets from the case's layout: request 0..36, response at 37, record at 45 (55-byte blocks),
  // responder nonce at 3565, OpaqueLength at 3597, opaque data at 3599, signature at 4021.
  const Mutation mutations[] = {
      {"request version", 0, "\x12", "request SPDM version 0x12 is not 1.1"},
      {"request code", 1, "\xE1", "request code 0xe1 is not GET_MEASUREMENTS"},
      {"no signature requested", 2, std::string(1, '\0'), "does not ask for a signature"},
      {"response version", 37, "\x10", "response SPDM version 0x10 is not 1.1"},
      {"response code", 38, "\x61", "response code 0x61 is not MEASUREMENTS"},
      {"not DMTF", 45 + 1, "\x02", "MeasurementSpecification 0x02, not DMTF"},
      {"block size disagrees with header", 45 + 2, "\x34", "MeasurementSize 52 but its DMTF"},
      {"value size disagrees", 45 + 5, "\x31",
       "MeasurementSize 51 but its DMTF value header says 52"},
      {"duplicate index", 45 + 55, "\x01", "measurement index 1 appears twice"},
      {"fewer blocks than the record", 41, "\x3f", "bytes of the measurement record follow its 63"},
      {"more blocks than the record", 41, "\x41", "measurement block Index needs 1 bytes"},
      {"record longer than the report", 42, std::string("\xff\xff\x00", 3), "needs 65535 bytes"},
      {"opaque longer than the report", 3597, "\xff\xff", "response OpaqueData needs 65535 bytes"},
      {"opaque shorter than its items", 3597, "\xa5\x01", "opaque Data needs"},
      {"unknown opaque type", 3599, "\x1a", "opaque data type 26 is unknown"},
  };
  for (const Mutation& m : mutations) {
    std::string mutated = bytes;
    mutated.replace(m.offset, m.bytes.size(), m.bytes);
    auto r = ParseReport(mutated);
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << m.name;
    EXPECT_THAT(core::Message(r.status()), HasSubstr(m.message)) << m.name;
  }
}

std::string Tlv(uint16_t type, std::string_view data) {
  std::string out;
  out.push_back(static_cast<char>(type & 0xff));
  out.push_back(static_cast<char>(type >> 8));
  out.push_back(static_cast<char>(data.size() & 0xff));
  out.push_back(static_cast<char>(data.size() >> 8));
  out += data;
  return out;
}

// The sample report with its opaque data replaced by `opaque` (signature kept, so only parsing
// is meaningful).
std::string WithOpaque(std::string_view opaque) {
  std::string bytes = N1Report();
  std::string out = bytes.substr(0, 3597);
  out.push_back(static_cast<char>(opaque.size() & 0xff));
  out.push_back(static_cast<char>(opaque.size() >> 8));
  out += opaque;
  out += bytes.substr(4021);
  return out;
}

TEST(NvidiaReportTest, OpaqueDataNeedsVersionsAndAFwidOnce) {
  const std::string fwid(48, '\x11');
  const std::string driver = Tlv(3, std::string("1.2.3\0", 6));
  const std::string vbios = Tlv(6, std::string("\x00\x9f\x00\x96\x01\x00\x00\x00", 8));
  ASSERT_OK_AND_ASSIGN(Report r, ParseReport(WithOpaque(driver + vbios + Tlv(20, fwid))));
  ASSERT_OK_AND_ASSIGN(json::object config, ConfigClaims(r));
  EXPECT_EQ(config.at("driver_version"), "1.2.3");
  EXPECT_EQ(config.at("vbios_version"), "96.00.9f.00.01");
  EXPECT_EQ(config.at("fwid").as_string(), core::HexEncode(fwid));

  auto msg = [](std::string_view opaque) {
    return core::Message(ParseReport(WithOpaque(opaque)).status());
  };
  EXPECT_THAT(msg(vbios + Tlv(20, fwid)), HasSubstr("opaque data has no driver_version"));
  EXPECT_THAT(msg(driver + Tlv(20, fwid)), HasSubstr("opaque data has no vbios_version"));
  EXPECT_THAT(msg(driver + vbios), HasSubstr("opaque data has no fwid"));
  EXPECT_THAT(msg(driver + vbios + Tlv(20, fwid.substr(1))), HasSubstr("fwid has 47 bytes"));
  EXPECT_THAT(msg(driver + driver + vbios + Tlv(20, fwid)),
              HasSubstr("driver_version (3) appears twice"));
  EXPECT_THAT(msg(driver + vbios + Tlv(20, fwid) + "\x01"), HasSubstr("opaque DataType needs 2"));

  ASSERT_OK_AND_ASSIGN(Report odd, ParseReport(WithOpaque(driver + vbios + Tlv(20, fwid) +
                                                          Tlv(12, "\x01\x00\x00"))));
  EXPECT_THAT(ConfigClaims(odd), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(Report flags, ParseReport(WithOpaque(driver + vbios + Tlv(20, fwid) +
                                                            Tlv(36, std::string("\x02\x00", 2)) +
                                                            Tlv(34, std::string("\x05\x00", 2)))));
  ASSERT_OK_AND_ASSIGN(json::object c, ConfigClaims(flags));
  EXPECT_EQ(c.at("feature_flag"), "PPCIE");
  EXPECT_EQ(c.at("opaque_data_version"), 5);
}

}  // namespace
}  // namespace ccburst::evidence::nvidia
