#include "evidence/azure/tpm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/test_keys.h"

namespace ccburst::evidence::azure {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The real TPMS_ATTEST of a1-az-snp-vtpm-v1 (nonce "challenge", SHA-256 PCR0-23).
std::string RealMessage() {
  auto text = core::ReadFile(std::string(CCB_SHARED_DIR) +
                             "/testdata/azure/a1-az-snp-vtpm-v1/evidence.json");
  auto j = core::ParseJson(*text);
  return *core::HexDecode(j->at("tpm_quote").at("message").as_string());
}

QuoteAttest SampleAttest(const Pcrs& pcrs) {
  QuoteAttest q;
  q.qualified_signer = std::string("\x00\x0b", 2) + std::string(32, '\x42');
  q.extra_data = crypto::Sha384("session");
  q.clock = 123456;
  q.reset_count = 1;
  q.firmware_version = 0x2000000000001ULL;
  q.safe = true;
  q.selection.push_back({kTpmAlgSha256, {}});
  for (uint32_t i = 0; i < kPcrCount; ++i) q.selection[0].pcrs.push_back(i);
  std::string concat;
  for (const auto& p : pcrs) concat += p;
  q.pcr_digest = crypto::Sha256(concat);
  return q;
}

Pcrs SamplePcrs() {
  Pcrs pcrs;
  for (size_t i = 0; i < kPcrCount; ++i) pcrs[i] = std::string(kPcrSize, static_cast<char>(i));
  return pcrs;
}

TEST(TpmTest, ParsesRealQuote) {
  auto q = ParseQuoteAttest(RealMessage());
  ASSERT_OK(q);
  EXPECT_EQ(q->extra_data, "challenge");
  ASSERT_EQ(q->selection.size(), 1u);
  EXPECT_EQ(q->selection[0].hash, kTpmAlgSha256);
  EXPECT_EQ(q->selection[0].pcrs.size(), 24u);
  EXPECT_EQ(q->pcr_digest.size(), 32u);
}

TEST(TpmTest, MarshalRoundTrips) {
  QuoteAttest q = SampleAttest(SamplePcrs());
  auto m = MarshalQuoteAttest(q);
  ASSERT_OK(m);
  auto back = ParseQuoteAttest(*m);
  ASSERT_OK(back);
  EXPECT_EQ(back->extra_data, q.extra_data);
  EXPECT_EQ(back->qualified_signer, q.qualified_signer);
  EXPECT_EQ(back->clock, q.clock);
  EXPECT_EQ(back->firmware_version, q.firmware_version);
  EXPECT_EQ(back->selection[0].pcrs, q.selection[0].pcrs);
  EXPECT_EQ(back->pcr_digest, q.pcr_digest);
  EXPECT_OK(CheckPcrs(*back, SamplePcrs()));
  EXPECT_EQ(*MarshalQuoteAttest(*ParseQuoteAttest(RealMessage())), RealMessage());
}

TEST(TpmTest, TruncatedAtEveryLengthRefused) {
  std::string m = RealMessage();
  for (size_t n = 0; n < m.size(); ++n) {
    auto q = ParseQuoteAttest(m.substr(0, n));
    ASSERT_THAT(q, StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("tpm quote: "))) << n;
  }
}

TEST(TpmTest, OversizedAtEveryLengthRefused) {
  std::string m = RealMessage();
  for (size_t extra = 1; extra <= 64; ++extra) {
    auto q = ParseQuoteAttest(m + std::string(extra, '\0'));
    ASSERT_THAT(
        q, StatusIs(_, fmt::format("tpm quote: TPMS_ATTEST has {} bytes left over after {} bytes",
                                   extra, m.size())));
  }
}

TEST(TpmTest, WrongMagicAndTypeRefused) {
  std::string m = RealMessage();
  std::string bad = m;
  bad[0] = '\x00';
  EXPECT_THAT(core::Message(ParseQuoteAttest(bad).status()),
              StartsWith("tpm quote: magic 0x00544347 is not TPM_GENERATED_VALUE"));
  // TPM_ST_ATTEST_CERTIFY (0x8017) unmarshals as another structure: refused either way.
  bad = m;
  bad[5] = '\x17';
  EXPECT_THAT(ParseQuoteAttest(bad), Not(IsOk()));
  // An unknown type tag.
  bad = m;
  bad[4] = '\x12';
  EXPECT_THAT(ParseQuoteAttest(bad), Not(IsOk()));
}

