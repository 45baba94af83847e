// The RIM verifier (rim.h) over RIMs from the test RIM CA: a good RIM gives its golden
// measurements as the `nvidia_measurements` reference value; an edited measurement, another
// signer, an expired signer, a signature by a key other than KeyInfo's and an unsigned RIM are
// each refused with the check named.
#include "evidence/nvidia/rim.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "evidence/nvidia/testing/generator.h"

namespace ccburst::evidence::nvidia::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

const core::TimePoint kFrom = core::FromUnixSeconds(1'700'000'000);
const core::TimePoint kUntil = kFrom + std::chrono::hours(24 * 365);
const core::TimePoint kAt = kFrom + std::chrono::hours(24);

class RimTest : public ::testing::Test {
 protected:
  RimTest() {
    RimVerifierOptions o;
    o.trust_anchors.push_back(ca_->root_pem());
    verifier_ = *RimVerifier::Create(o);
  }
  RimCheck Run(std::string_view xml, std::string* message = nullptr, core::TimePoint at = kAt) {
    RimCheck check = RimCheck::kNone;
    auto r = verifier_->Verify(xml, at, &check);
    if (message != nullptr) *message = r.ok() ? "" : core::Message(r.status());
    EXPECT_EQ(r.ok(), check == RimCheck::kNone);
    return check;
  }

  std::unique_ptr<TestRimCa> ca_ = TestRimCa::Create(kFrom, kUntil);
  std::unique_ptr<RimVerifier> verifier_;
};

TEST_F(RimTest, SignedRimGivesGoldenMeasurementsAtSpdmIndices) {
  std::string xml = ca_->MakeRim({});
  auto rim = verifier_->Verify(xml, kAt);
  ASSERT_TRUE(rim.ok()) << rim.status();
  EXPECT_EQ(rim->version, "550.90.07");
  EXPECT_EQ(rim->tag_id, "TEST_NV_GPU_DRIVER_GH100_550.90.07");
  ASSERT_EQ(rim->measurements.size(), 8u);
  EXPECT_EQ(rim->measurements[0].index, 0u);
  ASSERT_EQ(rim->chain.size(), 2u);
  EXPECT_EQ(rim->chain[0]->subject_cn(), "Test NVIDIA RIM Signer");
  json::object golden = RimReferenceMeasurements(*rim);
  ASSERT_EQ(golden.size(), 8u);
  // RIM index 0 is SPDM index 1, the value a generated report carries there.
  EXPECT_EQ(golden.at("1").as_string(), core::HexEncode(GeneratedMeasurement(1)));
  EXPECT_EQ(golden.at("8").as_string(), core::HexEncode(GeneratedMeasurement(8)));
}

TEST_F(RimTest, ChainWithoutTheRootInKeyInfoIsCompletedFromTheAnchor) {
  std::string xml = ca_->MakeRim({});
  // Drop the second X509Certificate (the root): the signer is issued by the configured anchor.
  size_t first = xml.find("</ds:X509Certificate>");
  size_t second_start = xml.find("<ds:X509Certificate>", first);
  size_t second_end = xml.find("</ds:X509Certificate>", second_start);
  ASSERT_NE(second_end, std::string::npos);
  xml.erase(second_start, second_end + 21 - second_start);
  auto rim = verifier_->Verify(xml, kAt);
  ASSERT_TRUE(rim.ok()) << rim.status();
  EXPECT_EQ(rim->chain.size(), 2u);
}

TEST_F(RimTest, EditedMeasurementIsRefusedBySignature) {
  std::string xml = ca_->MakeRim({});
  std::string value = core::HexEncode(GeneratedMeasurement(3));
  size_t at = xml.find(value);
  ASSERT_NE(at, std::string::npos);
  xml.replace(at, value.size(), core::HexEncode(GeneratedMeasurement(4)));
  std::string message;
  EXPECT_EQ(Run(xml, &message), RimCheck::kSignature);
  EXPECT_THAT(message, HasSubstr("nvidia rim: XML signature does not verify with the key of "
                                 "signing certificate `Test NVIDIA RIM Signer`"));
}

TEST_F(RimTest, OtherSignerIsRefusedAsUntrustedRoot) {
  auto other = TestRimCa::Create(kFrom, kUntil);
  std::string message;
  EXPECT_EQ(Run(other->MakeRim({}), &message), RimCheck::kUntrustedRoot);
  EXPECT_THAT(message, HasSubstr("not in a trusted RIM root"));
}

TEST_F(RimTest, SignatureByAKeyOtherThanKeyInfosIsRefused) {
  RimSpec spec;
  spec.foreign_key = true;
  EXPECT_EQ(Run(ca_->MakeRim(spec)), RimCheck::kSignature);
}

TEST_F(RimTest, ExpiredAndNotYetValidSignersAreRefused) {
  RimSpec spec;
  spec.signer_not_after = kAt - std::chrono::hours(1);
  std::string message;
  EXPECT_EQ(Run(ca_->MakeRim(spec), &message), RimCheck::kChainExpired);
  EXPECT_THAT(message, HasSubstr("certificate `Test NVIDIA RIM Signer` expired at"));
  spec = {};
  spec.signer_not_before = kAt + std::chrono::hours(1);
  EXPECT_EQ(Run(ca_->MakeRim(spec), &message), RimCheck::kChainExpired);
  EXPECT_THAT(message, HasSubstr("is not valid before"));
  // A good RIM checked after the CA's window.
  EXPECT_EQ(Run(ca_->MakeRim({}), &message, kUntil + std::chrono::hours(1)),
            RimCheck::kChainExpired);
}

TEST_F(RimTest, UnsignedRimIsRefused) {
  std::string message;
  EXPECT_EQ(Run(TestRimCa::UnsignedRim({}), &message), RimCheck::kUnsigned);
  EXPECT_EQ(message, "nvidia rim: not signed (no ds:Signature element)");
  // Its payload still reads when asked for without verification.
  auto rim = ParseRimUnverified(TestRimCa::UnsignedRim({}));
  ASSERT_TRUE(rim.ok()) << rim.status();
  EXPECT_EQ(rim->measurements.size(), 8u);
}

TEST_F(RimTest, SecondSignatureOrReferenceToAFragmentIsRefused) {
  std::string xml = ca_->MakeRim({});
  size_t start = xml.find("<ds:Signature");
  size_t end = xml.find("</ds:Signature>") + 15;
  std::string twice = xml;
  twice.insert(end, xml.substr(start, end - start));
  EXPECT_EQ(Run(twice), RimCheck::kParse);
  std::string fragment = xml;
  size_t uri = fragment.find("URI=\"\"");
  ASSERT_NE(uri, std::string::npos);
  fragment.replace(uri, 6, "URI=\"#x\"");
  EXPECT_EQ(Run(fragment), RimCheck::kSignature);
}

TEST_F(RimTest, MalformedDocumentsAreRefusedAsParse) {
  std::string message;
  EXPECT_EQ(Run("<SoftwareIdentity", &message), RimCheck::kParse);
  EXPECT_THAT(message, HasSubstr("nvidia rim: not well-formed XML"));
  EXPECT_EQ(Run("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x/>", &message),
            RimCheck::kParse);
  EXPECT_EQ(message, "nvidia rim: document has a DTD (refused)");
  EXPECT_EQ(Run("<x xmlns=\"urn:other\"/>", &message), RimCheck::kParse);
  EXPECT_THAT(message, HasSubstr("root element is not a SWID SoftwareIdentity"));
  for (size_t n : {size_t{0}, size_t{10}, size_t{200}, size_t{1000}}) {
    std::string xml = ca_->MakeRim({});
    EXPECT_NE(Run(xml.substr(0, n)), RimCheck::kNone) << n;
  }
}

TEST(RimPayloadTest, BadResourcesAreRefusedAsMeasurements) {
  std::string good = TestRimCa::UnsignedRim({});
  auto with = [&](std::string_view from, std::string_view to) {
    std::string x = good;
    size_t at = x.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    x.replace(at, from.size(), to);
    return ParseRimUnverified(x).status();
  };
  EXPECT_THAT(with("index=\"1\"", "index=\"0\""),
              core::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("index 0 is also Resource 0's")));
  EXPECT_THAT(
      with("index=\"1\"", "index=\"x\""),
      core::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("`index` is missing")));
  EXPECT_THAT(
      with("alternatives=\"1\"", "alternatives=\"2\""),
      core::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no SHA-384 `Hash1`")));
  EXPECT_THAT(with("active=\"True\"", "active=\"maybe\""),
              core::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("`active` is missing or not True/False")));
  EXPECT_THAT(with("SHA384:Hash0=\"", "SHA384:Hash0=\"00"),
              core::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("`Hash0` is not 48 bytes of hex")));
  RimSpec none;
  none.blocks = 0;
  EXPECT_THAT(ParseRimUnverified(TestRimCa::UnsignedRim(none)).status(),
              core::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("Payload has no measurements")));
}

TEST(RimPayloadTest, InactiveMeasurementsAreLeftOutAndRimsMerge) {
  std::string xml = TestRimCa::UnsignedRim({});
  size_t at = xml.find("active=\"True\"");
  xml.replace(at, 13, "active=\"False\"");
  auto rim = ParseRimUnverified(xml);
  ASSERT_TRUE(rim.ok()) << rim.status();
  json::object golden = RimReferenceMeasurements(*rim);
  EXPECT_EQ(golden.size(), 7u);
  EXPECT_FALSE(golden.contains("1"));
  json::object merged = {{"1", "aa"}};
  EXPECT_TRUE(MergeReferenceMeasurements(merged, golden).ok());
  EXPECT_EQ(merged.size(), 8u);
  json::object conflict = {{"2", "bb"}};
  EXPECT_THAT(MergeReferenceMeasurements(conflict, golden),
              core::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("SPDM index 2 has golden values in two RIMs")));
}

}  // namespace
}  // namespace ccburst::evidence::nvidia::testing
