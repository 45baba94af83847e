// In-process tests of the KBS protocol and admin API: every request goes through
// KbsService::Handle exactly as the HTTP server would deliver it, with a pinned clock so that
// session and token expiry are deterministic.
#include "kbs/kbs_service.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "agent/kbs_client.h"
#include "core/encoding.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/jwe.h"
#include "crypto/jws.h"
#include "crypto/key.h"
#include "kbs/metrics.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::FakeClock;

namespace json = core::json;

std::string WriteTemp(const std::string& dir, const std::string& name, const std::string& data) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << data;
  return path;
}

std::string ErrorDetail(const net::HttpResponse& r) {
  auto doc = core::ParseJson(r.body);
  if (!doc.ok() || !doc->is_object()) return "<no json: " + r.body + ">";
  auto* d = doc->get_object().if_contains("detail");
  return d && d->is_string() ? std::string(d->get_string()) : "<no detail>";
}

std::string ErrorType(const net::HttpResponse& r) {
  auto doc = core::ParseJson(r.body);
  if (!doc.ok() || !doc->is_object()) return "";
  auto* d = doc->get_object().if_contains("type");
  if (!d || !d->is_string()) return "";
  std::string t(d->get_string());
  return t.substr(t.rfind('/') + 1);
}

class KbsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kbs_service_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    admin_key_ = crypto::PrivateKey::GenerateEd25519();
    WriteTemp(dir_, "admin.pub", admin_key_.Public().ToPem());
    KbsConfig c;
    c.http_server.insecure_http = true;
    c.storage.type = "Memory";
    c.admin.mode = AdminMode::kAuthenticatedAuthorization;
    c.admin.identity_providers.push_back({"issuer", "kbs", dir_ + "/admin.pub"});
    c.admin.acls.push_back({"admin", "^/kbs/.+$"});
    c.admin.acls.push_back({"reader", "^/kbs/v0/reference-value/.+$"});
    c.admin.acls.push_back({"public-writer", "^/kbs/v0/resource/.+/public$"});
    auto s = KbsService::Create(c, clock_);
    ASSERT_OK(s);
    kbs_ = std::move(*s);
    tee_key_ = crypto::PrivateKey::GenerateEcP256();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string AdminToken(std::string role = "admin", int64_t lifetime = 600,
                         const crypto::PrivateKey* key = nullptr) {
    int64_t now = core::ToUnixSeconds(clock_.Now());
    json::object claims{
        {"iss", "issuer"}, {"aud", "kbs"}, {"role", role}, {"iat", now}, {"exp", now + lifetime}};
    return *crypto::SignJwt(key ? *key : admin_key_, claims);
  }

  net::HttpResponse Call(std::string method, std::string target, std::string body = "",
                         net::HttpHeaders headers = {}) {
    net::HttpRequest r;
    r.method = std::move(method);
    r.target = target;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.remote = remote_;
    return kbs_->Handle(r);
  }

  net::HttpResponse AdminCall(std::string method, std::string target, std::string body = "") {
    return Call(std::move(method), std::move(target), std::move(body),
                {{"Authorization", "Bearer " + AdminToken()}});
  }

  // /auth; returns {cookie header value, nonce}.
  std::pair<std::string, std::string> Auth(std::string tee = "sample") {
    auto r = Call("POST", "/kbs/v0/auth",
                  R"({"version":"0.4.0","tee":")" + tee + R"(","extra-params":{}})");
    EXPECT_EQ(r.status, 200) << r.body;
    std::string set_cookie;
    for (auto& [k, v] : r.headers) {
      if (k == "Set-Cookie") set_cookie = v;
    }
    std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    auto doc = core::ParseJson(r.body);
    return {cookie, std::string(doc->get_object().at("nonce").get_string())};
  }

  std::string AttestBody(const std::string& nonce, std::string report_nonce = "",
                         const crypto::PrivateKey* tee_key = nullptr) {
    auto pub = *crypto::TeePubkeyJwk(tee_key ? *tee_key : tee_key_, "ECDH-ES+A256KW");
    std::string digest =
        agent::BindingDigest("sample", report_nonce.empty() ? nonce : report_nonce, pub);
    json::object body{
        {"runtime-data", json::object{{"nonce", nonce}, {"tee-pubkey", pub}}},
        {"tee-evidence",
         json::object{{"primary_evidence",
                       json::object{{"svn", "1"}, {"report_data", core::Base64Encode(digest)}}},
                      {"additional_evidence", ""}}}};
    return json::serialize(body);
  }

  // Full handshake; returns {cookie, token}.
  std::pair<std::string, std::string> Attested() {
    auto [cookie, nonce] = Auth();
    auto r = Call("POST", "/kbs/v0/attest", AttestBody(nonce), {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto doc = core::ParseJson(r.body);
    return {cookie, std::string(doc->get_object().at("token").get_string())};
  }

  std::string Decrypt(const net::HttpResponse& r) {
    auto doc = core::ParseJson(r.body);
    EXPECT_OK(doc);
    auto plain = crypto::JweDecrypt(tee_key_, doc->get_object());
    EXPECT_OK(plain);
    return plain.ok() ? *plain : "";
  }

  void AllowAll() {
    ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource-policy",
                        json::serialize(json::object{
                            {"policy", core::Base64UrlEncode(kAllowAllResourcePolicy)}}))
                  .status,
              200);
  }

  FakeClock clock_{core::FromUnixSeconds(1'800'000'000)};
  std::string remote_ = "127.0.0.1:1";  // the client address Call() uses
  std::string dir_;
  crypto::PrivateKey admin_key_ = crypto::PrivateKey::GenerateEd25519();
  crypto::PrivateKey tee_key_ = crypto::PrivateKey::GenerateEcP256();
  std::unique_ptr<KbsService> kbs_;
};

TEST_F(KbsServiceTest, SampleTeeEndToEndWithCookieAndBearer) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  AllowAll();
  auto [cookie, token] = Attested();
  auto jwt = crypto::DecodeJwt(token);
  ASSERT_OK(jwt);
  EXPECT_EQ(jwt->header.at("alg").get_string(), "ES256");
  EXPECT_NE(core::FindPath(json::value(jwt->claims),
                           "submods/cpu0/ear.veraison.annotated-evidence/sample"),
            nullptr);

  auto by_cookie = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  ASSERT_EQ(by_cookie.status, 200) << by_cookie.body;
  EXPECT_EQ(Decrypt(by_cookie), "s3cret");

  auto by_bearer =
      Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(by_bearer.status, 200) << by_bearer.body;
  EXPECT_EQ(Decrypt(by_bearer), "s3cret");
  EXPECT_EQ(by_bearer.body.find("s3cret"), std::string::npos);

  // The challenge shape and the cookie.
  auto auth =
      Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"sample","extra-params":""})");
  auto doc = core::ParseJson(auth.body);
  EXPECT_EQ(doc->get_object().at("extra-params").get_string(), "");
  EXPECT_EQ(core::Base64Decode(doc->get_object().at("nonce").get_string())->size(), 32u);
}

