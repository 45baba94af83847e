// Plays KEDA against a running ccburst-scaler that reads a real Prometheus server, which scrapes a
// test exporter whose kube-state-metrics series this test rewrites (run_integration.sh starts
// them all and passes their addresses in the environment). Every check polls until the expected
// value appears or a generous deadline passes; nothing asserts on timing.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/file.h"
#include "externalscaler.grpc.pb.h"
#include "net/http_client.h"

namespace {

using externalscaler::ExternalScaler;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void WriteFile(const std::string& name, const std::string& text) {
  std::string path = Env("CCB_IT_DIR") + "/" + name;
  {
    std::ofstream f(path + ".tmp");
    f << text;
  }
  std::filesystem::rename(path + ".tmp", path);
}

// The on-prem cluster as kube-state-metrics reports it.
struct Cluster {
  int unschedulable = 0;  // pods that cannot be scheduled
  double pod_cpu = 1;     // their requests
  double pod_memory_gib = 4;
  int pulling = 0;            // Pending pods that are scheduled and pulling their image
  double requested_cpu = 16;  // on node-1 (allocatable 16 cores, 64 GiB)
  double requested_memory_gib = 64;
};

void Publish(const Cluster& c) {
  constexpr double kGiB = 1073741824.0;
  std::string s;
  s += "kube_node_status_allocatable{node=\"node-1\",resource=\"cpu\",unit=\"core\"} 16\n";
  s += fmt::format(
      "kube_node_status_allocatable{{node=\"node-1\",resource=\"memory\",unit=\"byte\"}} {}\n",
      64 * kGiB);
  s += fmt::format(
      "kube_pod_container_resource_requests{{namespace=\"default\",pod=\"running-1\",container="
      "\"app\","
      "node=\"node-1\",resource=\"cpu\",unit=\"core\"}} {}\n",
      c.requested_cpu);
  s += fmt::format(
      "kube_pod_container_resource_requests{{namespace=\"default\",pod=\"running-1\",container="
      "\"app\","
      "node=\"node-1\",resource=\"memory\",unit=\"byte\"}} {}\n",
      c.requested_memory_gib * kGiB);
  for (int i = 0; i < c.unschedulable; ++i) {
    std::string pod = fmt::format("on-prem-deployment-u{}", i);
    s += fmt::format(
        "kube_pod_status_unschedulable{{namespace=\"default\",pod=\"{}\",uid=\"u{}\"}} 1\n", pod,
        i);
    s += fmt::format(
        "kube_pod_status_phase{{namespace=\"default\",pod=\"{}\",uid=\"u{}\",phase=\"Pending\"}} "
        "1\n",
        pod, i);
    s += fmt::format(
        "kube_pod_container_resource_requests{{namespace=\"default\",pod=\"{}\",container=\"app\","
        "node=\"\",resource=\"cpu\",unit=\"core\"}} {}\n",
        pod, c.pod_cpu);
    s += fmt::format(
        "kube_pod_container_resource_requests{{namespace=\"default\",pod=\"{}\",container=\"app\","
        "node=\"\",resource=\"memory\",unit=\"byte\"}} {}\n",
        pod, c.pod_memory_gib * kGiB);
  }
  for (int i = 0; i < c.pulling; ++i) {
    s += fmt::format(
        "kube_pod_status_phase{{namespace=\"default\",pod=\"on-prem-deployment-p{}\",uid=\"p{}\","
        "phase=\"Pending\"}} 1\n",
        i, i);
  }
  WriteFile("ksm.prom", s);
}

void PublishKbs(int healthz, int ok, int failed) {
  WriteFile("kbs_healthz", std::to_string(healthz));
  WriteFile("kbs.prom",
            fmt::format("# TYPE kbs_attestations_total counter\n"
                        "kbs_attestations_total{{tee=\"tdx\",outcome=\"success\"}} {}\n"
                        "kbs_attestations_total{{tee=\"tdx\",outcome=\"failure\"}} {}\n"
                        "kbs_attestations_total{{tee=\"snp\",outcome=\"failure\"}} 1000\n",
                        ok, failed));
}

bool WaitFor(const std::function<bool()>& done, seconds limit = seconds(120)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(200));
  }
  return done();
}

