#include "kbs/admin_auth.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <filesystem>
#include <fstream>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/jws.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::Not;

namespace json = core::json;

TEST(AdminAuthorizer, ModesAndKeyTypes) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  std::string dir = std::filesystem::temp_directory_path() / "admin_auth_test";
  std::filesystem::create_directories(dir);
  auto ed = crypto::PrivateKey::GenerateEd25519();
  auto ec = crypto::PrivateKey::GenerateEcP256();
  std::ofstream(dir + "/ed.pub") << ed.Public().ToPem();
  std::ofstream(dir + "/ec.pub") << ec.Public().ToPem();

  KbsConfig::Admin cfg;
  cfg.mode = AdminMode::kAuthenticatedAuthorization;
  cfg.identity_providers = {{"ed-issuer", "", dir + "/ed.pub"}, {"", "kbs", dir + "/ec.pub"}};
  cfg.acls = {{"admin", "^/kbs/.+$"}, {"policy", "^/kbs/v0/resource-policy$"}};
  auto a = AdminAuthorizer::Create(cfg, clock);
  ASSERT_OK(a);

  auto token = [&](const crypto::PrivateKey& k, json::object claims) {
    return "Bearer " + *crypto::SignJwt(k, claims);
  };
  int64_t now = 1'800'000'000;
  EXPECT_OK((*a)->Check(token(ed, {{"iss", "ed-issuer"}, {"role", "admin"}, {"exp", now + 60}}),
                        "/kbs/v0/resource/a/b/c"));
  EXPECT_OK(
      (*a)->Check(token(ec, {{"aud", json::array{"kbs"}}, {"role", "admin"}, {"exp", now + 60}}),
                  "/kbs/v0/resource/a/b/c"));
  // Audience required by the EC provider.
  EXPECT_THAT((*a)->Check(token(ec, {{"aud", "other"}, {"role", "admin"}, {"exp", now + 60}}),
                          "/kbs/v0/resource/a/b/c"),
              Not(IsOk()));
  // Issuer checked for the Ed25519 provider.
  EXPECT_THAT((*a)->Check(token(ed, {{"iss", "evil"}, {"role", "admin"}, {"exp", now + 60}}),
                          "/kbs/v0/resource/a/b/c"),
              Not(IsOk()));
  // exp is required; leeway is 60 s.
  EXPECT_THAT((*a)->Check(token(ed, {{"iss", "ed-issuer"}, {"role", "admin"}}), "/kbs/v0/x"),
              Not(IsOk()));
  EXPECT_OK((*a)->Check(token(ed, {{"iss", "ed-issuer"}, {"role", "admin"}, {"exp", now - 30}}),
                        "/kbs/v0/x"));
  // role is required, and ACLs are anchored.
  EXPECT_THAT((*a)->Check(token(ed, {{"iss", "ed-issuer"}, {"exp", now + 60}}), "/kbs/v0/x"),
              Not(IsOk()));
  auto scoped = token(ed, {{"iss", "ed-issuer"}, {"role", "policy"}, {"exp", now + 60}});
  EXPECT_OK((*a)->Check(scoped, "/kbs/v0/resource-policy"));
  auto denied = (*a)->Check(scoped, "/kbs/v0/resource-policy/extra");
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied));
  // alg none is refused, with otherwise valid claims (iss, exp, role), for its alg.
  std::string none_token = core::Base64UrlEncode(R"({"alg":"none"})") + "." +
                           core::Base64UrlEncode(json::serialize(json::object{
                               {"iss", "ed-issuer"}, {"role", "admin"}, {"exp", now + 60}})) +
                           ".";
  EXPECT_THAT((*a)->Check("Bearer " + none_token, "/kbs/v0/x"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       ::testing::HasSubstr("algorithm `none` is not accepted")));

  cfg.mode = AdminMode::kDenyAll;
  auto deny = AdminAuthorizer::Create(cfg, clock);
  EXPECT_THAT(
      (*deny)->Check(token(ed, {{"iss", "ed-issuer"}, {"role", "admin"}, {"exp", now + 60}}),
                     "/kbs/v0/x"),
      Not(IsOk()));
  cfg.mode = AdminMode::kInsecureAllowAll;
  auto allow = AdminAuthorizer::Create(cfg, clock);
  EXPECT_OK((*allow)->Check("", "/kbs/v0/x"));
  std::filesystem::remove_all(dir);
}

