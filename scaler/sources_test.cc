#include "scaler/sources.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/testing/status_matchers.h"
#include "net/http_server.h"
#include "scaler/config.h"
#include "scaler/decision.h"

namespace ccburst::scaler {
namespace {

using ::ccburst::core::testing::StatusIs;

TEST(PrometheusParseTest, OneSample) {
  auto v = ParseInstantQuery(
      "q", 200,
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"7"]}]}})");
  ASSERT_OK(v);
  EXPECT_EQ(*v, 7);
  v = ParseInstantQuery(
      "q", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"2.5"]}})");
  ASSERT_OK(v);
  EXPECT_EQ(*v, 2.5);
}

TEST(PrometheusParseTest, FaultsNameTheCause) {
  EXPECT_EQ(ParseInstantQuery("q", 200,
                              R"({"status":"success","data":{"resultType":"vector","result":[]}})")
                .status(),
            absl::NotFoundError("prometheus: query `q`: returned no series"));
  EXPECT_EQ(
      ParseInstantQuery(
          "q", 200,
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}})")
          .status()
          .message(),
      "prometheus: query `q`: returned 2 series, want 1 (aggregate with sum)");
  EXPECT_EQ(
      ParseInstantQuery(
          "q", 200,
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}})")
          .status()
          .message(),
      "prometheus: query `q`: value `NaN` is not a finite number");
  EXPECT_EQ(ParseInstantQuery("q", 400,
                              R"({"status":"error","errorType":"bad_data","error":"parse error"})")
                .status()
                .message(),
            "prometheus: query `q`: bad_data: parse error");
  EXPECT_THAT(ParseInstantQuery("q", 200, "<html>"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ParseInstantQuery("q", 200,
                              R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                .status()
                .message(),
            "prometheus: query `q`: result type `matrix`, want vector or scalar");
}

TEST(KbsMetricsTest, SumsOutcomesOfOneTee) {
  constexpr char kText[] =
      "# HELP kbs_attestations_total x\n# TYPE kbs_attestations_total counter\n"
      "kbs_attestations_total{tee=\"tdx\",outcome=\"success\"} 10\n"
      "kbs_attestations_total{outcome=\"failure\",tee=\"tdx\"} 3\n"
      "kbs_attestations_total{tee=\"tdx\",outcome=\"error\"} 1\n"
      "kbs_attestations_total{tee=\"snp\",outcome=\"failure\"} 50\n"
      "kbs_attestation_requests_total 64\n";
  auto c = ParseKbsAttestations(kText, "tdx");
  ASSERT_OK(c);
  EXPECT_EQ(c->ok, 10);
  EXPECT_EQ(c->failed, 4);
  EXPECT_EQ(
      ParseKbsAttestations("kbs_attestations_total{tee=\"tdx\",outcome=\"success\"} x\n", "tdx")
          .status()
          .message(),
      "kbs metrics: line 1: value `x` is not a number");
}

// Issue 16: against a reference KBS (only `kbs_attestation_{successes,failures}_total{tee_type}`)
// the gate counts its attestations instead of silently staying open; against ours (both
// families) it does not count them twice.
TEST(KbsMetricsTest, ReadsTheReferenceKbsNamesToo) {
  constexpr char kReference[] =
      "# TYPE kbs_attestation_successes_total counter\n"
      "kbs_attestation_successes_total{tee_type=\"tdx\"} 2\n"
      "kbs_attestation_failures_total{tee_type=\"tdx\"} 7\n"
      "kbs_attestation_failures_total{tee_type=\"snp\"} 9\n"
      "kbs_attestation_requests_total 18\n";
  for (KbsMetricNames names : {KbsMetricNames::kAuto, KbsMetricNames::kReference}) {
    auto c = ParseKbsAttestations(kReference, "tdx", names);
    ASSERT_OK(c);
    EXPECT_EQ(c->ok, 2);
    EXPECT_EQ(c->failed, 7);
  }
  auto none = ParseKbsAttestations(kReference, "tdx", KbsMetricNames::kCcburst);
  ASSERT_OK(none);
  EXPECT_EQ(none->ok + none->failed, 0);

  const std::string both = std::string(kReference) +
                           "kbs_attestations_total{tee=\"tdx\",outcome=\"success\"} 2\n"
                           "kbs_attestations_total{tee=\"tdx\",outcome=\"failure\"} 7\n"
                           "kbs_attestations_total{tee=\"tdx\",outcome=\"error\"} 1\n";
  auto c = ParseKbsAttestations(both, "tdx");
  ASSERT_OK(c);
  EXPECT_EQ(c->ok, 2);
  EXPECT_EQ(c->failed, 8);
}

TEST(KbsMetricsTest, MetricsKeyIsChecked) {
  auto base = [](std::string_view metrics) {
    return fmt::format(
        "[kbs]\nurl = \"http://127.0.0.1:1\"\nmetrics = \"{}\"\n[profiles.tdx]\nvcpu = 4\n"
        "memory_gib = 16.0\nprice_per_hour = 1.0\ntee = \"tdx\"\nregion = \"eu\"\n[workloads.web]\n"
        "profile = \"tdx\"\nnamespace = \"shop\"\npod_regex = \"web-.*\"\nmax_replicas = 2\n",
        metrics);
  };
  auto ok = ParseScalerConfig(base("reference"), ".");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->kbs.metric_names, KbsMetricNames::kReference);
  EXPECT_THAT(ParseScalerConfig(base("trustee"), "."),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "config: `kbs.metrics` `trustee` is not one of auto, ccburst, reference"));
}