TEST_F(KbsServiceTest, DefaultPolicyRefusesTheSampleTee) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  auto [cookie, token] = Attested();
  auto r = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorType(r), "PolicyDeny");
  EXPECT_NE(ErrorDetail(r).find("denied by the resource policy"), std::string::npos);
}

TEST_F(KbsServiceTest, AuthRejectsBadRequests) {
  auto version =
      Call("POST", "/kbs/v0/auth", R"({"version":"0.3.0","tee":"sample","extra-params":{}})");
  EXPECT_EQ(version.status, 401);
  EXPECT_EQ(ErrorType(version), "ProtocolVersion");
  EXPECT_NE(ErrorDetail(version).find("`0.3.0`"), std::string::npos);

  auto tee =
      Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"quantum","extra-params":{}})");
  EXPECT_EQ(tee.status, 401);
  EXPECT_EQ(ErrorDetail(tee), "auth: unknown tee `quantum`");

  auto unsupported =
      Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"cca","extra-params":{}})");
  EXPECT_EQ(unsupported.status, 401);
  EXPECT_EQ(ErrorType(unsupported), "UnsupportedTee");

  auto malformed = Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0",)");
  EXPECT_EQ(malformed.status, 401);
  EXPECT_NE(ErrorDetail(malformed).find("not valid JSON"), std::string::npos);

  auto missing = Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0"})");
  EXPECT_EQ(ErrorDetail(missing), "auth: missing field `tee`");
  EXPECT_EQ(Call("GET", "/kbs/v0/auth").status, 405);
}

