// The KBS admin API (Trustee's names): resources (`POST/PUT/DELETE /kbs/v0/resource/...`), the
// resource policy, attestation policies and reference values. Every request is authorized first
// (AdminAuthorizer); every refusal is an error-table kind with a detail.
#pragma once

#include <span>
#include <string_view>

#include "attestation/attestation_service.h"
#include "attestation/reference_values.h"
#include "kbs/admin_auth.h"
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

 private:
  // nullopt when the request may go on; the refusal otherwise.
  std::optional<net::HttpResponse> Authorize(const net::HttpRequest& req) const;

  const AdminAuthorizer& authorizer_;
  ResourceBackend& resources_;
  ResourcePolicy& policy_;
  attestation::AttestationService& as_;
  attestation::ReferenceValueStore& rvs_;
};

}  // namespace ccburst::kbs
