#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/file.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "net/http_server.h"
#include "scaler/scaler_service.h"

namespace ccburst::scaler {
namespace {

namespace json = core::json;

// Plays Prometheus (every query answers `value`) and the KBS (healthy, no attestations yet, and
// the audit endpoint, whose requests it keeps).
struct FakeBackends {
  std::mutex mu;
  std::vector<net::HttpRequest> audit_posts;
  int audit_status = 200;
  std::unique_ptr<net::HttpServer> server;

  FakeBackends() {
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 2;
    auto s = net::HttpServer::Start(o, [this](const net::HttpRequest& req) {
      std::lock_guard<std::mutex> lock(mu);
      if (req.path == "/kbs/v0/audit/burst-decision") {
        audit_posts.push_back(req);
        return net::HttpResponse::Json(audit_status, "{}");
      }
      if (req.path == "/healthz") return net::HttpResponse{200, {}, "ok"};
      if (req.path == "/metrics") return net::HttpResponse{200, {}, ""};
      return net::HttpResponse::Json(
          200,
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"6"]}]}})");
    });
    EXPECT_OK(s);
    server = std::move(*s);
  }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}", server->ports()[0]); }
};

TEST(ScalerServiceAuditTest, DecisionsThatChangeTheReplicasGoToTheKbsTrail) {
  FakeBackends fake;
  std::string dir =
      std::filesystem::temp_directory_path() / fmt::format("ccb_scaler_audit_{}", getpid());
  std::filesystem::create_directories(dir);
  ASSERT_OK(core::WriteFile(dir + "/scaler.token", "the-token\n"));
  auto config = ParseScalerConfig(fmt::format(R"(
[prometheus]
address = "{0}"
[kbs]
url = "{0}"
[audit]
enabled = true
token_file = "scaler.token"
[profiles.tdx]
vcpu = 4
memory_gib = 16.0
price_per_hour = 0.83
tee = "tdx"
region = "westeurope"
[workloads.web]
profile = "tdx"
namespace = "shop"
pod_regex = "web-.*"
max_replicas = 6
)",
                                              fake.Url()),
                                  dir);
  ASSERT_OK(config);
  core::testing::FakeClock clock(core::FromUnixSeconds(1'800'000'000));
  auto service = ScalerService::Create(*config, clock);
  ASSERT_OK(service);
  ObjectRef ref{"web", "shop", {{"workload", "web"}}};

  auto answer = (*service)->Evaluate(ref);
  ASSERT_OK(answer);
  const Decision* d = &answer->decision;
  ASSERT_GT(d->wanted, 0);
  std::vector<net::HttpRequest> posts;
  {
    std::lock_guard<std::mutex> lock(fake.mu);
    posts = fake.audit_posts;
  }
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].method, "POST");
  EXPECT_EQ(posts[0].Header("Authorization").value_or(""), "Bearer the-token");
  auto body = core::ParseJson(posts[0].body);
  ASSERT_OK(body);
  const json::object& o = body->as_object();
  EXPECT_EQ(o.at("workload").as_string(), "web");
  EXPECT_EQ(o.at("scaledobject").as_string(), "shop/web");
  EXPECT_EQ(o.at("from_replicas").as_int64(), 0);
  EXPECT_EQ(o.at("to_replicas").as_int64(), d->wanted);
  EXPECT_EQ(o.at("direction").as_string(), "out");
  EXPECT_EQ(o.at("reason").as_string(), ReasonName(d->reason));
  EXPECT_EQ(o.at("tee").as_string(), "tdx");
  EXPECT_EQ(o.at("region").as_string(), "westeurope");
  EXPECT_EQ(o.at("profile").as_string(), "tdx");
  EXPECT_EQ(o.at("gate").as_string(), GateStateName(d->gate));
  EXPECT_EQ(o.at("signals").as_object().at("pending_pods").as_double(), 6.0);

  // The same answer again changes nothing: nothing is sent.
  clock.Advance(std::chrono::seconds(10));
  auto again = (*service)->Evaluate(ref);
  ASSERT_OK(again);
  EXPECT_EQ(again->decision.wanted, d->wanted);
  {
    std::lock_guard<std::mutex> lock(fake.mu);
    EXPECT_EQ(fake.audit_posts.size(), 1u);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ccburst::scaler