TEST(AdminAuthorizer, AclMatchesTheNormalizedPathNeverTheQuery) {
  FakeClock clock{core::FromUnixSeconds(1'800'000'000)};
  std::string dir = std::filesystem::temp_directory_path() / "admin_auth_acl_test";
  std::filesystem::create_directories(dir);
  auto ed = crypto::PrivateKey::GenerateEd25519();
  std::ofstream(dir + "/ed.pub") << ed.Public().ToPem();
  KbsConfig::Admin cfg;
  cfg.mode = AdminMode::kAuthenticatedAuthorization;
  cfg.identity_providers = {{"", "", dir + "/ed.pub"}};
  cfg.acls = {{"pub", "^/kbs/v0/resource/.+/public$"}};
  auto a = AdminAuthorizer::Create(cfg, clock);
  ASSERT_OK(a);
  std::string token =
      "Bearer " + *crypto::SignJwt(ed, json::object{{"role", "pub"}, {"exp", 1'800'000'060}});
  EXPECT_OK((*a)->Check(token, "/kbs/v0/resource/a/b/public"));
  EXPECT_OK((*a)->Check(token, "/kbs/v0/resource/a/b/%70ublic"));
  for (std::string_view refused :
       {"/kbs/v0/resource/a/b/one?x=/public", "/kbs/v0/resource/a/b/one#/public",
        "/kbs/v0/resource/a/b/public/..", "/kbs/v0/resource/a/b/public/%2e%2e",
        "/kbs/v0/resource/a/b/one%2Fpublic", "/kbs/v0/resource/a/b/one%00/public/../x",
        "/../kbs/v0/resource/a/b/public", "/kbs/v0/resource/a/b/public%",
        "/kbs/v0/resource/a/./b/x/../public", "/kbs/v0/resource/a/b/one/%2e%2e/public"}) {
    absl::Status s = (*a)->Check(token, refused);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << refused;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccburst::kbs

namespace ccburst::kbs {
namespace {

// Issue 16 "checks that no test would miss": admin tokens that are valid in every claim (iss,
// aud, exp, role) and differ from an accepted one only in the checked field.
class AdminTokenFieldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / "admin_auth_field_test";
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/ec.pub") << key_.Public().ToPem();
    KbsConfig::Admin cfg;
    cfg.mode = AdminMode::kAuthenticatedAuthorization;
    cfg.identity_providers = {{"ccburst-admin", "kbs", dir_ + "/ec.pub"}};
    cfg.acls = {{"admin", "^/kbs/.+$"}};
    auto a = AdminAuthorizer::Create(cfg, clock_);
    ASSERT_OK(a);
    auth_ = *std::move(a);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  json::object Claims() const {
    return {{"iss", "ccburst-admin"}, {"aud", "kbs"}, {"role", "admin"}, {"exp", kNow + 600}};
  }
  // `claims` under the header `alg`, with `signature` (base64url) as the third part.
  static std::string Unsigned(std::string_view alg, const json::object& claims,
                              std::string_view signature) {
    std::string header = core::Base64UrlEncode(fmt::format(R"({{"alg":"{}","typ":"JWT"}})", alg));
    std::string payload = core::Base64UrlEncode(json::serialize(claims));
    return fmt::format("{}.{}.{}", header, payload, signature);
  }

  static constexpr int64_t kNow = 1'800'000'000;
  FakeClock clock_{core::FromUnixSeconds(kNow)};
  crypto::PrivateKey key_ = crypto::PrivateKey::GenerateEcP256();
  std::string dir_;
  std::unique_ptr<AdminAuthorizer> auth_;
};

TEST_F(AdminTokenFieldTest, TheValidTokenIsAccepted) {
  EXPECT_OK(auth_->Check("Bearer " + *crypto::SignJwt(key_, Claims()), "/kbs/v0/resource/a/b/c"));
}

TEST_F(AdminTokenFieldTest, AlgNoneIsRefused) {
  absl::Status s = auth_->Check("Bearer " + Unsigned("none", Claims(), ""), "/kbs/v0/x");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated,
                          ::testing::HasSubstr("jwt: algorithm `none` is not accepted")));
}

TEST_F(AdminTokenFieldTest, Hs256KeyedWithThePublicKeyIsRefused) {
  // The classic confusion: HMAC keyed with the provider's public key PEM.
  std::string pem = key_.Public().ToPem();
  std::string input = Unsigned("HS256", Claims(), "");
  input.pop_back();  // drop the trailing '.'
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), pem.data(), static_cast<int>(pem.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  std::string token =
      input + "." +
      core::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
  absl::Status s = auth_->Check("Bearer " + token, "/kbs/v0/x");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnauthenticated,
                          ::testing::HasSubstr("jwt: algorithm `HS256` is not accepted")));
}

TEST_F(AdminTokenFieldTest, AFutureNbfIsRefused) {
  json::object claims = Claims();
  claims["nbf"] = kNow + 3600;
  absl::Status s = auth_->Check("Bearer " + *crypto::SignJwt(key_, claims), "/kbs/v0/x");
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kUnauthenticated, ::testing::HasSubstr("not valid before")));
  claims["nbf"] = kNow - 3600;
  EXPECT_OK(auth_->Check("Bearer " + *crypto::SignJwt(key_, claims), "/kbs/v0/x"));
}

}  // namespace
}  // namespace ccburst::kbs
