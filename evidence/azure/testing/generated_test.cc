// Generated Azure evidence (test hierarchies, generated AK) verifies with the test roots, and each
// binding the verifier checks is refused when it is broken.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "evidence/azure/testing/generator.h"
#include "evidence/azure/verifier.h"

namespace ccburst::evidence::azure::testing {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const core::TimePoint kNow = core::FromUnixSeconds(1767225600);  // 2026-01-01

const snp::testing::TestHierarchy& SnpH() {
  static const auto* h = snp::testing::TestHierarchy::Create().release();
  return *h;
}
const tdx::testing::TdxTestHierarchy& TdxH() {
  static const auto* h = tdx::testing::TdxTestHierarchy::Create().release();
  return *h;
}
const AzAttester& Attester() {
  static const auto* a = new AzAttester();
  return *a;
}
const AzSnpVtpmVerifier& SnpV() {
  static const auto* v = AzSnpVtpmVerifier::Create(SnpH().VerifierOptions())->release();
  return *v;
}
const AzTdxVtpmVerifier& TdxV() {
  static const auto* v = [] {
    tdx::testing::CollateralSpec cs;
    cs.issue_date = kNow - std::chrono::hours(24);
    cs.next_update = kNow + std::chrono::hours(24 * 30);
    auto col = TdxH().MakeCollateral(cs);
    return AzTdxVtpmVerifier::Create(
               {std::make_shared<dcap::FixedCollateralSource>(*col), TdxH().anchor()})
        ->release();
  }();
  return *v;
}

struct Param {
  Platform platform;
  int version;
};

class GeneratedTest : public ::testing::TestWithParam<Param> {
 protected:
  Platform p() const { return GetParam().platform; }
  std::string tee() const { return std::string(TeeName(p())); }
  AzSpec Spec() const {
    AzSpec s;
    s.version = GetParam().version;
    s.nonce = crypto::Sha384("session " + std::to_string(s.version));
    return s;
  }
  absl::StatusOr<json::object> Run(const AzSpec& spec, const ExpectedBinding& b) const {
    auto ev = p() == Platform::kSnp ? Attester().SnpEvidence(SnpH(), spec)
                                    : Attester().TdxEvidence(TdxH(), spec);
    EXPECT_OK(ev);
    json::value j = EvidenceToJson(*ev, p());
    if (p() == Platform::kSnp) return SnpV().Verify(j, b, kNow);
    return TdxV().Verify(j, b, kNow);
  }
  absl::StatusOr<json::object> Run(const AzSpec& spec) const {
    return Run(spec, ExpectedBinding{spec.nonce, spec.init_data_digest});
  }
};

TEST_P(GeneratedTest, Verifies) {
  AzSpec spec = Spec();
  auto claims = Run(spec);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data").as_string(), core::HexEncode(spec.nonce));
  EXPECT_EQ(claims->at("init_data").as_string(), std::string(64, '0'));
  EXPECT_EQ(claims->at("tpm").at("pcr11").as_string(),
            core::HexEncode(Attester().MakePcrs(spec)[11]));
  EXPECT_EQ(claims->at("vm_configuration").at("secure-boot"), json::value(true));
  if (p() == Platform::kTdx) EXPECT_EQ(claims->at("tcb_status").as_string(), "UpToDate");
}

TEST_P(GeneratedTest, WrongNonceRefused) {
  AzSpec spec = Spec();
  auto r = Run(spec, ExpectedBinding{crypto::Sha384("replayed"), std::nullopt});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee() + ": tpm quote: extraData "));
}

TEST_P(GeneratedTest, SignatureByAnotherKeyRefused) {
  AzSpec spec = Spec();
  auto other = crypto::PrivateKey::GenerateRsa(2048);
  spec.tpm_signer = &other;
  auto r = Run(spec);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()), tee() +
                                           ": tpm quote: signature does not verify with "
                                           "HCLAkPub");
}

TEST_P(GeneratedTest, HardwareReportNotBindingVariableDataRefused) {
  AzSpec spec = Spec();
  spec.bind_var_data = false;
  auto r = Run(spec);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee() + ": hcl report: "));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("does not match sha256(variable data)"));
}

TEST_P(GeneratedTest, InitDataBoundThroughPcr8) {
  AzSpec spec = Spec();
  spec.init_data_digest = crypto::Sha384("initdata toml");
  auto ok = Run(spec);
  ASSERT_OK(ok);
  EXPECT_EQ(ok->at("init_data").as_string(),
            core::HexEncode(InitDataPcrValue(*spec.init_data_digest)));
  // Another init-data than the one PCR8 carries.
  auto r = Run(spec, ExpectedBinding{spec.nonce, crypto::Sha384("other toml")});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith(tee() + ": init-data: PCR8 "));
  // No init-data in the request but PCR8 extended: accepted, and the claim shows PCR8.
  auto absent = Run(spec, ExpectedBinding{spec.nonce, std::nullopt});
  ASSERT_OK(absent);
  EXPECT_NE(absent->at("init_data").as_string(), std::string(64, '0'));
}

