// ccburst-kbs: the Trustee-compatible key broker. KbsService maps HTTP requests to the KBS
// protocol 0.4.0 (/auth, /attest, resources), the admin API, JWKS, metrics and health, and owns
// the components behind them (store, attestation service, sessions, policies). KbsServer puts it
// on the network. See docs/kbs.md for endpoints, statuses and error types.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attestation/attestation_service.h"
#include "core/clock.h"
#include "core/status.h"
#include "kbs/admin_auth.h"
#include "kbs/config.h"
#include "kbs/metrics.h"
#include "kbs/resource_policy.h"
#include "kbs/sessions.h"
#include "kbs/token_verifier.h"
#include "net/http.h"
#include "net/http_server.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

class KbsService {
 public:
  // Opens storage, loads or generates the token signing key, loads admin keys and policies.
  // Errors name the failing component and file.
  static absl::StatusOr<std::unique_ptr<KbsService>> Create(
      const KbsConfig& config, const core::Clock& clock = core::SystemClock::Get());
  ~KbsService();

  // Handles one request; never throws. Every error is the KBS error JSON with a `detail`
  // naming the failed check.
  net::HttpResponse Handle(const net::HttpRequest& request);

  // The KBS error body for a status produced outside Handle (for example 413 from the server).
  static net::HttpResponse Error(int status, std::string_view type, std::string detail);

  const KbsMetrics& metrics() const { return *metrics_; }
  SessionStore& sessions() { return *sessions_; }

 private:
  KbsService(const KbsConfig& config, const core::Clock& clock);

  net::HttpResponse Auth(const net::HttpRequest& req);
  net::HttpResponse Attest(const net::HttpRequest& req);
  net::HttpResponse GetResource(const net::HttpRequest& req, const std::vector<std::string>& path);
  net::HttpResponse Admin(const net::HttpRequest& req, std::string_view endpoint,
                          const std::vector<std::string>& rest);

  KbsConfig config_;
  const core::Clock& clock_;
  std::unique_ptr<store::KeyValueStore> kv_;
  std::unique_ptr<attestation::ReferenceValueStore> rvs_;
  std::unique_ptr<attestation::AttestationService> as_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<ResourcePolicy> resource_policy_;
  std::unique_ptr<AdminAuthorizer> admin_;
  std::unique_ptr<TokenVerifier> token_verifier_;
  std::unique_ptr<KbsMetrics> metrics_;
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
