#include "evidence/nvidia/verifier.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/key.h"
#include "crypto/signature.h"
#include "crypto/x509.h"
#include "evidence/nvidia/device_root.h"
#include "evidence/nvidia/testing/vectors.h"

namespace ccburst::evidence::nvidia {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace nvidia::testing;

std::unique_ptr<NvidiaVerifier> MakeVerifier() {
  auto v = NvidiaVerifier::Create();
  EXPECT_OK(v);
  return std::move(*v);
}

std::string N1Nonce() {
  return *core::HexDecode(std::string(CaseJson(kN1).at("expected").at("nonce").as_string()));
}

DeviceEvidence N1Evidence() {
  return DeviceEvidence{"HOPPER", "1111-2222-33333-444444-555555", N1Report(), N1Chain()};
}

struct Outcome {
  absl::Status status;
  Check check;
};

Outcome Verify(const DeviceEvidence& e, const std::string& nonce, core::TimePoint at) {
  Check check = Check::kNone;
  auto r = MakeVerifier()->VerifyDevice(e, &nonce, at, &check);
  return {r.status(), check};
}

TEST(NvidiaVerifierTest, ShippedRootIsNvidiasDeviceIdentityCa) {
  EXPECT_EQ(NvidiaDeviceRootPem(), Read(NvidiaDir() + "/nvidia_device_root.pem") + "\n");
}

TEST(NvidiaVerifierTest, H100SampleVerifiesWithTheReferenceClaims) {
  auto verifier = MakeVerifier();
  std::string nonce = N1Nonce();
  Check check = Check::kParse;
  ASSERT_OK_AND_ASSIGN(DeviceVerification v,
                       verifier->VerifyDevice(N1Evidence(), &nonce, VerifyAt(kN1), &check));
  EXPECT_EQ(check, Check::kNone);
  json::value trustee = *core::ParseJson(Read(CaseDir(kN1) + "/trustee_claims.json"));
  EXPECT_EQ(json::value(v.claims), trustee);
  EXPECT_EQ(v.chain.certs.size(), 5u);
  EXPECT_EQ(core::HexEncode(v.chain.fwid),
            CaseJson(kN1).at("expected").at("leaf").at("fwid").as_string());
  // Without a session the nonce is not checked.
  EXPECT_OK(verifier->VerifyDevice(N1Evidence(), nullptr, VerifyAt(kN1)));
}

TEST(NvidiaVerifierTest, EveryChainCaseGivesItsExpectedResult) {
  for (const char* name : {"n3-chain-case1-valid", "n3-chain-case2-root-only",
                           "n3-chain-case3-missing-ica", "n3-chain-case4-missing-leaf"}) {
    json::object c = CaseJson(name);
    std::string expected(c.at("expected").at("result").as_string());
    std::string fwid =
        *core::HexDecode(std::string(c.at("expected").at("expected_fwid").as_string()));
    Check check = Check::kParse;
    auto r = MakeVerifier()->VerifyChain(Read(CaseDir(name) + "/cert_chain.pem"), fwid,
                                         VerifyAt(name), &check);
    std::string got = r.ok() ? "valid" : fmt::format("invalid-{}", CheckName(check));
    EXPECT_EQ(got, expected) << name << ": " << r.status();
    if (!r.ok()) {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied)) << name;
      EXPECT_THAT(core::Message(r.status()), StartsWith("nvidia: ")) << name;
    }
  }
}