class Keda {
 public:
  Keda()
      : stub_(ExternalScaler::NewStub(
            grpc::CreateChannel(Env("CCB_IT_SCALER"), grpc::InsecureChannelCredentials()))) {}

  static externalscaler::ScaledObjectRef Ref(const std::string& name,
                                             std::map<std::string, std::string> metadata) {
    externalscaler::ScaledObjectRef r;
    r.set_name(name);
    r.set_namespace_("default");
    for (auto& [k, v] : metadata) (*r.mutable_scalermetadata())[k] = v;
    return r;
  }
  static externalscaler::ScaledObjectRef Workload(const std::string& w) {
    return Ref(w + "-so", {{"workload", w}, {"scalerAddress", "ccburst-scaler:9090"}});
  }

  // GetMetrics; -1 with `error` set on a gRPC error.
  int64_t Metric(const externalscaler::ScaledObjectRef& ref, std::string* error = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
    externalscaler::GetMetricsRequest req;
    *req.mutable_scaledobjectref() = ref;
    req.set_metricname("s0-ccburst");
    externalscaler::GetMetricsResponse resp;
    grpc::Status s = stub_->GetMetrics(&ctx, req, &resp);
    if (!s.ok()) {
      if (error)
        *error = fmt::format("{}: {}", static_cast<int>(s.error_code()), s.error_message());
      return -1;
    }
    EXPECT_EQ(resp.metricvalues_size(), 1);
    EXPECT_EQ(resp.metricvalues(0).metricname(), "s0-ccburst");
    EXPECT_EQ(resp.metricvalues(0).metricvaluefloat(),
              static_cast<double>(resp.metricvalues(0).metricvalue()));
    return resp.metricvalues(0).metricvalue();
  }
  int64_t Metric(const std::string& workload) { return Metric(Workload(workload)); }

  std::optional<bool> Active(const externalscaler::ScaledObjectRef& ref) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
    externalscaler::IsActiveResponse resp;
    if (!stub_->IsActive(&ctx, ref, &resp).ok()) return std::nullopt;
    return resp.result();
  }

  ExternalScaler::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<ExternalScaler::Stub> stub_;
};

// A value from the scaler's own /metrics: the sample whose line starts with `name{` and contains
// every one of `labels`; 0 when absent.
double ScalerMetric(const std::string& name, const std::vector<std::string>& labels) {
  ccburst::net::HttpClientOptions o;
  o.base_url = Env("CCB_IT_SCALER_HTTP");
  o.timeout = milliseconds(10000);
  auto client = ccburst::net::HttpClient::Create(o);
  if (!client.ok()) return -1;
  auto r = (*client)->Send("GET", "/metrics");
  if (!r.ok() || r->status != 200) return -1;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return 0;
}

double Decisions(const std::string& workload, const std::string& reason) {
  return ScalerMetric("ccburst_scaler_decisions_total", {fmt::format("workload=\"{}\"", workload),
                                                         fmt::format("reason=\"{}\"", reason)});
}

class ScalerIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_FALSE(Env("CCB_IT_SCALER").empty()) << "run through run_integration.sh";
  }
  Keda keda_;
};

TEST_F(ScalerIntegration, MetricSpecAndIdle) {
  Cluster c;
  Publish(c);
  PublishKbs(200, 50, 0);
  grpc::ClientContext ctx;
  externalscaler::GetMetricSpecResponse spec;
  ASSERT_TRUE(keda_.stub().GetMetricSpec(&ctx, Keda::Workload("web"), &spec).ok());
  ASSERT_EQ(spec.metricspecs_size(), 1);
  EXPECT_EQ(spec.metricspecs(0).metricname(), "ccburst-web");
  EXPECT_EQ(spec.metricspecs(0).targetsize(), 1);
  EXPECT_EQ(spec.metricspecs(0).targetsizefloat(), 1.0);
  // Idle once Prometheus has scraped the exporter (the free-capacity query then has a series).
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 0 && Decisions("web", "idle") > 0; }));
  EXPECT_EQ(keda_.Active(Keda::Workload("web")), false);
}

