// The Azure vTPM attesters against a real software TPM: tests/vtpm_test.sh starts swtpm,
// provisions it as an Azure CVM's vTPM (AK at 0x81000003, an HCL report from the test hierarchy
// in NV 0x01400001) and runs this binary with CCB_VTPM_TCTI, CCB_VTPM_TEE and CCB_VTPM_HIERARCHY
// set. The evidence must verify with the KBS's verifier; a TPM that cannot give it must fail with
// an error naming the handle. Without the environment the tests fail (they are not skipped).
#include "agent/vtpm/azure_attester.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "agent/vtpm/testing/imds_stub.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "evidence/azure/verifier.h"
#include "evidence/dcap/collateral.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/testing/quote_generator.h"

namespace ccburst::agent::vtpm {
namespace {

namespace az = evidence::azure;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

class AzureAttesterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tcti_ = new std::string(Env("CCB_VTPM_TCTI"));
    tee_ = new std::string(Env("CCB_VTPM_TEE"));
    const std::string dir = Env("CCB_VTPM_HIERARCHY");
    if (tcti_->empty() || tee_->empty() || dir.empty()) return;
    if (*tee_ == "az-tdx-vtpm") {
      auto h = evidence::tdx::testing::TdxTestHierarchy::Load(dir);
      if (h.ok()) tdx_ = h->release();
    } else {
      auto h = evidence::snp::testing::TestHierarchy::Load(dir);
      if (h.ok()) snp_ = h->release();
    }
    auto imds = testing::StartImdsStub(tdx_, snp_);
    if (imds.ok()) imds_ = imds->release();
  }

  void SetUp() override {
    ASSERT_FALSE(tcti_->empty() || tee_->empty())
        << "run through tests/vtpm_test.sh (CCB_VTPM_TCTI, CCB_VTPM_TEE, CCB_VTPM_HIERARCHY)";
    ASSERT_TRUE(tdx_ != nullptr || snp_ != nullptr) << "cannot load CCB_VTPM_HIERARCHY";
    ASSERT_NE(imds_, nullptr);
  }

  bool tdx() const { return *tee_ == "az-tdx-vtpm"; }

  AzureVtpmOptions Options() const {
    AzureVtpmOptions o;
    o.tcti = *tcti_;
    o.imds_url = "http://127.0.0.1:" + std::to_string(imds_->ports()[0]);
    return o;
  }

  absl::StatusOr<core::json::value> Collect(std::string_view nonce, AzureVtpmOptions o) const {
    CCB_ASSIGN_OR_RETURN(auto attester, NewAzureVtpmAttester(*tee_, std::move(o)));
    EXPECT_EQ(attester->tee(), *tee_);
    return attester->Evidence(nonce);
  }

  // What the KBS's verifier says about `evidence` for a session whose binding is `nonce`.
  absl::StatusOr<boost::json::object> Verify(const core::json::value& evidence,
                                             std::string nonce) const {
    core::TimePoint now = core::SystemClock::Get().Now();
    evidence::ExpectedBinding binding{std::move(nonce), std::nullopt};
    if (tdx()) {
      evidence::tdx::testing::CollateralSpec cs;
      cs.issue_date = now - std::chrono::hours(24);
      cs.next_update = now + std::chrono::hours(24 * 30);
      CCB_ASSIGN_OR_RETURN(evidence::dcap::Collateral col, tdx_->MakeCollateral(cs));
      evidence::tdx::TdxVerifierOptions options;
      options.collateral_source = std::make_shared<evidence::dcap::FixedCollateralSource>(col);
      options.anchor = tdx_->anchor();
      CCB_ASSIGN_OR_RETURN(auto v, az::AzTdxVtpmVerifier::Create(std::move(options)));
      return v->Verify(evidence, binding, now);
    }
    CCB_ASSIGN_OR_RETURN(auto v, az::AzSnpVtpmVerifier::Create(snp_->VerifierOptions()));
    return v->Verify(evidence, binding, now);
  }

  static std::string* tcti_;
  static std::string* tee_;
  static evidence::tdx::testing::TdxTestHierarchy* tdx_;
  static evidence::snp::testing::TestHierarchy* snp_;
  static net::HttpServer* imds_;
};

std::string* AzureAttesterTest::tcti_ = nullptr;
std::string* AzureAttesterTest::tee_ = nullptr;
evidence::tdx::testing::TdxTestHierarchy* AzureAttesterTest::tdx_ = nullptr;
evidence::snp::testing::TestHierarchy* AzureAttesterTest::snp_ = nullptr;
net::HttpServer* AzureAttesterTest::imds_ = nullptr;

TEST_F(AzureAttesterTest, DetectsThePlatformFromTheHclReport) {
  auto platform = DetectAzureVtpm(Options());
  ASSERT_OK(platform);
  EXPECT_EQ(az::TeeName(*platform), *tee_);
}

TEST_F(AzureAttesterTest, EvidenceFromTheTpmVerifiesWithTheKbsVerifier) {
  const std::string nonce = crypto::Sha384("session one");
  auto ev = Collect(nonce, Options());
  ASSERT_OK(ev);
  const auto& o = ev->as_object();
  EXPECT_EQ(o.at("version").as_int64(), 1);
  EXPECT_EQ(o.at("tpm_quote").at("pcrs").as_array().size(), 24u);
  EXPECT_TRUE(o.contains(tdx() ? "td_quote" : "vcek"));

  auto claims = Verify(*ev, nonce);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data").as_string(), core::HexEncode(nonce));
  EXPECT_EQ(claims->at("vm_configuration").at("secure-boot").as_bool(), true);
}

