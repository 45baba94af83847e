#include "kbs/resource_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "core/json.h"
#include "crypto/jwe.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"
#include "kbs/errors.h"
#include "kbs/request_log.h"
#include "net/url.h"

namespace ccburst::kbs {
namespace {

namespace json = core::json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

net::HttpResponse ResourceHandler::Get(const net::HttpRequest& req,
                                       const ResourceDescriptor& resource) {
  auto t0 = Clock::now();
  const std::string name = resource.ToString();
  const bool auditing = audit_ != nullptr && audit_->enabled();
  std::string token_id;  // the digest of the token, once there is one
  auto audit_fields = [&](std::string_view decision, std::string_view reason) {
    json::object f;
    f["resource"] = name;
    f["token_id"] = token_id.empty() ? json::value(nullptr) : json::value(token_id);
    f["decision"] = decision;
    f["reason"] = reason;
    f["client"] = req.remote;
    return f;
  };
  auto deny = [&](std::string_view reason, ErrorKind kind, std::string detail) {
    metrics_.ResourceDenied(std::string(reason), Since(t0));
    LogRequestEvent(spdlog::level::info, fmt::format("resource `{}` refused", name), req.remote,
                    detail);
    if (auditing) {
      json::object f = audit_fields("deny", reason);
      f["detail"] = detail;
      audit_->RecordAsync(audit::kRefusal, std::move(f));
    }
    return ErrorResponse(kind, std::move(detail));
  };

  // The token's claims, held as a value: the resource policy reads them as its input and the
  // TEE key is found inside them, both without copying.
  json::value claims;
  // The reference order: the session cookie first, then a bearer token (a stale bearer sent
  // beside a valid cookie must not refuse the request).
  auto authz = req.Header("Authorization");
  if (auto cookie = req.Cookie(kSessionCookie)) {
    auto session = sessions_.Get(std::string(*cookie));
    if (absl::IsUnavailable(session.status())) {
      return deny("token", ErrorKind::kStorageError,
                  fmt::format("resource: {}", core::Message(session.status())));
    }
    if (!session.ok()) {
      return deny("token", ErrorKind::kTokenNotFound,
                  fmt::format("resource: {}", core::Message(session.status())));
    }
    if (session->state != Session::State::kAttested) {
      return deny("token", ErrorKind::kTokenNotFound,
                  "resource: session is not attested (call /kbs/v0/attest first)");
    }
    // Our own token, kept server-side since /attest: decoding suffices, no signature check.
    auto jwt = crypto::DecodeJwt(session->token);
    if (!jwt.ok()) {
      return deny("token", ErrorKind::kTokenVerifierError,
                  fmt::format("resource: session token: {}", core::Message(jwt.status())));
    }
    absl::Status lifetime = crypto::CheckJwtTimeClaims(
        jwt->claims, core::ToUnixSeconds(clock_.Now()), {.require_exp = true, .require_iat = true});
    if (!lifetime.ok()) {
      return deny("token", ErrorKind::kTokenVerifierError,
                  fmt::format("resource: session token: {}", core::Message(lifetime)));
    }
    claims = std::move(jwt->claims);
    if (auditing) token_id = AuditTrail::Digest(session->token);
  } else if (authz && authz->substr(0, 7) == "Bearer ") {
    auto verified = token_verifier_.Verify(authz->substr(7));
    if (!verified.ok()) {
      return deny("token", ErrorKind::kTokenVerifierError,
                  fmt::format("resource: {}", core::Message(verified.status())));
    }
    claims = std::move(*verified);
    if (auditing) token_id = AuditTrail::Digest(authz->substr(7));
  } else {
    return deny("token", ErrorKind::kTokenNotFound,
                "resource: no attestation token: send `Authorization: Bearer <token>` or the "
                "kbs-session-id cookie of an attested session");
  }

  auto query = net::ParseQuery(req.query);
  if (!query.ok()) {
    return deny("error", ErrorKind::kInvalidRequest,
                fmt::format("resource: {}", core::Message(query.status())));
  }
  json::object query_object;
  for (auto& [k, v] : *query) query_object[k] = std::move(v);  // a repeated name: the last wins
  json::object data;
  data["plugin"] = "resource";
  data["resource-path"] = json::array{resource.repository(), resource.type(), resource.tag()};
  data["query"] = std::move(query_object);
  auto allowed = policy_.Allowed(claims, json::value(std::move(data)));
  if (absl::IsUnavailable(allowed.status())) {
    return deny("storage", ErrorKind::kStorageError, core::Message(allowed.status()));
  }
  if (!allowed.ok()) {
    metrics_.PolicyEvaluation(false, true);
    return deny("policy", ErrorKind::kPolicyDeny, core::Message(allowed.status()));
  }
  metrics_.PolicyEvaluation(*allowed, false);
  if (!*allowed) {
    return deny("policy", ErrorKind::kPolicyDeny,
                fmt::format("resource: access to `{}` denied by the resource policy", name));
  }
  auto value = backend_.Read(resource);
  if (!value.ok()) {
    metrics_.ResourceDenied("error", Since(t0));
    return ErrorResponse(ErrorKind::kStorageError,
                         fmt::format("resource: storage: {}", core::Message(value.status())));
  }
  if (!value->has_value()) {
    return deny("not_found", ErrorKind::kResourceNotFound,
                fmt::format("resource: `{}` does not exist", name));
  }
  auto pubkey = ExtractTeePubkey(claims, extra_teekey_paths_);
  if (!pubkey.ok()) {
    return deny("token", ErrorKind::kJweError,
                fmt::format("resource: {}", core::Message(pubkey.status())));
  }
  auto jwe = crypto::JweEncrypt(**pubkey, **value);
  if (!jwe.ok()) {
    return deny("token", ErrorKind::kJweError,
                fmt::format("resource: {}", core::Message(jwe.status())));
  }
  net::HttpResponse released = net::HttpResponse::Json(200, json::serialize(*jwe));
  if (!auditing) {
    metrics_.ResourceReleased(Since(t0));
    LogRequestEvent(spdlog::level::debug, fmt::format("resource `{}` released", name), req.remote,
                    "ok");
    return released;
  }
  json::object f = audit_fields("allow", "the resource policy allowed it");
  f["resource_digest"] = AuditTrail::Digest(**value);
  f["policy_digest"] = AuditTrail::Digest(policy_.Text());
  // The answer is held until the release's record is stored (fail closed: withheld when it
  // cannot be), without a thread waiting for it: the I/O thread serves other requests meanwhile.
  // The completion runs on the audit trail's writer and uses only what outlives the trail (the
  // metrics; kbs_service.h declares them first).
  released.hold = [audit = audit_, metrics = &metrics_, f = std::move(f), name, remote = req.remote,
                   t0](net::HttpRelease release) mutable {
    audit->RecordThen(
        audit::kRelease, std::move(f),
        [release = std::move(release), metrics, name = std::move(name), remote = std::move(remote),
         t0, fail_open = audit->fail_open()](absl::Status s) {
          if (!s.ok() && !fail_open) {
            metrics->ResourceDenied("audit", Since(t0));
            LogRequestEvent(spdlog::level::err, fmt::format("resource `{}` withheld", name), remote,
                            core::Message(s));
            return release(ErrorResponse(
                ErrorKind::kStorageError,
                fmt::format("resource: the release could not be recorded ({}); withheld "
                            "([audit] fail_open = false)",
                            core::Message(s))));
          }
          if (!s.ok()) {
            spdlog::error("audit: release of `{}` not recorded (fail_open): {}", name,
                          core::Message(s));
          }
          metrics->ResourceReleased(Since(t0));
          LogRequestEvent(spdlog::level::debug, fmt::format("resource `{}` released", name), remote,
                          "ok");
          release(std::nullopt);
        });
  };
  return released;
}

}  // namespace ccburst::kbs
