#include "kbs/admin_auth.h"

#include <fmt/format.h>

#include "core/json.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "net/url.h"

namespace ccburst::kbs {
namespace {

bool AudienceMatches(const core::json::value* aud, const std::string& want) {
  if (!aud) return false;
  if (aud->is_string()) return aud->get_string() == want;
  if (aud->is_array()) {
    for (const auto& a : aud->get_array()) {
      if (a.is_string() && a.get_string() == want) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminAuthorizer>> AdminAuthorizer::Create(
    const KbsConfig::Admin& config, const core::Clock& clock) {
  std::unique_ptr<AdminAuthorizer> a(new AdminAuthorizer(config.mode, clock));
  if (config.mode != AdminMode::kAuthenticatedAuthorization) return a;
  for (const auto& p : config.identity_providers) {
    auto key = crypto::PublicKey::LoadPemFile(p.public_key_uri);
    if (!key.ok()) {
      return absl::InvalidArgumentError(fmt::format("admin: identity provider key `{}`: {}",
                                                    p.public_key_uri, core::Message(key.status())));
    }
    a->providers_.push_back(Provider{p, *key});
  }
  for (const auto& acl : config.acls) {
    try {
      a->acls_.push_back(Acl{acl.role, acl.allowed_endpoints,
                             std::regex(acl.allowed_endpoints, std::regex::ECMAScript)});
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(fmt::format("admin: ACL regex `{}` for role `{}`: {}",
                                                    acl.allowed_endpoints, acl.role, e.what()));
    }
  }
  return a;
}

absl::Status AdminAuthorizer::Check(std::string_view authorization, std::string_view path,
                                    Identity* who) const {
  if (mode_ == AdminMode::kInsecureAllowAll) {
    if (who != nullptr) *who = Identity{"(insecure-allow-all)", ""};
    return absl::OkStatus();
  }
  if (mode_ == AdminMode::kDenyAll) {
    return absl::PermissionDeniedError(
        "admin: the admin API is disabled (admin.authorization_mode = DenyAll)");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return absl::UnauthenticatedError("admin: missing `Authorization: Bearer <token>` header");
  }
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    return absl::UnauthenticatedError("admin: Authorization header is not a Bearer token");
  }
  std::string_view token = authorization.substr(kBearer.size());
  auto jwt = crypto::DecodeJwt(token);
  if (!jwt.ok()) {
    return absl::UnauthenticatedError(fmt::format("admin: {}", core::Message(jwt.status())));
  }

  // The token must verify under one provider's key; issuer/audience then follow that provider.
  const Provider* provider = nullptr;
  std::string last_error = "no identity provider is configured";
  for (const auto& p : providers_) {
    absl::Status s = crypto::VerifyJwtSignature(*jwt, p.key);
    if (s.ok()) {
      provider = &p;
      break;
    }
    last_error = core::Message(s);
  }
  if (!provider) {
    return absl::UnauthenticatedError(
        fmt::format("admin: token not signed by a trusted identity provider ({})", last_error));
  }
  const auto& claims = jwt->claims;
  CCB_RETURN_IF_ERROR(
      core::WithCode(crypto::CheckJwtTimeClaims(claims, core::ToUnixSeconds(clock_.Now())),
                     absl::StatusCode::kUnauthenticated),
      "admin");
  if (!provider->config.issuer.empty()) {
    auto it = claims.find("iss");
    if (it == claims.end() || !it->value().is_string() ||
        it->value().get_string() != provider->config.issuer) {
      return absl::UnauthenticatedError(
          fmt::format("admin: token issuer does not match `{}`", provider->config.issuer));
    }
  }
  if (!provider->config.audience.empty()) {
    auto it = claims.find("aud");
    if (!AudienceMatches(it == claims.end() ? nullptr : &it->value(), provider->config.audience)) {
      return absl::UnauthenticatedError(
          fmt::format("admin: token audience does not include `{}`", provider->config.audience));
    }
  }
  auto role_it = claims.find("role");
  if (role_it == claims.end() || !role_it->value().is_string()) {
    return absl::UnauthenticatedError("admin: token has no `role` claim");
  }
  std::string role(role_it->value().get_string());
  auto normalized = net::NormalizePath(path);
  if (!normalized.ok()) {
    return absl::PermissionDeniedError(
        fmt::format("admin: request path is invalid: {}", core::Message(normalized.status())));
  }
  const std::string& target = *normalized;
  for (const auto& acl : acls_) {
    if (acl.role == role && std::regex_match(target, acl.regex)) {
      if (who != nullptr) {
        auto sub = claims.find("sub");
        who->subject = sub != claims.end() && sub->value().is_string()
                           ? std::string(sub->value().get_string())
                           : std::string();
        who->role = role;
      }
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      fmt::format("admin: role `{}` may not access `{}`", role, target));
}

}  // namespace ccburst::kbs