TEST_F(KbsServiceTest, AttestRejectsBadSessions) {
  auto [cookie, nonce] = Auth();
  auto no_cookie = Call("POST", "/kbs/v0/attest", AttestBody(nonce));
  EXPECT_EQ(no_cookie.status, 401);
  EXPECT_NE(ErrorDetail(no_cookie).find("missing kbs-session-id cookie"), std::string::npos);

  auto unknown = Call("POST", "/kbs/v0/attest", AttestBody(nonce),
                      {{"Cookie", "kbs-session-id=00000000000000000000000000000000"}});
  EXPECT_NE(ErrorDetail(unknown).find("unknown kbs-session-id"), std::string::npos);

  clock_.Advance(std::chrono::minutes(6));
  auto expired = Call("POST", "/kbs/v0/attest", AttestBody(nonce), {{"Cookie", cookie}});
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(ErrorDetail(expired).find("expired"), std::string::npos);
}

TEST_F(KbsServiceTest, AttestChecksNonceAndBinding) {
  {
    auto [cookie, nonce] = Auth();
    auto r = Call("POST", "/kbs/v0/attest", AttestBody(core::Base64Encode(std::string(32, 'x'))),
                  {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(ErrorDetail(r).find("nonce mismatch"), std::string::npos);
    // The session is burnt: even the right nonce is refused now.
    auto again = Call("POST", "/kbs/v0/attest", AttestBody(nonce), {{"Cookie", cookie}});
    EXPECT_NE(ErrorDetail(again).find("unknown kbs-session-id"), std::string::npos);
  }
  {
    auto [cookie, nonce] = Auth();
    // Report data bound to another nonce.
    auto r =
        Call("POST", "/kbs/v0/attest", AttestBody(nonce, core::Base64Encode(std::string(32, 'y'))),
             {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(ErrorType(r), "AttestationError");
    EXPECT_NE(ErrorDetail(r).find("report_data"), std::string::npos) << ErrorDetail(r);
  }
  {
    auto [cookie, nonce] = Auth();
    auto body = AttestBody(nonce);
    ASSERT_EQ(Call("POST", "/kbs/v0/attest", body, {{"Cookie", cookie}}).status, 200);
    // An identical retry gets the same token; anything else under that nonce is a replay.
    EXPECT_EQ(Call("POST", "/kbs/v0/attest", body, {{"Cookie", cookie}}).status, 200);
    auto replay = Call("POST", "/kbs/v0/attest", body + " ", {{"Cookie", cookie}});
    EXPECT_EQ(replay.status, 401);
    EXPECT_NE(ErrorDetail(replay).find("nonce replay"), std::string::npos);
    // The consumed nonce on a fresh session is a mismatch.
    auto [cookie2, nonce2] = Auth();
    auto cross = Call("POST", "/kbs/v0/attest", AttestBody(nonce), {{"Cookie", cookie2}});
    EXPECT_NE(ErrorDetail(cross).find("nonce mismatch"), std::string::npos);
  }
  {
    auto [cookie, nonce] = Auth();
    auto r = Call("POST", "/kbs/v0/attest", R"({"runtime-data":{"nonce":")" + nonce + R"("}})",
                  {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(ErrorType(r), "InvalidRequest");
    EXPECT_EQ(ErrorDetail(r), "attest: runtime-data: missing field `tee-pubkey`");
  }
}

TEST_F(KbsServiceTest, ResourceRejectsBadTokens) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  AllowAll();
  auto [cookie, token] = Attested();
  auto get = [&](std::string bearer) {
    return Call("GET", "/kbs/v0/resource/default/key/model", "",
                {{"Authorization", "Bearer " + bearer}});
  };
  // Tampered payload.
  std::string tampered = token;
  size_t dot = tampered.find('.');
  tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
  auto t1 = get(tampered);
  EXPECT_EQ(t1.status, 401);
  EXPECT_EQ(ErrorType(t1), "TokenVerifierError");

  // Same claims signed by another key (with that key in the header).
  auto jwt = crypto::DecodeJwt(token);
  auto other = crypto::PrivateKey::GenerateEcP256();
  json::object header{{"jwk", other.Public().ToJwk()}};
  auto forged = crypto::SignJwt(other, jwt->claims, header);
  auto t2 = get(*forged);
  EXPECT_EQ(t2.status, 401);
  EXPECT_NE(ErrorDetail(t2).find("not trusted"), std::string::npos);

  // Expired token.
  clock_.Advance(std::chrono::minutes(10));
  auto t3 = get(token);
  EXPECT_EQ(t3.status, 401);
  EXPECT_NE(ErrorDetail(t3).find("expired"), std::string::npos);

  auto none = Call("GET", "/kbs/v0/resource/default/key/model");
  EXPECT_EQ(ErrorType(none), "TokenNotFound");

  auto garbage = get("not-a-jwt");
  EXPECT_NE(ErrorDetail(garbage).find("malformed"), std::string::npos);
}

TEST_F(KbsServiceTest, MissingResourceAndPathTraversal) {
  AllowAll();
  auto [cookie, token] = Attested();
  auto missing = Call("GET", "/kbs/v0/resource/default/key/nope", "", {{"Cookie", cookie}});
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(ErrorType(missing), "ResourceNotFound");
  for (std::string bad :
       {"/kbs/v0/resource/../key/x", "/kbs/v0/resource/default/key/..", "/kbs/v0/resource/a/b",
        "/kbs/v0/resource/a/b/c/d", "/kbs/v0/resource/a/%2e%2e/c", "/kbs/v0/resource/a//c"}) {
    auto r = Call("GET", bad, "", {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 404) << bad;
    EXPECT_EQ(ErrorType(r), "InvalidRequestPath") << bad;
  }
  EXPECT_EQ(Call("GET", "/etc/passwd").status, 404);
}

TEST_F(KbsServiceTest, AdminAuthentication) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "original").status, 200);
  auto post = [&](net::HttpHeaders h) {
    return Call("POST", "/kbs/v0/resource/default/key/model", "changed", std::move(h));
  };
  auto none = post({});
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(ErrorDetail(none).find("missing `Authorization"), std::string::npos);

  auto expired = post({{"Authorization", "Bearer " + AdminToken("admin", -120)}});
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(ErrorDetail(expired).find("expired"), std::string::npos);

  auto other = crypto::PrivateKey::GenerateEd25519();
  auto wrong_key = post({{"Authorization", "Bearer " + AdminToken("admin", 600, &other)}});
  EXPECT_EQ(wrong_key.status, 401);
  EXPECT_NE(ErrorDetail(wrong_key).find("not signed by a trusted identity provider"),
            std::string::npos);

  auto wrong_role = post({{"Authorization", "Bearer " + AdminToken("reader")}});
  EXPECT_EQ(wrong_role.status, 403);
  EXPECT_NE(ErrorDetail(wrong_role).find("role `reader` may not access"), std::string::npos);

  // Nothing changed: the original secret is still there.
  AllowAll();
  auto [cookie, token] = Attested();
  auto r = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  EXPECT_EQ(Decrypt(r), "original");
}

TEST_F(KbsServiceTest, AdminRejectsBadBodies) {
  auto bad_json = AdminCall("POST", "/kbs/v0/resource-policy", "{");
  EXPECT_EQ(bad_json.status, 400);
  auto bad_b64 = AdminCall("POST", "/kbs/v0/resource-policy", R"({"policy":"***"})");
  EXPECT_EQ(bad_b64.status, 400);
  EXPECT_NE(ErrorDetail(bad_b64).find("base64url"), std::string::npos);
  auto bad_rego = AdminCall("POST", "/kbs/v0/resource-policy",
                            json::serialize(json::object{
                                {"policy", core::Base64UrlEncode("package policy\nallow if {")}}));
  EXPECT_EQ(bad_rego.status, 400);
  EXPECT_EQ(ErrorType(bad_rego), "ParsePolicyError");
  auto empty = AdminCall("POST", "/kbs/v0/resource/a/b/c", "");
  EXPECT_EQ(empty.status, 400);
  auto del = AdminCall("DELETE", "/kbs/v0/resource/a/b/c");
  EXPECT_EQ(del.status, 404);
  EXPECT_EQ(AdminCall("GET", "/kbs/v0/resource-policy").body, R"(["resource-policy"])");
}

// Issue 16 item 9: a resource policy OPA's compiler (or the KBS's contract) refuses is a 400
// naming the check and its location, and the policy in force stays.
TEST_F(KbsServiceTest, AdminRefusesPoliciesThatCouldNeverAllow) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "original").status, 200);
  AllowAll();
  struct Case {
    const char* rego;
    const char* detail;
  } cases[] = {
      {"package policy\nallow if { allow }\n",
       "resource-policy.rego:2:1: rego_recursion_error: rule data.policy.allow is recursive"},
      {"package policy\nallow if { nope(input) }\n",
       "resource-policy.rego:2:12: rego_type_error: undefined function nope"},
      {"package policy\nallow if { count(input, 1, 2) }\n",
       "rego_type_error: count: arity mismatch"},
      {"package policy\nallow if { x == 1 }\n", "rego_unsafe_var_error: var x is unsafe"},
      {"package policy\nallow if { data.resource_path[0] == \"a\" }\n",
       "rego_type_error: undefined ref: data.resource_path"},
      {"package kbs\nallow := true\n", "rego_compile_error: package kbs is not policy"},
      {"package policy\nallowed := true\n", "rego_compile_error: no allow rule in package policy"},
  };
  for (const auto& c : cases) {
    auto r = AdminCall("POST", "/kbs/v0/resource-policy",
                       json::serialize(json::object{{"policy", core::Base64UrlEncode(c.rego)}}));
    EXPECT_EQ(r.status, 400) << c.rego;
    EXPECT_NE(ErrorDetail(r).find(c.detail), std::string::npos) << ErrorDetail(r);
  }
  // The allow-all policy is still the one in force.
  auto [cookie, token] = Attested();
  auto r = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  EXPECT_EQ(Decrypt(r), "original");
}

