// One flipped byte in each signed region of a real quote and its collateral must fail with the
// error that names that check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file.h"
#include "core/json.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::evidence::tdx {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kCase[] = "t1-emr-uptodate";

std::string Shared(const std::string& rel) {
  return *core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/tdx/" + kCase + "/" + rel);
}

dcap::Collateral Collateral() {
  dcap::Collateral col;
  col.tcb_info_json = Shared("collateral/tcb_info.json");
  col.tcb_info_issuer_chain = Shared("collateral/tcb_info_issuer_chain.pem");
  col.qe_identity_json = Shared("collateral/qe_identity.json");
  col.qe_identity_issuer_chain = Shared("collateral/qe_identity_issuer_chain.pem");
  col.pck_crl = Shared("collateral/pck_crl.der");
  col.pck_crl_issuer_chain = Shared("collateral/pck_crl_issuer_chain.pem");
  col.root_ca_crl = Shared("collateral/root_ca_crl.der");
  return col;
}

std::string Verify(const std::string& quote, const dcap::Collateral& col,
                   std::optional<dcap::TrustAnchor> anchor = std::nullopt) {
  auto verifier =
      TdxVerifier::Create({std::make_shared<dcap::FixedCollateralSource>(col), std::move(anchor)});
  if (!verifier.ok()) return core::Message(verifier.status());
  auto r = (*verifier)->VerifyEvidence(Evidence{quote, std::nullopt}, nullptr,
                                       *core::ParseRfc3339("2025-07-01T00:00:00Z"));
  if (!r.ok()) return core::Message(r.status());
  return r->verdict.tcb_status == "Revoked" ? "tdx: tcb status is Revoked" : "verified";
}

std::string Flip(std::string s, size_t at) {
  s.at(at) ^= 0x01;
  return s;
}

