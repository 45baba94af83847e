// kbs_load: load generator for a running KBS. N concurrent clients, each on its own kept-alive
// connection, loop over the whole protocol flow (auth + attest + get-resource, with JWE
// decryption) for a fixed time. The TEE is the sample TEE, or TDX/SNP with evidence generated from
// a test hierarchy (`ccburst-testgen hierarchy`) that the KBS trusts, so the figures include real
// quote/report verification. Prints flows/s and latency percentiles of a complete flow,
// the CPU time each side spent per flow, and the server's peak RSS when given its pid. Results and
// commands: docs/performance.md.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "agent/attester.h"
#include "agent/kbs_client.h"
#ifdef CCB_KBS_LOAD_GENERATED_TEES
#include "agent/testing/generated_attesters.h"
#endif
#include "crypto/key.h"
#include "net/http_client.h"

namespace {

long ReadStatusKb(int pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// User + system CPU seconds a process has used so far (/proc/<pid>/stat), or -1.
double CpuSeconds(const std::string& pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  // After the command name: state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

// Open file descriptors of a process (/proc/<pid>/fd), or -1.
long CountFds(int pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  return std::distance(it, std::filesystem::directory_iterator());
}

// Least-squares slope of y over x.
double Slope(const std::vector<double>& x, const std::vector<double>& y) {
  double n = static_cast<double>(x.size());
  if (n < 2) return 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  double d = n * sxx - sx * sx;
  return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}

int main(int argc, char** argv) {
  CLI::App app{"kbs_load: concurrent protocol flows against a KBS"};
  std::string ca, path = "default/key/model", expect, tee = "sample", hierarchy;
  std::vector<std::string> urls;
  std::vector<int> server_pids;
  int clients = 32, seconds = 10, warmup = 2, retries = 0, sample_every = 0;
  app.add_option("--url", urls,
                 "KBS base URL; repeated: replicas, each flow spread across them (/auth and "
                 "/resource on one, /attest on the next)")
      ->required();
  bool spread = true;
  app.add_option("--spread", spread,
                 "with several --url: spread each flow across replicas (false: each flow on one "
                 "replica, round robin)")
      ->capture_default_str();
  app.add_option("--retries", retries,
                 "retry a failed flow this many times, from /auth on the next replica")
      ->capture_default_str();
  app.add_option("--cert-file", ca, "CA for HTTPS");
  app.add_option("--path", path, "resource to fetch")->capture_default_str();
  app.add_option("--clients", clients, "concurrent clients")->capture_default_str();
  app.add_option("--seconds", seconds, "measured duration")->capture_default_str();
  app.add_option("--warmup", warmup, "unmeasured warm-up seconds")->capture_default_str();
  app.add_option("--server-pid", server_pids, "report these processes' CPU and RSS (repeatable)");
  app.add_option(
      "--sample-every", sample_every,
      "soak: every N seconds print the (first) server's RSS and open fds; at the end the "
      "RSS slope after the first fifth of the run (KB/min) and the fd range");
  app.add_option("--expect", expect, "expected secret bytes (checked on every flow)");
  app.add_option("--tee", tee,
                 "sample, or tdx/snp/az-tdx-vtpm/az-snp-vtpm with evidence from --hierarchy")
      ->check(CLI::IsMember({"sample", "tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm"}))
      ->capture_default_str();
  app.add_option("--hierarchy", hierarchy, "test hierarchy directory (ccburst-testgen hierarchy)");
  CLI11_PARSE(app, argc, argv);

  // Every client gets its own attester; the TDX/SNP ones share one loaded hierarchy.
  std::function<std::unique_ptr<ccburst::agent::Attester>()> new_attester = [] {
    return ccburst::agent::NewSampleAttester();
  };
  if (tee != "sample") {
#ifdef CCB_KBS_LOAD_GENERATED_TEES
    if (hierarchy.empty()) {
      std::cerr << "kbs_load: --tee " << tee << " needs --hierarchy DIR\n";
      return 2;
    }
    auto attesters = ccburst::agent::testing::LoadGeneratedAttesters(tee, hierarchy);
    if (!attesters.ok()) {
      std::cerr << "kbs_load: " << attesters.status().message() << "\n";
      return 2;
    }
    new_attester = [factory = *std::move(attesters)] { return factory({}); };
#else
    std::cerr << "kbs_load: built without the TDX/SNP test generators\n";
    return 2;
#endif
  }

  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::string first_error;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto connect = [&](const std::string& url) {
        ccburst::net::HttpClientOptions o;
        o.base_url = url;
        if (!ca.empty()) o.ca_certificate_file = ca;
        auto http = ccburst::net::HttpClient::Create(o);
        if (!http.ok()) {
          std::cerr << http.status().message() << "\n";
          std::exit(2);
        }
        return *std::move(http);
      };
      // One TEE key per client, as a pod keeps its key for its lifetime; one KbsClient per
      // replica, each sending /attest to the next replica.
      ccburst::crypto::PrivateKey tee_key = ccburst::crypto::PrivateKey::GenerateEcP256();
      std::vector<std::unique_ptr<ccburst::net::HttpClient>> attest_via;
      std::vector<std::unique_ptr<ccburst::agent::KbsClient>> replicas;
      for (const auto& url : urls) {
        replicas.push_back(std::make_unique<ccburst::agent::KbsClient>(connect(url), new_attester(),
                                                                       tee_key, "ECDH-ES+A256KW"));
        attest_via.push_back(connect(url));
      }
      // Retries run the whole flow on one replica (the spread flow needs every replica up).
      std::vector<std::unique_ptr<ccburst::agent::KbsClient>> solo;
      if (urls.size() > 1 && spread) {
        for (size_t r = 0; r < urls.size(); ++r) {
          replicas[r]->set_attest_http(attest_via[(r + 1) % urls.size()].get());
          solo.push_back(std::make_unique<ccburst::agent::KbsClient>(
              connect(urls[r]), new_attester(), tee_key, "ECDH-ES+A256KW"));
        }
      }
      size_t next = static_cast<size_t>(i);
      std::vector<double> local;
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = std::chrono::steady_clock::now();
        absl::StatusOr<std::string> secret;
        for (int attempt = 0; attempt <= retries; ++attempt) {
          auto& client = attempt > 0 && !solo.empty() ? *solo[next++ % solo.size()]
                                                      : *replicas[next++ % replicas.size()];
          auto token = client.Attest();
          secret =
              token.ok() ? client.GetResource(path) : absl::StatusOr<std::string>(token.status());
          if (secret.ok()) break;
        }
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count();
        bool ok = secret.ok() && (expect.empty() || *secret == expect);
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (ok) {
          local.push_back(ms);
        } else {
          errors.fetch_add(1);
          std::lock_guard lock(mu);
          if (first_error.empty()) {
            first_error = secret.ok() ? "secret mismatch" : std::string(secret.status().message());
          }
        }
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), local.begin(), local.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  auto servers_cpu = [&] {
    double sum = 0;
    for (int pid : server_pids) sum += CpuSeconds(std::to_string(pid));
    return sum;
  };
  double server_cpu0 = servers_cpu();
  double client_cpu0 = CpuSeconds("self");
  measuring = true;
  auto t0 = std::chrono::steady_clock::now();
  long peak_rss = 0;
  std::vector<double> sample_min, sample_rss_kb;
  std::vector<long> sample_fds;
  auto next_sample = t0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int pid : server_pids) peak_rss = std::max(peak_rss, ReadStatusKb(pid, "VmRSS"));
    const int server_pid = server_pids.empty() ? 0 : server_pids.front();
    auto now = std::chrono::steady_clock::now();
    if (server_pid && sample_every > 0 && now >= next_sample) {
      next_sample += std::chrono::seconds(sample_every);
      double minutes = std::chrono::duration<double, std::ratio<60>>(now - t0).count();
      long rss = ReadStatusKb(server_pid, "VmRSS");
      long fds = CountFds(server_pid);
      sample_min.push_back(minutes);
      sample_rss_kb.push_back(static_cast<double>(rss));
      sample_fds.push_back(fds);
      std::cout << fmt::format("soak t_s={:.0f} server_rss_kb={} server_fds={} errors={}\n",
                               minutes * 60, rss, fds, errors.load())
                << std::flush;
    }
  }
  measuring = false;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double server_cpu = servers_cpu() - server_cpu0;
  double client_cpu = CpuSeconds("self") - client_cpu0;
  stop = true;
  for (auto& t : threads) t.join();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    size_t i = std::min(latencies_ms.size() - 1, static_cast<size_t>(p * latencies_ms.size()));
    return latencies_ms[i];
  };
  std::cout << fmt::format(
      "url={} tee={} clients={} seconds={:.1f} flows={} flows_per_s={:.0f} p50_ms={:.2f} "
      "p99_ms={:.2f} "
      "max_ms={:.2f} errors={}",
      fmt::join(urls, ","), tee, clients, elapsed, latencies_ms.size(),
      latencies_ms.size() / elapsed, pct(0.50), pct(0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back(), errors.load());
  // CPU per completed flow: where the 2 cores go (client and server share the machine).
  double flows = std::max<double>(1, static_cast<double>(latencies_ms.size()));
  std::cout << fmt::format(" client_cpu_us_per_flow={:.0f}", 1e6 * client_cpu / flows);
  if (!server_pids.empty()) {
    // Summed over every server process (the replicas; not the database).
    std::cout << fmt::format(" server_cpu_us_per_flow={:.0f}", 1e6 * server_cpu / flows);
    std::cout << fmt::format(" server_rss_mb={:.1f} server_peak_rss_mb={:.1f}", peak_rss / 1024.0,
                             ReadStatusKb(server_pids.front(), "VmHWM") / 1024.0);
  }
  std::cout << "\n";
  if (!sample_min.empty()) {
    // After warm-up: the first fifth of the run is allocator and cache growth.
    size_t from = sample_min.size() / 5;
    std::vector<double> x(sample_min.begin() + from, sample_min.end());
    std::vector<double> y(sample_rss_kb.begin() + from, sample_rss_kb.end());
    auto [fd_min, fd_max] = std::minmax_element(sample_fds.begin() + from, sample_fds.end());
    std::cout << fmt::format(
        "soak samples={} rss_first_kb={:.0f} rss_last_kb={:.0f} rss_slope_kb_per_min={:.1f} "
        "fds_min={} fds_max={}\n",
        y.size(), y.front(), y.back(), Slope(x, y), *fd_min, *fd_max);
  }
  if (!first_error.empty()) std::cerr << "first error: " << first_error << "\n";
  return errors.load() == 0 ? 0 : 1;
}
