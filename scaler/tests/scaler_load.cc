// GetMetrics latency through the whole path (gRPC -> scaler -> Prometheus on loopback -> decision).
// Started by run_integration.sh in place of the test client:
//   scaler/tests/run_integration.sh build/apps/ccburst-scaler build/scaler/scaler_load
//       [--requests N] [--concurrency C]
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "externalscaler.grpc.pb.h"

int main(int argc, char** argv) {
  int requests = 2000, concurrency = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--concurrency")) concurrency = std::atoi(argv[i + 1]);
  }
  const char* target = std::getenv("CCB_IT_SCALER");
  const char* dir = std::getenv("CCB_IT_DIR");
  if (!target || !dir || requests <= 0 || concurrency <= 0) {
    std::cerr << "scaler_load: run through run_integration.sh\n";
    return 2;
  }
  // Six unschedulable 1 vCPU / 4 GiB pods: the answer is 2 replicas once Prometheus scraped them.
  {
    std::ofstream f(std::string(dir) + "/ksm.prom");
    f << "kube_node_status_allocatable{node=\"node-1\",resource=\"cpu\"} 16\n"
         "kube_node_status_allocatable{node=\"node-1\",resource=\"memory\"} 68719476736\n"
         "kube_pod_container_resource_requests{namespace=\"default\",pod=\"r\",node=\"node-1\","
         "resource=\"cpu\"} 16\n"
         "kube_pod_container_resource_requests{namespace=\"default\",pod=\"r\",node=\"node-1\","
         "resource=\"memory\"} 68719476736\n";
    for (int i = 0; i < 6; ++i) {
      f << fmt::format(
          "kube_pod_status_unschedulable{{namespace=\"default\",pod=\"on-prem-deployment-{0}\"}} "
          "1\n"
          "kube_pod_container_resource_requests{{namespace=\"default\",pod=\"on-prem-deployment-{0}"
          "\","
          "node=\"\",resource=\"cpu\"}} 1\n"
          "kube_pod_container_resource_requests{{namespace=\"default\",pod=\"on-prem-deployment-{0}"
          "\","
          "node=\"\",resource=\"memory\"}} 4294967296\n",
          i);
    }
  }
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  externalscaler::GetMetricsRequest req;
  req.mutable_scaledobjectref()->set_name("load");
  req.mutable_scaledobjectref()->set_namespace_("default");
  (*req.mutable_scaledobjectref()->mutable_scalermetadata())["workload"] = "web";
  req.set_metricname("s0-ccburst-web");
  auto call = [&](externalscaler::ExternalScaler::Stub& stub) -> int64_t {
    grpc::ClientContext ctx;
    externalscaler::GetMetricsResponse resp;
    if (!stub.GetMetrics(&ctx, req, &resp).ok() || resp.metricvalues_size() != 1) return -1;
    return resp.metricvalues(0).metricvalue();
  };
  {
    auto stub = externalscaler::ExternalScaler::NewStub(channel);
    for (int i = 0; i < 600 && call(*stub) != 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (call(*stub) != 2) {
      std::cerr << "scaler_load: the scaler never answered 2\n";
      return 1;
    }
  }
  std::vector<std::vector<double>> lat(concurrency);
  int errors = 0;
  std::mutex mu;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c) {
    threads.emplace_back([&, c] {
      auto stub = externalscaler::ExternalScaler::NewStub(channel);
      for (int i = c; i < requests; i += concurrency) {
        auto s = std::chrono::steady_clock::now();
        int64_t v = call(*stub);
        lat[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s)
                .count());
        if (v != 2) {
          std::lock_guard<std::mutex> lock(mu);
          ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::cout << fmt::format(
                   "GetMetrics requests={} concurrency={} errors={} rps={:.0f} p50={:.2f}ms "
                   "p90={:.2f}ms p99={:.2f}ms max={:.2f}ms",
                   all.size(), concurrency, errors, all.size() / wall, pct(0.5), pct(0.9),
                   pct(0.99), all.back())
            << std::endl;
  return errors == 0 ? 0 : 1;
}
