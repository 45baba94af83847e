#include "crypto/signature.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "crypto/test_keys.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::Not;

const PrivateKey& Rsa() { return testing::CachedRsaKey(0); }

TEST(Signature, EcdsaRawRoundTripPerCurve) {
  struct Case {
    PrivateKey key;
    HashAlg hash;
    size_t sig_size;
  };
  for (const Case& c : {Case{PrivateKey::GenerateEcP256(), HashAlg::kSha256, 64},
                        Case{PrivateKey::GenerateEcP384(), HashAlg::kSha384, 96},
                        Case{PrivateKey::GenerateEcP521(), HashAlg::kSha512, 132}}) {
    auto sig = SignEcdsa(c.key, c.hash, "message");
    ASSERT_OK(sig);
    EXPECT_EQ(sig->size(), c.sig_size);
    EXPECT_OK(VerifyEcdsa(c.key.Public(), c.hash, "message", *sig));
    absl::Status bad = VerifyEcdsa(c.key.Public(), c.hash, "massage", *sig);
    EXPECT_THAT(bad, StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_EQ(core::Message(bad), "signature: verification failed");

    auto der = EcdsaRawToDer(*sig, c.sig_size / 2);
    ASSERT_OK(der);
    EXPECT_EQ((*der)[0], '\x30');
    EXPECT_OK(VerifyEcdsaDer(c.key.Public(), c.hash, "message", *der));
    EXPECT_EQ(*EcdsaDerToRaw(*der, c.sig_size / 2), *sig);
  }
}

TEST(Signature, EcdsaRejectsWrongLengthAndKind) {
  PrivateKey k = PrivateKey::GenerateEcP256();
  auto sig = *SignEcdsa(k, HashAlg::kSha256, "m");
  absl::Status short_sig = VerifyEcdsa(k.Public(), HashAlg::kSha256, "m", sig.substr(1));
  EXPECT_THAT(short_sig, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(core::Message(short_sig), "signature: ECDSA signature must be 64 bytes (r||s), got 63");
  auto ed = PrivateKey::GenerateEd25519();
  auto wrong = SignEcdsa(ed, HashAlg::kSha256, "m");
  ASSERT_THAT(wrong, StatusIs(_, "signature: ECDSA does not work with a Ed25519 key"));
  EXPECT_THAT(EcdsaDerToRaw("\x30\x00junk", 32), Not(IsOk()));
}

TEST(Signature, RsaPkcs1AndPss) {
  for (HashAlg h : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    auto p1 = SignRsaPkcs1(Rsa(), h, "data");
    ASSERT_OK(p1);
    EXPECT_EQ(p1->size(), 256u);
    EXPECT_OK(VerifyRsaPkcs1(Rsa().Public(), h, "data", *p1));
    EXPECT_THAT(VerifyRsaPss(Rsa().Public(), h, "data", *p1), Not(IsOk()));
    auto pss = SignRsaPss(Rsa(), h, "data");
    ASSERT_OK(pss);
    EXPECT_OK(VerifyRsaPss(Rsa().Public(), h, "data", *pss));
    EXPECT_THAT(VerifyRsaPss(Rsa().Public(), h, "date", *pss), Not(IsOk()));
    EXPECT_THAT(VerifyRsaPkcs1(Rsa().Public(), h, "data", *pss), Not(IsOk()));
  }
}

TEST(Signature, Ed25519) {
  PrivateKey k = PrivateKey::GenerateEd25519();
  auto sig = SignEd25519(k, "hello");
  ASSERT_OK(sig);
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_OK(VerifyEd25519(k.Public(), "hello", *sig));
  EXPECT_THAT(VerifyEd25519(k.Public(), "hellO", *sig),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(VerifyEd25519(PrivateKey::GenerateEd25519().Public(), "hello", *sig), Not(IsOk()));
  EXPECT_THAT(VerifyEd25519(k.Public(), "hello", "short"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ccburst::crypto
