// ScalerService on a fake clock against a loopback stand-in for Prometheus: the request path
// answers from the background snapshot (never from a query of its own once it has one), holds as
// `signals_stale` once the snapshot is older than the bound, and shares one placement between the
// ScaledObjects of a workload placed across profiles.
#include "scaler/scaler_service.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "net/http_server.h"

namespace ccburst::scaler {
namespace {

using std::chrono::seconds;

// Answers every instant query with `pending` (the unschedulable pods).
struct FakePrometheus {
  std::atomic<int> pending{6};
  std::atomic<int> queries{0};
  std::unique_ptr<net::HttpServer> server;

  FakePrometheus() {
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 1;
    auto s = net::HttpServer::Start(o, [this](const net::HttpRequest&) {
      ++queries;
      return net::HttpResponse::Json(
          200, fmt::format(R"({{"status":"success","data":{{"resultType":"vector","result":)"
                           R"([{{"metric":{{}},"value":[1,"{}"]}}]}}}})",
                           pending.load()));
    });
    EXPECT_OK(s);
    server = std::move(*s);
  }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}", server->ports()[0]); }
};

InstanceProfile Profile(std::string name, double cpu, double mem, double price) {
  InstanceProfile p;
  p.name = std::move(name);
  p.capacity = {cpu, mem, 0};
  p.price_per_hour = price;
  p.tee = "tdx";
  p.region = "westeurope";
  return p;
}

ScalerConfig Config(const std::string& prometheus) {
  ScalerConfig c;
  c.prometheus.address = prometheus;
  c.signal_refresh = seconds(1);
  c.signal_max_age = seconds(60);
  c.profiles["tdx-4x16"] = Profile("tdx-4x16", 4, 16, 0.83);
  c.profiles["tdx-8x32"] = Profile("tdx-8x32", 8, 32, 1.50);
  WorkloadConfig w;
  w.name = "web";
  w.profile = "tdx-4x16";
  w.policy.warm_pods = 0;
  w.queries.unschedulable_pods = "sum(unschedulable)";  // no request or free-capacity queries
  c.workloads["web"] = w;
  WorkloadConfig placed = w;
  placed.name = "placed";
  placed.profiles = {"tdx-4x16", "tdx-8x32"};
  placed.policy.max_replicas = placed.placement.max_replicas = 10;
  c.workloads["placed"] = placed;
  return c;
}

ObjectRef Ref(std::string name, std::map<std::string, std::string> metadata) {
  return {std::move(name), "default", std::move(metadata)};
}

TEST(ScalerServiceTest, AnswersFromTheSnapshotThenHoldsItAsStale) {
  FakePrometheus prom;
  core::testing::FakeClock clock(core::FromUnixSeconds(1'700'000'000));
  auto svc = ScalerService::Create(Config(prom.Url()), clock);
  ASSERT_OK(svc);
  const ObjectRef web = Ref("web-so", {{"workload", "web"}});
  // No snapshot yet: the first request reads the signals itself. 6 pods, 4 per VM: 2.
  auto a = (*svc)->Evaluate(web);
  ASSERT_OK(a);
  EXPECT_EQ(a->replicas, 2);
  EXPECT_EQ(a->decision.reason, Reason::kScaleUp);
  const int queries = prom.queries.load();
  // Demand changes, but without a refresh (not started) the answer is the snapshot's, and the
  // request path sends no query.
  prom.pending = 10;
  clock.Advance(seconds(30));
  a = (*svc)->Evaluate(web);
  ASSERT_OK(a);
  EXPECT_EQ(a->replicas, 2);
  EXPECT_EQ(a->decision.reason, Reason::kSteady);
  EXPECT_EQ(prom.queries.load(), queries);
  // Older than signal_max_age (60 s): held, with the age and the bound.
  clock.Advance(seconds(31));
  a = (*svc)->Evaluate(web);
  ASSERT_OK(a);
  EXPECT_EQ(a->replicas, 2);
  EXPECT_EQ(a->decision.reason, Reason::kSignalsStale);
  EXPECT_EQ(a->decision.detail, "signals are 61s old (limit 60s): no refresh since");
  // The background refresh brings the new demand in.
  (*svc)->Start();
  for (int i = 0; i < 500 && a->replicas != 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    a = (*svc)->Evaluate(web);
    ASSERT_OK(a);
  }
  EXPECT_EQ(a->replicas, 3);
  EXPECT_EQ(a->decision.reason, Reason::kScaleUp);
  (*svc)->Stop();
}

TEST(ScalerServiceTest, ScaledObjectsOfAPlacedWorkloadShareOnePlacement) {
  FakePrometheus prom;
  prom.pending = 10;  // 3 units of 4 pods: 12 pods on one 4x16 and one 8x32 (2.33/h)
  core::testing::FakeClock clock(core::FromUnixSeconds(1'700'000'000));
  auto svc = ScalerService::Create(Config(prom.Url()), clock);
  ASSERT_OK(svc);
  const ObjectRef small = Ref("p-small", {{"workload", "placed"}, {"profile", "tdx-4x16"}});
  const ObjectRef large = Ref("p-large", {{"workload", "placed"}, {"profile", "tdx-8x32"}});
  auto a = (*svc)->Evaluate(small);
  ASSERT_OK(a);
  EXPECT_EQ(a->replicas, 1);
  ASSERT_TRUE(a->placement.has_value());
  EXPECT_EQ(a->placement->Summary(), "tdx-4x16:1 tdx-8x32:1");
  EXPECT_EQ(a->decision.wanted, 3);  // the count decision, in units of the 4x16 profile
  auto b = (*svc)->Evaluate(large);
  ASSERT_OK(b);
  EXPECT_EQ(b->replicas, 1);
  EXPECT_EQ(b->decision.reason, Reason::kSteady);  // one decision, shared
  auto name = (*svc)->MetricName(large);
  ASSERT_OK(name);
  EXPECT_EQ(*name, "ccburst-placed-tdx-8x32");
  EXPECT_EQ((*svc)->MetricName(Ref("web-so", {{"workload", "web"}})).value(), "ccburst-web");
}

}  // namespace
}  // namespace ccburst::scaler