// A loopback HTTP server whose answers the test sets.
struct FakeServer {
  std::atomic<int> delay_ms{0};
  std::atomic<int> healthz_status{200};
  std::mutex mu;
  std::string metrics;
  std::string query_body =
      R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"3"]}]}})";
  std::unique_ptr<net::HttpServer> server;

  FakeServer() {
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 2;
    auto s = net::HttpServer::Start(o, [this](const net::HttpRequest& req) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      std::lock_guard<std::mutex> lock(mu);
      if (req.path == "/healthz") return net::HttpResponse{healthz_status.load(), {}, "ok"};
      if (req.path == "/metrics") return net::HttpResponse{200, {}, metrics};
      return net::HttpResponse::Json(200, query_body);
    });
    EXPECT_OK(s);
    server = std::move(*s);
  }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}", server->ports()[0]); }
};

TEST(PrometheusClientTest, QueriesAndBoundsTheTimeout) {
  FakeServer fake;
  PrometheusConfig cfg;
  cfg.timeout = std::chrono::milliseconds(200);
  auto client = PrometheusClient::Create(cfg, fake.Url());
  ASSERT_OK(client);
  auto v = (*client)->Query("sum(x)");
  ASSERT_OK(v);
  EXPECT_EQ(*v, 3);
  fake.delay_ms = 1000;
  v = (*client)->Query("sum(x)");
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(v.status().message(),
            fmt::format("prometheus: {}: query `sum(x)`: reading response failed: timed out "
                        "after 200 ms",
                        fake.Url()));
  fake.delay_ms = 0;
  v = (*client)->Query("sum(x)");
  EXPECT_OK(v);
}