// KEDA's external scaler with `enableTLS` and a TriggerAuthentication (caCert, tlsClientCert,
// tlsClientKey) against the scaler's [server] tls_cert_file / tls_key_file / tls_client_ca_file:
// the right client certificate is served; none, an untrusted one, or plaintext is refused.
TEST_F(ScalerIntegration, GrpcMutualTls) {
  const std::string dir = Env("CCB_IT_DIR");
  auto read = [&](const std::string& f) { return *ccburst::core::ReadFile(dir + "/" + f); };
  auto call = [&](std::shared_ptr<grpc::ChannelCredentials> creds) {
    auto stub = ExternalScaler::NewStub(grpc::CreateChannel(Env("CCB_IT_SCALER_TLS"), creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    externalscaler::GetMetricSpecResponse spec;
    grpc::Status s = stub->GetMetricSpec(&ctx, Keda::Workload("web"), &spec);
    if (s.ok()) EXPECT_EQ(spec.metricspecs(0).metricname(), "ccburst-web");
    return s;
  };
  grpc::SslCredentialsOptions keda;
  keda.pem_root_certs = read("server.crt");
  keda.pem_cert_chain = read("client.crt");
  keda.pem_private_key = read("client.key");
  EXPECT_TRUE(call(grpc::SslCredentials(keda)).ok());

  grpc::SslCredentialsOptions no_client_cert;
  no_client_cert.pem_root_certs = read("server.crt");
  EXPECT_FALSE(call(grpc::SslCredentials(no_client_cert)).ok());

  grpc::SslCredentialsOptions stranger = keda;
  stranger.pem_cert_chain = read("stranger.crt");
  stranger.pem_private_key = read("stranger.key");
  EXPECT_FALSE(call(grpc::SslCredentials(stranger)).ok());

  grpc::SslCredentialsOptions wrong_server = keda;  // the client does not trust the server
  wrong_server.pem_root_certs = read("stranger.crt");
  EXPECT_FALSE(call(grpc::SslCredentials(wrong_server)).ok());

  EXPECT_FALSE(call(grpc::InsecureChannelCredentials()).ok());
}

TEST_F(ScalerIntegration, PullingPodsBurstOnlyInSeedMode) {
  Cluster c;
  c.pulling = 1;  // Pending while it pulls its image: not a capacity shortage
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("seed") == 1; }));
  EXPECT_EQ(keda_.Metric("web"), 0);
  EXPECT_EQ(keda_.Active(Keda::Workload("web")), false);
}

TEST_F(ScalerIntegration, StreamIsActivePushesDemand) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + seconds(120));
  auto ref = Keda::Ref("stream-so", {{"workload", "web"}});
  auto reader = keda_.stub().StreamIsActive(&ctx, ref);
  externalscaler::IsActiveResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_FALSE(msg.result());
  Cluster c;
  c.unschedulable = 2;
  Publish(c);
  ASSERT_TRUE(reader->Read(&msg));  // pushed when the demand shows up, no polling
  EXPECT_TRUE(msg.result());
  ctx.TryCancel();
}

TEST_F(ScalerIntegration, RampPacksPodsOntoInstances) {
  Cluster c;
  c.unschedulable = 2;  // 1 vCPU / 4 GiB each, 4 per 4x16 instance
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 1; }));
  EXPECT_EQ(keda_.Active(Keda::Workload("web")), true);
  c.unschedulable = 6;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 2; }));
  // Bigger pods (2 vCPU / 6 GiB): 2 per instance, measured from their requests.
  c.pod_cpu = 2;
  c.pod_memory_gib = 6;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 3; }));
}

TEST_F(ScalerIntegration, AttestationGateHoldsThenReleasesBurst) {
  Cluster c;
  c.unschedulable = 30;
  PublishKbs(503, 50, 0);
  Publish(c);
  ASSERT_TRUE(WaitFor([&] {
    keda_.Metric("web");  // KEDA polls; the decision happens on the call
    return Decisions("web", "gate_kbs_unreachable") > 0;
  }));
  EXPECT_EQ(keda_.Metric("web"), 3);  // held, not 4
  EXPECT_EQ(ScalerMetric("ccburst_scaler_gate_open", {"workload=\"web\"", "web-so"}), 0);

  PublishKbs(200, 50, 20);  // 20 of 20 new tdx attestations failed
  ASSERT_TRUE(WaitFor([&] {
    keda_.Metric("web");
    return Decisions("web", "gate_attestation_failing") > 0;
  }));
  EXPECT_EQ(keda_.Metric("web"), 3);

  PublishKbs(200, 500, 20);  // 450 successes since: the failure share is back under the limit
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 4; }));  // the cap
  EXPECT_GT(Decisions("web", "capped_max_replicas"), 0);
  EXPECT_EQ(ScalerMetric("ccburst_scaler_wanted_replicas", {"web-so"}), 4);
}

