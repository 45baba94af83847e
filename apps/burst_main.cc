// ccburst-burst: runs the burst scenario against the real ccburst-scaler, Prometheus and
// ccburst-kbs that scripts/demo.sh (or tests/e2e_burst.sh) started; see burst/run.h and
// docs/bursting.md. Every option may also come from --config (TOML, `name = value`).
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "burst/run.h"
#include "core/encoding.h"
#include "core/file.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace {

using namespace ccburst;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Fail(const std::string& why) {
  std::cerr << "ccburst-burst: " << why << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ccburst-burst: the burst scenario, end to end on one machine"};
  app.set_config("--config", "", "demo configuration (TOML)");
  std::string scenario = "burst-demo", traces_dir, policies = "ccburst,seed", out_dir;
  double start = 0, duration = 0, speed = 30, tick = 5, print_every = 60;
  burst::RunOptions o;
  burst::CloudOptions& c = o.cloud;
  std::string model_key_file, kbs_url, kbs_cert, hierarchy, bin;
  double ccburst_cooldown = 30, ccburst_polling = 30, seed_cooldown = 300, seed_polling = 30;
  double ccburst_stabilization = 0, seed_stabilization = 300;
  int max_replicas = 4;
  app.add_option("--scenario", scenario, "a trace name in --traces-dir or a CSV path")
      ->capture_default_str();
  app.add_option("--traces-dir", traces_dir, "directory of the shipped traces");
  app.add_option("--start", start, "scenario second where the run starts")->capture_default_str();
  app.add_option("--duration", duration, "simulated seconds to run (0: to the trace's end)");
  app.add_option("--speed", speed, "simulated seconds per wall second")->capture_default_str();
  app.add_option("--tick", tick, "simulated seconds per tick")->capture_default_str();
  app.add_option("--print-every", print_every, "simulated seconds per live line")
      ->capture_default_str();
  app.add_option("--policies", policies, "comma list of runs: ccburst, seed")
      ->capture_default_str();
  app.add_option("--out", out_dir, "directory for summary.txt, burst.svg and the VMs")->required();
  app.add_option("--exposition-file", o.exposition_file, "cluster model /metrics body")->required();
  app.add_option("--scaler-grpc", o.scaler_grpc, "ccburst-scaler gRPC address");
  app.add_option("--scaler-http", o.scaler_http, "ccburst-scaler HTTP base URL");
  app.add_option("--prometheus", o.prometheus, "Prometheus base URL")->required();
  app.add_option("--workload", o.workload, "scaler workload")->capture_default_str();
  app.add_option("--seed-query", o.seed_query, "the seed ScaledObject's query");
  app.add_option("--seed-threshold", o.seed_threshold, "its threshold")->capture_default_str();
  app.add_option("--max-replicas", max_replicas, "maxReplicaCount")->capture_default_str();
  app.add_option("--ccburst-polling-interval", ccburst_polling)->capture_default_str();
  app.add_option("--ccburst-cooldown-period", ccburst_cooldown)->capture_default_str();
  app.add_option("--ccburst-stabilization", ccburst_stabilization)->capture_default_str();
  app.add_option("--seed-polling-interval", seed_polling)->capture_default_str();
  app.add_option("--seed-cooldown-period", seed_cooldown)->capture_default_str();
  app.add_option("--seed-stabilization", seed_stabilization)->capture_default_str();
  std::vector<std::string> node_options;
  app.add_option("--node", node_options,
                 "NAME:CPU:MEMORY_GIB, an on-prem node (repeatable; a trace's `# node` header "
                 "lines win; none: the trace's onprem_capacity_pods column)");
  app.add_option("--pods-per-instance", o.pods_per_instance)->capture_default_str();
  app.add_option("--image-pull-seconds", o.image_pull_seconds)->capture_default_str();
  app.add_option("--vm-stub-command", c.stub_command,
                 "a VM's host side (vTPM + IMDS stand-ins, or configfs-tsm)")
      ->required();
  app.add_option("--vm-agent-command", c.agent_command, "a VM's ccburst-agent serve")->required();
  app.add_option("--vm-initdata-algorithm", c.initdata_algorithm,
                 "the init-data digest: sha384 (TDX MRCONFIGID) or sha256 (Azure vTPM PCR8)")
      ->check(CLI::IsMember({"sha256", "sha384"}))
      ->capture_default_str();
  std::vector<std::string> extra_vars;
  app.add_option("--var", extra_vars, "NAME=VALUE: a placeholder of the VM commands (repeatable)");
  app.add_option("--vm-startup-seconds", c.startup_seconds)->capture_default_str();
  app.add_option("--tampered-vm", c.tampered_vm, "the n-th VM is tampered (0: none)")
      ->capture_default_str();
  app.add_option("--good-mrtd", c.good_mrtd, "MRTD in the reference values (hex)")->required();
  app.add_option("--tampered-mrtd", c.tampered_mrtd, "MRTD of the tampered VM (hex)")->required();
  app.add_option("--price-per-hour", c.price_per_hour)->capture_default_str();
  app.add_option("--model-key", model_key_file, "the 32-byte key the KBS holds")->required();
  app.add_option("--kbs-url", kbs_url)->required();
  app.add_option("--kbs-cert", kbs_cert);
  app.add_option("--hierarchy", hierarchy, "TDX test hierarchy directory");
  app.add_option("--bin", bin, "directory of the ccburst binaries");
  std::string testgen, agent;
  app.add_option("--agent", agent, "ccburst-agent binary (default: --bin/ccburst-agent)");
  app.add_option("--testgen", testgen, "ccburst-testgen binary (tsm-stub)");
  CLI11_PARSE(app, argc, argv);

  std::string trace_path = scenario;
  if (scenario.find('/') == std::string::npos && !scenario.ends_with(".csv")) {
    trace_path = traces_dir + "/" + scenario + ".csv";
  }
  auto csv = core::ReadFile(trace_path);
  if (!csv.ok()) return Fail(core::Message(csv.status()));
  auto trace = scaler::ParseTrace(*csv);
  if (!trace.ok()) return Fail(trace_path + ": " + core::Message(trace.status()));
  o.trace = *std::move(trace);
  // The on-prem cluster: the trace's header, else the configuration's nodes (with the header's
  // node events either way), else the capacity column (burst/cluster.h).
  auto cluster = burst::ParseClusterHeader(*csv);
  if (!cluster.ok()) return Fail(trace_path + ": " + core::Message(cluster.status()));
  o.cluster = *std::move(cluster);
  if (o.cluster.nodes.empty()) {
    for (const std::string& n : node_options) {
      auto node = burst::ParseNodeSpec(n);
      if (!node.ok()) return Fail(core::Message(node.status()));
      o.cluster.nodes.push_back(*std::move(node));
    }
  }
  o.start_seconds = start;
  o.duration_seconds =
      duration > 0 ? duration : static_cast<double>(o.trace.back().t_seconds) - start;
  o.speed = speed;
  o.tick_seconds = tick;
  o.print_every_seconds = print_every;

  // The workload's model, encrypted (AES-256-GCM) with the key only the KBS releases.
  auto key = core::ReadFile(model_key_file);
  if (!key.ok()) return Fail(core::Message(key.status()));
  std::string model = "ccburst demo model weights\n" + crypto::RandomBytes(1 << 20);
  auto sealed = burst::SealModel(*key, model);
  if (!sealed.ok()) return Fail(core::Message(sealed.status()));
  c.model_file = out_dir + "/model.enc";
  if (auto s = core::WriteFile(c.model_file, *sealed); !s.ok()) return Fail(core::Message(s));
  c.model_sha256_hex = core::HexEncode(crypto::Sha256(model));
  c.vars = {{"kbs_url", kbs_url},     {"kbs_cert", kbs_cert},
            {"hierarchy", hierarchy}, {"bin", bin},
            {"testgen", testgen},     {"agent", agent.empty() ? bin + "/ccburst-agent" : agent}};
  for (const std::string& v : extra_vars) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) return Fail("--var " + v + ": want NAME=VALUE");
    c.vars[v.substr(0, eq)] = v.substr(eq + 1);
  }

  // SIGINT/SIGTERM end the run cleanly: every guest process is stopped before exiting.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  o.stop = &g_stop;
  std::vector<burst::RunResult> runs;
  for (std::string_view p : {std::string_view("ccburst"), std::string_view("seed")}) {
    if (policies.find(p) == std::string::npos) continue;
    o.policy = std::string(p);
    burst::ScaledObjectSpec& so = o.scaled_object;
    so.keda.min_replica_count = 0;
    so.keda.max_replica_count = max_replicas;
    so.hpa_sync_seconds = 15;
    if (p == "ccburst") {
      so.name = "cloud-burst-ccburst";
      so.keda.polling_interval_seconds = ccburst_polling;
      so.keda.cooldown_period_seconds = ccburst_cooldown;
      so.scale_down_stabilization_seconds = ccburst_stabilization;
    } else {
      so.name = "pod-status-scaledobject";
      so.keda.polling_interval_seconds = seed_polling;
      so.keda.cooldown_period_seconds = seed_cooldown;
      so.scale_down_stabilization_seconds = seed_stabilization;
    }
    c.work_dir = out_dir + "/" + o.policy;
    std::filesystem::create_directories(c.work_dir);
    std::cout << "\n== run: " << o.policy << " ScaledObject `" << so.name << "` ("
              << (p == "ccburst" ? "external-push -> ccburst-scaler gRPC"
                                 : "prometheus trigger: Pending pods")
              << "), scenario " << scenario << ", " << o.duration_seconds << " s at speed " << speed
              << "\n";
    auto r = burst::Run(o, std::cout);
    if (!r.ok()) return Fail(core::Message(r.status()));
    if (auto s = core::WriteFile(c.work_dir + "/result.json", burst::ToJson(*r)); !s.ok()) {
      return Fail(core::Message(s));
    }
    runs.push_back(*std::move(r));
    if (g_stop) return Fail("interrupted");
  }
  std::string summary = burst::Summary(runs, c.price_per_hour);
  std::string svg = burst::Svg(runs);
  std::cout << "\n== summary\n" << summary;
  if (auto s = core::WriteFile(out_dir + "/summary.txt", summary); !s.ok())
    return Fail(core::Message(s));
  if (auto s = core::WriteFile(out_dir + "/burst.svg", svg); !s.ok()) return Fail(core::Message(s));
  std::cout << "plot: " << out_dir << "/burst.svg\nsummary: " << out_dir << "/summary.txt\n";
  return 0;
}
