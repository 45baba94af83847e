#include "kbs/kbs_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "attestation/verifier_registry.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/key.h"
#include "kbs/errors.h"
#include "kbs/storage.h"

namespace ccburst::kbs {
namespace {

namespace json = core::json;
using Rest = std::span<const std::string_view>;

net::HttpResponse JsonOk(std::string body) { return net::HttpResponse::Json(200, std::move(body)); }

}  // namespace

KbsService::KbsService(const KbsConfig& config, const core::Clock& clock)
    : config_(config), clock_(clock) {}

KbsService::~KbsService() = default;

absl::StatusOr<std::unique_ptr<KbsService>> KbsService::Create(
    const KbsConfig& config, const core::Clock& clock,
    std::unique_ptr<store::KeyValueStore> store) {
  std::unique_ptr<KbsService> s(new KbsService(config, clock));
  if (store) {
    s->kv_ = std::move(store);
  } else {
    CCB_ASSIGN_OR_RETURN(s->kv_, OpenStorage(config.storage));
  }

  std::optional<crypto::PrivateKey> token_key;
  if (config.attestation_service.signer_key_path) {
    auto key = crypto::PrivateKey::LoadPemFile(*config.attestation_service.signer_key_path);
    if (!key.ok()) {
      return core::Annotate(
          core::WithCode(key.status(), absl::StatusCode::kInvalidArgument),
          fmt::format("token signer key `{}`", *config.attestation_service.signer_key_path));
    }
    if (key->type() != crypto::KeyType::kEcP256) {
      return absl::InvalidArgumentError(
          fmt::format("token signer key `{}` must be an EC P-256 key (EAR tokens are ES256)",
                      *config.attestation_service.signer_key_path));
    }
    token_key = *key;
  } else {
    token_key = crypto::PrivateKey::GenerateEcP256();
    spdlog::info(
        "no [attestation_service.attestation_token_broker.signer] key_path: generated an "
        "ephemeral P-256 token key (tokens do not survive a restart)");
  }

  s->rvs_ = std::make_unique<attestation::ReferenceValueStore>(*s->kv_, clock);
  attestation::AttestationServiceOptions as_options;
  as_options.issuer = config.attestation_service.issuer_name;
  as_options.token_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(config.attestation_service.token_duration);
  as_options.developer = config.attestation_service.developer_name;
  as_options.build = config.attestation_service.build_name;
  s->as_ = std::make_unique<attestation::AttestationService>(*s->kv_, *s->rvs_, *token_key, clock,
                                                             as_options);
  CCB_ASSIGN_OR_RETURN(auto verifiers,
                       attestation::BuildVerifiers(config.attestation_service.verifier_config));
  for (auto& v : verifiers) s->as_->RegisterVerifier(std::move(v));
  CCB_ASSIGN_OR_RETURN(auto device_verifiers, attestation::BuildDeviceVerifiers(
                                                  config.attestation_service.verifier_config));
  for (auto& v : device_verifiers) s->as_->RegisterDeviceVerifier(std::move(v));

  // With a store shared with other replicas (PostgreSQL), sessions travel in cookies sealed
  // under a key derived from the storage keyring, and nonces are spent in the store.
  std::optional<store::Keyring> cookie_keys;
  if (s->kv_->Shared()) {
    CCB_ASSIGN_OR_RETURN(cookie_keys, LoadKeyring(config.storage));
  }
  s->sessions_ = std::make_unique<SessionStore>(
      clock,
      std::chrono::duration_cast<std::chrono::seconds>(config.attestation_service.session_timeout),
      SessionStore::kDefaultMaxSessions, SessionLimits{}, s->kv_.get(),
      cookie_keys ? &*cookie_keys : nullptr);

  s->resource_policy_ = std::make_unique<ResourcePolicy>(*s->kv_);
  std::optional<std::string> initial_policy;
  if (config.resource_policy_path) {
    auto text = core::ReadFile(*config.resource_policy_path);
    if (!text.ok()) {
      return core::Annotate(core::WithCode(text.status(), absl::StatusCode::kNotFound),
                            "policy_engine.policy_path");
    }
    initial_policy = std::move(*text);
  }
  CCB_RETURN_IF_ERROR(s->resource_policy_->Init(initial_policy));

  CCB_ASSIGN_OR_RETURN(s->admin_, AdminAuthorizer::Create(config.admin, clock));

  std::vector<crypto::PublicKey> trusted{token_key->Public()};
  for (const auto& path : config.attestation_token.trusted_jwk_sets) {
    CCB_ASSIGN_OR_RETURN(auto keys, TokenVerifier::LoadJwks(path));
    trusted.insert(trusted.end(), keys.begin(), keys.end());
  }
  s->token_verifier_ = std::make_unique<TokenVerifier>(
      clock, std::move(trusted), config.attestation_token.insecure_header_jwk);
  s->metrics_ = std::make_unique<KbsMetrics>();
  s->jwks_body_ = json::serialize(s->as_->Jwks());
  s->resources_ = NewKeyValueResourceBackend(*s->kv_);

  s->attestation_handlers_ =
      std::make_unique<AttestationHandlers>(*s->as_, *s->sessions_, *s->metrics_, clock);
  s->resource_handler_ = std::make_unique<ResourceHandler>(
      *s->resources_, *s->resource_policy_, *s->token_verifier_, *s->sessions_, *s->metrics_, clock,
      config.attestation_token.extra_teekey_paths);
  s->admin_api_ = std::make_unique<AdminApi>(*s->admin_, *s->resources_, *s->resource_policy_,
                                             *s->as_, *s->rvs_);
  CCB_ASSIGN_OR_RETURN(s->audit_, AuditTrail::Create(config.audit, *s->kv_, clock));
  s->attestation_handlers_->set_audit(s->audit_.get());
  s->resource_handler_->set_audit(s->audit_.get());
  s->admin_api_->set_audit(s->audit_.get());
  s->AddRoutes();
  return s;
}

void KbsService::AddRoutes() {
  // Liveness: the process serves requests. With an embedded store (SQLite, memory) it includes a
  // read of the store, as it always has: a KBS whose file is broken says so with the same 503
  // StorageError its other endpoints give. A shared database's outage is not the process's
  // fault, and restarting every replica would not end it: /readyz reports that instead.
  router_.AddPath(
      "/healthz", {{"GET", "HEAD"}, "/healthz accepts GET"}, [this](const net::HttpRequest&, Rest) {
        if (kv_->Shared()) return JsonOk(R"({"status":"ok"})");
        auto probe = kv_->Get("kbs", "resource-policy");
        if (!probe.ok()) {
          return ErrorResponse(ErrorKind::kStorageError,
                               fmt::format("healthz: storage: {}", core::Message(probe.status())));
        }
        return JsonOk(R"({"status":"ok"})");
      });
  // Readiness (Kubernetes readinessProbe): the backend answers now. A replica whose database is
  // unreachable answers 503 here and is taken out of the Service until it is back.
  router_.AddPath("/readyz", {{"GET", "HEAD"}, "/readyz accepts GET"},
                  [this](const net::HttpRequest&, Rest) {
                    absl::Status ping = kv_->Ping();
                    if (!ping.ok()) {
                      return ErrorResponse(ErrorKind::kStorageError,
                                           fmt::format("readyz: storage: {}", core::Message(ping)));
                    }
                    return JsonOk(R"({"status":"ready"})");
                  });
  router_.AddPath("/metrics", {{"GET"}, "/metrics accepts GET"},
                  [this](const net::HttpRequest&, Rest) {
                    metrics_->SetActiveSessions(static_cast<double>(sessions_->Sweep()));
                    net::HttpResponse r;
                    r.status = 200;
                    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
                    r.body = metrics_->Render();
                    return r;
                  });
  router_.AddPath("/.well-known/jwks.json", {{"GET"}, "jwks accepts GET"},
                  [this](const net::HttpRequest&, Rest) { return JsonOk(jwks_body_); });

  // The protocol.
  router_.AddEndpoint(
      "auth", false, {{"POST"}, "/kbs/v0/auth accepts POST"},
      [this](const net::HttpRequest& r, Rest) { return attestation_handlers_->Auth(r); });
  router_.AddEndpoint(
      "attest", false, {{"POST"}, "/kbs/v0/attest accepts POST"},
      [this](const net::HttpRequest& r, Rest) { return attestation_handlers_->Attest(r); });
  // Resources: GET is the protocol's release, other methods the admin API. The path is parsed
  // into a descriptor once, here.
  router_.AddEndpoint("resource", true, {}, [this](const net::HttpRequest& r, Rest rest) {
    auto resource = ResourceDescriptor::FromSegments(rest);
    if (!resource.ok()) {
      return ErrorResponse(ErrorKind::kInvalidRequestPath,
                           fmt::format("resource path `{}` is invalid: expected /kbs/v0/resource/"
                                       "<repository>/<type>/<tag>, each matching "
                                       "[A-Za-z0-9_-][A-Za-z0-9_.-]*",
                                       r.path));
    }
    if (r.method == "GET") return resource_handler_->Get(r, *resource);
    return admin_api_->Resource(r, *resource);
  });

  // The admin API.
  router_.AddEndpoint("resource-policy", true, {}, [this](const net::HttpRequest& r, Rest rest) {
    return admin_api_->ResourcePolicyEndpoint(r, rest);
  });
  router_.AddEndpoint("attestation-policy", true, {}, [this](const net::HttpRequest& r, Rest rest) {
    return admin_api_->AttestationPolicy(r, rest);
  });
  router_.AddEndpoint("reference-value", true, {}, [this](const net::HttpRequest& r, Rest rest) {
    return admin_api_->ReferenceValue(r, rest);
  });
  router_.AddEndpoint("reference-values", true, {}, [this](const net::HttpRequest& r, Rest rest) {
    return admin_api_->ReferenceValues(r, rest);
  });
  router_.AddEndpoint("audit", true, {}, [this](const net::HttpRequest& r, Rest rest) {
    return admin_api_->Audit(r, rest);
  });
}

net::HttpResponse KbsService::Handle(const net::HttpRequest& req) {
  metrics_->HttpRequest();
  // One unit of work per request: cached configuration is served only once this request's own
  // first statement has shown it is current (a policy set through another replica before this
  // request arrived is what decides it).
  struct Unit {
    explicit Unit(store::KeyValueStore& kv) : kv(kv) { kv.BeginUnit(); }
    ~Unit() { kv.EndUnit(); }
    store::KeyValueStore& kv;
  } unit(*kv_);
  return router_.Route(req);
}

absl::StatusOr<std::unique_ptr<KbsServer>> KbsServer::Start(const KbsConfig& config,
                                                            const core::Clock& clock) {
  std::unique_ptr<KbsServer> server(new KbsServer());
  CCB_ASSIGN_OR_RETURN(server->service_, KbsService::Create(config, clock));
  net::HttpServerOptions options;
  options.sockets = config.http_server.sockets;
  if (!config.http_server.insecure_http) {
    options.tls_certificate_file = config.http_server.certificate;
    options.tls_private_key_file = config.http_server.private_key;
    options.tls = config.http_server.tls;
  }
  options.max_body_bytes = config.http_server.payload_request_size_mib * 1024 * 1024;
  // Handlers block on the store (PostgreSQL round trips, disk flushes, the audit trail's
  // commit), so by default there are more threads than CPUs to keep the CPUs busy meanwhile;
  // at most 64, as a container sees the node's CPUs, not its own limit.
  options.threads =
      config.http_server.worker_count > 0
          ? config.http_server.worker_count
          : std::clamp(4 * static_cast<int>(std::thread::hardware_concurrency()), 8, 64);
  options.max_connections = static_cast<size_t>(config.http_server.max_connections);
  options.error_response = [](int status, std::string detail) {
    return ErrorResponse(HttpServerErrorKind(status), std::move(detail));
  };
  KbsService* service = server->service_.get();
  CCB_ASSIGN_OR_RETURN(server->http_, net::HttpServer::Start(std::move(options),
                                                             [service](const net::HttpRequest& r) {
                                                               return service->Handle(r);
                                                             }));
  return server;
}

}  // namespace ccburst::kbs
