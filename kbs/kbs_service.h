// ccburst-kbs: the Trustee-compatible key broker. KbsService wires the components (store,
// attestation service with the verifiers of attestation/'s registry, sessions, policies, resource
// backend) and routes requests to the handlers: the protocol 0.4.0 (attest_handlers.h,
// resource_handler.h), the admin API (admin_api.h), JWKS, metrics and health. Error statuses and
// types come from one table (errors.h). KbsServer puts it on the network. See docs/kbs.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attestation/attestation_service.h"
#include "attestation/reference_values.h"
#include "core/clock.h"
#include "core/status.h"
#include "kbs/admin_api.h"
#include "kbs/admin_auth.h"
#include "kbs/attest_handlers.h"
#include "kbs/audit_trail.h"
#include "kbs/config.h"
#include "kbs/metrics.h"
#include "kbs/resource_backend.h"
#include "kbs/resource_handler.h"
#include "kbs/resource_policy.h"
#include "kbs/router.h"
#include "kbs/sessions.h"
#include "kbs/token_verifier.h"
#include "net/http.h"
#include "net/http_server.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

class KbsService {
 public:
  // Opens storage, loads or generates the token signing key, loads admin keys and policies.
  // Errors name the failing component and file. `store`, when given, is used instead of the one
  // `config.storage` names (tests inject faulty stores this way).
  static absl::StatusOr<std::unique_ptr<KbsService>> Create(
      const KbsConfig& config, const core::Clock& clock = core::SystemClock::Get(),
      std::unique_ptr<store::KeyValueStore> store = nullptr);
  ~KbsService();

  // Handles one request; never throws. Every error is the KBS error JSON with a `detail`
  // naming the failed check.
  net::HttpResponse Handle(const net::HttpRequest& request);

  const KbsMetrics& metrics() const { return *metrics_; }
  SessionStore& sessions() { return *sessions_; }

 private:
  KbsService(const KbsConfig& config, const core::Clock& clock);

  void AddRoutes();

  KbsConfig config_;
  const core::Clock& clock_;
  std::unique_ptr<store::KeyValueStore> kv_;
  std::unique_ptr<attestation::ReferenceValueStore> rvs_;
  std::unique_ptr<attestation::AttestationService> as_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<ResourcePolicy> resource_policy_;
  std::unique_ptr<ResourceBackend> resources_;
  std::unique_ptr<AdminAuthorizer> admin_;
  std::unique_ptr<TokenVerifier> token_verifier_;
  std::unique_ptr<KbsMetrics> metrics_;
  std::unique_ptr<AuditTrail> audit_;
  std::unique_ptr<AttestationHandlers> attestation_handlers_;
  std::unique_ptr<ResourceHandler> resource_handler_;
  std::unique_ptr<AdminApi> admin_api_;
  Router router_;
  std::string jwks_body_;
};

class KbsServer {
 public:
  // Creates the service and binds every configured socket.
  static absl::StatusOr<std::unique_ptr<KbsServer>> Start(
      const KbsConfig& config, const core::Clock& clock = core::SystemClock::Get());
  std::vector<uint16_t> ports() const { return http_->ports(); }
  void Stop() { http_->Stop(); }
  KbsService& service() { return *service_; }

 private:
  std::unique_ptr<KbsService> service_;
  std::unique_ptr<net::HttpServer> http_;
};

}  // namespace ccburst::kbs
