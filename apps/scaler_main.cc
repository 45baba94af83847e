// ccburst-scaler: the attestation-aware KEDA external scaler, and its simulator.
//   ccburst-scaler --config scaler.toml
//   ccburst-scaler simulate --trace demand.csv [--policy seed|ccburst|both] [--json]
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/file.h"
#include "scaler/config.h"
#include "scaler/server.h"
#include "scaler/simulator.h"

namespace {

using namespace ccburst;

struct SimFlags {
  int max_replicas = 4;
  int vm_startup = 90;
  int attestation = 5;
  int image_pull = 20;
  int scale_in_cooldown = 300;
};

int Simulate(const std::string& trace_path, const std::string& policy, bool as_json,
             const SimFlags& f) {
  auto csv = core::ReadFile(trace_path);
  if (!csv.ok()) {
    std::cerr << "ccburst-scaler: " << core::Message(csv.status()) << "\n";
    return 2;
  }
  auto trace = scaler::ParseTrace(*csv);
  if (!trace.ok()) {
    std::cerr << "ccburst-scaler: " << trace_path << ": " << core::Message(trace.status()) << "\n";
    return 2;
  }
  std::vector<scaler::PolicyKind> kinds;
  if (policy == "both") {
    kinds = {scaler::PolicyKind::kSeed, scaler::PolicyKind::kCcburst};
  } else {
    auto k = scaler::ParsePolicyKind(policy);
    if (!k.ok()) {
      std::cerr << "ccburst-scaler: " << core::Message(k.status()) << "\n";
      return 2;
    }
    kinds = {*k};
  }
  scaler::SimParams params;
  params.policy.max_replicas = f.max_replicas;
  params.vm_startup = std::chrono::seconds(f.vm_startup);
  params.attestation = std::chrono::seconds(f.attestation);
  params.image_pull = std::chrono::seconds(f.image_pull);
  params.policy.scale_in_cooldown = std::chrono::seconds(f.scale_in_cooldown);
  if (!as_json) {
    std::cout << fmt::format("{:<8} {:>20} {:>14} {:>10} {:>7} {:>6} {:>5}\n", "policy",
                             "pending_pod_seconds", "instance_hours", "cost", "events", "flaps",
                             "peak");
  }
  for (auto k : kinds) {
    auto r = scaler::Simulate(*trace, k, params);
    if (!r.ok()) {
      std::cerr << "ccburst-scaler: " << core::Message(r.status()) << "\n";
      return 2;
    }
    if (as_json) {
      std::cout << scaler::ToJsonLine(*r) << "\n";
    } else {
      std::cout << fmt::format("{:<8} {:>20.0f} {:>14.2f} {:>10.2f} {:>7} {:>6} {:>5}\n",
                               scaler::PolicyKindName(k), r->pending_pod_seconds,
                               r->cloud_instance_hours, r->cost, r->scale_events, r->flaps,
                               r->peak_replicas);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ccburst-scaler: attestation-aware KEDA external scaler"};
  std::string config_path;
  app.add_option("--config", config_path, "scaler configuration (TOML)");
  auto* sim = app.add_subcommand("simulate", "replay a demand trace through a burst policy");
  std::string trace_path;
  std::string policy = "both";
  bool as_json = false;
  SimFlags flags;
  sim->add_option("--trace", trace_path, "CSV t_seconds,demand_pods,onprem_capacity_pods[,...]")
      ->required();
  sim->add_option("--policy", policy, "seed, ccburst or both")->capture_default_str();
  sim->add_option("--max-replicas", flags.max_replicas, "replica cap for both policies")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  sim->add_option("--vm-startup-seconds", flags.vm_startup, "cloud VM start-up latency")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  sim->add_option("--attestation-seconds", flags.attestation, "attestation + key release time")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  sim->add_option("--image-pull-seconds", flags.image_pull,
                  "how long a newly scheduled on-prem pod stays Pending")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  sim->add_option("--scale-in-cooldown-seconds", flags.scale_in_cooldown,
                  "ccburst's scale-in cool-down")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  bool check_only = false;
  app.add_flag("--check", check_only, "validate --config and exit");
  sim->add_flag("--json", as_json, "one JSON object per policy");
  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr; stdout carries the `ready` line and simulation results.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("ccburst-scaler"));
  if (sim->parsed()) return Simulate(trace_path, policy, as_json, flags);
  if (config_path.empty()) {
    std::cerr << "ccburst-scaler: --config is required (or use `simulate`)\n";
    return 2;
  }
  if (check_only) {
    auto config = scaler::LoadScalerConfig(config_path);
    if (!config.ok()) {
      std::cerr << "ccburst-scaler: " << config_path << ": " << core::Message(config.status())
                << "\n";
      return 2;
    }
    std::cout << fmt::format("{}: ok ({} profiles, {} workloads)\n", config_path,
                             config->profiles.size(), config->workloads.size());
    return 0;
  }
  return scaler::RunScaler(config_path);
}
