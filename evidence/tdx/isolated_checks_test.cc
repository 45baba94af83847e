// One test per DCAP / TDX check that only a forged quote or wrong collateral reaches: each builds
// a quote and collateral from the test hierarchy that verify, changes the one field the check
// reads (the generator signs the result consistently, so no signature or other check fails
// first) and expects that check's own error. Removing any of these checks from the verifier
// makes its test fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "evidence/tdx/testing/quote_generator.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::evidence::tdx {
namespace {

using ::ccburst::core::testing::StatusIs;
using testing::CollateralSpec;
using testing::HierarchyOptions;
using testing::QuoteSpec;
using testing::TdxTestHierarchy;

const core::TimePoint kNow = core::FromUnixSeconds(1'800'000'000);

class IsolatedChecksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hierarchy_ = TdxTestHierarchy::Create().release(); }
  static void TearDownTestSuite() { delete hierarchy_; }

  static CollateralSpec Collateral() {
    CollateralSpec s;
    s.issue_date = kNow - std::chrono::hours(24);
    s.next_update = kNow + std::chrono::hours(24 * 30);
    return s;
  }

  // Verifies a quote issued from `q` against collateral made from `c`, both by `h`.
  static absl::Status Verify(const QuoteSpec& q, const CollateralSpec& c,
                             const TdxTestHierarchy& h = *hierarchy_) {
    CCB_ASSIGN_OR_RETURN(std::string quote, h.IssueQuote(q));
    CCB_ASSIGN_OR_RETURN(dcap::Collateral col, h.MakeCollateral(c));
    CCB_ASSIGN_OR_RETURN(auto verifier,
                         TdxVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(col),
                                              h.anchor(), nullptr}));
    return verifier->VerifyEvidence(Evidence{quote, std::nullopt}, nullptr, kNow).status();
  }

  static TdxTestHierarchy* hierarchy_;
};
TdxTestHierarchy* IsolatedChecksTest::hierarchy_ = nullptr;

TEST_F(IsolatedChecksTest, UnchangedQuoteAndCollateralVerify) {
  EXPECT_OK(Verify(QuoteSpec(), Collateral()));
  QuoteSpec module_v0;  // TDX 1.0 module: checked against TCB Info's tdxModule
  module_v0.tee_tcb_svn = {6, 0, 3};
  EXPECT_OK(Verify(module_v0, Collateral()));
}

// QVL 4.1.2.4.11: MRSIGNER_SEAM is the TDX module identity's mrsigner, for a module with major
// version > 0 (tdxModuleIdentities TDX_01) and for a TDX 1.0 module (tdxModule) alike.
TEST_F(IsolatedChecksTest, MrSignerSeamMustBeTheTdxModuleIdentitys) {
  for (uint8_t major : {1, 0}) {
    QuoteSpec q;
    q.tee_tcb_svn = {6, major, 3};
    q.mr_signer_seam = std::string(48, '\x01');
    EXPECT_THAT(Verify(q, Collateral()),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         "tdx: mr_signer_seam does not match the tdx module identity mrsigner"))
        << "module major version " << int{major};
  }
}

// The module identity is chosen by the module's major version: TDX_01's mrsigner for a 1.x
// module, tdxModule's for a TDX 1.0 one.
TEST_F(IsolatedChecksTest, MrSignerSeamIsCheckedAgainstTheModuleOfItsVersion) {
  CollateralSpec c = Collateral();
  c.module_identity_mrsigner = std::string(48, '\x02');
  QuoteSpec q;
  q.mr_signer_seam = c.module_identity_mrsigner;
  EXPECT_OK(Verify(q, c));
  q.tee_tcb_svn = {6, 0, 3};
  EXPECT_THAT(Verify(q, c),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "tdx: mr_signer_seam does not match the tdx module identity mrsigner"));
  QuoteSpec v0;
  v0.tee_tcb_svn = {6, 0, 3};
  EXPECT_OK(Verify(v0, c));
  EXPECT_THAT(Verify(QuoteSpec(), c),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "tdx: mr_signer_seam does not match the tdx module identity mrsigner"));
}

// QVL 4.1.2.4.11: SEAM_ATTRIBUTES against the identity's attributes. Intel's identities demand
// zero (attributes 0000000000000000 under mask FFFFFFFFFFFFFFFF), and we refuse non-zero SEAM
// attributes even should an identity ever allow them.
TEST_F(IsolatedChecksTest, SeamAttributesMustBeZero) {
  QuoteSpec q;
  q.seam_attributes = std::string("\x01", 1);
  EXPECT_THAT(
      Verify(q, Collateral()),
      StatusIs(absl::StatusCode::kPermissionDenied,
               "tdx: seam_attributes are not zero or do not match the tdx module identity"));
  CollateralSpec c = Collateral();
  c.module_attributes = std::string("\x01", 1);
  EXPECT_THAT(
      Verify(QuoteSpec(), c),
      StatusIs(absl::StatusCode::kPermissionDenied,
               "tdx: seam_attributes are not zero or do not match the tdx module identity"));
  // Matching an identity that allows them does not make non-zero SEAM attributes acceptable.
  EXPECT_THAT(
      Verify(q, c),
      StatusIs(absl::StatusCode::kPermissionDenied,
               "tdx: seam_attributes are not zero or do not match the tdx module identity"));
}

