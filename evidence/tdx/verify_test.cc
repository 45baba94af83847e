#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/testing/status_matchers.h"
#include "evidence/tdx/verify_quote.h"

namespace ccburst::evidence::tdx {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Dir(const std::string& c) { return std::string(CCB_SHARED_DIR) + "/testdata/tdx/" + c; }

dcap::Collateral LoadCollateral(const std::string& c) {
  std::string d = Dir(c) + "/collateral/";
  dcap::Collateral col;
  col.tcb_info_json = *core::ReadFile(d + "tcb_info.json");
  col.tcb_info_issuer_chain = *core::ReadFile(d + "tcb_info_issuer_chain.pem");
  col.qe_identity_json = *core::ReadFile(d + "qe_identity.json");
  col.qe_identity_issuer_chain = *core::ReadFile(d + "qe_identity_issuer_chain.pem");
  col.pck_crl = *core::ReadFile(d + "pck_crl.der");
  col.pck_crl_issuer_chain = *core::ReadFile(d + "pck_crl_issuer_chain.pem");
  col.root_ca_crl = *core::ReadFile(d + "root_ca_crl.der");
  return col;
}

core::TimePoint At(const char* t) { return *core::ParseRfc3339(t); }

absl::StatusOr<TdxVerdict> RunCase(const std::string& c, const dcap::Collateral& col,
                                   core::TimePoint now, std::string quote_bytes = "") {
  if (quote_bytes.empty()) quote_bytes = *core::ReadFile(Dir(c) + "/quote.bin");
  CCB_ASSIGN_OR_RETURN(auto verified,
                       dcap::VerifyCollateral(col, dcap::TrustAnchor::IntelSgxRootCa(), now));
  CCB_ASSIGN_OR_RETURN(Quote q, ParseQuote(quote_bytes));
  return VerifyQuote(q, *verified, dcap::TrustAnchor::IntelSgxRootCa(), now);
}

TEST(VerifyTest, T1UpToDate) {
  auto v =
      RunCase("t1-emr-uptodate", LoadCollateral("t1-emr-uptodate"), At("2025-07-01T00:00:00Z"));
  ASSERT_OK(v);
  EXPECT_EQ(v->tcb_status, "UpToDate");
  EXPECT_TRUE(v->advisory_ids.empty());
  EXPECT_EQ(v->tcb_date, "2024-03-13T00:00:00Z");
  EXPECT_EQ(v->tdx_module_status, "UpToDate");
  EXPECT_EQ(v->qe_tcb_status, "UpToDate");
  EXPECT_EQ(v->pck_issuer, "Intel SGX PCK Platform CA");
}

TEST(VerifyTest, T3OutOfDate) {
  auto v =
      RunCase("t3-spr-outofdate", LoadCollateral("t3-spr-outofdate"), At("2025-03-10T00:00:00Z"));
  ASSERT_OK(v);
  EXPECT_EQ(v->tcb_status, "OutOfDate");
  EXPECT_EQ(v->tcb_date, "2023-08-09T00:00:00Z");
  EXPECT_EQ(v->advisory_ids,
            (std::vector<std::string>{"INTEL-SA-00960", "INTEL-SA-00982", "INTEL-SA-00986"}));
}

TEST(VerifyTest, T5TcbNotSupported) {
  auto v = RunCase("t5-spr-e4-tcb-not-supported", LoadCollateral("t5-spr-e4-tcb-not-supported"),
                   At("2023-07-01T01:00:00Z"));
  ASSERT_THAT(v,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("tdx: tcb not supported")));
}

// Replaces one base64 character inside the signature of the `nth` PEM certificate.
std::string FlipPemSignature(std::string pem, int nth) {
  size_t pos = 0;
  for (int i = 0; i <= nth; ++i) pos = pem.find("-----END CERTIFICATE-----", pos + 1);
  size_t at = pos - 8;
  while (pem[at] == '\n' || pem[at] == '=') --at;
  pem[at] = pem[at] == 'A' ? 'B' : 'A';
  return pem;
}

TEST(CertificateCacheTest, DecodesEachDistinctEncodingOnce) {
  dcap::Collateral col = LoadCollateral("t1-emr-uptodate");
  crypto::CertificateCache cache;
  auto a = cache.GetCrl(col.pck_crl, "pck crl");
  auto b = cache.GetCrl(col.pck_crl, "pck crl");
  auto c = cache.GetCrl(col.root_ca_crl, "root ca crl");
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(
      core::Message(cache.GetCrl("garbage", "tdx: pck crl").status()).rfind("tdx: pck crl: ", 0),
      0u);
  // The TCB Info and QE Identity chains hold the same two certificates: decoded once.
  auto tcb = dcap::ParsePemChain(col.tcb_info_issuer_chain, "tcb", cache);
  auto qe = dcap::ParsePemChain(col.qe_identity_issuer_chain, "qe", cache);
  auto pck = dcap::ParsePemChain(col.pck_crl_issuer_chain, "pck", cache);
  ASSERT_OK(tcb);
  ASSERT_OK(qe);
  ASSERT_OK(pck);
  ASSERT_EQ(tcb->size(), 2u);
  EXPECT_EQ((*tcb)[0].get(), (*qe)[0].get());
  EXPECT_EQ((*tcb)[1].get(), (*pck)[1].get());  // the root
  EXPECT_NE((*tcb)[0].get(), (*pck)[0].get());
  EXPECT_EQ((*pck)[1]->subject_cn(), "Intel SGX Root CA");
}

