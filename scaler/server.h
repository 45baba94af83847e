// Runs ccburst-scaler: loads the configuration, starts the KEDA gRPC service and the HTTP
// endpoint (/metrics, /healthz), and serves until SIGINT/SIGTERM.
#pragma once

#include <string>

namespace ccburst::scaler {

// Returns the process exit code: 0 after a clean shutdown, 2 for a bad configuration, 1 when a
// listener cannot start. Errors are logged naming the cause.
int RunScaler(const std::string& config_path);

}  // namespace ccburst::scaler
