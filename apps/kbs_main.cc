// ccburst-kbs: the key broker service. Flags, config and signal handling only; everything else
// lives in kbs/.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "kbs/config.h"
#include "kbs/kbs_service.h"

int main(int argc, char** argv) {
  CLI::App app{"ccburst-kbs: Trustee-compatible key broker service (KBS protocol 0.4.0)"};
  std::string config_path;
  std::string log_level = "info";
  app.add_option("-c,--config,--config-file", config_path, "KBS configuration (TOML)")
      ->envname("KBS_CONFIG_FILE")
      ->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // worker threads inherit the mask

  auto config = ccburst::kbs::LoadKbsConfig(config_path);
  if (!config.ok()) {
    std::cerr << "ccburst-kbs: " << config.status().message() << "\n";
    return 2;
  }
  for (const auto& w : config->warnings) {
    spdlog::warn("INSECURE: {}", w);
  }
  if (config->admin.mode == ccburst::kbs::AdminMode::kDenyAll) {
    spdlog::info("admin API closed (admin.authorization_mode = DenyAll)");
  }
  auto server = ccburst::kbs::KbsServer::Start(*config);
  if (!server.ok()) {
    std::cerr << "ccburst-kbs: " << server.status().message() << "\n";
    return 1;
  }
  const auto ports = (*server)->ports();
  for (size_t i = 0; i < ports.size(); ++i) {
    spdlog::info("listening on {} (port {}, {})", config->http_server.sockets[i], ports[i],
                 config->http_server.insecure_http ? "HTTP" : "HTTPS");
  }
  // One machine-readable line for scripts that start us on port 0.
  std::cout << "ccburst-kbs ready port=" << (ports.empty() ? 0 : ports[0]) << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  (*server)->Stop();
  return 0;
}
