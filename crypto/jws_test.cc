#include "crypto/jws.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/signature.h"
#include "crypto/test_keys.h"

namespace ccburst::crypto {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::Not;

namespace json = boost::json;

const PrivateKey& Rsa() { return testing::CachedRsaKey(0); }

std::string Msg(const absl::Status& s) { return core::Message(s); }

json::object Claims() { return {{"iss", "issuer"}, {"aud", "kbs"}, {"exp", 1700000000}}; }

struct AlgCase {
  KeyType type;
  const char* alg;
  size_t sig_size;
  friend void PrintTo(const AlgCase& c, std::ostream* os) { *os << c.alg; }
};

class JwsAlgs : public ::testing::TestWithParam<AlgCase> {};

TEST_P(JwsAlgs, SignDecodeVerify) {
  const AlgCase& c = GetParam();
  PrivateKey key = c.type == KeyType::kRsa ? Rsa() : PrivateKey::Generate(c.type);
  PublicKey pub = key.Public();
  json::object extra{{"jwk", pub.ToJwk()}, {"kid", "k1"}};
  auto token = SignJwt(key, Claims(), extra);
  ASSERT_OK(token);

  auto jwt = DecodeJwt(*token);
  ASSERT_OK(jwt);
  EXPECT_EQ(core::Serialize(jwt->header),
            fmt::format(R"({{"alg":"{}","typ":"JWT","jwk":{},"kid":"k1"}})", c.alg,
                        core::Serialize(pub.ToJwk())));
  EXPECT_EQ(jwt->claims, Claims());
  EXPECT_EQ(jwt->signature.size(), c.sig_size);
  EXPECT_EQ(jwt->signing_input, token->substr(0, token->rfind('.')));
  EXPECT_OK(VerifyJwtSignature(*jwt, pub));
  EXPECT_OK(DecodeAndVerifyJwt(*token, pub));

  // The header's embedded key verifies too (EAR tokens work this way).
  auto embedded = PublicKey::FromJwk(jwt->header["jwk"].as_object());
  ASSERT_OK(embedded);
  EXPECT_OK(VerifyJwtSignature(*jwt, *embedded));

  // Tampered payload.
  std::string other_claims = core::Base64UrlEncode(R"({"iss":"issuer","aud":"kbs","exp":1})");
  size_t dot1 = token->find('.');
  size_t dot2 = token->rfind('.');
  std::string tampered = token->substr(0, dot1 + 1) + other_claims + token->substr(dot2);
  auto t = DecodeAndVerifyJwt(tampered, pub);
  ASSERT_THAT(t, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Msg(t.status()), "jwt: signature verification failed");

  // Tampered signature.
  Jwt bad_sig = *jwt;
  bad_sig.signature[bad_sig.signature.size() / 2] ^= 0x01;
  EXPECT_EQ(Msg(VerifyJwtSignature(bad_sig, pub)), "jwt: signature verification failed");

  // Wrong key of the same type.
  PrivateKey other =
      c.type == KeyType::kRsa ? testing::CachedRsaKey(1) : PrivateKey::Generate(c.type);
  EXPECT_EQ(Msg(VerifyJwtSignature(*jwt, other.Public())), "jwt: signature verification failed");

  // Key of another type.
  PublicKey mismatched = c.type == KeyType::kEd25519 ? PrivateKey::GenerateEcP256().Public()
                                                     : PrivateKey::GenerateEd25519().Public();
  absl::Status m = VerifyJwtSignature(*jwt, mismatched);
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Msg(m), fmt::format("jwt: algorithm `{}` does not match the key type", c.alg));
}

INSTANTIATE_TEST_SUITE_P(All, JwsAlgs,
                         ::testing::Values(AlgCase{KeyType::kEcP256, "ES256", 64},
                                           AlgCase{KeyType::kEcP384, "ES384", 96},
                                           AlgCase{KeyType::kEcP521, "ES512", 132},
                                           AlgCase{KeyType::kEd25519, "EdDSA", 64},
                                           AlgCase{KeyType::kRsa, "RS256", 256}),
                         [](const auto& info) { return std::string(info.param.alg); });