TEST(NvidiaVerifierTest, ChainRefusalsNameTheirCheck) {
  auto check_of = [](std::string_view chain, std::optional<std::string_view> fwid,
                     core::TimePoint at) {
    Check check = Check::kNone;
    auto r = MakeVerifier()->VerifyChain(chain, fwid, at, &check);
    return std::make_pair(check, core::Message(r.status()));
  };
  core::TimePoint at = VerifyAt(kN1);
  auto ders = *crypto::PemCertificatesToDer(N1Chain(), "t", false);
  auto pem = [](const std::vector<std::string>& d) {
    std::string out;
    for (const std::string& c : d) {
      out +=
          "-----BEGIN CERTIFICATE-----\n" + core::Base64Encode(c) + "\n-----END CERTIFICATE-----\n";
    }
    return out;
  };
  // Wrong order: reversed, the chain ends in the leaf.
  auto reversed = ders;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(check_of(pem(reversed), std::nullopt, at).first, Check::kUntrustedRoot);
  // Two intermediates swapped.
  auto swapped = ders;
  std::swap(swapped[1], swapped[2]);
  auto [c1, m1] = check_of(pem(swapped), std::nullopt, at);
  EXPECT_EQ(c1, Check::kChainSignature);
  EXPECT_THAT(m1, HasSubstr("certificate chain link 0"));
  // Another FWID than the report's.
  auto [c2, m2] = check_of(N1Chain(), std::string(48, '\x42'), at);
  EXPECT_EQ(c2, Check::kFwidMismatch);
  EXPECT_THAT(m2, HasSubstr("does not match the report FWID 4242"));
  // Before the provisioner ICA's notBefore.
  auto [c3, m3] = check_of(N1Chain(), std::nullopt, *core::ParseRfc3339("2022-02-28T00:00:00Z"));
  EXPECT_EQ(c3, Check::kChainExpired);
  EXPECT_THAT(m3, HasSubstr("`NVIDIA GH100 Provisioner ICA 1` is not valid before 2022-03-01"));
  // Another root.
  auto key = crypto::PrivateKey::GenerateEcP384();
  NvidiaVerifierOptions other;
  other.trust_anchors.push_back(*crypto::MakeSelfSignedCertificate(
      key, "other root", {}, at - std::chrono::hours(1), at + std::chrono::hours(1)));
  auto strict = *NvidiaVerifier::Create(other);
  Check check = Check::kNone;
  EXPECT_FALSE(strict->VerifyChain(N1Chain(), std::nullopt, at, &check).ok());
  EXPECT_EQ(check, Check::kUntrustedRoot);
  // Not PEM.
  EXPECT_EQ(check_of("garbage", std::nullopt, at).first, Check::kParse);
}

TEST(NvidiaVerifierTest, ReportRefusalsNameTheirCheck) {
  core::TimePoint at = VerifyAt(kN1);
  std::string nonce = N1Nonce();

  // A nonce from another session.
  Outcome o = Verify(N1Evidence(), std::string(32, '\x07'), at);
  EXPECT_EQ(o.check, Check::kNonce);
  EXPECT_THAT(o.status, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(o.status), HasSubstr("report nonce 931d8dd0"));

  // A flipped bit anywhere in the signed bytes or the signature.
  for (size_t i : {0u, 4u, 40u, 100u, 3570u, 3600u, 4020u, 4021u, 4116u - 4u}) {
    DeviceEvidence e = N1Evidence();
    e.report[i] ^= 0x01;
    o = Verify(e, nonce, at);
    if (o.check == Check::kParse) continue;
    EXPECT_EQ(o.check, Check::kReportSignature) << i << ": " << o.status;
  }

  // Signed by another GPU: a valid signature by a key that is not the leaf's.
  auto other = crypto::PrivateKey::GenerateEcP384();
  auto parsed = *ParseReport(N1Report());
  DeviceEvidence e = N1Evidence();
  std::string sig = *crypto::SignEcdsa(other, crypto::HashAlg::kSha384, parsed.signed_bytes());
  e.report.replace(parsed.signature_offset, kSignatureSize, sig);
  o = Verify(e, nonce, at);
  EXPECT_EQ(o.check, Check::kReportSignature);
  EXPECT_THAT(core::Message(o.status),
              HasSubstr("report signature does not verify with the key of leaf certificate "
                        "`GH100 A01 GSP FMC LF`"));

  // Trailing bytes after the signature are tolerated.
  e = N1Evidence();
  e.report += std::string(40, '\0');
  EXPECT_OK(Verify(e, nonce, at).status);

  // Malformed report.
  e = N1Evidence();
  e.report.resize(100);
  o = Verify(e, nonce, at);
  EXPECT_EQ(o.check, Check::kParse);
  EXPECT_THAT(o.status, StatusIs(absl::StatusCode::kInvalidArgument));

  // A chain of only the root: the report signature fails first (the root did not sign it).
  e = N1Evidence();
  e.cert_chain = Read(CaseDir("n3-chain-case2-root-only") + "/cert_chain.pem");
  EXPECT_EQ(Verify(e, nonce, at).check, Check::kReportSignature);
}

