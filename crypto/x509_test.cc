#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/testing/status_matchers.h"
#include "crypto/internal/openssl.h"
#include "crypto/test_keys.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::Not;

using internal::X509Ptr;

X509Ptr Parse(const std::string& pem) {
  internal::BioPtr bio = internal::MemBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Verifies `cert` as a chain of one against a store holding only `cert`, at time `at`.
int VerifyAgainstItself(X509* cert, core::TimePoint at) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
                             std::chrono::system_clock::to_time_t(at));
  int ok = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? X509_V_OK : err;
}

class SelfSigned : public ::testing::TestWithParam<KeyType> {};

TEST_P(SelfSigned, ParsesAndVerifiesWithItsOwnKey) {
  PrivateKey key = PrivateKey::Generate(GetParam());
  core::TimePoint nb = core::FromUnixSeconds(1700000000);
  core::TimePoint na = core::FromUnixSeconds(1700000000 + 86400 * 365);
  auto pem = MakeSelfSignedCertificate(key, "ccburst-kbs",
                                       {"localhost", "127.0.0.1", "::1", "kbs.example"}, nb, na);
  ASSERT_OK(pem);
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  X509Ptr cert = Parse(*pem);
  ASSERT_NE(cert, nullptr);

  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  EXPECT_NE(X509_verify(cert.get(), PrivateKey::Generate(GetParam()).get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);

  char cn[64];
  ASSERT_GT(
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn),
      0);
  EXPECT_STREQ(cn, "ccburst-kbs");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);

  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "kbs.example", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(cert.get(), "other.example", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_ip_asc(cert.get(), "10.0.0.1", 0), 1);

  time_t t_nb = 1700000000;
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert.get()), t_nb), 0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert.get()), t_nb + 86400 * 365), 0);

  // It is its own trust anchor within the validity window, and expired outside it.
  EXPECT_EQ(VerifyAgainstItself(cert.get(), nb + std::chrono::hours(1)), X509_V_OK);
  EXPECT_EQ(VerifyAgainstItself(cert.get(), na + std::chrono::hours(1)),
            X509_V_ERR_CERT_HAS_EXPIRED);

  // The certificate carries the key PublicKey::FromPem can read.
  auto pub = PublicKey::FromPem(*pem);
  ASSERT_OK(pub);
  EXPECT_TRUE(pub->Equals(key.Public()));
}

INSTANTIATE_TEST_SUITE_P(All, SelfSigned,
                         ::testing::Values(KeyType::kEcP256, KeyType::kRsa, KeyType::kEd25519),
                         [](const auto& info) { return testing::KeyTypeParamName(info.param); });

TEST(SelfSigned, RejectsBadInput) {
  PrivateKey key = PrivateKey::GenerateEcP256();
  core::TimePoint t = core::FromUnixSeconds(1700000000);
  auto bad_san = MakeSelfSignedCertificate(key, "x", {"has space"}, t, t + std::chrono::hours(1));
  ASSERT_THAT(
      bad_san,
      StatusIs(_, "x509: subject alternative name `has space` is neither a DNS name nor an IP"));
  auto backwards = MakeSelfSignedCertificate(key, "x", {}, t, t - std::chrono::hours(1));
  EXPECT_EQ(core::Message(backwards.status()), "x509: not_after is before not_before");
  EXPECT_THAT(MakeSelfSignedCertificate(key, "", {}, t, t), Not(IsOk()));
  EXPECT_OK(MakeSelfSignedCertificate(key, "x", {}, t, t));
}

}  // namespace
}  // namespace ccburst::crypto