// The gate against a real ccburst-kbs (started by run_integration.sh) rather than the scripted
// stand-in: attestations refused by the real verifier (evidence bound to other report data) close
// it, genuine ones reopen it. CCB_IT_KBS_ATTEST is a ccburst-testgen command line that runs one
// TDX flow against that KBS.
TEST_F(ScalerIntegration, GateFollowsARealKbsWhoseAttestationsFail) {
  const std::string attest = Env("CCB_IT_KBS_ATTEST");
  if (attest.empty()) GTEST_SKIP() << "no real ccburst-kbs (run_integration.sh without CCB_IT_KBS)";
  auto run = [&](int times, const std::string& extra) {
    for (int i = 0; i < times; ++i) {
      (void)std::system((attest + extra + " >/dev/null 2>&1").c_str());
    }
  };
  auto gate_open = [&] {
    keda_.Metric("realkbs");  // KEDA polls; the gate is read on the call
    return ScalerMetric("ccburst_scaler_gate_open", {"workload=\"realkbs\""});
  };
  // A baseline: the gate counts the attestations made since it began watching.
  Cluster c;
  c.unschedulable = 30;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return gate_open() == 1; }));
  const int64_t before = keda_.Metric("realkbs");

  run(6, " --wrong-report-data");  // refused by the real verifier: report data of another session
  ASSERT_TRUE(WaitFor([&] { return gate_open() == 0; }));
  // More demand now: the gate holds the burst where it is, and says why.
  c.unschedulable = 60;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] {
    keda_.Metric("realkbs");
    return Decisions("realkbs", "gate_attestation_failing") > 0;
  }));
  EXPECT_EQ(keda_.Metric("realkbs"), before);

  run(20, "");  // 20 genuine flows: 6 of 26 failed, under max_failure_ratio = 0.5
  ASSERT_TRUE(WaitFor([&] { return gate_open() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("realkbs") > before; }));  // the burst goes on
  c.unschedulable = 30;  // as the next test expects
  Publish(c);
}

// Issue 17: one ScaledObject per profile; the scaler places the workload's capacity on the
// cheapest mix and each ScaledObject gets its profile's replicas.
TEST_F(ScalerIntegration, PlacementAcrossProfilesOneScaledObjectEach) {
  auto small = Keda::Ref("placed-4x16", {{"workload", "placed"}, {"profile", "tdx-4x16"}});
  auto large = Keda::Ref("placed-8x32", {{"workload", "placed"}, {"profile", "tdx-8x32"}});
  grpc::ClientContext ctx;
  externalscaler::GetMetricSpecResponse spec;
  ASSERT_TRUE(keda_.stub().GetMetricSpec(&ctx, large, &spec).ok());
  EXPECT_EQ(spec.metricspecs(0).metricname(), "ccburst-placed-tdx-8x32");
  Cluster c;
  c.unschedulable = 10;  // 3 units of 4 pods: 12 pods on 4x16 (0.83) + 8x32 (1.50), not 3 x 4x16
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric(small) == 1 && keda_.Metric(large) == 1; }));
  EXPECT_EQ(keda_.Active(large), true);
  c.unschedulable = 2;  // one 4x16 is the cheapest home for 4 pods; the cool-down holds 12 first
  Publish(c);
  std::string error;
  EXPECT_EQ(keda_.Metric(Keda::Ref("placed-x", {{"workload", "placed"}}), &error), -1);
  EXPECT_EQ(error,
            "3: scaledobject default/placed-x: metadata lacks `profile` (workload `placed` is "
            "placed across profiles: one ScaledObject per profile)");
  EXPECT_EQ(keda_.Metric(Keda::Ref("placed-x", {{"workload", "placed"}, {"profile", "gpu-h100"}}),
                         &error),
            -1);
  EXPECT_EQ(error,
            "3: scaledobject default/placed-x: metadata `profile` = `gpu-h100` is not one of "
            "workload `placed`'s profiles");
}

