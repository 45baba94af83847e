#include "crypto/jwe.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/test_keys.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::Not;

namespace json = boost::json;

const PrivateKey& Rsa() { return testing::CachedRsaKey(0); }

std::string Msg(const absl::Status& s) { return core::Message(s); }

std::string Keys(const json::object& o) {
  std::string out;
  for (const auto& m : o) out += std::string(m.key()) + ",";
  return out;
}

std::string Bytes(const json::object& jwe, const char* member) {
  return *core::Base64UrlDecode(jwe.at(member).as_string().c_str());
}

struct Case {
  const char* name;
  KeyType type;
  const char* alg;
  size_t encrypted_key_size;
  friend void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }
};

class JweAlgs : public ::testing::TestWithParam<Case> {
 protected:
  PrivateKey Key() const {
    return GetParam().type == KeyType::kRsa ? Rsa() : PrivateKey::Generate(GetParam().type);
  }
};

TEST_P(JweAlgs, RoundTripAndShape) {
  const Case& c = GetParam();
  PrivateKey key = Key();
  auto tee_pubkey = TeePubkeyJwk(key, c.alg);
  ASSERT_OK(tee_pubkey);

  std::string secret = "top secret \x00\xff bytes";
  secret += std::string(1000, 'z');
  auto jwe = JweEncrypt(*tee_pubkey, secret);
  ASSERT_OK(jwe);
  EXPECT_EQ(Keys(*jwe), "protected,encrypted_key,iv,ciphertext,tag,");
  EXPECT_EQ(Bytes(*jwe, "iv").size(), 12u);
  EXPECT_EQ(Bytes(*jwe, "tag").size(), 16u);
  EXPECT_EQ(Bytes(*jwe, "ciphertext").size(), secret.size());
  EXPECT_EQ(Bytes(*jwe, "encrypted_key").size(), c.encrypted_key_size);
  for (const auto& m : *jwe) {
    std::string_view v = m.value().as_string();
    EXPECT_EQ(v.find_first_of("=+/"), std::string_view::npos) << m.key();
  }

  auto plain = JweDecrypt(key, *jwe);
  ASSERT_OK(plain);
  EXPECT_EQ(*plain, secret);

  // Empty plaintext works too.
  EXPECT_EQ(*JweDecrypt(key, *JweEncrypt(*tee_pubkey, "")), "");

  // Fresh randomness per message.
  auto again = JweEncrypt(*tee_pubkey, secret);
  EXPECT_NE(again->at("iv"), jwe->at("iv"));
  EXPECT_NE(again->at("ciphertext"), jwe->at("ciphertext"));
}

TEST_P(JweAlgs, ProtectedHeaderIsByteExact) {
  const Case& c = GetParam();
  PrivateKey key = Key();
  auto jwe = JweEncrypt(*TeePubkeyJwk(key, c.alg), "x");
  ASSERT_OK(jwe);
  std::string header = Bytes(*jwe, "protected");
  if (c.type == KeyType::kRsa) {
    EXPECT_EQ(header, fmt::format(R"({{"alg":"{}","enc":"A256GCM"}})", c.alg));
    return;
  }
  bool p256 = c.type == KeyType::kEcP256;
  std::string coord = fmt::format("[A-Za-z0-9_-]{{{}}}", p256 ? 43 : 88);
  std::regex shape(
      fmt::format(R"(\{{"alg":"ECDH-ES\+A256KW","enc":"A256GCM","epk":\{{"crv":"{}","kty":"EC",)"
                  R"("x":"{}","y":"{}"\}}\}})",
                  p256 ? "P-256" : "P-521", coord, coord));
  EXPECT_TRUE(std::regex_match(header, shape)) << header;
  // Re-serializing the parsed header reproduces it (what Rust clients do to rebuild the AAD).
  EXPECT_EQ(core::Serialize(*core::ParseJson(header)), header);
}

