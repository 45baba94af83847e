// Start-up of `ccburst-agent`: its settings (command line over the optional agent.toml, whose keys
// are the option names without dashes, '-' -> '_'), and the steps from settings to a ready
// DataHub: read the init-data, pick the attester, refuse init-data the TEE did not measure, build
// the KBS client (URL and pinned certificate from the settings, else from init-data) with bounded
// responses.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/attesters.h"
#include "agent/data_hub.h"
#include "agent/init_data.h"
#include "core/status.h"

namespace ccburst::agent {

struct AgentSettings {
  std::string tee = "auto";
  std::optional<std::string> kbs_url;
  std::optional<std::string> kbs_cert;  // a PEM file
  std::optional<std::string> initdata;  // an init-data TOML file
  AttesterOptions attester;
  std::string tee_key_alg = "ECDH-ES+A256KW";
  std::string listen = "127.0.0.1:8006";
  // Largest KBS response accepted (a resource JWE, a token); larger ones are an error.
  size_t max_kbs_response_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds kbs_timeout{10000};
};

// Reads agent.toml into `settings` (keys present override; unknown keys are InvalidArgument
// "config: unknown key `x`", as ccburst-kbs's configuration).
absl::Status LoadAgentConfig(const std::string& path, AgentSettings& settings);

struct Agent {
  std::optional<InitData> init_data;
  std::unique_ptr<DataHub> hub;
  std::string tee;
  std::string kbs_url;
};

// Runs the start-up steps. Errors name the step: "init-data: ...", "attester: ...",
// "tdx: mr_config_id ... does not match the init-data digest ..." (PermissionDenied), "kbs: no
// KBS URL (--kbs-url or init-data cdh.toml [kbc] url)" (InvalidArgument).
absl::StatusOr<Agent> StartAgent(const AgentSettings& settings);

}  // namespace ccburst::agent