void PublishGpuKbs(int gpu_ok, int gpu_failed) {
  WriteFile("gpukbs.prom",
            fmt::format("kbs_attestations_total{{tee=\"tdx\",outcome=\"success\"}} 50\n"
                        "kbs_device_attestations_total{{arch=\"HOPPER\",outcome=\"success\"}} {}\n"
                        "kbs_device_attestations_total{{arch=\"HOPPER\",outcome=\"failure\"}} {}\n",
                        gpu_ok, gpu_failed));
}

// Issue 19: a GPU workload bursts only to a profile whose GPUs attest. The GPU profile's gate
// reads the KBS's device outcome and closes for that profile only; its running replicas stay.
TEST_F(ScalerIntegration, GpuBurstsOnlyWhileItsGpusAttest) {
  auto gpu = Keda::Ref("gpu-h100", {{"workload", "gpu"}, {"profile", "gpu-h100"}});
  auto cpu = Keda::Ref("gpu-cpu", {{"workload", "gpu"}, {"profile", "tdx-4x16"}});
  PublishGpuKbs(10, 0);
  Cluster c;
  c.unschedulable = 2;  // each asks for one GPU (the workload's pending_gpus query)
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric(gpu) == 2; }));
  EXPECT_EQ(keda_.Metric(cpu), 0);  // a GPU pod never lands on a CPU profile
  PublishGpuKbs(11, 20);            // 20 of 21 new GPU attestations failed
  c.unschedulable = 3;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] {
    keda_.Metric(gpu);
    return ScalerMetric("ccburst_scaler_gate_open", {"default/gpu-h100"}) == 0 &&
           ScalerMetric("ccburst_scaler_placements_total",
                        {"workload=\"gpu\"", "reason=\"no_profile\""}) > 0;
  }));
  EXPECT_EQ(keda_.Metric(gpu), 2);  // held: nothing new starts on unattested GPUs
  EXPECT_EQ(keda_.Metric(cpu), 0);
  EXPECT_EQ(ScalerMetric("ccburst_scaler_gate_open", {"default/gpu-cpu"}), 1);  // that profile only
  PublishGpuKbs(200, 20);  // 189 more succeed: under the limit again
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric(gpu) == 3; }));
  c.unschedulable = 30;  // as the next test expects
  Publish(c);
}

TEST_F(ScalerIntegration, FaultsNeverBurstBlindly) {
  // 30 pods are unschedulable now; every broken source must answer 0, with its reason.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"noseries", "signal_error"},
      {"multi", "signal_error"},
      {"nan", "signal_error"},
      {"garbage", "signal_error"},
      {"slowprom", "signal_error"},
      {"kbsdown", "gate_kbs_unreachable"},
      {"sovereign", "region_not_allowed"}};
  for (const auto& [workload, reason] : cases) {
    SCOPED_TRACE(workload);
    EXPECT_EQ(keda_.Metric(workload), 0);
    EXPECT_GT(Decisions(workload, reason), 0);
    EXPECT_EQ(keda_.Active(Keda::Workload(workload)), false);
  }
  EXPECT_GT(ScalerMetric("ccburst_scaler_signal_errors_total",
                         {"workload=\"slowprom\"", "source=\"prometheus\""}),
            0);
}

TEST_F(ScalerIntegration, BadMetadataIsAnErrorNamingTheCause) {
  std::string error;
  EXPECT_EQ(keda_.Metric(Keda::Ref("bad", {}), &error), -1);
  EXPECT_EQ(error, "3: scaledobject default/bad: metadata lacks `workload`");
  EXPECT_EQ(keda_.Metric(Keda::Ref("bad", {{"workload", "web"}, {"treshold", "1"}}), &error), -1);
  EXPECT_EQ(error, "3: scaledobject default/bad: unknown metadata key `treshold`");
  EXPECT_EQ(keda_.Metric(Keda::Ref("bad", {{"workload", "nope"}}), &error), -1);
  EXPECT_EQ(error, "3: scaledobject default/bad: metadata `workload` = `nope` is not configured");
  EXPECT_EQ(keda_.Metric(Keda::Ref("bad", {{"workload", "web"}, {"mode", "fast"}}), &error), -1);
  EXPECT_EQ(error,
            "3: scaledobject default/bad: metadata `mode` = `fast`: want `ccburst` or `pending`");
  EXPECT_EQ(keda_.Active(Keda::Ref("bad", {})), std::nullopt);
}

