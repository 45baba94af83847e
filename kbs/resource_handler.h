// The KBS protocol's resource release, `GET /kbs/v0/resource/<repository>/<type>/<tag>`: the
// attestation token (a bearer EAR, or the token of an attested session) is checked, the resource
// policy decides over its claims, and the resource is read from the backend and encrypted (JWE)
// to the TEE key inside the token. Every refusal is an error-table kind with a detail naming the
// failed check.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "kbs/audit_trail.h"
#include "kbs/metrics.h"
#include "kbs/resource_backend.h"
#include "kbs/resource_policy.h"
#include "kbs/sessions.h"
#include "kbs/token_verifier.h"
#include "net/http.h"

namespace ccburst::kbs {

class ResourceHandler {
 public:
  // Every reference must outlive the handler. `extra_teekey_paths`: where else in the token's
  // claims the TEE key may be (attestation_token.extra_teekey_paths).
  ResourceHandler(ResourceBackend& backend, ResourcePolicy& policy,
                  const TokenVerifier& token_verifier, SessionStore& sessions, KbsMetrics& metrics,
                  const core::Clock& clock, std::vector<std::string> extra_teekey_paths)
      : backend_(backend),
        policy_(policy),
        token_verifier_(token_verifier),
        sessions_(sessions),
        metrics_(metrics),
        clock_(clock),
        extra_teekey_paths_(std::move(extra_teekey_paths)) {}

  net::HttpResponse Get(const net::HttpRequest& req, const ResourceDescriptor& resource);

  // Records every release and refusal in `audit` (may be null). A release whose record cannot be
  // written fails (503 StorageError) unless the trail is fail_open. Must outlive the handler.
  void set_audit(AuditTrail* audit) { audit_ = audit; }

 private:
  ResourceBackend& backend_;
  ResourcePolicy& policy_;
  const TokenVerifier& token_verifier_;
  SessionStore& sessions_;
  KbsMetrics& metrics_;
  const core::Clock& clock_;
  std::vector<std::string> extra_teekey_paths_;
  AuditTrail* audit_ = nullptr;
};

}  // namespace ccburst::kbs