// Replaces one base64 character a few characters before the end of the `nth` PEM certificate
// (inside its signature) with another base64 character.
std::string FlipPemSignature(std::string pem, int nth) {
  size_t pos = 0;
  for (int i = 0; i <= nth; ++i) pos = pem.find("-----END CERTIFICATE-----", pos + 1);
  size_t at = pos - 8;
  while (pem[at] == '\n' || pem[at] == '=') --at;
  pem[at] = pem[at] == 'A' ? 'B' : 'A';
  return pem;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(TdxNegativeTest, Baseline) {
  EXPECT_EQ(Verify(Shared("quote.bin"), Collateral()), "verified");
}

TEST(TdxNegativeTest, QuoteHeaderAndBody) {
  std::string q = Shared("quote.bin");
  EXPECT_EQ(Verify(Flip(q, 40), Collateral()), "tdx: quote signature verification failed");
  EXPECT_EQ(Verify(Flip(q, 184), Collateral()), "tdx: quote signature verification failed");
  EXPECT_EQ(Verify(Flip(q, 631), Collateral()), "tdx: quote signature verification failed");
}

TEST(TdxNegativeTest, QuoteSignature) {
  EXPECT_EQ(Verify(Flip(Shared("quote.bin"), 640), Collateral()),
            "tdx: quote signature verification failed");
}

TEST(TdxNegativeTest, QeReport) {
  std::string q = Shared("quote.bin");
  EXPECT_EQ(Verify(Flip(q, 770 + 200), Collateral()),
            "tdx: qe report signature verification failed");
  EXPECT_EQ(Verify(Flip(q, 1154 + 10), Collateral()),
            "tdx: qe report signature verification failed");
}

TEST(TdxNegativeTest, QeAuthDataAndAttestationKey) {
  std::string q = Shared("quote.bin");
  EXPECT_EQ(Verify(Flip(q, 1220 + 3), Collateral()),
            "tdx: qe report data does not match sha256(attestation key || qe auth data)");
  std::string msg = Verify(Flip(q, 710), Collateral());
  EXPECT_TRUE(msg == "tdx: qe report data does not match sha256(attestation key || qe auth data)" ||
              msg == "tdx: quote: attestation key is not a P-256 point")
      << msg;
}

TEST(TdxNegativeTest, PckChain) {
  std::string q = Shared("quote.bin");
  size_t begin = q.find("-----BEGIN CERTIFICATE-----");
  ASSERT_NE(begin, std::string::npos);
  std::string pem_region = q.substr(begin);
  for (int nth : {0, 1}) {
    std::string flipped = q.substr(0, begin) + FlipPemSignature(pem_region, nth);
    EXPECT_THAT(Verify(flipped, Collateral()), StartsWith("tdx: pck certificate chain: ")) << nth;
  }
}

TEST(TdxNegativeTest, TcbInfo) {
  dcap::Collateral c = Collateral();
  c.tcb_info_json =
      Replace(c.tcb_info_json, "\"tcbEvaluationDataNumber\":17", "\"tcbEvaluationDataNumber\":18");
  EXPECT_EQ(Verify(Shared("quote.bin"), c), "tdx: tcb info: signature verification failed");
  c = Collateral();
  size_t sig = c.tcb_info_json.find("\"signature\":\"") + 13;
  c.tcb_info_json[sig] = c.tcb_info_json[sig] == '0' ? '1' : '0';
  EXPECT_EQ(Verify(Shared("quote.bin"), c), "tdx: tcb info: signature verification failed");
  c = Collateral();
  c.tcb_info_issuer_chain = FlipPemSignature(c.tcb_info_issuer_chain, 0);
  EXPECT_THAT(Verify(Shared("quote.bin"), c), StartsWith("tdx: tcb info issuer chain: "));
}

TEST(TdxNegativeTest, QeIdentity) {
  dcap::Collateral c = Collateral();
  c.qe_identity_json = Replace(c.qe_identity_json, "\"isvprodid\":2", "\"isvprodid\":3");
  EXPECT_EQ(Verify(Shared("quote.bin"), c), "tdx: qe identity: signature verification failed");
  c = Collateral();
  c.qe_identity_issuer_chain = FlipPemSignature(c.qe_identity_issuer_chain, 0);
  EXPECT_THAT(Verify(Shared("quote.bin"), c), StartsWith("tdx: qe identity issuer chain: "));
}

TEST(TdxNegativeTest, Crls) {
  dcap::Collateral c = Collateral();
  c.pck_crl = Flip(c.pck_crl, c.pck_crl.size() - 2);
  EXPECT_EQ(Verify(Shared("quote.bin"), c), "tdx: pck crl: signature verification failed");
  c = Collateral();
  c.root_ca_crl = Flip(c.root_ca_crl, c.root_ca_crl.size() - 2);
  EXPECT_EQ(Verify(Shared("quote.bin"), c), "tdx: root ca crl: signature verification failed");
  c = Collateral();
  c.pck_crl_issuer_chain = FlipPemSignature(c.pck_crl_issuer_chain, 0);
  EXPECT_THAT(Verify(Shared("quote.bin"), c), StartsWith("tdx: pck crl issuer chain: "));
}

TEST(TdxNegativeTest, WrongCollateralForPlatform) {
  dcap::Collateral c = Collateral();
  std::string other =
      *core::ReadFile(std::string(CCB_SHARED_DIR) + "/testdata/tdx/t3-spr-outofdate/quote.bin");
  // t3's quote is for FMSPC 00806F050000; t1's TCB Info is for B0C06F000000. t3's chain is
  // valid in July 2025 too, so the mismatch is the first failing check.
  EXPECT_EQ(Verify(other, c),
            "tdx: fmspc 00806F050000 of the pck certificate does not match tcb info fmspc "
            "B0C06F000000");
}

TEST(TdxNegativeTest, OtherTrustAnchorRejectsIntelChains) {
  auto key = crypto::PrivateKey::GenerateEcP256().Public();
  EXPECT_THAT(Verify(Shared("quote.bin"), Collateral(), dcap::TrustAnchor(key)),
              HasSubstr("is not the trusted root CA"));
}

}  // namespace
}  // namespace ccburst::evidence::tdx
