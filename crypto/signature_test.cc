#include "crypto/signature.h"

#include <gtest/gtest.h>

#include "crypto/test_keys.h"

namespace ccburst::crypto {
namespace {

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
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_EQ(sig->size(), c.sig_size);
    EXPECT_TRUE(VerifyEcdsa(c.key.Public(), c.hash, "message", *sig).ok());
    absl::Status bad = VerifyEcdsa(c.key.Public(), c.hash, "massage", *sig);
    EXPECT_EQ(bad.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(core::Message(bad), "signature: verification failed");

    auto der = EcdsaRawToDer(*sig, c.sig_size / 2);
    ASSERT_TRUE(der.ok());
    EXPECT_EQ((*der)[0], '\x30');
    EXPECT_TRUE(VerifyEcdsaDer(c.key.Public(), c.hash, "message", *der).ok());
    EXPECT_EQ(*EcdsaDerToRaw(*der, c.sig_size / 2), *sig);
  }
}

TEST(Signature, EcdsaRejectsWrongLengthAndKind) {
  PrivateKey k = PrivateKey::GenerateEcP256();
  auto sig = *SignEcdsa(k, HashAlg::kSha256, "m");
  absl::Status short_sig = VerifyEcdsa(k.Public(), HashAlg::kSha256, "m", sig.substr(1));
  EXPECT_EQ(short_sig.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(core::Message(short_sig), "signature: ECDSA signature must be 64 bytes (r||s), got 63");
  auto ed = PrivateKey::GenerateEd25519();
  auto wrong = SignEcdsa(ed, HashAlg::kSha256, "m");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(core::Message(wrong.status()), "signature: ECDSA does not work with a Ed25519 key");
  EXPECT_FALSE(EcdsaDerToRaw("\x30\x00junk", 32).ok());
}

TEST(Signature, RsaPkcs1AndPss) {
  for (HashAlg h : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    auto p1 = SignRsaPkcs1(Rsa(), h, "data");
    ASSERT_TRUE(p1.ok());
    EXPECT_EQ(p1->size(), 256u);
    EXPECT_TRUE(VerifyRsaPkcs1(Rsa().Public(), h, "data", *p1).ok());
    EXPECT_FALSE(VerifyRsaPss(Rsa().Public(), h, "data", *p1).ok());
    auto pss = SignRsaPss(Rsa(), h, "data");
    ASSERT_TRUE(pss.ok());
    EXPECT_TRUE(VerifyRsaPss(Rsa().Public(), h, "data", *pss).ok());
    EXPECT_FALSE(VerifyRsaPss(Rsa().Public(), h, "date", *pss).ok());
    EXPECT_FALSE(VerifyRsaPkcs1(Rsa().Public(), h, "data", *pss).ok());
  }
}

TEST(Signature, Ed25519) {
  PrivateKey k = PrivateKey::GenerateEd25519();
  auto sig = SignEd25519(k, "hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(VerifyEd25519(k.Public(), "hello", *sig).ok());
  EXPECT_EQ(VerifyEd25519(k.Public(), "hellO", *sig).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(VerifyEd25519(PrivateKey::GenerateEd25519().Public(), "hello", *sig).ok());
  EXPECT_EQ(VerifyEd25519(k.Public(), "hello", "short").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ccburst::crypto