std::string DeviceJson(std::string_view arch, std::string_view report_text, size_t n) {
  std::string dev = fmt::format(R"({{"arch":"{}","uuid":"u","evidence":"{}","certificate":"{}"}})",
                                arch, report_text, core::Base64Encode(N1Chain()));
  std::string list;
  for (size_t i = 0; i < n; ++i) list += (i ? "," : "") + dev;
  return fmt::format(R"({{"device_evidence_list":[{}]}})", list);
}

TEST(NvidiaVerifierTest, DeviceEvidenceListIsBoundedAndHopperOnly) {
  std::string hex = core::HexEncode(N1Report());
  ASSERT_OK_AND_ASSIGN(auto list,
                       ParseDeviceEvidenceList(*core::ParseJson(DeviceJson("HOPPER", hex, 2)), 8));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].report, N1Report());
  EXPECT_EQ(list[0].cert_chain, N1Chain());
  EXPECT_EQ(list[0].uuid, "u");
  ASSERT_OK_AND_ASSIGN(
      auto b64, ParseDeviceEvidenceList(
                    *core::ParseJson(DeviceJson("HOPPER", core::Base64Encode(N1Report()), 1)), 8));
  EXPECT_EQ(b64[0].report, N1Report());

  auto many = ParseDeviceEvidenceList(*core::ParseJson(DeviceJson("HOPPER", hex, 100)), 8);
  EXPECT_THAT(many, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(core::Message(many.status()), HasSubstr("100 devices, more than the limit of 8"));
  auto arch = ParseDeviceEvidenceList(*core::ParseJson(DeviceJson("BLACKWELL", hex, 1)), 8);
  EXPECT_THAT(core::Message(arch.status()),
              HasSubstr("device 0: architecture `BLACKWELL` is not supported"));
  auto bad = ParseDeviceEvidenceList(*core::ParseJson(DeviceJson("HOPPER", "zz!", 1)), 8);
  EXPECT_THAT(core::Message(bad.status()), HasSubstr("device 0: evidence is neither hex"));
  EXPECT_THAT(ParseDeviceEvidenceList(*core::ParseJson(R"({"device_evidence_list":[]})"), 8),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseDeviceEvidenceList(*core::ParseJson(R"({"x":1})"), 8),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NvidiaVerifierTest, ExpectedNonceIsTheFirst32BytesZeroPadded) {
  EXPECT_EQ(ExpectedNonce(std::string(48, 'a')), std::string(32, 'a'));
  EXPECT_EQ(ExpectedNonce("ab"), std::string("ab") + std::string(30, '\0'));
}

}  // namespace
}  // namespace ccburst::evidence::nvidia

#include "evidence/nvidia/device_verifier.h"

namespace ccburst::evidence::nvidia {
namespace {

TEST(NvidiaDeviceVerifierTest, VerifiesEveryGpuAgainstTheFirst32BytesOfTheBinding) {
  NvidiaDeviceVerifierOptions options;
  options.max_devices = 2;
  auto v = NvidiaDeviceVerifier::Create(options);
  ASSERT_OK(v);
  EXPECT_EQ((*v)->tee(), "nvidia");
  EXPECT_EQ((*v)->device_class(), "gpu");
  std::string hex = core::HexEncode(N1Report());
  json::value ev = *core::ParseJson(DeviceJson("HOPPER", hex, 2));
  std::string binding = N1Nonce() + std::string(16, '\x33');  // a 48-byte SHA-384 digest
  ASSERT_OK_AND_ASSIGN(auto claims, (*v)->Verify(ev, binding, VerifyAt(kN1)));
  ASSERT_EQ(claims.size(), 2u);
  EXPECT_EQ(claims[1].at("uuid"), "u");
  EXPECT_EQ(claims[0].at("config").at("driver_version"), "550.90.07");

  auto other = (*v)->Verify(ev, std::string(48, '\x01'), VerifyAt(kN1));
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(other.status()),
              StartsWith("nvidia: device 0 (u): report nonce 931d8dd0"));
  auto three = (*v)->Verify(*core::ParseJson(DeviceJson("HOPPER", hex, 3)), binding, VerifyAt(kN1));
  EXPECT_THAT(three, StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ccburst::evidence::nvidia
