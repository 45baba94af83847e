#include "crypto/key.h"

#include <gtest/gtest.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/test_keys.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::Not;

namespace json = boost::json;

std::string Keys(const json::object& o) {
  std::string out;
  for (const auto& m : o) out += std::string(m.key()) + ",";
  return out;
}

// Traditional ("EC PRIVATE KEY" / "RSA PRIVATE KEY") encoding of a key, as older tools write it.
std::string TraditionalPem(const PrivateKey& key) {
  OSSL_ENCODER_CTX* ctx =
      OSSL_ENCODER_CTX_new_for_pkey(key.get(), EVP_PKEY_KEYPAIR, "PEM", "type-specific", nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
  OSSL_ENCODER_CTX_free(ctx);
  std::string out(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return out;
}

std::string PublicPkcs1Pem(const PublicKey& key) {
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(key.get(), EVP_PKEY_PUBLIC_KEY, "PEM",
                                                        "type-specific", nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
  OSSL_ENCODER_CTX_free(ctx);
  std::string out(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return out;
}

class KeyTypes : public ::testing::TestWithParam<KeyType> {};

TEST_P(KeyTypes, GenerateAndRoundTrip) {
  PrivateKey priv = PrivateKey::Generate(GetParam());
  EXPECT_EQ(priv.type(), GetParam());
  PublicKey pub = priv.Public();
  EXPECT_EQ(pub.type(), GetParam());

  // JWK round trip.
  json::object jwk = pub.ToJwk();
  auto back = PublicKey::FromJwk(jwk);
  ASSERT_OK(back);
  EXPECT_TRUE(back->Equals(pub));
  EXPECT_EQ(back->ToJwk(), jwk);

  // Public PEM round trip.
  std::string pem = pub.ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  auto from_pem = PublicKey::FromPem(pem);
  ASSERT_OK(from_pem);
  EXPECT_TRUE(from_pem->Equals(pub));

  // Private PEM (PKCS#8) round trip.
  std::string priv_pem = priv.ToPem();
  EXPECT_EQ(priv_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto priv_back = PrivateKey::FromPem(priv_pem);
  ASSERT_OK(priv_back);
  EXPECT_EQ(priv_back->type(), GetParam());
  EXPECT_TRUE(priv_back->Public().Equals(pub));

  // The public half carries no secret.
  auto not_private = PrivateKey::FromEvp(pub.get());
  ASSERT_THAT(not_private, StatusIs(_, "key: not a private key"));

  // Thumbprint: 43 base64url characters, stable, distinct per key.
  std::string tp = JwkThumbprint(pub);
  EXPECT_EQ(tp.size(), 43u);
  EXPECT_EQ(tp, JwkThumbprint(*back));
  EXPECT_NE(tp, JwkThumbprint(PrivateKey::Generate(GetParam()).Public()));
}

INSTANTIATE_TEST_SUITE_P(All, KeyTypes,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521,
                                           KeyType::kEd25519, KeyType::kRsa),
                         [](const auto& info) { return testing::KeyTypeParamName(info.param); });

TEST(Key, JwkMembersAndPadding) {
  for (int i = 0; i < 8; ++i) {
    json::object ec = PrivateKey::GenerateEcP521().Public().ToJwk();
    EXPECT_EQ(Keys(ec), "crv,kty,x,y,");
    EXPECT_EQ(ec["crv"], "P-521");
    EXPECT_EQ(ec["kty"], "EC");
    EXPECT_EQ(core::Base64UrlDecode(ec["x"].as_string().c_str())->size(), 66u);
    EXPECT_EQ(core::Base64UrlDecode(ec["y"].as_string().c_str())->size(), 66u);
  }
  json::object p256 = PrivateKey::GenerateEcP256().Public().ToJwk();
  EXPECT_EQ(p256["x"].as_string().size(), 43u);
  json::object rsa = testing::CachedRsaKey(2).Public().ToJwk();
  EXPECT_EQ(Keys(rsa), "e,kty,n,");
  EXPECT_EQ(rsa["e"], "AQAB");
  EXPECT_EQ(core::Base64UrlDecode(rsa["n"].as_string().c_str())->size(), 256u);
  json::object okp = PrivateKey::GenerateEd25519().Public().ToJwk();
  EXPECT_EQ(Keys(okp), "crv,kty,x,");
  EXPECT_EQ(okp["crv"], "Ed25519");
  EXPECT_EQ(okp["kty"], "OKP");
}

TEST(Key, Rfc7638ThumbprintVector) {
  json::object jwk{
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
       "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
       "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  auto key = PublicKey::FromJwk(jwk);
  ASSERT_OK(key);
  EXPECT_EQ(key->type(), KeyType::kRsa);
  EXPECT_EQ(JwkThumbprint(*key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Key, Rfc8037Ed25519Vector) {
  json::object jwk{
      {"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
  auto key = PublicKey::FromJwk(jwk);
  ASSERT_OK(key);
  EXPECT_EQ(key->type(), KeyType::kEd25519);
  EXPECT_EQ(JwkThumbprint(*key), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

absl::Status JwkError(json::object jwk) { return PublicKey::FromJwk(jwk).status(); }

TEST(Key, FromJwkErrorsNameTheMember) {
  json::object good = PrivateKey::GenerateEcP256().Public().ToJwk();

  json::object o = good;
  o.erase("kty");
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: missing field `kty`");

  o = good;
  o["kty"] = "oct";
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: unsupported key type `oct`");

  o = good;
  o["crv"] = "secp256k1";
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: unsupported EC curve `secp256k1`");

  o = good;
  o["x"] = "abc!";
  EXPECT_EQ(core::Message(JwkError(o)).rfind("jwk: member `x` is not valid base64url", 0), 0u);

  o = good;
  o["y"] = core::Base64UrlEncode(std::string(31, '\x01'));
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: member `y` must be 32 bytes for P-256, got 31");

  o = good;
  std::string y = *core::Base64UrlDecode(good["y"].as_string().c_str());
  y[31] = static_cast<char>(y[31] ^ 1);
  o["y"] = core::Base64UrlEncode(y);
  absl::Status off_curve = JwkError(o);
  EXPECT_THAT(off_curve, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(core::Message(off_curve).rfind("jwk: point (x, y) is not on curve P-256", 0), 0u);

  o = good;
  o.erase("y");
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: missing field `y`");

  json::object rsa = testing::CachedRsaKey(2).Public().ToJwk();
  o = rsa;
  o["n"] = core::Base64UrlEncode(std::string(128, '\xc5'));
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: RSA modulus `n` of 1024 bits is outside 2048..16384");
  o = rsa;
  o["e"] = "Ag";
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: RSA exponent `e` must be odd and greater than 1");

  json::object okp = PrivateKey::GenerateEd25519().Public().ToJwk();
  o = okp;
  o["crv"] = "X25519";
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: unsupported OKP curve `X25519`");
  o = okp;
  o["x"] = core::Base64UrlEncode(std::string(31, 'a'));
  EXPECT_EQ(core::Message(JwkError(o)), "jwk: member `x` must be 32 bytes for Ed25519, got 31");
}

// CheckPublicJwk validates EC keys on its own path (no EVP_PKEY); it must agree with FromJwk on
// every outcome, message included.
TEST(Key, CheckPublicJwkAgreesWithFromJwk) {
  std::vector<json::object> cases;
  for (KeyType t : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521}) {
    json::object good = PrivateKey::Generate(t).Public().ToJwk();
    cases.push_back(good);
    json::object o = good;
    std::string y = *core::Base64UrlDecode(good["y"].as_string().c_str());
    y.back() = static_cast<char>(y.back() ^ 1);
    o["y"] = core::Base64UrlEncode(y);
    cases.push_back(o);  // off the curve
    o = good;
    o["x"] = core::Base64UrlEncode(std::string(EcFieldBytes(t), '\xff'));
    cases.push_back(o);  // x >= p
  }
  json::object p256 = PrivateKey::GenerateEcP256().Public().ToJwk();
  for (const char* member : {"kty", "crv", "x", "y"}) {
    json::object o = p256;
    o.erase(member);
    cases.push_back(o);
  }
  json::object o = p256;
  o["crv"] = "secp256k1";
  cases.push_back(o);
  o = p256;
  o["y"] = core::Base64UrlEncode(std::string(31, '\x01'));
  cases.push_back(o);
  o = p256;
  o["x"] = "abc!";
  cases.push_back(o);
  cases.push_back(testing::CachedRsaKey(2).Public().ToJwk());
  o = testing::CachedRsaKey(2).Public().ToJwk();
  o["e"] = "Ag";
  cases.push_back(o);
  cases.push_back(PrivateKey::GenerateEd25519().Public().ToJwk());

  for (const json::object& jwk : cases) {
    absl::Status parsed = PublicKey::FromJwk(jwk).status();
    absl::Status checked = CheckPublicJwk(jwk);
    EXPECT_EQ(checked.code(), parsed.code()) << json::serialize(jwk);
    EXPECT_EQ(core::Message(checked), core::Message(parsed)) << json::serialize(jwk);
  }
  o = p256;
  std::string y = *core::Base64UrlDecode(p256["y"].as_string().c_str());
  y[31] = static_cast<char>(y[31] ^ 1);
  o["y"] = core::Base64UrlEncode(y);
  EXPECT_EQ(core::Message(CheckPublicJwk(o)),
            "jwk: point (x, y) is not on curve P-256: point is not on curve");
  o = p256;
  o["x"] = core::Base64UrlEncode(std::string(32, '\xff'));
  EXPECT_EQ(core::Message(CheckPublicJwk(o)),
            "jwk: point (x, y) is not on curve P-256: invalid encoding");
}

// Keys generated from the cached curve parameters are ordinary named-curve keys.
TEST(Key, GeneratedEcKeysUseNamedCurves) {
  const std::pair<KeyType, const char*> kSpkiPrefixes[] = {
      {KeyType::kEcP256, "3059301306072a8648ce3d020106082a8648ce3d030107034200"},
      {KeyType::kEcP384, "3076301006072a8648ce3d020106052b81040022036200"},
      {KeyType::kEcP521, "30819b301006072a8648ce3d020106052b8104002303818600"}};
  for (auto [type, prefix] : kSpkiPrefixes) {
    PrivateKey priv = PrivateKey::Generate(type);
    std::string der = core::HexEncode(priv.Public().ToDer());
    EXPECT_EQ(der.rfind(prefix, 0), 0u) << KeyTypeName(type) << ": " << der;
    auto back = PrivateKey::FromPem(priv.ToPem());
    ASSERT_OK(back);
    EXPECT_TRUE(back->Public().Equals(priv.Public()));
  }
  // Two generations never repeat a key.
  EXPECT_FALSE(PrivateKey::GenerateEcP256().Public().Equals(PrivateKey::GenerateEcP256().Public()));
}

TEST(Key, TraditionalPemFormats) {
  for (PrivateKey k : {PrivateKey::GenerateEcP256(), PrivateKey(testing::CachedRsaKey(2))}) {
    std::string pem = TraditionalPem(k);
    EXPECT_NE(
        pem.find(k.type() == KeyType::kRsa ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY"),
        std::string::npos);
    auto back = PrivateKey::FromPem(pem);
    ASSERT_OK(back);
    EXPECT_TRUE(back->Public().Equals(k.Public()));
  }
  PublicKey rsa = testing::CachedRsaKey(2).Public();
  std::string pkcs1 = PublicPkcs1Pem(rsa);
  ASSERT_NE(pkcs1.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
  auto back = PublicKey::FromPem(pkcs1);
  ASSERT_OK(back);
  EXPECT_TRUE(back->Equals(rsa));
}

TEST(Key, RejectsBadPem) {
  auto garbage = PrivateKey::FromPem("not a key");
  ASSERT_THAT(garbage, Not(IsOk()));
  EXPECT_EQ(core::Message(garbage.status()).rfind("key: cannot parse private key PEM", 0), 0u);
  EXPECT_THAT(PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
              Not(IsOk()));
  // A public PEM is not a private key.
  EXPECT_THAT(PrivateKey::FromPem(PrivateKey::GenerateEcP256().Public().ToPem()), Not(IsOk()));

  const char* secp256k1 =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE4vY5LOaIZDvY8kYkvODK9TCZL059WYw+\n"
      "Jzh039ZYoIXqBiCYfGfQc1I5e5IZBzl1aSPA2jYCNy+kMf9tjFOuTA==\n"
      "-----END PUBLIC KEY-----\n";
  auto k1 = PublicKey::FromPem(secp256k1);
  ASSERT_THAT(k1, StatusIs(_, "key: unsupported EC curve `secp256k1`"));

  auto enc = PrivateKey::FromPem(
      "-----BEGIN ENCRYPTED PRIVATE "
      "KEY-----\nMIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAi4hDe9v6w0sQICCAAw\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n");
  ASSERT_THAT(enc, StatusIs(_, "key: encrypted private keys are not supported"));
}

TEST(Key, LoadPemFile) {
  PrivateKey k = PrivateKey::GenerateEd25519();
  std::string dir = ::testing::TempDir();
  std::string priv_path = dir + "/ccb_key_test_priv.pem";
  std::string pub_path = dir + "/ccb_key_test_pub.pem";
  std::ofstream(priv_path) << k.ToPem();
  std::ofstream(pub_path) << k.Public().ToPem();
  auto priv = PrivateKey::LoadPemFile(priv_path);
  ASSERT_OK(priv);
  EXPECT_TRUE(priv->Public().Equals(k.Public()));
  auto pub = PublicKey::LoadPemFile(pub_path);
  ASSERT_OK(pub);
  EXPECT_TRUE(pub->Equals(k.Public()));
  std::remove(priv_path.c_str());
  std::remove(pub_path.c_str());

  auto missing = PublicKey::LoadPemFile(dir + "/does-not-exist.pem");
  ASSERT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_NE(core::Message(missing.status()).find("does-not-exist.pem"), std::string::npos);
}

TEST(Key, CopiesShareTheKey) {
  PrivateKey a = PrivateKey::GenerateEcP256();
  PrivateKey b = a;
  EXPECT_EQ(a.get(), b.get());
  PublicKey p = a.Public();
  PublicKey q = p;
  q = p;
  EXPECT_EQ(p.get(), q.get());
  PublicKey r = std::move(q);
  EXPECT_EQ(r.get(), p.get());
}

}  // namespace
}  // namespace ccburst::crypto