TEST_F(KbsServiceTest, ReferenceValuesDriveTheEarStatus) {
  json::object payload{{"svn", "1"}, {"launch_digest", "abcde"}};
  json::object body{{"version", "0.1.0"},
                    {"type", "sample"},
                    {"payload", core::Base64Encode(json::serialize(payload))}};
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/reference-value", json::serialize(body)).status, 200);
  auto rv = AdminCall("GET", "/kbs/v0/reference-value/svn");
  EXPECT_EQ(rv.status, 200);
  EXPECT_NE(rv.body.find("\"1\""), std::string::npos) << rv.body;

  auto [cookie, token] = Attested();
  auto jwt = crypto::DecodeJwt(token);
  auto* status = core::FindPath(json::value(jwt->claims), "submods/cpu0/ear.status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->get_string(), "affirming");

  // The affirming preset now releases.
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource-policy",
                      json::serialize(json::object{
                          {"policy", core::Base64UrlEncode(kAffirmingResourcePolicy)}}))
                .status,
            200);
  auto r = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Decrypt(r), "s3cret");
}

TEST_F(KbsServiceTest, HealthMetricsAndJwks) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  Attested();
  auto m = Call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("kbs_attestations_total{outcome=\"success\",tee=\"sample\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("kbs_active_sessions 1"), std::string::npos);
  auto jwks = Call("GET", "/.well-known/jwks.json");
  auto doc = core::ParseJson(jwks.body);
  ASSERT_OK(doc);
  EXPECT_EQ(doc->get_object().at("keys").get_array().size(), 1u);
}

