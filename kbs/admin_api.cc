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

std::optional<net::HttpResponse> AdminApi::Authorize(const net::HttpRequest& req) const {
  absl::Status access = authorizer_.Check(req.Header("Authorization").value_or(""), req.path);
  if (access.ok()) return std::nullopt;
  LogRequestEvent(spdlog::level::warn,
                  fmt::format("admin request {} {} refused", req.method, req.path), req.remote,
                  core::Message(access));
  return ErrorResponse(absl::IsUnauthenticated(access) ? ErrorKind::kAdminUnauthenticated
                                                       : ErrorKind::kAdminForbidden,
                       core::Message(access));
}

net::HttpResponse AdminApi::Resource(const net::HttpRequest& req,
                                     const ResourceDescriptor& resource) {
  if (auto refused = Authorize(req)) return *refused;
  const std::string name = resource.ToString();
  if (req.method == "POST" || req.method == "PUT") {
    if (req.body.empty()) return Bad(fmt::format("resource `{}`: empty body", name));
    if (absl::Status s = resources_.Write(resource, req.body); !s.ok()) return StorageError(s);
    spdlog::info("admin: resource `{}` written ({} bytes)", core::LogSafe(name), req.body.size());
    return JsonOk("");
  }
  if (req.method == "DELETE") {
    auto deleted = resources_.Delete(resource);
    if (!deleted.ok()) return StorageError(deleted.status());
    if (!*deleted) {
      return ErrorResponse(ErrorKind::kAdminResourceNotFound,
                           fmt::format("resource `{}` does not exist", name));
    }
    spdlog::info("admin: resource `{}` deleted", core::LogSafe(name));
    return JsonOk("");
  }
  return ErrorResponse(ErrorKind::kMethodNotAllowed, "resources accept GET, POST, PUT and DELETE");
}

net::HttpResponse AdminApi::ResourcePolicyEndpoint(const net::HttpRequest& req,
                                                   std::span<const std::string_view> rest) {
  if (auto refused = Authorize(req)) return *refused;
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
  if (absl::Status s = policy_.Set(std::move(*policy)); !s.ok()) {
    return PolicyError(s, ErrorKind::kParsePolicyError);
  }
  spdlog::info("admin: resource policy replaced");
  return JsonOk("");
}

net::HttpResponse AdminApi::AttestationPolicy(const net::HttpRequest& req,
                                              std::span<const std::string_view> rest) {
  if (auto refused = Authorize(req)) return *refused;
  if (!rest.empty()) return InvalidPath(req);
  if (req.method == "GET") return List(as_.ListPolicies());
  if (req.method != "POST") {
    return ErrorResponse(ErrorKind::kMethodNotAllowed, "attestation-policy accepts GET and POST");
  }
  if (absl::Status s = as_.SetPolicy(req.body); !s.ok()) {
    return PolicyError(s, ErrorKind::kParsePolicyError);
  }
  spdlog::info("admin: attestation policy set");
  return JsonOk("");
}

net::HttpResponse AdminApi::ReferenceValue(const net::HttpRequest& req,
                                           std::span<const std::string_view> rest) {
  if (auto refused = Authorize(req)) return *refused;
  if (req.method == "POST" && rest.empty()) {
    if (absl::Status s = rvs_.Register(req.body); !s.ok()) {
      return PolicyError(s, ErrorKind::kRvpsError);
    }
    spdlog::info("admin: reference values registered");
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
    auto deleted = rvs_.Delete(id);
    if (!deleted.ok()) return StorageError(deleted.status());
    if (!*deleted) {
      return ErrorResponse(ErrorKind::kReferenceValueNotFound,
                           fmt::format("reference value `{}` does not exist", id));
    }
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

}  // namespace ccburst::kbs
