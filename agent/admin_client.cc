#include "agent/admin_client.h"

#include <fmt/format.h>

#include "agent/kbs_client.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/jws.h"
#include "crypto/key.h"

namespace ccburst::agent {

namespace json = core::json;

absl::StatusOr<std::string> AdminClient::Call(std::string_view method, std::string path,
                                              std::string_view body,
                                              std::string_view content_type) {
  net::HttpHeaders headers;
  if (!admin_token_.empty()) headers.emplace_back("Authorization", "Bearer " + admin_token_);
  if (!content_type.empty()) headers.emplace_back("Content-Type", std::string(content_type));
  CCB_ASSIGN_OR_RETURN(auto r, http_->Send(method, path, body, headers));
  if (r.status < 200 || r.status >= 300) return KbsError(r.status, r.body);
  return std::move(r.body);
}

absl::Status AdminClient::SetResource(std::string_view path, std::string_view bytes) {
  return Call("POST", fmt::format("/kbs/v0/resource/{}", path), bytes, "application/octet-stream")
      .status();
}

absl::Status AdminClient::DeleteResource(std::string_view path) {
  return Call("DELETE", fmt::format("/kbs/v0/resource/{}", path), {}, {}).status();
}

absl::Status AdminClient::SetResourcePolicy(std::string_view rego) {
  json::object body{{"policy", core::Base64UrlEncode(rego)}};
  return Call("POST", "/kbs/v0/resource-policy", json::serialize(body), "application/json")
      .status();
}

absl::StatusOr<std::string> AdminClient::ExportAudit() {
  return Call("GET", "/kbs/v0/audit", {}, {});
}

absl::StatusOr<std::string> AdminClient::ListResourcePolicies() {
  return Call("GET", "/kbs/v0/resource-policy", {}, {});
}

absl::Status AdminClient::SetAttestationPolicy(std::string_view id, std::string_view rego) {
  json::object body{{"type", "rego"}, {"policy_id", id}, {"policy", core::Base64UrlEncode(rego)}};
  return Call("POST", "/kbs/v0/attestation-policy", json::serialize(body), "application/json")
      .status();
}

absl::StatusOr<std::string> AdminClient::ListAttestationPolicies() {
  return Call("GET", "/kbs/v0/attestation-policy", {}, {});
}

absl::Status AdminClient::SetSampleReferenceValue(std::string_view name, const json::value& value) {
  json::object payload;
  payload[name] = value;
  json::object body{{"version", "0.1.0"},
                    {"type", "sample"},
                    {"payload", core::Base64Encode(json::serialize(payload))}};
  return Call("POST", "/kbs/v0/reference-value", json::serialize(body), "application/json")
      .status();
}

absl::StatusOr<std::string> AdminClient::GetReferenceValue(std::string_view id) {
  return Call("GET", fmt::format("/kbs/v0/reference-value/{}", id), {}, {});
}

absl::StatusOr<std::string> MakeAdminToken(std::string_view private_key_pem, std::string issuer,
                                           std::string audience, std::string role,
                                           std::chrono::seconds lifetime) {
  CCB_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromPem(private_key_pem));
  int64_t now = core::ToUnixSeconds(core::SystemClock::Get().Now());
  json::object claims{{"iss", std::move(issuer)},
                      {"aud", json::array{json::string(audience)}},
                      {"role", std::move(role)},
                      {"iat", now},
                      {"exp", now + lifetime.count()}};
  return crypto::SignJwt(key, claims);
}

}  // namespace ccburst::agent