// Issue 19: the scaler's GPU gate reads kbs_device_attestations_total{arch,outcome}.
TEST(KbsMetricsTest, DeviceAttestationsByArchAndOutcome) {
  KbsMetrics m;
  m.DeviceAttestation("HOPPER", "affirming");
  m.DeviceAttestation("HOPPER", "affirming");
  m.DeviceAttestation("HOPPER", "warning");
  m.DeviceAttestation("HOPPER", "contraindicated");
  m.DeviceAttestation("HOPPER", "failed");
  m.DeviceAttestation("", "affirming");
  m.DeviceAttestation("BLACKWELL", "");
  std::string text = m.Render();
  for (std::string_view want : {
           R"(kbs_device_attestations_total{arch="HOPPER",outcome="success"} 2)",
           R"(kbs_device_attestations_total{arch="HOPPER",outcome="failure"} 3)",
           R"(kbs_device_attestations_total{arch="unknown",outcome="success"} 1)",
           R"(kbs_device_attestations_total{arch="BLACKWELL",outcome="error"} 1)",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;
  }
}

// Issue 16 item 2: the ACL is matched on the normalized path, never the query, and the path the
// ACL saw is the path the handler acts on.
TEST_F(KbsServiceTest, AdminAclSeesTheNormalizedPathOnly) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/one", "original").status, 200);
  auto as_writer = [&](std::string target) {
    return Call("POST", std::move(target), "changed",
                {{"Authorization", "Bearer " + AdminToken("public-writer")}});
  };
  for (std::string bypass :
       {"/kbs/v0/resource/default/key/one?x=/public", "/kbs/v0/resource/default/key/one?/public"}) {
    auto r = as_writer(bypass);
    EXPECT_EQ(r.status, 403) << bypass << ": " << r.body;
  }
  // An encoded spelling of a path the role may use is the same path; dotted spellings and those
  // that end in `/public` but name another resource are refused.
  EXPECT_EQ(as_writer("/kbs/v0/resource/default/key/%70ublic").status, 200);
  EXPECT_NE(as_writer("/kbs/v0/resource/default/./key/public").status, 200);
  EXPECT_NE(as_writer("/kbs/v0/resource/default/key/one/../public").status, 200);
  EXPECT_NE(as_writer("/kbs/v0/resource/default/key/one/%2Fpublic").status, 200);
  EXPECT_NE(as_writer("/kbs/v0/resource/default/key/one/%2e%2e/one?x=/public").status, 200);
  EXPECT_NE(as_writer("/kbs/v0/resource/default/key/public/..").status, 200);
  EXPECT_NE(as_writer("/kbs/v0/resource/default/key/public/%2e%2e/one").status, 200);

  AllowAll();
  auto [cookie, token] = Attested();
  EXPECT_EQ(Decrypt(Call("GET", "/kbs/v0/resource/default/key/one", "", {{"Cookie", cookie}})),
            "original");
  EXPECT_EQ(Decrypt(Call("GET", "/kbs/v0/resource/default/key/public", "", {{"Cookie", cookie}})),
            "changed");
}

