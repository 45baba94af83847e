#include "crypto/certificate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "core/testing/status_matchers.h"
#include "crypto/x509.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

struct Issued {
  PrivateKey key;
  std::string pem;
};

Issued SelfSigned(const std::string& cn) {
  PrivateKey key = PrivateKey::GenerateEcP256();
  core::TimePoint from = *core::ParseRfc3339("2025-01-01T00:00:00Z");
  core::TimePoint until = *core::ParseRfc3339("2026-01-01T00:00:00Z");
  return {key, *MakeSelfSignedCertificate(key, cn, {"localhost"}, from, until)};
}

TEST(CertificateTest, ParsesOnceAndExposesTheFields) {
  Issued a = SelfSigned("ccburst test ca");
  auto cert = Certificate::Parse(a.pem, "test");
  ASSERT_OK(cert);
  EXPECT_EQ(cert->subject_cn(), "ccburst test ca");
  EXPECT_EQ(cert->issuer_cn(), "ccburst test ca");
  EXPECT_EQ(cert->not_before(), *core::ParseRfc3339("2025-01-01T00:00:00Z"));
  EXPECT_EQ(cert->not_after(), *core::ParseRfc3339("2026-01-01T00:00:00Z"));
  EXPECT_EQ(cert->serial_hex().size(), 32u);
  EXPECT_EQ(cert->spki_sha256().size(), 32u);
  ASSERT_OK(cert->public_key());
  EXPECT_EQ(cert->public_key()->ToDer(), a.key.Public().ToDer());
  EXPECT_TRUE(cert->Extension("2.5.29.19").has_value());  // basicConstraints
  EXPECT_FALSE(cert->Extension("1.2.840.113741.1.13.1").has_value());
  EXPECT_OK(cert->VerifySignedBy(*cert));

  // DER round trip: the same certificate.
  auto der = Certificate::Parse(cert->der(), "test");
  ASSERT_OK(der);
  EXPECT_EQ(der->der(), cert->der());
  EXPECT_EQ(der->serial_hex(), cert->serial_hex());
}

TEST(CertificateTest, SignatureCheckNamesTheFailure) {
  auto a = Certificate::Parse(SelfSigned("a").pem, "a");
  auto b = Certificate::Parse(SelfSigned("b").pem, "b");
  ASSERT_OK(a);
  ASSERT_OK(b);
  absl::Status s = a->VerifySignedBy(*b);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(s), "certificate `a` is issued by `a`, not by `b`");
}

TEST(CertificateTest, RejectsGarbageAndTrailingBytes) {
  auto cert = Certificate::Parse(SelfSigned("a").pem, "a");
  ASSERT_OK(cert);
  EXPECT_EQ(core::Message(Certificate::Parse("nope", "vcek").status()),
            "vcek: not a DER or PEM X.509 certificate");
  EXPECT_EQ(core::Message(Certificate::Parse(cert->der() + "x", "vcek").status()),
            "vcek: trailing bytes after the certificate");
}

TEST(CertificateTest, PemSplittingStrictAndLenient) {
  std::string a = SelfSigned("a").pem, b = SelfSigned("b").pem;
  auto both = PemCertificatesToDer(a + "\n" + b + std::string(3, '\0'), "chain", true);
  ASSERT_OK(both);
  EXPECT_EQ(both->size(), 2u);
  EXPECT_EQ(core::Message(PemCertificatesToDer(a + "junk" + b, "chain", true).status()),
            "chain: certificate 2 is not valid PEM");
  EXPECT_OK(PemCertificatesToDer(a + "junk" + b, "chain", false));
  EXPECT_EQ(core::Message(PemCertificatesToDer("", "chain", true).status()),
            "chain: no PEM certificate");
}

TEST(CertificateCacheTest, DecodesEachDistinctEncodingOnceAndIsBounded) {
  auto a = Certificate::Parse(SelfSigned("a").pem, "a");
  auto b = Certificate::Parse(SelfSigned("b").pem, "b");
  ASSERT_OK(a);
  ASSERT_OK(b);
  CertificateCache cache(/*max_entries=*/2);
  auto a1 = cache.GetCertificate(a->der(), "a");
  auto a2 = cache.GetCertificate(a->der(), "a");
  ASSERT_OK(a1);
  ASSERT_OK(a2);
  EXPECT_EQ(a1->get(), a2->get());
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_OK(cache.GetCertificate(b->der(), "b"));
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(cache.GetCertificate(b->der() + "x", "bad").status().code() ==
              absl::StatusCode::kInvalidArgument);
  auto c = Certificate::Parse(SelfSigned("c").pem, "c");
  ASSERT_OK(cache.GetCertificate(c->der(), "c"));  // full: cleared, then kept
  EXPECT_EQ(cache.size(), 1u);
  // A shared entry outlives its eviction.
  EXPECT_EQ((*a1)->subject_cn(), "a");

  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) EXPECT_OK(cache.GetCertificate(a->der(), "a"));
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace
}  // namespace ccburst::crypto