TEST(PrometheusClientTest, ServerDown) {
  PrometheusConfig cfg;
  auto client = PrometheusClient::Create(cfg, "http://127.0.0.1:1");
  ASSERT_OK(client);
  EXPECT_THAT((*client)->Query("up"), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(KbsGateTest, OpensClosesOnFailuresAndHealth) {
  FakeServer fake;
  KbsGateConfig cfg;
  cfg.refresh = std::chrono::seconds(1);
  cfg.window = std::chrono::seconds(300);
  cfg.min_attestations = 4;
  cfg.max_failure_ratio = 0.5;
  auto gate = KbsGate::Create(cfg, fake.Url());
  ASSERT_OK(gate);
  auto t0 = core::FromUnixSeconds(1'700'000'000);
  auto set = [&](int ok, int bad) {
    std::lock_guard<std::mutex> lock(fake.mu);
    fake.metrics = fmt::format(
        "kbs_attestations_total{{tee=\"tdx\",outcome=\"success\"}} {}\n"
        "kbs_attestations_total{{tee=\"tdx\",outcome=\"failure\"}} {}\n",
        ok, bad);
  };
  set(100, 100);  // history before the scaler started does not count
  std::string why;
  EXPECT_EQ((*gate)->Check("tdx", t0, &why), GateState::kOpen);
  set(101, 105);  // 5 of 6 failed
  EXPECT_EQ((*gate)->Check("tdx", t0 + std::chrono::seconds(10), &why),
            GateState::kAttestationFailing);
  EXPECT_EQ(why, "kbs: 5 of 6 `tdx` attestations failed in the last 300s (limit 50%)");
  // Cached within the refresh interval.
  set(200, 105);
  EXPECT_EQ((*gate)->Check("tdx", t0 + std::chrono::milliseconds(10500), &why),
            GateState::kAttestationFailing);
  EXPECT_EQ((*gate)->Check("tdx", t0 + std::chrono::seconds(12), &why), GateState::kOpen);
  fake.healthz_status = 503;
  EXPECT_EQ((*gate)->Check("tdx", t0 + std::chrono::seconds(14), &why), GateState::kKbsUnreachable);
  EXPECT_EQ(why, fmt::format("kbs: {}/healthz answered HTTP 503", fake.Url()));
}

TEST(KbsGateTest, AzureProfileGateClosesOnItsOwnFailures) {
  FakeServer fake;
  KbsGateConfig cfg;
  cfg.refresh = std::chrono::seconds(1);
  cfg.min_attestations = 4;
  cfg.max_failure_ratio = 0.5;
  auto gate = KbsGate::Create(cfg, fake.Url());
  ASSERT_OK(gate);
  InstanceProfile azure{"az-tdx-4x16", {4, 16, 0}, 0.9, "az-tdx-vtpm", "westeurope"};
  auto t0 = core::FromUnixSeconds(1'700'000'000);
  auto set = [&](int az_ok, int az_bad, int tdx_bad) {
    std::lock_guard<std::mutex> lock(fake.mu);
    fake.metrics = fmt::format(
        "kbs_attestations_total{{tee=\"az-tdx-vtpm\",outcome=\"success\"}} {}\n"
        "kbs_attestations_total{{tee=\"az-tdx-vtpm\",outcome=\"failure\"}} {}\n"
        "kbs_attestations_total{{tee=\"tdx\",outcome=\"failure\"}} {}\n",
        az_ok, az_bad, tdx_bad);
  };
  set(0, 0, 0);
  std::string why;
  EXPECT_EQ((*gate)->Check(azure.tee, t0, &why), GateState::kOpen);
  // Bare-metal TDX failing does not close the Azure gate ...
  set(3, 0, 50);
  EXPECT_EQ((*gate)->Check(azure.tee, t0 + std::chrono::seconds(2), &why), GateState::kOpen);
  // ... Azure TDX attestations failing do.
  set(4, 9, 50);
  EXPECT_EQ((*gate)->Check(azure.tee, t0 + std::chrono::seconds(4), &why),
            GateState::kAttestationFailing);
  EXPECT_EQ(why, "kbs: 9 of 13 `az-tdx-vtpm` attestations failed in the last 300s (limit 50%)");
}

TEST(KbsMetricsTest, DeviceAttestationsByArchitecture) {
  const std::string text =
      "# TYPE kbs_device_attestations_total counter\n"
      "kbs_device_attestations_total{arch=\"HOPPER\",outcome=\"success\"} 7\n"
      "kbs_device_attestations_total{arch=\"HOPPER\",outcome=\"failure\"} 2\n"
      "kbs_device_attestations_total{arch=\"BLACKWELL\",outcome=\"error\"} 1\n";
  auto hopper = ParseKbsDeviceAttestations(text, "hopper");
  ASSERT_OK(hopper);
  ASSERT_TRUE(hopper->has_value());
  EXPECT_EQ((*hopper)->ok, 7);
  EXPECT_EQ((*hopper)->failed, 2);
  auto any = ParseKbsDeviceAttestations(text, "");
  ASSERT_OK(any);
  EXPECT_EQ((*any)->failed, 3);
  // A KBS without the family: nullopt (the gate then reads the CPU TEE's counters).
  auto none =
      ParseKbsDeviceAttestations("kbs_attestations_total{tee=\"tdx\",outcome=\"success\"} 1\n", "");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_THAT(ParseKbsDeviceAttestations("kbs_device_attestations_total{arch=\"x\"} nope\n", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "kbs metrics: line 1: value `nope` is not a number"));
}

// Issue 19: a GPU profile's gate also reads the device outcome; CPU-only profiles on the same
// KBS are not affected, and each TEE keeps its own window on a shared KBS.
TEST(KbsGateTest, DeviceGateClosesForGpuProfilesOnly) {
  FakeServer fake;
  KbsGateConfig cfg;
  cfg.refresh = std::chrono::seconds(1);
  cfg.min_attestations = 3;
  cfg.max_failure_ratio = 0.5;
  auto gate = KbsGate::Create(cfg, fake.Url());
  ASSERT_OK(gate);
  auto t0 = core::FromUnixSeconds(1'700'000'000);
  auto set = [&](int tdx_ok, int snp_bad, int gpu_ok, int gpu_bad, bool devices) {
    std::lock_guard<std::mutex> lock(fake.mu);
    fake.metrics = fmt::format(
        "kbs_attestations_total{{tee=\"tdx\",outcome=\"success\"}} {}\n"
        "kbs_attestations_total{{tee=\"snp\",outcome=\"failure\"}} {}\n",
        tdx_ok, snp_bad);
    if (devices) {
      fake.metrics += fmt::format(
          "kbs_device_attestations_total{{arch=\"HOPPER\",outcome=\"success\"}} {}\n"
          "kbs_device_attestations_total{{arch=\"HOPPER\",outcome=\"failure\"}} {}\n",
          gpu_ok, gpu_bad);
    }
  };
  std::string why;
  set(10, 0, 10, 0, true);
  EXPECT_EQ((*gate)->Check("tdx", t0, &why), GateState::kOpen);
  EXPECT_EQ((*gate)->Check("snp", t0, &why), GateState::kOpen);
  EXPECT_EQ((*gate)->CheckDevices("hopper", "tdx", t0, &why), GateState::kOpen);
  // 5 GPU attestations fail, the TDX ones succeed: only the device gate closes.
  set(20, 0, 11, 5, true);
  auto t1 = t0 + std::chrono::seconds(2);
  EXPECT_EQ((*gate)->Check("tdx", t1, &why), GateState::kOpen);
  EXPECT_EQ((*gate)->CheckDevices("hopper", "tdx", t1, &why), GateState::kAttestationFailing);
  EXPECT_EQ(why, "kbs: 5 of 6 `hopper` GPU attestations failed in the last 300s (limit 50%)");
  // SNP failing on the same KBS closes SNP's window, not TDX's (one window per TEE).
  set(20, 9, 30, 5, true);
  auto t2 = t0 + std::chrono::seconds(4);
  EXPECT_EQ((*gate)->Check("snp", t2, &why), GateState::kAttestationFailing);
  EXPECT_EQ((*gate)->Check("tdx", t2, &why), GateState::kOpen);
  EXPECT_EQ((*gate)->CheckDevices("hopper", "tdx", t2, &why), GateState::kOpen);  // 19 more ok
}

TEST(KbsGateTest, WithoutDeviceCountersTheGpuGateFollowsItsTee) {
  FakeServer fake;
  KbsGateConfig cfg;
  cfg.refresh = std::chrono::seconds(1);
  cfg.min_attestations = 3;
  auto gate = KbsGate::Create(cfg, fake.Url());
  ASSERT_OK(gate);
  auto t0 = core::FromUnixSeconds(1'700'000'000);
  auto set = [&](int ok, int bad) {
    std::lock_guard<std::mutex> lock(fake.mu);
    fake.metrics = fmt::format(
        "kbs_attestations_total{{tee=\"tdx\",outcome=\"success\"}} {}\n"
        "kbs_attestations_total{{tee=\"tdx\",outcome=\"failure\"}} {}\n",
        ok, bad);
  };
  set(0, 0);
  std::string why;
  EXPECT_EQ((*gate)->CheckDevices("", "tdx", t0, &why), GateState::kOpen);
  set(1, 4);
  EXPECT_EQ((*gate)->CheckDevices("", "tdx", t0 + std::chrono::seconds(2), &why),
            GateState::kAttestationFailing);
  EXPECT_EQ(why, "kbs: 4 of 5 `tdx` attestations failed in the last 300s (limit 50%)");
}

TEST(KbsGateTest, DownKbsClosesTheGate) {
  KbsGateConfig cfg;
  auto gate = KbsGate::Create(cfg, "http://127.0.0.1:1");
  ASSERT_OK(gate);
  std::string why;
  EXPECT_EQ((*gate)->Check("tdx", core::FromUnixSeconds(0), &why), GateState::kKbsUnreachable);
  EXPECT_NE(why.find("kbs: http://127.0.0.1:1"), std::string::npos) << why;
}

}  // namespace
}  // namespace ccburst::scaler