// Issue 16 item 8: parallel /attest calls on one session, each binding another TEE key, yield
// exactly one token; the others are refused as replays.
TEST_F(KbsServiceTest, ParallelAttestOnOneSessionYieldsOneToken) {
  for (int round = 0; round < 5; ++round) {
    auto [cookie, nonce] = Auth();
    std::vector<crypto::PrivateKey> keys;
    std::vector<std::string> bodies;
    for (int i = 0; i < 8; ++i) {
      keys.push_back(crypto::PrivateKey::GenerateEcP256());
      bodies.push_back(AttestBody(nonce, "", &keys.back()));
    }
    std::atomic<int> tokens{0};
    std::atomic<int> replays{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        auto r = Call("POST", "/kbs/v0/attest", bodies[i], {{"Cookie", cookie}});
        if (r.status == 200) ++tokens;
        if (r.status == 401 && ErrorDetail(r).find("nonce replay") != std::string::npos) {
          ++replays;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(tokens.load(), 1) << "round " << round;
    EXPECT_EQ(replays.load(), 7) << "round " << round;
  }
}

// Issue 16 item 5: a request-derived value cannot forge a log line, a huge one cannot flood the
// log, and identical refusals are rate-limited.
TEST_F(KbsServiceTest, RequestValuesCannotForgeOrFloodTheLog) {
  auto stream = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  spdlog::set_level(spdlog::level::info);

  std::string forged =
      "x\n[2030-01-01 00:00:00.000] [info] admin: resource `default/key/one` deleted";
  auto r = Call("POST", "/kbs/v0/auth",
                json::serialize(json::object{
                    {"version", "0.4.0"}, {"tee", forged}, {"extra-params", json::object{}}}));
  EXPECT_EQ(r.status, 401);
  std::string big(2 * 1024 * 1024, 'A');
  for (int i = 0; i < 20; ++i) {
    Call("POST", "/kbs/v0/auth",
         json::serialize(
             json::object{{"version", "0.4.0"}, {"tee", big}, {"extra-params", json::object{}}}));
  }
  spdlog::set_default_logger(previous);
  const std::string log = stream->str();
  EXPECT_EQ(log.find("\n[2030-01-01"), std::string::npos) << log.substr(0, 400);
  EXPECT_NE(log.find("x\\n[2030-01-01"), std::string::npos) << log.substr(0, 400);
  // 20 refusals of 2 MB each: a few truncated lines, not 40 MB.
  EXPECT_LT(log.size(), 8u * 1024) << log.size();
  size_t lines = std::count(log.begin(), log.end(), '\n');
  EXPECT_LE(lines, 7u) << log;
}

// A store that fails every operation once `broken` is set (a corrupted page, a full disk).
class FaultyStore final : public store::KeyValueStore {
 public:
  explicit FaultyStore(std::shared_ptr<std::atomic<bool>> broken) : broken_(std::move(broken)) {}
  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    if (*broken_) return Fault();
    return inner_->Put(ns, key, value);
  }
  absl::StatusOr<std::optional<std::string>> Get(std::string_view ns,
                                                 std::string_view key) override {
    if (*broken_) return Fault();
    return inner_->Get(ns, key);
  }
  absl::StatusOr<bool> Delete(std::string_view ns, std::string_view key) override {
    if (*broken_) return Fault();
    return inner_->Delete(ns, key);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> List(
      std::string_view ns, std::string_view prefix) override {
    if (*broken_) return Fault();
    return inner_->List(ns, prefix);
  }
  absl::StatusOr<bool> CompareAndSwap(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view desired,
                                      int64_t expires_unix) override {
    if (*broken_) return Fault();
    return inner_->CompareAndSwap(ns, key, expected, desired, expires_unix);
  }
  absl::Status Ping() override {
    if (*broken_) return Fault();
    return inner_->Ping();
  }

 private:
  static absl::Status Fault() {
    return absl::UnavailableError("store: sqlite `kbs.db`: get: database disk image is malformed");
  }
  std::shared_ptr<std::atomic<bool>> broken_;
  std::unique_ptr<store::KeyValueStore> inner_ = store::NewMemoryStore();
};

// Issue 16 item 11: a store fault is 503 StorageError everywhere (the attestation-policy read
// inside /attest included) and visible in /healthz, never an attestation or policy verdict.
TEST_F(KbsServiceTest, StoreFaultsAre503NeverAVerdict) {
  auto broken = std::make_shared<std::atomic<bool>>(false);
  KbsConfig c;
  c.http_server.insecure_http = true;
  c.admin.mode = AdminMode::kAuthenticatedAuthorization;
  c.admin.identity_providers.push_back({"issuer", "kbs", dir_ + "/admin.pub"});
  c.admin.acls.push_back({"admin", "^/kbs/.+$"});
  auto s = KbsService::Create(c, clock_, std::make_unique<FaultyStore>(broken));
  ASSERT_OK(s);
  kbs_ = std::move(*s);
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  AllowAll();
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  auto [cookie, nonce] = Auth();

  *broken = true;
  auto attest = Call("POST", "/kbs/v0/attest", AttestBody(nonce), {{"Cookie", cookie}});
  EXPECT_EQ(attest.status, 503) << attest.body;
  EXPECT_EQ(ErrorType(attest), "StorageError");
  auto health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(ErrorType(health), "StorageError");
  auto admin = AdminCall("POST", "/kbs/v0/resource/default/key/model", "x");
  EXPECT_EQ(admin.status, 503);
  EXPECT_EQ(ErrorType(admin), "StorageError");

  // Once the store is back, the same session (its nonce unspent) attests and gets the secret.
  *broken = false;
  auto retry = Call("POST", "/kbs/v0/attest", AttestBody(nonce), {{"Cookie", cookie}});
  ASSERT_EQ(retry.status, 200) << retry.body;
  *broken = true;
  auto release = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  EXPECT_EQ(release.status, 503);
  EXPECT_EQ(ErrorType(release), "StorageError");
  *broken = false;
  EXPECT_EQ(Decrypt(Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}})),
            "s3cret");
}