TEST_P(JweAlgs, TamperingIsDetected) {
  const Case& c = GetParam();
  PrivateKey key = Key();
  json::object jwe = *JweEncrypt(*TeePubkeyJwk(key, c.alg), "attack at dawn");
  auto flip = [&](const char* member, size_t index) {
    json::object t = jwe;
    std::string b = Bytes(t, member);
    b[index % b.size()] ^= 0x01;
    t[member] = core::Base64UrlEncode(b);
    return JweDecrypt(key, t).status();
  };
  const std::string kTagMismatch = "jwe: content decryption failed: authentication tag mismatch";
  absl::Status tag = flip("tag", 3);
  EXPECT_THAT(tag, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Msg(tag), kTagMismatch);
  EXPECT_EQ(Msg(flip("ciphertext", 5)), kTagMismatch);
  EXPECT_EQ(Msg(flip("iv", 0)), kTagMismatch);
  EXPECT_THAT(flip("encrypted_key", 7), Not(IsOk()));

  // Same header, different bytes (whitespace): the AAD no longer matches.
  json::object t = jwe;
  std::string header = Bytes(jwe, "protected");
  t["protected"] = core::Base64UrlEncode(header.substr(0, header.size() - 1) + " }");
  EXPECT_EQ(Msg(JweDecrypt(key, t).status()), kTagMismatch);

  // An `aad` member that the sender did not use.
  t = jwe;
  t["aad"] = "eHl6";
  EXPECT_EQ(Msg(JweDecrypt(key, t).status()), kTagMismatch);

  // Someone else's key.
  PrivateKey other =
      c.type == KeyType::kRsa ? testing::CachedRsaKey(1) : PrivateKey::Generate(c.type);
  absl::Status wrong = JweDecrypt(other, jwe).status();
  EXPECT_THAT(wrong, Not(IsOk()));
  EXPECT_NE(Msg(wrong).find("jwe: "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(All, JweAlgs,
                         ::testing::Values(Case{"Rsa15", KeyType::kRsa, "RSA1_5", 256},
                                           Case{"RsaOaep256", KeyType::kRsa, "RSA-OAEP-256", 256},
                                           Case{"EcdhP256", KeyType::kEcP256, "ECDH-ES+A256KW", 40},
                                           Case{"EcdhP521", KeyType::kEcP521, "ECDH-ES+A256KW",
                                                40}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Jwe, TeePubkeyShape) {
  PrivateKey ec = PrivateKey::GenerateEcP256();
  json::object j = *TeePubkeyJwk(ec, "ECDH-ES+A256KW");
  EXPECT_EQ(Keys(j), "kty,crv,alg,x,y,");
  EXPECT_EQ(j["kty"], "EC");
  EXPECT_EQ(j["crv"], "P-256");
  EXPECT_EQ(j["x"], ec.Public().ToJwk()["x"]);
  json::object r = *TeePubkeyJwk(Rsa(), "RSA-OAEP-256");
  EXPECT_EQ(Keys(r), "kty,alg,n,e,");
  EXPECT_EQ(r["e"], "AQAB");

  EXPECT_EQ(Msg(TeePubkeyJwk(ec, "RSA1_5").status()),
            "jwe: key algorithm `RSA1_5` does not fit a EC P-256 key");
  EXPECT_EQ(Msg(TeePubkeyJwk(Rsa(), "ECDH-ES+A256KW").status()),
            "jwe: key algorithm `ECDH-ES+A256KW` does not fit an RSA key");
  EXPECT_EQ(Msg(TeePubkeyJwk(PrivateKey::GenerateEcP384(), "ECDH-ES+A256KW").status()),
            "jwe: a EC P-384 key cannot receive secrets");
  EXPECT_THAT(TeePubkeyJwk(PrivateKey::GenerateEd25519(), "ECDH-ES+A256KW"), Not(IsOk()));
}

TEST(Jwe, EncryptRejectsUnsupportedKeys) {
  json::object ec = *TeePubkeyJwk(PrivateKey::GenerateEcP256(), "ECDH-ES+A256KW");
  auto err = [](json::object k) { return JweEncrypt(k, "x").status(); };

  json::object k = ec;
  k["alg"] = "A128KW";
  absl::Status s = err(k);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Msg(s), "jwe: unsupported key algorithm `A128KW`");

  k = ec;
  k["alg"] = "RSA-OAEP-256";
  EXPECT_EQ(Msg(err(k)), "jwe: key algorithm `RSA-OAEP-256` does not fit key type `EC`");

  k = *TeePubkeyJwk(PrivateKey::GenerateEcP521(), "ECDH-ES+A256KW");
  k["crv"] = "P-384";
  EXPECT_EQ(Msg(err(k)), "jwe: unsupported curve `P-384`");

  k = ec;
  k["kty"] = "oct";
  EXPECT_EQ(Msg(err(k)), "jwe: unsupported key type `oct`");

  k = ec;
  k.erase("alg");
  EXPECT_EQ(Msg(err(k)), "jwe: tee-pubkey: missing field `alg`");

  k = ec;
  std::string y = *core::Base64UrlDecode(ec["y"].as_string().c_str());
  y[0] ^= 0x40;
  k["y"] = core::Base64UrlEncode(y);
  EXPECT_EQ(
      Msg(err(k)).rfind("jwe: invalid tee-pubkey: jwk: point (x, y) is not on curve P-256", 0), 0u);
}

TEST(Jwe, DecryptNamesTheStep) {
  PrivateKey ec = PrivateKey::GenerateEcP256();
  json::object jwe = *JweEncrypt(*TeePubkeyJwk(ec, "ECDH-ES+A256KW"), "s");
  auto err = [&](json::object j) { return Msg(JweDecrypt(ec, j).status()); };

  json::object j = jwe;
  j.erase("iv");
  EXPECT_EQ(err(j), "jwe: missing field `iv`");
  j = jwe;
  j["iv"] = core::Base64UrlEncode(std::string(16, 'a'));
  EXPECT_EQ(err(j), "jwe: `iv` must be 12 bytes, got 16");
  j = jwe;
  j["header"] = json::object{{"alg", "RSA1_5"}};
  EXPECT_EQ(err(j), "jwe: header parameter `alg` appears more than once");
  j = jwe;
  j["tag"] = "a=";
  EXPECT_EQ(err(j).rfind("jwe: `tag` is not valid base64url", 0), 0u);
  j = jwe;
  j["protected"] = core::Base64UrlEncode(R"({"alg":"ECDH-ES+A256KW","enc":"A128GCM"})");
  EXPECT_EQ(err(j), "jwe: unsupported content encryption `A128GCM`");
  j["protected"] = core::Base64UrlEncode(R"({"alg":"dir","enc":"A256GCM"})");
  EXPECT_EQ(err(j), "jwe: unsupported key algorithm `dir`");
  j["protected"] = core::Base64UrlEncode(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM"})");
  EXPECT_EQ(err(j), "jwe: header: missing field `epk`");
  j["protected"] = core::Base64UrlEncode("not json");
  EXPECT_EQ(err(j).rfind("jwe: protected header is not valid JSON", 0), 0u);
  j["protected"] = core::Base64UrlEncode(R"({"alg":"RSA-OAEP-256","enc":"A256GCM"})");
  EXPECT_EQ(err(j), "jwe: key algorithm `RSA-OAEP-256` needs an RSA key, have EC P-256");

  // epk on another curve than our key.
  json::object p521 =
      *JweEncrypt(*TeePubkeyJwk(PrivateKey::GenerateEcP521(), "ECDH-ES+A256KW"), "s");
  EXPECT_EQ(err(p521), "jwe: `epk` is EC P-521 but the key is EC P-256");

  // Wrong EC key: the AES key unwrap integrity check fails.
  absl::Status wrong = JweDecrypt(PrivateKey::GenerateEcP256(), jwe).status();
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Msg(wrong), "jwe: key unwrap failed: integrity check mismatch");
}

TEST(Jwe, LargePlaintext) {
  PrivateKey ec = PrivateKey::GenerateEcP256();
  std::string big(3 << 20, 'q');
  big[12345] = 'x';
  auto jwe = JweEncrypt(*TeePubkeyJwk(ec, "ECDH-ES+A256KW"), big);
  ASSERT_OK(jwe);
  EXPECT_EQ(*JweDecrypt(ec, *jwe), big);
}

}  // namespace
}  // namespace ccburst::crypto