TEST_F(ScalerIntegration, HungPrometheusHoldsReplicas) {
  pid_t prom = static_cast<pid_t>(std::stol(Env("CCB_IT_PROM_PID")));
  // The snapshot shows the 30 pending pods of the previous tests before Prometheus hangs.
  ASSERT_TRUE(WaitFor([&] {
    return keda_.Metric("web") == 4 &&
           ScalerMetric("ccburst_scaler_pending_pods", {"workload=\"web\"", "web-so"}) == 30;
  }));
  double errors_before = ScalerMetric("ccburst_scaler_signal_errors_total", {"workload=\"web\""});
  ASSERT_EQ(kill(prom, SIGSTOP), 0);
  Cluster c;  // demand gone, but the scaler cannot know
  Publish(c);
  // Answered at once from the last snapshot (the request path does not query Prometheus), while
  // the background refresh runs into its bounded timeout.
  int64_t held = keda_.Metric("web");
  bool counted = WaitFor([&] {
    return ScalerMetric("ccburst_scaler_signal_errors_total", {"workload=\"web\""}) > errors_before;
  });
  int64_t still = keda_.Metric("web");
  ASSERT_EQ(kill(prom, SIGCONT), 0);
  EXPECT_EQ(held, 4);
  EXPECT_EQ(still, 4);
  EXPECT_TRUE(counted);
}

TEST_F(ScalerIntegration, DrainScalesInAfterCooldown) {
  Cluster c;
  c.unschedulable = 2;
  c.requested_cpu = 12;  // on-prem has room again
  c.requested_memory_gib = 40;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 1; }));
  EXPECT_GT(Decisions("web", "scale_in"), 0);
  EXPECT_GT(Decisions("web", "scale_in_cooldown"), 0);
  c.unschedulable = 0;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 0; }));
  EXPECT_EQ(keda_.Active(Keda::Workload("web")), false);
}

// The answer comes from the background snapshot: with Prometheus gone it is still served from
// the last good snapshot while that is younger than signal_max_age_seconds (10 s here), then held
// with reason `signals_stale`, never scaled on old data.
TEST_F(ScalerIntegration, PrometheusDownServesSnapshotThenHoldsAsStale) {
  Cluster c;
  c.unschedulable = 6;
  Publish(c);
  ASSERT_TRUE(WaitFor([&] { return keda_.Metric("web") == 2; }));
  const double steady = Decisions("web", "steady");
  const double stale = Decisions("web", "signals_stale");
  const double errors = ScalerMetric("ccburst_scaler_signal_errors_total", {"workload=\"web\""});
  pid_t prom = static_cast<pid_t>(std::stol(Env("CCB_IT_PROM_PID")));
  ASSERT_EQ(kill(prom, SIGKILL), 0);
  // Fresh snapshot: decided normally (`steady`), no fault on the request path.
  EXPECT_EQ(keda_.Metric("web"), 2);
  EXPECT_GT(Decisions("web", "steady"), steady);
  EXPECT_EQ(Decisions("web", "signals_stale"), stale);
  // The background refresh fails and counts it; the snapshot ages past the bound: held as stale.
  ASSERT_TRUE(WaitFor([&] {
    return ScalerMetric("ccburst_scaler_signal_errors_total", {"workload=\"web\""}) > errors;
  }));
  ASSERT_TRUE(WaitFor(
      [&] { return keda_.Metric("web") == 2 && Decisions("web", "signals_stale") > stale; }));
  EXPECT_EQ(keda_.Metric("web"), 2);
  EXPECT_EQ(keda_.Active(Keda::Workload("web")), true);
  EXPECT_GT(ScalerMetric("ccburst_scaler_signal_age_seconds", {"workload=\"web\"", "web-so"}), 10);
}

}  // namespace