// Issue 16 item 3: a flood of /auth from one client does not lock out the others: a new client
// completes a whole flow, quickly, while the flooder is refused.
TEST_F(KbsServiceTest, AuthFloodDoesNotLockOutNewClients) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  AllowAll();
  remote_ = "10.6.6.6:4242";
  int refused = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto r =
        Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"sample","extra-params":{}})");
    if (r.status == 503) ++refused;
  }
  EXPECT_EQ(refused, 20'000 - 1024);
  remote_ = "127.0.0.1:1";
  auto t0 = std::chrono::steady_clock::now();
  auto [cookie, token] = Attested();
  auto r = Call("GET", "/kbs/v0/resource/default/key/model", "", {{"Cookie", cookie}});
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(Decrypt(r), "s3cret");
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

// Compatibility (issue 16): the session cookie is read before a bearer token, as the reference
// KBS does, so a stale bearer beside a valid cookie does not refuse the request; and the
// reference's spelling of the Hygon DCU TEE is a protocol TEE name.
TEST_F(KbsServiceTest, CookieIsReadBeforeBearerAndHygondcuIsATee) {
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  AllowAll();
  auto [cookie, token] = Attested();
  auto r = Call("GET", "/kbs/v0/resource/default/key/model", "",
                {{"Cookie", cookie}, {"Authorization", "Bearer stale.token.here"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Decrypt(r), "s3cret");
  auto hygon =
      Call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"hygondcu","extra-params":{}})");
  EXPECT_EQ(ErrorType(hygon), "UnsupportedTee") << hygon.body;  // known, no verifier here
}

// Issue 16 ("checks that no test would miss"): an attestation token without `exp` never expires.
// Signed by this KBS's own token key and otherwise the very token /attest issued (which is
// accepted re-signed), it is refused at the resource endpoint naming the missing claim.
TEST_F(KbsServiceTest, BearerTokenWithoutExpIsRefused) {
  auto token_key = crypto::PrivateKey::GenerateEcP256();
  KbsConfig c;
  c.http_server.insecure_http = true;
  c.storage.type = "Memory";
  c.admin.mode = AdminMode::kAuthenticatedAuthorization;
  c.admin.identity_providers.push_back({"issuer", "kbs", dir_ + "/admin.pub"});
  c.admin.acls.push_back({"admin", "^/kbs/.+$"});
  c.attestation_service.signer_key_path = WriteTemp(dir_, "token.key", token_key.ToPem());
  auto s = KbsService::Create(c, clock_);
  ASSERT_OK(s);
  kbs_ = std::move(*s);
  ASSERT_EQ(AdminCall("POST", "/kbs/v0/resource/default/key/model", "s3cret").status, 200);
  AllowAll();
  auto [cookie, token] = Attested();
  auto jwt = crypto::DecodeJwt(token);
  ASSERT_OK(jwt);
  ASSERT_TRUE(jwt->claims.contains("exp"));
  json::object header = jwt->header;
  header.erase("alg");  // SignJwt sets it from the key
  auto get = [&](const json::object& claims) {
    return Call("GET", "/kbs/v0/resource/default/key/model", "",
                {{"Authorization", "Bearer " + *crypto::SignJwt(token_key, claims, header)}});
  };

  auto resigned = get(jwt->claims);
  ASSERT_EQ(resigned.status, 200) << resigned.body;
  EXPECT_EQ(Decrypt(resigned), "s3cret");

  json::object no_exp = jwt->claims;
  no_exp.erase("exp");
  auto r = get(no_exp);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(ErrorType(r), "TokenVerifierError");
  EXPECT_EQ(ErrorDetail(r), "resource: token: jwt: no `exp` claim");
}

}  // namespace
}  // namespace ccburst::kbs
