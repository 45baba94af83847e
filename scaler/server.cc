#include "scaler/server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "core/file.h"
#include "net/http_server.h"
#include "scaler/config.h"
#include "scaler/keda_service.h"
#include "scaler/scaler_service.h"

namespace ccburst::scaler {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(
    const GrpcTlsConfig& tls) {
  if (!tls.cert_file) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  CCB_ASSIGN_OR_RETURN(pair.private_key, core::ReadFile(*tls.key_file), "server.tls_key_file");
  CCB_ASSIGN_OR_RETURN(pair.cert_chain, core::ReadFile(*tls.cert_file), "server.tls_cert_file");
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (tls.client_ca_file) {
    CCB_ASSIGN_OR_RETURN(options.pem_root_certs, core::ReadFile(*tls.client_ca_file),
                         "server.tls_client_ca_file");
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

int RunScaler(const std::string& config_path) {
  // Block the shutdown signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = LoadScalerConfig(config_path);
  if (!config.ok()) {
    spdlog::error("{}: {}", config_path, core::Message(config.status()));
    return 2;
  }
  const std::string grpc_address = config->grpc_address;
  const GrpcTlsConfig grpc_tls = config->grpc_tls;
  const std::string http_address = config->http_address;
  const auto stream_interval = config->stream_interval;
  auto service = ScalerService::Create(std::move(*config), core::SystemClock::Get());
  if (!service.ok()) {
    spdlog::error("{}: {}", config_path, core::Message(service.status()));
    return 2;
  }
  ScalerService& svc = **service;
  svc.Start();

  net::HttpServerOptions ho;
  ho.sockets = {http_address};
  ho.threads = 1;
  auto http = net::HttpServer::Start(ho, [&svc](const net::HttpRequest& req) {
    net::HttpResponse r;
    if (req.path == "/healthz") return net::HttpResponse::Json(200, R"({"status":"ok"})");
    if (req.path == "/metrics") {
      r.SetHeader("Content-Type", "text/plain; version=0.0.4");
      r.body = svc.RenderMetrics();
      return r;
    }
    r.status = 404;
    r.body = "not found\n";
    return r;
  });
  if (!http.ok()) {
    spdlog::error("http listener {}: {}", http_address, core::Message(http.status()));
    return 1;
  }

  KedaScaler keda(svc, std::chrono::duration_cast<std::chrono::milliseconds>(stream_interval));
  auto credentials = GrpcServerCredentials(grpc_tls);
  if (!credentials.ok()) {
    spdlog::error("{}: {}", config_path, core::Message(credentials.status()));
    return 2;
  }
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(grpc_address, *credentials, &grpc_port);
  builder.RegisterService(&keda);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    spdlog::error("grpc listener {}: cannot listen", grpc_address);
    return 1;
  }
  spdlog::info("ccburst-scaler serving grpc={} (port {}, {}) http={} (port {}) workloads={}",
               grpc_address, grpc_port,
               grpc_tls.client_ca_file ? "mutual TLS"
               : grpc_tls.cert_file    ? "TLS"
                                       : "plaintext",
               http_address, (*http)->ports()[0], svc.config().workloads.size());
  std::cout << fmt::format("ready grpc_port={} http_port={}", grpc_port, (*http)->ports()[0])
            << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  keda.BeginShutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  (*http)->Stop();
  svc.Stop();
  return 0;
}

}  // namespace ccburst::scaler
