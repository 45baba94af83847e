// ccburst-scaler: the attestation-aware KEDA external scaler, and its simulator.
//   ccburst-scaler --config scaler.toml
//   ccburst-scaler simulate --trace demand.csv [--policy seed|ccburst|both] [--json]
//   ccburst-scaler simulate --family trading-day|...|all --seeds N [--phases M] [--json]
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/file.h"
#include "scaler/config.h"
#include "scaler/evaluation.h"
#include "scaler/server.h"
#include "scaler/simulator.h"
#include "scaler/tracegen.h"

namespace {

using namespace ccburst;

struct SimFlags {
  int max_replicas = 4;
  int vm_startup = 90;
  int attestation = 5;
  int image_pull = 20;
  int scale_in_cooldown = -1;  // -1: the ski-rental cool-down
  int scrape_interval = 60;
  int phases = 9;
  uint64_t phase_seed = 1;
  std::string family;
  int seeds = 10;
  uint64_t first_seed = 1;
  double pending_pod_hour = 1.0;
  double warm_pods = -1;  // -1: the default policy's
  int trend_window = -1;  // -1: the default policy's
  bool no_learned_hold = false;
  double flap_price = -1;  // -1: the default policy's
  bool dump_trace = false;
};

int Fail(const std::string& message) {
  std::cerr << "ccburst-scaler: " << message << "\n";
  return 2;
}

int Simulate(const std::string& trace_path, const std::string& policy, bool as_json,
             const SimFlags& f) {
  std::vector<std::pair<std::string, std::vector<std::vector<scaler::TraceRow>>>> sets;
  if (!trace_path.empty()) {
    auto csv = core::ReadFile(trace_path);
    if (!csv.ok()) return Fail(core::Message(csv.status()));
    auto trace = scaler::ParseTrace(*csv);
    if (!trace.ok()) return Fail(trace_path + ": " + core::Message(trace.status()));
    sets.push_back({trace_path, {*trace}});
  }
  if (!f.family.empty()) {
    std::vector<std::string_view> families;
    if (f.family == "all") {
      families = scaler::TraceFamilies();
    } else {
      families = {f.family};
    }
    for (auto family : families) {
      std::vector<std::vector<scaler::TraceRow>> traces;
      for (int i = 0; i < f.seeds; ++i) {
        auto trace = scaler::GenerateTrace(family, f.first_seed + static_cast<uint64_t>(i));
        if (!trace.ok()) return Fail(core::Message(trace.status()));
        if (f.dump_trace) std::cout << scaler::TraceToCsv(*trace);
        traces.push_back(*std::move(trace));
      }
      sets.push_back({std::string(family), std::move(traces)});
    }
  }
  if (sets.empty()) return Fail("simulate: give --trace or --family");
  if (f.dump_trace) return 0;
  std::vector<scaler::PolicyKind> kinds;
  if (policy == "both") {
    kinds = {scaler::PolicyKind::kSeed, scaler::PolicyKind::kCcburst};
  } else {
    auto k = scaler::ParsePolicyKind(policy);
    if (!k.ok()) return Fail(core::Message(k.status()));
    kinds = {*k};
  }
  scaler::SimParams params;
  params.policy.max_replicas = f.max_replicas;
  params.vm_startup = std::chrono::seconds(f.vm_startup);
  params.attestation = std::chrono::seconds(f.attestation);
  params.image_pull = std::chrono::seconds(f.image_pull);
  params.scrape_interval = std::chrono::seconds(f.scrape_interval);
  if (f.scale_in_cooldown >= 0) {
    params.policy.scale_in_cooldown = std::chrono::seconds(f.scale_in_cooldown);
    params.policy.ski_rental = false;
  }
  params.policy.startup_seconds = f.vm_startup + f.attestation;
  params.policy.pending_pod_hour = f.pending_pod_hour;
  params.cost_model.pending_pod_hour = f.pending_pod_hour;
  if (f.warm_pods >= 0) params.policy.warm_pods = f.warm_pods;
  if (f.trend_window >= 0) params.policy.trend_window = std::chrono::seconds(f.trend_window);
  if (f.no_learned_hold) params.policy.learn_min_gaps = 0;
  if (f.flap_price >= 0) params.policy.flap_price = f.flap_price;
  for (const auto& [name, traces] : sets) {
    auto report = scaler::Evaluate(name, traces, kinds, params, f.phases, f.phase_seed);
    if (!report.ok()) return Fail(core::Message(report.status()));
    if (as_json) {
      for (const std::string& line : scaler::ReportJsonLines(*report)) std::cout << line << "\n";
    } else {
      std::cout << scaler::ReportText(*report) << "\n";
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
  sim->add_option("--trace", trace_path, "CSV t_seconds,demand_pods,onprem_capacity_pods[,...]");
  sim->add_option("--family", flags.family,
                  "generated trace family (diurnal, flash-spikes, ramps, month-end, trading-day, "
                  "noisy, gpu-heavy, long-quiet, memory-pending) or `all`");
  sim->add_option("--seeds", flags.seeds, "traces per family (seeds --first-seed...)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sim->add_option("--first-seed", flags.first_seed, "first trace seed")->capture_default_str();
  sim->add_option("--phases", flags.phases,
                  "random clock-phase draws per trace (scrape, KEDA poll, HPA sync, push)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sim->add_option("--phase-seed", flags.phase_seed, "seed of the phase draws")
      ->capture_default_str();
  sim->add_option("--scrape-interval-seconds", flags.scrape_interval,
                  "kube-state-metrics scrape interval")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  sim->add_option("--pending-pod-hour-price", flags.pending_pod_hour,
                  "price of one pod pending for an hour (the bound's objective)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
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
                  "ccburst's fixed scale-in cool-down (default: the ski-rental one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  sim->add_option(
      "--warm-pods", flags.warm_pods,
      "ccburst: pods of warm cloud room beyond on-prem's free room (default: policy's)");
  sim->add_option("--trend-window-seconds", flags.trend_window,
                  "ccburst: window of the shortage-growth reserve, 0 = off (default: policy's)");
  sim->add_flag("--no-learned-hold", flags.no_learned_hold,
                "ccburst: the plain ski-rental hold, not shortened from the idle gaps");
  sim->add_option("--flap-price", flags.flap_price,
                  "ccburst: a reboot's price beyond its pending pods (default: policy's)")
      ->check(CLI::Range(0.0, 1e9));
  sim->add_flag("--dump-trace", flags.dump_trace,
                "print the generated traces as CSV (the --trace format) instead of simulating");
  bool check_only = false;
  app.add_flag("--check", check_only, "validate --config and exit");
  sim->add_flag("--json", as_json, "one JSON object per policy and one for the bound");
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