TEST_F(AzureAttesterTest, EvidenceForAnotherSessionIsRefused) {
  auto ev = Collect(crypto::Sha384("session one"), Options());
  ASSERT_OK(ev);
  EXPECT_THAT(Verify(*ev, crypto::Sha384("session two")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("extraData")));
}

TEST_F(AzureAttesterTest, QuotesAreFreshPerCall) {
  auto a = Collect(crypto::Sha384("a"), Options());
  auto b = Collect(crypto::Sha384("a"), Options());
  ASSERT_OK(a);
  ASSERT_OK(b);
  // The TPM clock moves: two quotes over the same nonce differ.
  EXPECT_NE(a->at("tpm_quote").at("message"), b->at("tpm_quote").at("message"));
}

TEST_F(AzureAttesterTest, WrongAkHandleNamesTheHandle) {
  AzureVtpmOptions o = Options();
  o.ak_handle = 0x81000004;
  EXPECT_THAT(Collect(crypto::Sha384("x"), o),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(StartsWith(*tee_ + ": tpm: no attestation key at handle 0x81000004"),
                             HasSubstr("tpm:"))));
}

TEST_F(AzureAttesterTest, MissingNvIndexNamesTheIndex) {
  AzureVtpmOptions o = Options();
  o.hcl_report_nv_index = 0x01400009;
  EXPECT_THAT(Collect(crypto::Sha384("x"), o),
              StatusIs(absl::StatusCode::kNotFound,
                       StartsWith(*tee_ + ": reading the HCL report: tpm: no NV index at handle "
                                          "0x01400009")));
  EXPECT_THAT(DetectAzureVtpm(o), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AzureAttesterTest, TheOtherAzureTeeIsRefusedByTheHclReport) {
  const std::string other = tdx() ? "az-snp-vtpm" : "az-tdx-vtpm";
  auto attester = NewAzureVtpmAttester(other, Options());
  ASSERT_OK(attester);
  EXPECT_THAT((*attester)->Evidence(crypto::Sha384("x")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(tdx() ? "carries a TDX report, this is not an az-snp-vtpm VM"
                                       : "carries a SNP report, this is not an az-tdx-vtpm VM")));
}

TEST_F(AzureAttesterTest, ImdsDownIsUnavailable) {
  AzureVtpmOptions o = Options();
  o.imds_url = "http://127.0.0.1:1";
  EXPECT_THAT(Collect(crypto::Sha384("x"), o),
              StatusIs(absl::StatusCode::kUnavailable, StartsWith(*tee_ + ": imds: ")));
}

TEST_F(AzureAttesterTest, OversizedQualifyingDataIsInvalid) {
  EXPECT_THAT(Collect(std::string(65, 'x'), Options()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tpm: qualifying data is 65 bytes, at most 64")));
}

TEST_F(AzureAttesterTest, InitDataCheckPassesOnceTheDigestIsExtendedIntoAZeroPcr8) {
  // Runs on a fresh PCR8 (gtest keeps declaration order within the binary run).
  const std::string digest = crypto::Sha256("pod init-data");
  auto pcr8 = ReadInitDataPcr(*tcti_);
  ASSERT_OK(pcr8);
  ASSERT_EQ(*pcr8, std::string(32, '\0'));
  EXPECT_THAT(CheckInitDataPcr(digest, *tcti_),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       StartsWith("vtpm: init-data: PCR8 0000000000000000")));
  ASSERT_OK(ExtendInitDataPcr(digest, *tcti_));
  EXPECT_OK(CheckInitDataPcr(digest, *tcti_));
  EXPECT_TRUE(IsAzureVtpm(tdx() ? az::Platform::kTdx : az::Platform::kSnp, Options()));
  EXPECT_FALSE(IsAzureVtpm(tdx() ? az::Platform::kSnp : az::Platform::kTdx, Options()));
}

TEST_F(AzureAttesterTest, InitDataPcrReadsAndExtendsPcr8) {
  auto before = ReadInitDataPcr(*tcti_);
  ASSERT_OK(before);
  ASSERT_EQ(before->size(), 32u);
  const std::string digest = crypto::Sha256("init-data");
  ASSERT_OK(ExtendInitDataPcr(digest, *tcti_));
  auto after = ReadInitDataPcr(*tcti_);
  ASSERT_OK(after);
  EXPECT_EQ(*after, crypto::Sha256(*before + digest));
  // The next quote carries the new PCR8, and it still verifies.
  const std::string nonce = crypto::Sha384("after extend");
  auto ev = Collect(nonce, Options());
  ASSERT_OK(ev);
  auto claims = Verify(*ev, nonce);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("init_data").as_string(), core::HexEncode(*after));

  EXPECT_THAT(CheckInitDataPcr(digest, *tcti_),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("init-data: PCR8")));
  EXPECT_THAT(ExtendInitDataPcr(crypto::Sha384("x"), *tcti_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32-byte")));
}

TEST_F(AzureAttesterTest, UnreachableTpmIsUnavailableOrNotFound) {
  EXPECT_THAT(Tpm::Open("device:/nonexistent/tpmrm9"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/tpmrm9")));
  EXPECT_THAT(Tpm::Open("swtpm:host=127.0.0.1,port=1"),
              StatusIs(absl::StatusCode::kUnavailable, StartsWith("tpm: ")));
  AzureVtpmOptions o = Options();
  o.tcti = "device:/nonexistent/tpmrm9";
  EXPECT_THAT(DetectAzureVtpm(o), StatusIs(absl::StatusCode::kNotFound));
}

TEST(AzureAttesterFactoryTest, UnknownTeeIsInvalid) {
  EXPECT_THAT(NewAzureVtpmAttester("tdx"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown TEE \"tdx\"")));
}

}  // namespace
}  // namespace ccburst::agent::vtpm
