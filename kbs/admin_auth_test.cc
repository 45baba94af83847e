#include "kbs/admin_auth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
  // alg none is refused.
  EXPECT_THAT((*a)->Check("Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.", "/kbs/v0/x"),
              Not(IsOk()));

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
