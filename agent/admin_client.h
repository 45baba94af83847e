// Client of the KBS admin API (what `ccburst config ...` runs): resources, resource policy,
// attestation policies and reference values, authenticated with a Bearer admin JWT.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/json.h"
#include "core/status.h"
#include "net/http_client.h"

namespace ccburst::agent {

class AdminClient {
 public:
  // `admin_token` may be empty (for a KBS in InsecureAllowAll mode).
  AdminClient(std::unique_ptr<net::HttpClient> http, std::string admin_token)
      : http_(std::move(http)), admin_token_(std::move(admin_token)) {}

  absl::Status SetResource(std::string_view path, std::string_view bytes);
  absl::Status DeleteResource(std::string_view path);
  absl::Status SetResourcePolicy(std::string_view rego);
  absl::StatusOr<std::string> ListResourcePolicies();
  absl::Status SetAttestationPolicy(std::string_view id, std::string_view rego);
  absl::StatusOr<std::string> ListAttestationPolicies();
  // Registers sample reference values {name: value}.
  absl::Status SetSampleReferenceValue(std::string_view name, const core::json::value& value);
  absl::StatusOr<std::string> GetReferenceValue(std::string_view id);
  // The audit trail as JSON Lines (GET /kbs/v0/audit).
  absl::StatusOr<std::string> ExportAudit();

 private:
  absl::StatusOr<std::string> Call(std::string_view method, std::string path, std::string_view body,
                                   std::string_view content_type);
  std::unique_ptr<net::HttpClient> http_;
  std::string admin_token_;
};

// Signs an admin JWT with `private_key_pem` (Ed25519 -> EdDSA, P-256 -> ES256):
// {"iss","aud":[audience],"role","iat","exp"}.
absl::StatusOr<std::string> MakeAdminToken(std::string_view private_key_pem, std::string issuer,
                                           std::string audience, std::string role,
                                           std::chrono::seconds lifetime);

}  // namespace ccburst::agent
