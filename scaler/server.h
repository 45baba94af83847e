// Runs ccburst-scaler: loads the configuration, starts the KEDA gRPC service and the HTTP
// endpoint (/metrics, /healthz), and serves until SIGINT/SIGTERM.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "scaler/config.h"

namespace ccburst::scaler {

// The gRPC listener's credentials for `tls` (see GrpcTlsConfig): plaintext, TLS, or mutual TLS
// requiring a client certificate that chains to the client CA. An unreadable file is an error
// naming its key.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(
    const GrpcTlsConfig& tls);

// Returns the process exit code: 0 after a clean shutdown, 2 for a bad configuration, 1 when a
// listener cannot start. Errors are logged naming the cause.
int RunScaler(const std::string& config_path);

}  // namespace ccburst::scaler