TEST_P(GeneratedTest, UserDataNotBindingRefusedInV2) {
  AzSpec spec = Spec();
  spec.user_data = crypto::Sha384("other");
  auto r = Run(spec);
  if (spec.version < 2) {
    EXPECT_OK(r);  // v0/v1 do not carry the binding in user-data
    return;
  }
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("`user-data` does not start with"));
}

INSTANTIATE_TEST_SUITE_P(Azure, GeneratedTest,
                         ::testing::Values(Param{Platform::kSnp, 0}, Param{Platform::kSnp, 1},
                                           Param{Platform::kSnp, 2}, Param{Platform::kTdx, 0},
                                           Param{Platform::kTdx, 1}, Param{Platform::kTdx, 2}),
                         [](const auto& info) {
                           return std::string(info.param.platform == Platform::kSnp ? "snp"
                                                                                    : "tdx") +
                                  "_v" + std::to_string(info.param.version);
                         });

AzSpec V2() {
  AzSpec s;
  s.nonce = crypto::Sha384("session");
  return s;
}

TEST(GeneratedSnpTest, VmplOtherThanZeroRefused) {
  AzSpec spec = V2();
  spec.snp.vmpl = 1;
  auto ev = Attester().SnpEvidence(SnpH(), spec);
  auto r = SnpV().Verify(EvidenceToJson(*ev, Platform::kSnp), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith("az-snp-vtpm: snp report: "));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("VMPL"));
}

TEST(GeneratedSnpTest, ReportV2Refused) {
  AzSpec spec = V2();
  spec.snp.version = 2;
  auto ev = Attester().SnpEvidence(SnpH(), spec);
  auto r = SnpV().Verify(EvidenceToJson(*ev, Platform::kSnp), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "az-snp-vtpm: snp report: version 2 has no CPUID fields, so the processor "
            "generation is unknown (Azure requires report v3+)");
}

TEST(GeneratedSnpTest, VcekForAnotherChipRefused) {
  AzSpec spec = V2();
  spec.snp.chip_id = std::string(64, '\x5a');
  auto ev = Attester().SnpEvidence(SnpH(), spec);
  auto r = SnpV().Verify(EvidenceToJson(*ev, Platform::kSnp), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith("az-snp-vtpm: snp report: "));
}

// The real AMD roots never trust the test hierarchy.
TEST(GeneratedSnpTest, TestHierarchyNotTrustedByAmdRoots) {
  AzSpec spec = V2();
  auto ev = Attester().SnpEvidence(SnpH(), spec);
  auto amd = AzSnpVtpmVerifier::Create();
  ASSERT_OK(amd);
  auto r = (*amd)->Verify(EvidenceToJson(*ev, Platform::kSnp), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, Not(IsOk()));
}

TEST(GeneratedTdxTest, TdQuoteOfAnotherVmRefused) {
  AzSpec spec = V2();
  spec.td_quote_binds_var_data = false;
  auto ev = Attester().TdxEvidence(TdxH(), spec);
  auto r = TdxV().Verify(EvidenceToJson(*ev, Platform::kTdx), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith("az-tdx-vtpm: td quote: report_data[0:32] "));
}

TEST(GeneratedTdxTest, IntelRootNeverTrustsTestQuotes) {
  AzSpec spec = V2();
  auto ev = Attester().TdxEvidence(TdxH(), spec);
  tdx::testing::CollateralSpec cs;
  cs.issue_date = kNow - std::chrono::hours(24);
  cs.next_update = kNow + std::chrono::hours(24);
  auto intel = AzTdxVtpmVerifier::Create(
      {std::make_shared<dcap::FixedCollateralSource>(*TdxH().MakeCollateral(cs))});
  ASSERT_OK(intel);
  auto r = (*intel)->Verify(EvidenceToJson(*ev, Platform::kTdx), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith("az-tdx-vtpm: td quote: "));
}

TEST(GeneratedTdxTest, RevokedTcbRefused) {
  AzSpec spec = V2();
  auto ev = Attester().TdxEvidence(TdxH(), spec);
  tdx::testing::CollateralSpec cs;
  cs.issue_date = kNow - std::chrono::hours(24);
  cs.next_update = kNow + std::chrono::hours(24);
  cs.tcb_status = "Revoked";
  auto v = AzTdxVtpmVerifier::Create(
      {std::make_shared<dcap::FixedCollateralSource>(*TdxH().MakeCollateral(cs)), TdxH().anchor()});
  ASSERT_OK(v);
  auto r = (*v)->Verify(EvidenceToJson(*ev, Platform::kTdx), {spec.nonce, std::nullopt}, kNow);
  EXPECT_THAT(r, StatusIs(_, StartsWith("az-tdx-vtpm: td quote: ")));
}

}  // namespace
}  // namespace ccburst::evidence::azure::testing