std::string Compact(const json::object& header, const json::object& claims, std::string_view sig) {
  return core::Base64UrlEncode(core::Serialize(header)) + "." +
         core::Base64UrlEncode(core::Serialize(claims)) + "." + core::Base64UrlEncode(sig);
}

TEST(Jws, Rfc8037Ed25519Vector) {
  auto key = PublicKey::FromJwk(
      {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}});
  ASSERT_OK(key);
  // RFC 8037 A.4: the payload is not JSON, so check the signature on the raw parts.
  std::string header = "eyJhbGciOiJFZERTQSJ9";
  std::string payload = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  std::string sig = *core::Base64UrlDecode(
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  Jwt jwt{{{"alg", "EdDSA"}}, {}, header + "." + payload, sig};
  EXPECT_OK(VerifyJwtSignature(jwt, *key));
  jwt.signing_input += "x";
  EXPECT_THAT(VerifyJwtSignature(jwt, *key), Not(IsOk()));
}

TEST(Jws, Rfc7515Es256Vector) {
  auto key = PublicKey::FromJwk({{"kty", "EC"},
                                 {"crv", "P-256"},
                                 {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                 {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}});
  ASSERT_OK(key);
  auto jwt = DecodeAndVerifyJwt(
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvb"
      "S9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxf"
      "KTUJqPP3-Kg6NU1Q",
      *key);
  ASSERT_OK(jwt);
  EXPECT_EQ(jwt->claims["iss"], "joe");
  EXPECT_EQ(jwt->claims["exp"], 1300819380);
}

TEST(Jws, RefusesNoneAndHmacAndCrit) {
  PublicKey pub = PrivateKey::GenerateEcP256().Public();
  for (const char* alg : {"none", "HS256", "HS512", "ES256K", "RSA-OAEP"}) {
    auto jwt = DecodeJwt(Compact({{"alg", alg}}, Claims(), alg == std::string("none") ? "" : "x"));
    ASSERT_OK(jwt);
    absl::Status s = VerifyJwtSignature(*jwt, pub);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_EQ(Msg(s), fmt::format("jwt: algorithm `{}` is not accepted", alg));
  }
  PrivateKey k = PrivateKey::GenerateEcP256();
  auto crit = SignJwt(k, Claims(), {{"crit", json::array{"exp"}}, {"exp", 1}});
  ASSERT_OK(crit);
  EXPECT_EQ(Msg(DecodeAndVerifyJwt(*crit, k.Public()).status()),
            "jwt: critical header parameters are not supported");
}

TEST(Jws, AlgMismatchWithinFamily) {
  // An ES256 signature relabelled ES384 must not verify with the P-256 key.
  PrivateKey k = PrivateKey::GenerateEcP256();
  std::string token = *SignJwt(k, Claims());
  std::string sig = token.substr(token.rfind('.') + 1);
  std::string relabelled =
      Compact({{"alg", "ES384"}, {"typ", "JWT"}}, Claims(), *core::Base64UrlDecode(sig));
  EXPECT_EQ(Msg(DecodeAndVerifyJwt(relabelled, k.Public()).status()),
            "jwt: algorithm `ES384` does not match the key type");
  // RS384 and PS256 are accepted for RSA keys.
  std::string input = core::Base64UrlEncode(R"({"alg":"PS256"})") + "." +
                      core::Base64UrlEncode(core::Serialize(Claims()));
  std::string pss = *SignRsaPss(Rsa(), HashAlg::kSha256, input);
  EXPECT_OK(DecodeAndVerifyJwt(input + "." + core::Base64UrlEncode(pss), Rsa().Public()));
  input = core::Base64UrlEncode(R"({"alg":"RS384"})") + "." +
          core::Base64UrlEncode(core::Serialize(Claims()));
  std::string rs = *SignRsaPkcs1(Rsa(), HashAlg::kSha384, input);
  EXPECT_OK(DecodeAndVerifyJwt(input + "." + core::Base64UrlEncode(rs), Rsa().Public()));
}

TEST(Jws, EsSignatureMustBeRawRs) {
  PrivateKey k = PrivateKey::GenerateEcP256();
  std::string input = core::Base64UrlEncode(R"({"alg":"ES256"})") + ".e30";
  std::string raw = *SignEcdsa(k, HashAlg::kSha256, input);
  std::string der = *EcdsaRawToDer(raw, 32);
  EXPECT_OK(DecodeAndVerifyJwt(input + "." + core::Base64UrlEncode(raw), k.Public()));
  auto s = DecodeAndVerifyJwt(input + "." + core::Base64UrlEncode(der), k.Public());
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(Msg(s.status()).rfind("jwt: ES256 signature must be 64 bytes (raw r||s), got ", 0), 0u);
}

TEST(Jws, DecodeErrors) {
  auto err = [](std::string_view t) { return Msg(DecodeJwt(t).status()); };
  EXPECT_EQ(err("abc"), "jwt: expected 3 dot-separated parts");
  EXPECT_EQ(err("a.b"), "jwt: expected 3 dot-separated parts");
  EXPECT_EQ(err("a.b.c.d"), "jwt: expected 3 dot-separated parts");
  EXPECT_EQ(err("e30=.e30.").rfind("jwt: header is not valid base64url", 0), 0u);
  EXPECT_EQ(err("e3!.e30.").rfind("jwt: header is not valid base64url", 0), 0u);
  EXPECT_EQ(err("eyJhbGciOiJFUzI1NiJ9.e3!.").rfind("jwt: payload is not valid base64url", 0), 0u);
  EXPECT_EQ(err("eyJhbGciOiJFUzI1NiJ9.e30.a+b").rfind("jwt: signature is not valid base64url", 0),
            0u);
  EXPECT_EQ(
      err(core::Base64UrlEncode("{") + ".e30.").rfind("jwt: header is not valid JSON: json:", 0),
      0u);
  EXPECT_EQ(err(core::Base64UrlEncode("[1]") + ".e30."), "jwt: header is not a JSON object");
  EXPECT_EQ(err("eyJhbGciOiJFUzI1NiJ9." + core::Base64UrlEncode("\"s\"") + "."),
            "jwt: payload is not a JSON object");
  EXPECT_EQ(err("e30.e30."), "jwt: header has no string `alg`");
  EXPECT_EQ(err(core::Base64UrlEncode(R"({"alg":1})") + ".e30."),
            "jwt: header has no string `alg`");
  EXPECT_EQ(Msg(DecodeJwt(std::string(100, 'a'), JwtLimits{.max_size = 99}).status()),
            "jwt: token of 100 bytes exceeds limit of 99");
  std::string deep = std::string(80, '[') + std::string(80, ']');
  EXPECT_EQ(err("eyJhbGciOiJFUzI1NiJ9." + core::Base64UrlEncode(R"({"a":)" + deep + "}") + ".")
                .rfind("jwt: payload is not valid JSON", 0),
            0u);
  EXPECT_THAT(DecodeJwt("eyJhbGciOiJFUzI1NiJ9.e30."), StatusIs(absl::StatusCode::kOk));
}

TEST(Jws, ExtraHeaderCannotSetAlg) {
  auto r = SignJwt(PrivateKey::GenerateEd25519(), Claims(), {{"alg", "none"}});
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(Msg(r.status()), "jwt: extra header must not set `alg`");
  auto typ = SignJwt(PrivateKey::GenerateEd25519(), Claims(), {{"typ", "at+jwt"}});
  ASSERT_OK(typ);
  EXPECT_EQ(core::Serialize(DecodeJwt(*typ)->header), R"({"alg":"EdDSA","typ":"at+jwt"})");
}

}  // namespace
}  // namespace ccburst::crypto
