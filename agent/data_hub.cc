#include "agent/data_hub.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "agent/sealed_secret.h"
#include "core/json.h"
#include "net/url.h"

namespace ccburst::agent {

DataHub::DataHub(std::unique_ptr<KbsClient> client) : client_(std::move(client)) {}

absl::StatusOr<std::string> DataHub::GetResource(std::string_view resource) {
  std::string path;
  if (resource.substr(0, 6) == "kbs://") {
    CCB_ASSIGN_OR_RETURN(path, ParseResourceUri(resource));
  } else {
    CCB_RETURN_IF_ERROR(ValidateResourcePath(resource));
    path = std::string(resource);
  }
  std::lock_guard lock(mu_);
  return client_->GetResource(path);
}

absl::StatusOr<std::string> DataHub::Token(std::string_view token_type) {
  if (token_type != "kbs") {
    return absl::InvalidArgumentError(
        fmt::format("token: unsupported token_type `{}` (kbs)", token_type.substr(0, 64)));
  }
  std::lock_guard lock(mu_);
  return client_->Token();
}

absl::StatusOr<std::string> DataHub::Evidence(std::string_view runtime_data) {
  if (runtime_data.size() > 64) {
    return absl::InvalidArgumentError(
        fmt::format("evidence: runtime_data of {} bytes exceeds 64", runtime_data.size()));
  }
  std::lock_guard lock(mu_);
  CCB_ASSIGN_OR_RETURN(core::json::value evidence, client_->attester().Evidence(runtime_data));
  return core::json::serialize(evidence);
}

absl::StatusOr<std::string> DataHub::Unseal(std::string_view sealed) {
  CCB_ASSIGN_OR_RETURN(SealedSecret secret, ParseSealedSecret(sealed));
  if (secret.type != "vault" || secret.provider != "kbs") {
    return absl::InvalidArgumentError(fmt::format(
        "sealed secret: type `{}` with provider `{}` is not supported (vault with provider kbs)",
        secret.type, secret.provider));
  }
  CCB_ASSIGN_OR_RETURN(std::string path, ParseResourceUri(secret.name), "sealed secret");
  std::lock_guard lock(mu_);
  return client_->GetResource(path);
}

namespace {

net::HttpResponse Text(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.SetHeader("Content-Type", "text/plain");
  return r;
}

net::HttpResponse Answer(std::string_view what, const absl::StatusOr<std::string>& result) {
  if (!result.ok()) {
    std::string msg = core::Message(result.status());
    spdlog::warn("api: {} failed: {}", what, msg);
    return Text(500, msg);
  }
  spdlog::info("api: {} ok ({} bytes)", what, result->size());
  net::HttpResponse r;
  r.body = *result;
  r.SetHeader("Content-Type", "application/octet-stream");
  return r;
}

bool IsLoopback(std::string_view remote) {
  return remote.substr(0, 4) == "127." || remote.substr(0, 5) == "[::1]" ||
         remote.substr(0, 16) == "[::ffff:127.";
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name, bool* bad) {
  auto params = net::ParseQuery(query);
  if (!params.ok()) {
    *bad = true;
    return std::nullopt;
  }
  for (auto& [k, v] : *params) {
    if (k == name) return std::move(v);
  }
  return std::nullopt;
}

}  // namespace

net::HttpHandler NewApiHandler(DataHub& hub) {
  return [&hub](const net::HttpRequest& req) -> net::HttpResponse {
    if (!IsLoopback(req.remote)) return Text(403, "Forbidden");
    auto path = net::NormalizePath(req.path);
    if (!path.ok()) return Text(404, "URL NOT FOUND");
    constexpr std::string_view kResource = "/cdh/resource/";
    if (path->substr(0, kResource.size()) == kResource) {
      if (req.method != "GET") return Text(405, "Method Not Allowed");
      std::string resource = path->substr(kResource.size());
      return Answer(fmt::format("resource {}", resource.substr(0, 256)), hub.GetResource(resource));
    }
    if (*path == "/cdh/secret") {
      if (req.method != "POST") return Text(405, "Method Not Allowed");
      return Answer("unseal", hub.Unseal(req.body));
    }
    if (*path == "/aa/token" || *path == "/aa/evidence") {
      if (req.method != "GET") return Text(405, "Method Not Allowed");
      bool bad = false;
      bool token = *path == "/aa/token";
      auto value = QueryParam(req.query, token ? "token_type" : "runtime_data", &bad);
      if (!value) return Text(400, "BAD REQUEST");
      return token ? Answer("token", hub.Token(*value)) : Answer("evidence", hub.Evidence(*value));
    }
    return Text(404, "URL NOT FOUND");
  };
}

}  // namespace ccburst::agent