TEST(TpmTest, OversizedExtraDataRefused) {
  QuoteAttest q = SampleAttest(SamplePcrs());
  q.extra_data = std::string(65, 'x');
  EXPECT_THAT(MarshalQuoteAttest(q), Not(IsOk()));
  // Hand-edit the extraData size of the real quote past its maximum.
  std::string m = RealMessage();
  size_t signer = (static_cast<uint8_t>(m[6]) << 8) | static_cast<uint8_t>(m[7]);
  m[8 + signer] = '\x01';  // size 0x0109 > 64
  auto r = ParseQuoteAttest(m);
  EXPECT_THAT(r, StatusIs(_, StartsWith("tpm quote: TPMS_ATTEST")));
}

TEST(TpmTest, PcrSelectionMustBeSha256Pcr0To23) {
  Pcrs pcrs = SamplePcrs();
  QuoteAttest q = SampleAttest(pcrs);
  EXPECT_OK(CheckPcrs(q, pcrs));
  QuoteAttest fewer = q;
  fewer.selection[0].pcrs.pop_back();
  auto st = CheckPcrs(fewer, pcrs);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(st), StartsWith("tpm quote: pcr selection 0x000b:{0,1,2,"));
  QuoteAttest sha1 = q;
  sha1.selection[0].hash = 0x0004;
  EXPECT_THAT(CheckPcrs(sha1, pcrs), Not(IsOk()));
  QuoteAttest two = q;
  two.selection.push_back({0x000c, {0}});
  EXPECT_THAT(CheckPcrs(two, pcrs), Not(IsOk()));
  QuoteAttest none = q;
  none.selection.clear();
  EXPECT_THAT(core::Message(CheckPcrs(none, pcrs)), HasSubstr("selection none"));
}

TEST(TpmTest, FlippedPcrRefused) {
  Pcrs pcrs = SamplePcrs();
  QuoteAttest q = SampleAttest(pcrs);
  for (size_t i = 0; i < kPcrCount; ++i) {
    Pcrs flipped = pcrs;
    flipped[i][31] ^= 0x80;
    auto st = CheckPcrs(q, flipped);
    EXPECT_THAT(st, StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_THAT(core::Message(st), StartsWith("tpm quote: pcrDigest "));
  }
}

TEST(TpmTest, SignatureByAkOnly) {
  const crypto::PrivateKey& ak = crypto::testing::CachedRsaKey(0);
  const crypto::PrivateKey& other = crypto::testing::CachedRsaKey(1);
  std::string msg = *MarshalQuoteAttest(SampleAttest(SamplePcrs()));
  std::string sig = *crypto::SignRsaPkcs1(ak, crypto::HashAlg::kSha256, msg);
  EXPECT_OK(VerifyQuoteSignature(ak.Public(), msg, sig));
  // The TPMT_SIGNATURE form is accepted too.
  EXPECT_OK(VerifyQuoteSignature(ak.Public(), msg, MarshalRsassaSignature(sig)));
  std::string by_other = *crypto::SignRsaPkcs1(other, crypto::HashAlg::kSha256, msg);
  auto st = VerifyQuoteSignature(ak.Public(), msg, by_other);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(st), "tpm quote: signature does not verify with HCLAkPub");
  std::string edited = msg;
  edited[20] ^= 1;
  EXPECT_THAT(VerifyQuoteSignature(ak.Public(), edited, sig), Not(IsOk()));
  EXPECT_THAT(VerifyQuoteSignature(ak.Public(), msg, sig.substr(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // PSS is not RSASSA.
  std::string pss = *crypto::SignRsaPss(ak, crypto::HashAlg::kSha256, msg);
  EXPECT_THAT(VerifyQuoteSignature(ak.Public(), msg, pss), Not(IsOk()));
  // A TPMT_SIGNATURE with another hash.
  std::string t = MarshalRsassaSignature(sig);
  t[3] = '\x0c';
  EXPECT_THAT(core::Message(VerifyQuoteSignature(ak.Public(), msg, t)),
              HasSubstr("is not RSASSA / SHA-256"));
  EXPECT_THAT(VerifyQuoteSignature(crypto::PrivateKey::GenerateEcP256().Public(), msg, sig),
              Not(IsOk()));
}

TEST(TpmTest, InitDataPcrValue) {
  std::string digest = crypto::Sha256("init");
  EXPECT_EQ(InitDataPcrValue(digest), crypto::Sha256(std::string(32, '\0') + digest));
}

}  // namespace
}  // namespace ccburst::evidence::azure
