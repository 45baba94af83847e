#include "kbs/admin_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/log_safe.h"
#include "kbs/errors.h"
#include "kbs/request_log.h"

namespace ccburst::kbs {
namespace {

namespace json = core::json;

net::HttpResponse JsonOk(std::string body) { return net::HttpResponse::Json(200, std::move(body)); }

net::HttpResponse Bad(std::string detail) {
  return ErrorResponse(ErrorKind::kAdminBadRequest, std::move(detail));
}

net::HttpResponse StorageError(const absl::Status& s) {
  return ErrorResponse(ErrorKind::kStorageError, core::Message(s));
}

// A policy the parser refused is the caller's fault; anything else is the store's.
net::HttpResponse PolicyError(const absl::Status& s, ErrorKind invalid) {
  return absl::IsInvalidArgument(s) ? ErrorResponse(invalid, core::Message(s)) : StorageError(s);
}

net::HttpResponse InvalidPath(const net::HttpRequest& req) {
  return ErrorResponse(ErrorKind::kInvalidRequestPath,
                       fmt::format("request path `{}` is invalid", core::LogSafe(req.path)));
}

net::HttpResponse List(const absl::StatusOr<std::vector<std::string>>& ids) {
  if (!ids.ok()) return StorageError(ids.status());
  json::array a;
  for (const auto& id : *ids) a.emplace_back(id);
  return JsonOk(json::serialize(a));
}

}  // namespace

std::optional<net::HttpResponse> AdminApi::Authorize(const net::HttpRequest& req,
                                                     AdminAuthorizer::Identity* who) const {
  absl::Status access = authorizer_.Check(req.Header("Authorization").value_or(""), req.path, who);
  if (access.ok()) return std::nullopt;
  LogRequestEvent(spdlog::level::warn,
                  fmt::format("admin request {} {} refused", req.method, req.path), req.remote,
                  core::Message(access));
  return ErrorResponse(absl::IsUnauthenticated(access) ? ErrorKind::kAdminUnauthenticated
                                                       : ErrorKind::kAdminForbidden,
                       core::Message(access));
}

void AdminApi::RecordChange(const net::HttpRequest& req, const AdminAuthorizer::Identity& who,
                            std::string_view action, std::string_view target,
                            std::optional<std::string> old_digest,
                            std::optional<std::string> new_digest) {
  if (!auditing()) return;
  json::object f;
  f["action"] = action;
  f["target"] = target;
  f["subject"] = who.subject;
  f["role"] = who.role;
  f["old_digest"] = old_digest ? json::value(*old_digest) : json::value(nullptr);
  f["new_digest"] = new_digest ? json::value(*new_digest) : json::value(nullptr);
  f["client"] = req.remote;
  audit_->RecordAsync(audit::kAdmin, std::move(f));
}

net::HttpResponse AdminApi::Resource(const net::HttpRequest& req,
                                     const ResourceDescriptor& resource) {
  AdminAuthorizer::Identity who;
  if (auto refused = Authorize(req, &who)) return *refused;
  const std::string name = resource.ToString();
  // The digest of what was there before, for the audit trail (never the value itself).
  auto old_digest = [&]() -> std::optional<std::string> {
    if (!auditing()) return std::nullopt;
    auto old = resources_.Read(resource);
    if (!old.ok() || !old->has_value()) return std::nullopt;
    return AuditTrail::Digest(**old);
  };
  if (req.method == "POST" || req.method == "PUT") {
    if (req.body.empty()) return Bad(fmt::format("resource `{}`: empty body", name));
    std::optional<std::string> before = old_digest();
    if (absl::Status s = resources_.Write(resource, req.body); !s.ok()) return StorageError(s);
    spdlog::info("admin: resource `{}` written ({} bytes)", core::LogSafe(name), req.body.size());
    RecordChange(req, who, "resource.write", name, before, AuditTrail::Digest(req.body));
    return JsonOk("");
  }
  if (req.method == "DELETE") {
    std::optional<std::string> before = old_digest();
    auto deleted = resources_.Delete(resource);
    if (!deleted.ok()) return StorageError(deleted.status());
    if (!*deleted) {
      return ErrorResponse(ErrorKind::kAdminResourceNotFound,
                           fmt::format("resource `{}` does not exist", name));
    }
    spdlog::info("admin: resource `{}` deleted", core::LogSafe(name));
    RecordChange(req, who, "resource.delete", name, before, std::nullopt);
    return JsonOk("");
  }
  return ErrorResponse(ErrorKind::kMethodNotAllowed, "resources accept GET, POST, PUT and DELETE");
}

net::HttpResponse AdminApi::ResourcePolicyEndpoint(const net::HttpRequest& req,
                                                   std::span<const std::string_view> rest) {
  AdminAuthorizer::Identity who;
  if (auto refused = Authorize(req, &who)) return *refused;
  if (!rest.empty()) return InvalidPath(req);
  if (req.method == "GET") return JsonOk(R"(["resource-policy"])");
  if (req.method != "POST") {
    return ErrorResponse(ErrorKind::kMethodNotAllowed, "resource-policy accepts GET and POST");
  }
  auto doc = core::ParseJson(req.body);
  if (!doc.ok()) return Bad(fmt::format("resource-policy: {}", core::Message(doc.status())));
  if (!doc->is_object()) return Bad("resource-policy: request is not a JSON object");
  auto policy_b64 = core::GetString(doc->get_object(), "policy", "resource-policy");
  if (!policy_b64.ok()) return Bad(core::Message(policy_b64.status()));
  auto policy = core::Base64UrlDecode(*policy_b64);
  if (!policy.ok()) {
    return Bad(fmt::format("resource-policy: `policy` is not base64url: {}",
                           core::Message(policy.status())));
  }
  std::string before = AuditTrail::Digest(policy_.Text());
  std::string after = AuditTrail::Digest(*policy);
  if (absl::Status s = policy_.Set(std::move(*policy)); !s.ok()) {
    return PolicyError(s, ErrorKind::kParsePolicyError);
  }
  spdlog::info("admin: resource policy replaced");
  RecordChange(req, who, "resource-policy.set", "resource-policy", before, after);
  return JsonOk("");
}

net::HttpResponse AdminApi::AttestationPolicy(const net::HttpRequest& req,
                                              std::span<const std::string_view> rest) {
  AdminAuthorizer::Identity who;
  if (auto refused = Authorize(req, &who)) return *refused;
  if (!rest.empty()) return InvalidPath(req);
  if (req.method == "GET") return List(as_.ListPolicies());
  // The policy's id and its Rego's digest before the change (for the audit trail).
  std::string id = "(unknown)";
  std::optional<std::string> before;
  if (auditing()) {
    if (auto doc = core::ParseJson(req.body); doc.ok() && doc->is_object()) {
      if (auto pid = core::GetString(doc->get_object(), "policy_id", ""); pid.ok()) {
        id = std::string(*pid);
      }
    }
    if (auto old = as_.GetPolicy(id); old.ok()) before = AuditTrail::Digest(*old);
  }
  if (req.method != "POST") {
    return ErrorResponse(ErrorKind::kMethodNotAllowed, "attestation-policy accepts GET and POST");
  }
  if (absl::Status s = as_.SetPolicy(req.body); !s.ok()) {
    return PolicyError(s, ErrorKind::kParsePolicyError);
  }
  spdlog::info("admin: attestation policy set");
  if (auditing()) {
    auto now = as_.GetPolicy(id);
    RecordChange(req, who, "attestation-policy.set", id, before,
                 now.ok() ? std::optional(AuditTrail::Digest(*now)) : std::nullopt);
  }
  return JsonOk("");
}

net::HttpResponse AdminApi::ReferenceValue(const net::HttpRequest& req,
                                           std::span<const std::string_view> rest) {
  AdminAuthorizer::Identity who;
  if (auto refused = Authorize(req, &who)) return *refused;
  if (req.method == "POST" && rest.empty()) {
    if (absl::Status s = rvs_.Register(req.body); !s.ok()) {
      return PolicyError(s, ErrorKind::kRvpsError);
    }
    spdlog::info("admin: reference values registered");
    RecordChange(req, who, "reference-value.register", "reference-values", std::nullopt,
                 AuditTrail::Digest(req.body));
    return JsonOk("");
  }
  if (rest.empty()) {
    return ErrorResponse(ErrorKind::kInvalidRequestPath, "reference-value: missing id");
  }
  // Reference value ids may hold `/`: the id is the rest of the path.
  std::string id(rest[0]);
  for (size_t i = 1; i < rest.size(); ++i) id += fmt::format("/{}", rest[i]);
  if (req.method == "GET") {
    auto v = rvs_.Get(id);
    if (!v.ok()) return StorageError(v.status());
    if (!v->has_value()) {
      return ErrorResponse(ErrorKind::kReferenceValueNotFound,
                           fmt::format("reference value `{}` does not exist or has expired", id));
    }
    return JsonOk(json::serialize(**v));
  }
  if (req.method == "DELETE") {
    std::optional<std::string> before;
    if (auditing()) {
      if (auto old = rvs_.Get(id); old.ok() && old->has_value()) {
        before = AuditTrail::Digest(json::serialize(**old));
      }
    }
    auto deleted = rvs_.Delete(id);
    if (!deleted.ok()) return StorageError(deleted.status());
    if (!*deleted) {
      return ErrorResponse(ErrorKind::kReferenceValueNotFound,
                           fmt::format("reference value `{}` does not exist", id));
    }
    RecordChange(req, who, "reference-value.delete", id, before, std::nullopt);
    return JsonOk("");
  }
  return ErrorResponse(ErrorKind::kMethodNotAllowed,
                       "reference-value accepts GET, POST and DELETE");
}

net::HttpResponse AdminApi::ReferenceValues(const net::HttpRequest& req,
                                            std::span<const std::string_view> rest) {
  if (auto refused = Authorize(req)) return *refused;
  if (!rest.empty() || req.method != "GET") return InvalidPath(req);
  return List(rvs_.List());
}

net::HttpResponse AdminApi::Audit(const net::HttpRequest& req,
                                  std::span<const std::string_view> rest) {
  AdminAuthorizer::Identity who;
  if (auto refused = Authorize(req, &who)) return *refused;
  if (!auditing()) {
    return ErrorResponse(ErrorKind::kPluginNotFound,
                         "audit: the audit trail is disabled ([audit] enabled = false)");
  }
  if (rest.empty()) {
    if (req.method != "GET") {
      return ErrorResponse(ErrorKind::kMethodNotAllowed, "/kbs/v0/audit accepts GET");
    }
    auto exported = audit_->Export();
    if (!exported.ok()) return StorageError(exported.status());
    net::HttpResponse r;
    r.status = 200;
    r.SetHeader("Content-Type", "application/jsonl");
    r.body = std::move(*exported);
    return r;
  }
  if (rest.size() != 1 || rest[0] != "burst-decision") return InvalidPath(req);
  if (req.method != "POST") {
    return ErrorResponse(ErrorKind::kMethodNotAllowed, "/kbs/v0/audit/burst-decision accepts POST");
  }
  auto doc = core::ParseJson(req.body);
  if (!doc.ok()) return Bad(fmt::format("audit: {}", core::Message(doc.status())));
  if (!doc->is_object()) return Bad("audit: a burst decision must be a JSON object");
  json::object fields = std::move(doc->get_object());
  fields["submitted_by"] = json::object{{"subject", who.subject}, {"role", who.role}};
  if (absl::Status s = audit_->Record(audit::kBurstDecision, std::move(fields)); !s.ok()) {
    return absl::IsInvalidArgument(s) ? Bad(core::Message(s)) : StorageError(s);
  }
  return JsonOk("{}");
}

}  // namespace ccburst::kbs