// QVL 4.1.2.4.15 (EnclaveReportVerifier): the QE report's MRSIGNER is the QE Identity's.
TEST_F(IsolatedChecksTest, QeMrsignerMustBeTheQeIdentitys) {
  QuoteSpec q;
  q.qe_mrsigner = crypto::Sha256("another QE signer");
  EXPECT_THAT(Verify(q, Collateral()),
              StatusIs(absl::StatusCode::kPermissionDenied, "tdx: qe identity: mrsigner mismatch"));
}

// QVL 4.1.2.4.15: MISCSELECT & miscselectMask == miscselect (00000000 under FFFFFFFF).
TEST_F(IsolatedChecksTest, QeMiscselectMustMatchTheQeIdentity) {
  QuoteSpec q;
  q.qe_miscselect = 0x00000100;
  EXPECT_THAT(Verify(q, Collateral()), StatusIs(absl::StatusCode::kPermissionDenied,
                                                "tdx: qe identity: miscselect mismatch"));
}

// QVL 4.1.2.4.15: ATTRIBUTES & attributesMask == attributes (11000000... under
// FBFFFFFFFFFFFFFF0000000000000000): a bit outside the mask is ignored, one inside is not.
TEST_F(IsolatedChecksTest, QeAttributesMustMatchTheQeIdentityUnderItsMask) {
  QuoteSpec q;
  q.qe_attributes[0] = '\x15';  // bit 2 (KSS) is outside the mask
  q.qe_attributes[8] = '\xff';  // XFRM is outside the mask
  EXPECT_OK(Verify(q, Collateral()));
  q = QuoteSpec();
  q.qe_attributes[0] = '\x13';  // bit 1 (DEBUG) is inside the mask
  EXPECT_THAT(Verify(q, Collateral()), StatusIs(absl::StatusCode::kPermissionDenied,
                                                "tdx: qe identity: attributes mismatch"));
}

// QVL's quote format check: only Intel's QE (vendor id 939A7233F79C4CA9940A0DB3957F0607).
TEST_F(IsolatedChecksTest, QeVendorIdMustBeIntels) {
  QuoteSpec q;
  q.qe_vendor_id = std::string(16, '\x01');
  EXPECT_THAT(Verify(q, Collateral()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "tdx: quote: qe vendor id 01010101010101010101010101010101 is not Intel's"));
}

// QVL 4.1.2.4.10: the PCK certificate's PCE-ID is the TCB Info's (the v4/v5 quote header carries
// no PCE-ID; the PCK certificate's SGX extension is the platform's).
TEST_F(IsolatedChecksTest, PceIdOfThePckCertificateMustBeTheTcbInfos) {
  CollateralSpec c = Collateral();
  c.tcb_info_pce_id = std::string("\x01\x00", 2);
  EXPECT_THAT(Verify(QuoteSpec(), c),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "tdx: pce id 0000 of the pck certificate does not match tcb info pce id "
                       "0100"));
}

// QVL 4.1.2.4.4: the leaf's subject common name contains "SGX PCK Certificate"; here the
// hierarchy differs from the default one only in its leaf's name (and its fresh keys).
TEST_F(IsolatedChecksTest, PckLeafMustBeAnSgxPckCertificate) {
  HierarchyOptions o;
  o.pck_subject_cn = "Test SGX PCK Leaf";
  auto other = TdxTestHierarchy::Create(o);
  EXPECT_THAT(Verify(QuoteSpec(), Collateral(), *other),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "tdx: pck certificate: subject `Test SGX PCK Leaf` is not an SGX PCK "
                       "Certificate"));
}

// QVL 4.1.2.4.6: the PCK CRL is the one of the leaf's issuer: not that of another PCK CA under
// the same root (a Processor CA's CRL for a Platform CA leaf), nor one signed by a CA that merely
// carries the issuer's name.
TEST_F(IsolatedChecksTest, PckCrlMustBeTheLeafIssuers) {
  CollateralSpec c = Collateral();
  c.pck_crl_issuer = CollateralSpec::PckCrlIssuer::kOtherPckCa;
  EXPECT_THAT(Verify(QuoteSpec(), c),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "tdx: pck crl: issued by `Test SGX PCK Processor CA`, not by the pck "
                       "certificate's issuer `Test SGX PCK Platform CA`"));
  c.pck_crl_issuer = CollateralSpec::PckCrlIssuer::kSameNameOtherKey;
  EXPECT_THAT(Verify(QuoteSpec(), c),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "tdx: pck crl: issued by a `Test SGX PCK Platform CA` whose key is not the "
                       "pck certificate's issuer's"));
}

}  // namespace
}  // namespace ccburst::evidence::tdx
