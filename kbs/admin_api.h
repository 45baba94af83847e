// The KBS admin API (Trustee's names): resources (`POST/PUT/DELETE /kbs/v0/resource/...`), the
// resource policy, attestation policies and reference values. Every request is authorized first
// (AdminAuthorizer); every refusal is an error-table kind with a detail.
#pragma once

#include <span>
#include <string_view>

#include "attestation/attestation_service.h"
#include "attestation/reference_values.h"
#include "kbs/admin_auth.h"
#include "kbs/audit_trail.h"
#include "kbs/resource_backend.h"
#include "kbs/resource_policy.h"
#include "net/http.h"

namespace ccburst::kbs {

class AdminApi {
 public:
  // Every argument must outlive the API.
  AdminApi(const AdminAuthorizer& authorizer, ResourceBackend& resources, ResourcePolicy& policy,
           attestation::AttestationService& as, attestation::ReferenceValueStore& rvs)
      : authorizer_(authorizer), resources_(resources), policy_(policy), as_(as), rvs_(rvs) {}

  // POST/PUT (the body is the resource) or DELETE of one resource.
  net::HttpResponse Resource(const net::HttpRequest& req, const ResourceDescriptor& resource);
  // `/kbs/v0/resource-policy`: GET lists, POST {"policy": <base64url Rego>} replaces.
  net::HttpResponse ResourcePolicyEndpoint(const net::HttpRequest& req,
                                           std::span<const std::string_view> rest);
  // `/kbs/v0/attestation-policy`: GET lists ids, POST sets one (attestation service's format).
  net::HttpResponse AttestationPolicy(const net::HttpRequest& req,
                                      std::span<const std::string_view> rest);
  // `/kbs/v0/reference-value[/<id>]`: POST registers, GET/DELETE one id.
  net::HttpResponse ReferenceValue(const net::HttpRequest& req,
                                   std::span<const std::string_view> rest);
  // `GET /kbs/v0/reference-values`: every id.
  net::HttpResponse ReferenceValues(const net::HttpRequest& req,
                                    std::span<const std::string_view> rest);
  // `GET /kbs/v0/audit`: the audit trail as JSON Lines with a signed trailer;
  // `POST /kbs/v0/audit/burst-decision`: a burst_decision record from the scaler (a JSON object
  // of its fields). Both behind the admin ACLs (give the scaler a role allowed only the second).
  net::HttpResponse Audit(const net::HttpRequest& req, std::span<const std::string_view> rest);

  // Records every change in `audit` (may be null: nothing is recorded). Must outlive the API.
  void set_audit(AuditTrail* audit) { audit_ = audit; }

 private:
  // nullopt when the request may go on; the refusal otherwise.
  std::optional<net::HttpResponse> Authorize(const net::HttpRequest& req,
                                             AdminAuthorizer::Identity* who = nullptr) const;
  bool auditing() const { return audit_ != nullptr && audit_->enabled(); }
  // An admin record: who did `action` to `target`, the digests before and after (null: absent).
  void RecordChange(const net::HttpRequest& req, const AdminAuthorizer::Identity& who,
                    std::string_view action, std::string_view target,
                    std::optional<std::string> old_digest, std::optional<std::string> new_digest);

  const AdminAuthorizer& authorizer_;
  ResourceBackend& resources_;
  ResourcePolicy& policy_;
  attestation::AttestationService& as_;
  attestation::ReferenceValueStore& rvs_;
  AuditTrail* audit_ = nullptr;
};

}  // namespace ccburst::kbs
