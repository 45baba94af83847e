// The agent's KBS client against a small loopback KBS (net::HttpServer): token caching until
// `exp`, re-attestation once on 401, resource path checks, bounded and malformed responses.
#include "agent/kbs_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "core/encoding.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/jwe.h"
#include "net/http_server.h"

namespace ccburst::agent {
namespace {

namespace json = core::json;
using core::testing::StatusIs;
using ::testing::HasSubstr;

// The protocol's happy path with knobs: sessions can be forgotten (a restart), the resource
// answer can be replaced (garbage, huge).
class FakeKbs {
 public:
  FakeKbs() {
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 1;
    server_ = *net::HttpServer::Start(o, [this](const net::HttpRequest& r) { return Handle(r); });
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", server_->ports()[0]); }

  void Forget() {
    std::lock_guard l(mu_);
    sessions_.clear();
  }
  void set_resource_body(std::optional<std::string> b) {
    std::lock_guard l(mu_);
    resource_body_ = std::move(b);
  }
  void set_token_exp(int64_t exp) { token_exp_ = exp; }
  // Wraps resources for another TEE key than the session's (a KBS that mixed up sessions).
  void set_wrong_key(bool w) { wrong_key_ = w; }
  int attests() const { return attests_; }
  std::string last_init_data() {
    std::lock_guard l(mu_);
    return last_init_data_;
  }

 private:
  net::HttpResponse Handle(const net::HttpRequest& r) {
    std::lock_guard l(mu_);
    if (r.path == "/kbs/v0/auth") {
      std::string id = fmt::format("s{}", next_++);
      sessions_[id] = json::object();
      net::HttpResponse resp = net::HttpResponse::Json(200, R"({"nonce":"n","extra-params":""})");
      resp.SetHeader("Set-Cookie", "kbs-session-id=" + id);
      return resp;
    }
    auto cookie = r.Cookie("kbs-session-id");
    auto it = cookie ? sessions_.find(std::string(*cookie)) : sessions_.end();
    if (it == sessions_.end()) {
      return net::HttpResponse::Json(401, R"({"type":"x/TokenNotFound","detail":"no session"})");
    }
    if (r.path == "/kbs/v0/attest") {
      auto doc = core::ParseJson(r.body);
      const json::object& o = doc->get_object();
      it->second = o.at("runtime-data").at("tee-pubkey").get_object();
      if (const auto* init = o.if_contains("init-data")) {
        last_init_data_ = std::string(init->at("body").get_string());
      }
      ++attests_;
      std::string payload = json::serialize(json::object{{"exp", token_exp_.load()}});
      std::string token = "e30." + core::Base64UrlEncode(payload) + ".sig";
      return net::HttpResponse::Json(200, json::serialize(json::object{{"token", token}}));
    }
    if (resource_body_) return net::HttpResponse::Json(200, *resource_body_);
    json::object to = it->second;
    if (wrong_key_)
      to = *crypto::TeePubkeyJwk(crypto::PrivateKey::GenerateEcP256(), "ECDH-ES+A256KW");
    auto jwe = crypto::JweEncrypt(to, "the secret");
    return net::HttpResponse::Json(200, json::serialize(*jwe));
  }

  std::mutex mu_;
  std::map<std::string, json::object> sessions_;
  std::optional<std::string> resource_body_;
  std::string last_init_data_;
  int next_ = 0;
  std::atomic<int> attests_{0};
  std::atomic<int64_t> token_exp_{4102444800};
  std::atomic<bool> wrong_key_{false};
  std::unique_ptr<net::HttpServer> server_;
};

class KbsClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<KbsClient> Client(size_t max_response = 1 << 20) {
    net::HttpClientOptions o;
    o.base_url = kbs_.url();
    o.max_response_bytes = max_response;
    return std::make_unique<KbsClient>(*net::HttpClient::Create(o), NewSampleAttester(),
                                       crypto::PrivateKey::GenerateEcP256(), "ECDH-ES+A256KW",
                                       &clock_);
  }
  FakeKbs kbs_;
  core::testing::FakeClock clock_{core::FromUnixSeconds(1700000000)};
};

TEST_F(KbsClientTest, CachesTheTokenUntilItExpires) {
  kbs_.set_token_exp(1700000100);
  auto c = Client();
  c->set_init_data("version = \"0.1.0\"");
  ASSERT_OK_AND_ASSIGN(std::string t1, c->Token());
  ASSERT_OK_AND_ASSIGN(std::string t2, c->Token());
  EXPECT_EQ(t1, t2);
  EXPECT_EQ(kbs_.attests(), 1);
  EXPECT_EQ(kbs_.last_init_data(), "version = \"0.1.0\"");
  ASSERT_OK_AND_ASSIGN(std::string s, c->GetResource("default/key/model"));
  EXPECT_EQ(s, "the secret");
  EXPECT_EQ(kbs_.attests(), 1);
  clock_.Advance(std::chrono::seconds(80));  // inside the 30 s margin: re-attest
  ASSERT_OK(c->GetResource("default/key/model").status());
  EXPECT_EQ(kbs_.attests(), 2);
}

TEST_F(KbsClientTest, ReattestsOnceAfter401) {
  auto c = Client();
  ASSERT_OK(c->GetResource("default/key/model").status());
  kbs_.Forget();  // the KBS restarted
  ASSERT_OK_AND_ASSIGN(std::string s, c->GetResource("default/key/model"));
  EXPECT_EQ(s, "the secret");
  EXPECT_EQ(kbs_.attests(), 2);
}

TEST_F(KbsClientTest, RefusesBadPathsBeforeAnyRequest) {
  auto c = Client();
  for (std::string_view p : {"default/../model", "default//model", "a/b", "a/b/c/d", "a/b/c?x",
                             "/a/b/c", "a/b/.", "a/b/c%2f"}) {
    EXPECT_THAT(c->GetResource(p), StatusIs(absl::StatusCode::kInvalidArgument)) << p;
  }
  EXPECT_EQ(kbs_.attests(), 0);
  EXPECT_THAT(ParseResourceUri("kbs:///default/key/model"),
              core::testing::IsOkAndHolds("default/key/model"));
  EXPECT_THAT(ParseResourceUri("kbs://host.example/default/key/model"),
              core::testing::IsOkAndHolds("default/key/model"));
  EXPECT_THAT(ParseResourceUri("http:///default/key/model"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseResourceUri("kbs:///default/key/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty segment")));
}

TEST_F(KbsClientTest, GarbageAndHugeAnswersAreClearErrors) {
  auto c = Client(64 * 1024);
  kbs_.set_resource_body("not json at all");
  EXPECT_THAT(c->GetResource("default/key/model"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("resource response")));
  kbs_.set_resource_body(R"({"protected":"x"})");
  EXPECT_FALSE(c->GetResource("default/key/model").ok());
  kbs_.set_resource_body(std::string(100 * 1024, ' ') + "{}");
  EXPECT_THAT(c->GetResource("default/key/model"), StatusIs(absl::StatusCode::kUnavailable));
  kbs_.set_resource_body(std::nullopt);
  EXPECT_THAT(c->GetResource("default/key/model"), core::testing::IsOkAndHolds("the secret"));
}

TEST_F(KbsClientTest, AJweForAnotherKeyIsAClearErrorAndNothingIsReturned) {
  auto c = Client();
  kbs_.set_wrong_key(true);
  auto got = c->GetResource("default/key/model");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("jwe"));
  kbs_.set_wrong_key(false);
  EXPECT_THAT(c->GetResource("default/key/model"), core::testing::IsOkAndHolds("the secret"));
}

TEST_F(KbsClientTest, ATokenThatExpiresMidUseIsRenewedByAttestingAgain) {
  kbs_.set_token_exp(1700000060);
  auto c = Client();
  ASSERT_OK_AND_ASSIGN(std::string t1, c->Token());
  clock_.Advance(std::chrono::seconds(120));  // expired while the workload was using it
  ASSERT_OK_AND_ASSIGN(std::string t2, c->Token());
  EXPECT_EQ(kbs_.attests(), 2);
  kbs_.Forget();  // and a KBS that no longer knows the session answers 401: attest again, once
  EXPECT_THAT(c->GetResource("default/key/model"), core::testing::IsOkAndHolds("the secret"));
  EXPECT_EQ(kbs_.attests(), 3);
}

TEST(JwtExpiryTest, ReadsExp) {
  EXPECT_EQ(JwtExpiry("e30." + core::Base64UrlEncode(R"({"exp":12})") + ".s"), 12);
  EXPECT_EQ(JwtExpiry("e30." + core::Base64UrlEncode(R"({"iat":12})") + ".s"), std::nullopt);
  EXPECT_EQ(JwtExpiry("garbage"), std::nullopt);
}

}  // namespace
}  // namespace ccburst::agent