// The cache shares decoding only: tampered items decoded after (and alongside) good ones still
// fail their checks, and good ones still pass afterwards.
TEST(CertificateCacheTest, SharesDecodingNotVerification) {
  const dcap::Collateral good = LoadCollateral("t1-emr-uptodate");
  const std::string quote = *core::ReadFile(Dir("t1-emr-uptodate") + "/quote.bin");
  const core::TimePoint at = At("2025-07-01T00:00:00Z");
  const dcap::TrustAnchor& anchor = dcap::TrustAnchor::IntelSgxRootCa();
  auto certs = std::make_shared<crypto::CertificateCache>();
  crypto::CertificateCache* pool = certs.get();
  ASSERT_OK(dcap::VerifyCollateral(good, anchor, at, pool));

  dcap::Collateral bad = good;
  bad.root_ca_crl[bad.root_ca_crl.size() - 2] ^= 0x01;
  EXPECT_EQ(core::Message(dcap::VerifyCollateral(bad, anchor, at, pool).status()),
            "tdx: root ca crl: signature verification failed");
  bad = good;
  bad.pck_crl_issuer_chain = FlipPemSignature(good.pck_crl_issuer_chain, 0);
  EXPECT_THAT(core::Message(dcap::VerifyCollateral(bad, anchor, at, pool).status()),
              ::testing::StartsWith("tdx: pck crl issuer chain: "));
  // A QE Identity issuer chain that is not the TCB Info's text is verified on its own.
  bad = good;
  bad.qe_identity_issuer_chain = FlipPemSignature(good.qe_identity_issuer_chain, 0);
  EXPECT_THAT(core::Message(dcap::VerifyCollateral(bad, anchor, at, pool).status()),
              ::testing::StartsWith("tdx: qe identity issuer chain: "));
  dcap::Collateral respaced = good;
  respaced.qe_identity_issuer_chain = "\n" + good.qe_identity_issuer_chain;
  EXPECT_OK(dcap::VerifyCollateral(respaced, anchor, at, pool));
  auto verified = dcap::VerifyCollateral(good, anchor, at, pool);
  ASSERT_OK(verified);

  // PCK chain: a chain cache on the same certificate cache verifies a tampered chain on its own.
  dcap::PckChainCache chains(16, certs);
  auto q = ParseQuote(quote);
  ASSERT_OK(q);
  ASSERT_OK(VerifyQuote(*q, **verified, anchor, at, &chains));
  Quote tampered = *q;
  size_t begin = tampered.pck_chain_pem.find("-----BEGIN CERTIFICATE-----");
  tampered.pck_chain_pem = tampered.pck_chain_pem.substr(0, begin) +
                           FlipPemSignature(tampered.pck_chain_pem.substr(begin), 1);  // the PCK CA
  EXPECT_THAT(core::Message(VerifyQuote(tampered, **verified, anchor, at, &chains).status()),
              ::testing::StartsWith("tdx: pck certificate chain: "));
  EXPECT_THAT(core::Message(VerifyQuote(tampered, **verified, anchor, at).status()),
              ::testing::StartsWith("tdx: pck certificate chain: "));
  EXPECT_OK(VerifyQuote(*q, **verified, anchor, at));
}

TEST(PckChainCacheTest, AttestationKeyMustBeAP256Point) {
  dcap::PckChainCache cache;
  const std::string quote = *core::ReadFile(Dir("t1-emr-uptodate") + "/quote.bin");
  auto q = ParseQuote(quote);
  ASSERT_OK(q);
  auto key = cache.AttestationKey(q->attestation_key);
  ASSERT_OK(key);
  EXPECT_EQ(key->type(), crypto::KeyType::kEcP256);
  std::string off_curve = q->attestation_key;
  off_curve[63] ^= 0x01;
  EXPECT_EQ(core::Message(cache.AttestationKey(off_curve).status()),
            "tdx: quote: attestation key is not a P-256 point");
  EXPECT_THAT(cache.AttestationKey(std::string(64, '\0')), Not(IsOk()));
  EXPECT_THAT(cache.AttestationKey(q->attestation_key.substr(0, 63)), Not(IsOk()));
}

}  // namespace
}  // namespace ccburst::evidence::tdx
