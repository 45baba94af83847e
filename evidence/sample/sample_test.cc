#include "evidence/sample/sample.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::evidence {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

const core::TimePoint kNow = core::FromUnixSeconds(1'750'000'000);

std::string Digest(char fill) { return std::string(48, fill); }

json::value Evidence(std::string_view svn, std::string_view report_data) {
  return json::object{{"svn", svn}, {"report_data", report_data}};
}

TEST(SampleVerifierTest, TeeName) { EXPECT_EQ(NewSampleVerifier()->tee(), "sample"); }

TEST(SampleVerifierTest, AcceptsBoundEvidenceAndReturnsReferenceClaims) {
  auto v = NewSampleVerifier();
  std::string rd = core::Base64Encode(Digest('\x11'));
  auto claims = v->Verify(Evidence("1", rd), {Digest('\x11'), std::nullopt}, kNow);
  ASSERT_OK(claims);
  json::value expected = json::object{
      {"svn", "1"},
      {"report_data", rd},
      {"launch_digest", "abcde"},
      {"platform_version", json::object{{"major", 1}, {"minor", 4}}},
      {"debug", false},
  };
  EXPECT_EQ(json::value(*claims), expected);
}

TEST(SampleVerifierTest, ReportsInitDataDigestAsBase64) {
  auto v = NewSampleVerifier();
  std::string init_digest(32, '\x7f');
  auto claims =
      v->Verify(Evidence("7", core::Base64Encode(Digest('a'))), {Digest('a'), init_digest}, kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("init_data"), json::value(core::Base64Encode(init_digest)));
  EXPECT_EQ(claims->at("svn"), json::value("7"));
}

TEST(SampleVerifierTest, IgnoresUnknownMembers) {
  auto v = NewSampleVerifier();
  json::value ev = Evidence("1", core::Base64Encode(Digest('z')));
  ev.as_object()["extra"] = 5;
  auto claims = v->Verify(ev, {Digest('z'), std::nullopt}, kNow);
  ASSERT_OK(claims);
  EXPECT_FALSE(claims->contains("extra"));
}

TEST(SampleVerifierTest, RefusesOtherDigest) {
  auto v = NewSampleVerifier();
  auto claims =
      v->Verify(Evidence("1", core::Base64Encode(Digest('a'))), {Digest('b'), std::nullopt}, kNow);
  ASSERT_THAT(claims, StatusIs(absl::StatusCode::kPermissionDenied,
                               "sample: report_data does not match the session binding"));
}

TEST(SampleVerifierTest, RefusesTruncatedOrPaddedDigest) {
  auto v = NewSampleVerifier();
  std::string digest = Digest('q');
  for (const std::string& rd : {digest.substr(0, 47), digest + std::string(16, '\0')}) {
    auto claims = v->Verify(Evidence("1", core::Base64Encode(rd)), {digest, std::nullopt}, kNow);
    ASSERT_THAT(claims, StatusIs(absl::StatusCode::kPermissionDenied));
  }
}

TEST(SampleVerifierTest, MalformedEvidenceIsInvalidArgument) {
  auto v = NewSampleVerifier();
  ExpectedBinding b{Digest('a'), std::nullopt};
  std::string good_rd = core::Base64Encode(Digest('a'));
  struct Case {
    json::value evidence;
    std::string message;
  } cases[] = {
      {json::array{}, "sample: evidence is not a JSON object"},
      {json::value("x"), "sample: evidence is not a JSON object"},
      {json::object{{"report_data", good_rd}}, "sample: missing field `svn`"},
      {json::object{{"svn", 1}, {"report_data", good_rd}}, "sample: `svn` must be a string"},
      {json::object{{"svn", "1"}}, "sample: missing field `report_data`"},
      {json::object{{"svn", "1"}, {"report_data", nullptr}},
       "sample: `report_data` must be a string"},
  };
  for (const auto& c : cases) {
    auto claims = v->Verify(c.evidence, b, kNow);
    ASSERT_THAT(claims, StatusIs(absl::StatusCode::kInvalidArgument, c.message))
        << core::Serialize(c.evidence);
  }
}

TEST(SampleVerifierTest, ReportDataMustBePaddedStandardBase64) {
  auto v = NewSampleVerifier();
  std::string digest = Digest('\xfb');  // encodes with '+' and '/' in the standard alphabet
  std::string std_b64 = core::Base64Encode(digest);
  ASSERT_NE(std_b64.find_first_of("+/"), std::string::npos);
  for (const std::string& bad :
       {core::Base64Encode(digest, core::Base64Alphabet::kUrl), std::string("!!!!"),
        core::Base64Encode(digest.substr(0, 47), core::Base64Alphabet::kStandard, false)}) {
    auto claims = v->Verify(Evidence("1", bad), {digest, std::nullopt}, kNow);
    ASSERT_THAT(claims, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("sample: report_data is not standard base64")))
        << bad;
  }
}

}  // namespace
}  // namespace ccburst::evidence
