#include "kbs/kbs_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/jwe.h"
#include "crypto/jws.h"
#include "crypto/key.h"
#include "crypto/random.h"
#include "evidence/sample/sample.h"
#include "kbs/azure_verifiers.h"
#include "kbs/tee_verifiers.h"

namespace ccburst::kbs {
namespace {

namespace json = core::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kProtocolVersion = "0.4.0";
constexpr std::string_view kSessionCookie = "kbs-session-id";
constexpr std::string_view kRepositoryNamespace = "repository";

// TEE names the protocol defines; a request naming anything else is malformed.
bool KnownTee(std::string_view tee) {
  static const std::set<std::string_view> kTees = {
      "tdx", "snp", "sgx",       "az-snp-vtpm", "az-tdx-vtpm", "tpm",         "cca",
      "se",  "csv", "hygon-dcu", "nvidia",      "sample",      "sampledevice"};
  return kTees.count(tee) > 0;
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool ValidSegment(std::string_view s) {
  if (s.empty()) return false;
  auto ok = [](char c, bool first) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || (!first && c == '.');
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (!ok(s[i], i == 0)) return false;
  }
  return true;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = core::HexDecode(s.substr(i + 1, 2));
      if (hex.ok()) {
        out += *hex;
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

json::object ParseQuery(std::string_view q) {
  json::object out;
  if (q.empty()) return out;
  for (const auto& part : Split(q, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string k = PercentDecode(std::string_view(part).substr(0, eq));
    std::string v =
        eq == std::string::npos ? "" : PercentDecode(std::string_view(part).substr(eq + 1));
    out[k] = v;
  }
  return out;
}

net::HttpResponse JsonOk(std::string body) { return net::HttpResponse::Json(200, std::move(body)); }

// The tee-pubkey with only the members the protocol defines, in the shape the client hashed.
absl::StatusOr<json::object> CanonicalTeePubkey(const json::value& v) {
  if (!v.is_object()) return absl::InvalidArgumentError("runtime-data.tee-pubkey is not an object");
  const auto& o = v.get_object();
  auto str = [&](std::string_view k) -> absl::StatusOr<std::string> {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_string()) {
      return absl::InvalidArgumentError(
          fmt::format("runtime-data.tee-pubkey: missing string member `{}`", k));
    }
    return std::string(it->value().get_string());
  };
  CCB_ASSIGN_OR_RETURN(std::string kty, str("kty"));
  CCB_ASSIGN_OR_RETURN(std::string alg, str("alg"));
  json::object out;
  out["kty"] = kty;
  if (kty == "EC") {
    CCB_ASSIGN_OR_RETURN(std::string crv, str("crv"));
    CCB_ASSIGN_OR_RETURN(std::string x, str("x"));
    CCB_ASSIGN_OR_RETURN(std::string y, str("y"));
    if (crv != "P-256" && crv != "P-521") {
      return absl::InvalidArgumentError(
          fmt::format("runtime-data.tee-pubkey: curve `{}` is not supported (P-256, P-521)", crv));
    }
    if (alg != "ECDH-ES+A256KW") {
      return absl::InvalidArgumentError(fmt::format(
          "runtime-data.tee-pubkey: algorithm `{}` is not supported for EC keys (ECDH-ES+A256KW)",
          alg));
    }
    out["crv"] = crv;
    out["alg"] = alg;
    out["x"] = x;
    out["y"] = y;
  } else if (kty == "RSA") {
    CCB_ASSIGN_OR_RETURN(std::string n, str("n"));
    CCB_ASSIGN_OR_RETURN(std::string e, str("e"));
    if (alg != "RSA1_5" && alg != "RSA-OAEP-256") {
      return absl::InvalidArgumentError(fmt::format(
          "runtime-data.tee-pubkey: algorithm `{}` is not supported for RSA keys (RSA1_5, "
          "RSA-OAEP-256)",
          alg));
    }
    out["alg"] = alg;
    out["n"] = n;
    out["e"] = e;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("runtime-data.tee-pubkey: key type `{}` is not supported (EC, RSA)", kty));
  }
  // The key must be usable: reject points off the curve now rather than at release time.
  if (absl::Status k = crypto::CheckPublicJwk(out); !k.ok()) {
    return absl::InvalidArgumentError(fmt::format("runtime-data.tee-pubkey: {}", core::Message(k)));
  }
  return out;
}

}  // namespace

net::HttpResponse KbsService::Error(int status, std::string_view type, std::string detail) {
  json::object body;
  body["type"] = fmt::format("https://github.com/confidential-containers/kbs/errors/{}", type);
  body["detail"] = std::move(detail);
  return net::HttpResponse::Json(status, json::serialize(body));
}

KbsService::KbsService(const KbsConfig& config, const core::Clock& clock)
    : config_(config), clock_(clock) {}

KbsService::~KbsService() = default;

absl::StatusOr<std::unique_ptr<KbsService>> KbsService::Create(const KbsConfig& config,
                                                               const core::Clock& clock) {
  std::unique_ptr<KbsService> s(new KbsService(config, clock));
  if (config.storage.type == "Memory") {
    s->kv_ = store::NewMemoryStore();
  } else {
    CCB_ASSIGN_OR_RETURN(s->kv_, store::OpenSqliteStore(config.storage.sqlite_path));
  }

  std::optional<crypto::PrivateKey> token_key;
  if (config.attestation_service.signer_key_path) {
    auto key = crypto::PrivateKey::LoadPemFile(*config.attestation_service.signer_key_path);
    if (!key.ok()) {
      return absl::InvalidArgumentError(fmt::format("token signer key `{}`: {}",
                                                    *config.attestation_service.signer_key_path,
                                                    core::Message(key.status())));
    }
    if (key->type() != crypto::KeyType::kEcP256) {
      return absl::InvalidArgumentError(
          fmt::format("token signer key `{}` must be an EC P-256 key (EAR tokens are ES256)",
                      *config.attestation_service.signer_key_path));
    }
    token_key = *key;
  } else {
    token_key = crypto::PrivateKey::GenerateEcP256();
    spdlog::info(
        "no [attestation_service.attestation_token_broker.signer] key_path: generated an "
        "ephemeral P-256 token key (tokens do not survive a restart)");
  }

  s->rvs_ = std::make_unique<attestation::ReferenceValueStore>(*s->kv_, clock);
  attestation::AttestationServiceOptions as_options;
  as_options.issuer = config.attestation_service.issuer_name;
  as_options.token_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(config.attestation_service.token_duration);
  as_options.developer = config.attestation_service.developer_name;
  as_options.build = config.attestation_service.build_name;
  s->as_ = std::make_unique<attestation::AttestationService>(*s->kv_, *s->rvs_, *token_key, clock,
                                                             as_options);
  s->as_->RegisterVerifier(evidence::NewSampleVerifier());
  CCB_ASSIGN_OR_RETURN(auto tdx, NewTdxVerifier(config.attestation_service.dcap_verifier));
  s->as_->RegisterVerifier(std::move(tdx));
  CCB_ASSIGN_OR_RETURN(auto snp, NewSnpVerifier(config.attestation_service.snp_verifier));
  s->as_->RegisterVerifier(std::move(snp));
  CCB_RETURN_IF_ERROR(RegisterAzureVerifiers(*s->as_, config.attestation_service));

  s->sessions_ = std::make_unique<SessionStore>(
      clock,
      std::chrono::duration_cast<std::chrono::seconds>(config.attestation_service.session_timeout));

  s->resource_policy_ = std::make_unique<ResourcePolicy>(*s->kv_);
  std::optional<std::string> initial_policy;
  if (config.resource_policy_path) {
    auto text = core::ReadFile(*config.resource_policy_path);
    if (!text.ok()) {
      return absl::NotFoundError("policy_engine.policy_path: " + core::Message(text.status()));
    }
    initial_policy = std::move(*text);
  }
  CCB_RETURN_IF_ERROR(s->resource_policy_->Init(initial_policy));

  CCB_ASSIGN_OR_RETURN(s->admin_, AdminAuthorizer::Create(config.admin, clock));

  std::vector<crypto::PublicKey> trusted{token_key->Public()};
  for (const auto& path : config.attestation_token.trusted_jwk_sets) {
    CCB_ASSIGN_OR_RETURN(auto keys, TokenVerifier::LoadJwks(path));
    trusted.insert(trusted.end(), keys.begin(), keys.end());
  }
  s->token_verifier_ = std::make_unique<TokenVerifier>(
      clock, std::move(trusted), config.attestation_token.insecure_header_jwk);
  s->metrics_ = std::make_unique<KbsMetrics>();
  s->jwks_body_ = json::serialize(s->as_->Jwks());
  return s;
}

net::HttpResponse KbsService::Handle(const net::HttpRequest& req) {
  metrics_->HttpRequest();
  const std::string& path = req.path;
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") {
      return Error(405, "MethodNotAllowed", "/healthz accepts GET");
    }
    return JsonOk(R"({"status":"ok"})");
  }
  if (path == "/metrics") {
    if (req.method != "GET") return Error(405, "MethodNotAllowed", "/metrics accepts GET");
    metrics_->SetActiveSessions(static_cast<double>(sessions_->Sweep()));
    net::HttpResponse r;
    r.status = 200;
    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
    r.body = metrics_->Render();
    return r;
  }
  if (path == "/.well-known/jwks.json") {
    if (req.method != "GET") return Error(405, "MethodNotAllowed", "jwks accepts GET");
    return JsonOk(jwks_body_);
  }
  constexpr std::string_view kPrefix = "/kbs/v0/";
  if (path.rfind(kPrefix, 0) != 0) {
    return Error(404, "InvalidRequestPath", fmt::format("request path `{}` is invalid", path));
  }
  std::vector<std::string> parts = Split(std::string_view(path).substr(kPrefix.size()), '/');
  const std::string endpoint = parts[0];
  std::vector<std::string> rest(parts.begin() + 1, parts.end());

  if (endpoint == "auth" && rest.empty()) {
    if (req.method != "POST") return Error(405, "MethodNotAllowed", "/kbs/v0/auth accepts POST");
    return Auth(req);
  }
  if (endpoint == "attest" && rest.empty()) {
    if (req.method != "POST") return Error(405, "MethodNotAllowed", "/kbs/v0/attest accepts POST");
    return Attest(req);
  }
  if (endpoint == "resource") {
    if (rest.size() != 3 || !ValidSegment(rest[0]) || !ValidSegment(rest[1]) ||
        !ValidSegment(rest[2])) {
      return Error(404, "InvalidRequestPath",
                   fmt::format("resource path `{}` is invalid: expected /kbs/v0/resource/"
                               "<repository>/<type>/<tag>, each matching "
                               "[A-Za-z0-9_-][A-Za-z0-9_.-]*",
                               path));
    }
    if (req.method == "GET") return GetResource(req, rest);
    return Admin(req, endpoint, rest);
  }
  if (endpoint == "resource-policy" || endpoint == "attestation-policy" ||
      endpoint == "reference-value" || endpoint == "reference-values") {
    return Admin(req, endpoint, rest);
  }
  return Error(404, "PluginNotFound", fmt::format("no endpoint or plugin named `{}`", endpoint));
}

net::HttpResponse KbsService::Auth(const net::HttpRequest& req) {
  auto fail = [&](std::string detail) {
    metrics_->Auth(false);
    spdlog::info("auth refused from {}: {}", req.remote, detail);
    return Error(401, "InvalidRequest", std::move(detail));
  };
  auto doc = core::ParseJson(req.body);
  if (!doc.ok())
    return fail(fmt::format("auth: request is not valid JSON: {}", core::Message(doc.status())));
  if (!doc->is_object()) return fail("auth: request is not a JSON object");
  const auto& o = doc->get_object();
  auto version = core::GetString(o, "version", "auth");
  if (!version.ok()) return fail(core::Message(version.status()));
  if (*version != kProtocolVersion) {
    metrics_->Auth(false);
    return Error(401, "ProtocolVersion",
                 fmt::format("auth: protocol version `{}` is not supported (this KBS speaks {})",
                             *version, kProtocolVersion));
  }
  auto tee = core::GetString(o, "tee", "auth");
  if (!tee.ok()) return fail(core::Message(tee.status()));
  if (!KnownTee(*tee)) return fail(fmt::format("auth: unknown tee `{}`", *tee));
  if (!as_->SupportsTee(*tee)) {
    metrics_->Auth(false);
    return Error(401, "UnsupportedTee",
                 fmt::format("auth: tee `{}` is not supported by this KBS", *tee));
  }
  if (!o.contains("extra-params")) return fail("auth: missing field `extra-params`");

  std::string nonce = core::Base64Encode(crypto::RandomBytes(32));
  auto created = sessions_->Create(std::string(*tee), nonce);
  if (!created.ok()) {
    metrics_->Auth(false);
    spdlog::warn("auth refused from {}: {}", req.remote, core::Message(created.status()));
    return Error(503, "TooManySessions", fmt::format("auth: {}", core::Message(created.status())));
  }
  const std::string& id = *created;
  metrics_->Auth(true);

  json::object challenge;
  challenge["nonce"] = nonce;
  challenge["extra-params"] = "";
  net::HttpResponse r = JsonOk(json::serialize(challenge));
  r.SetHeader("Set-Cookie", fmt::format("{}={}; Expires={}; Path=/; HttpOnly", kSessionCookie, id,
                                        core::FormatHttpDate(sessions_->ExpiryFor(clock_.Now()))));
  return r;
}

net::HttpResponse KbsService::Attest(const net::HttpRequest& req) {
  auto t0 = Clock::now();
  std::string tee = "unknown";
  auto fail = [&](std::string_view type, std::string outcome, std::string detail) {
    metrics_->Attestation(tee, outcome, Since(t0));
    spdlog::info("attest refused from {} (tee {}): {}", req.remote, tee, detail);
    return Error(401, type, std::move(detail));
  };
  auto cookie = req.Cookie(kSessionCookie);
  if (!cookie) {
    return fail("InvalidRequest", "error",
                "attest: missing kbs-session-id cookie (call /kbs/v0/auth first)");
  }
  std::string id(*cookie);
  auto session = sessions_->Get(id);
  if (!session.ok())
    return fail("InvalidRequest", "error",
                fmt::format("attest: {}", core::Message(session.status())));
  tee = session->tee;

  std::string digest = crypto::Sha256(req.body);
  if (session->state == Session::State::kAttested) {
    if (digest == session->attestation_digest) {
      json::object r;
      r["token"] = session->token;
      return JsonOk(json::serialize(r));
    }
    return fail("AttestationError", "error",
                "attest: nonce replay: this session's nonce was already used by a successful "
                "attestation; start again with /kbs/v0/auth");
  }

  // From here on, any failure burns the session: a nonce is good for one attempt.
  auto burn = [&](std::string_view type, std::string outcome, std::string detail) {
    sessions_->Erase(id);
    return fail(type, std::move(outcome), std::move(detail));
  };
  auto doc = core::ParseJson(req.body);
  if (!doc.ok())
    return burn("InvalidRequest", "error",
                fmt::format("attest: request is not valid JSON: {}", core::Message(doc.status())));
  if (!doc->is_object())
    return burn("InvalidRequest", "error", "attest: request is not a JSON object");
  const auto& o = doc->get_object();

  auto runtime = core::GetObject(o, "runtime-data", "attest");
  if (!runtime.ok()) return burn("InvalidRequest", "error", core::Message(runtime.status()));
  auto nonce = core::GetString(**runtime, "nonce", "attest: runtime-data");
  if (!nonce.ok()) return burn("InvalidRequest", "error", core::Message(nonce.status()));
  if (*nonce != session->nonce) {
    return burn("AttestationError", "failure",
                "attest: nonce mismatch: runtime-data.nonce is not this session's challenge");
  }
  auto pk_it = (*runtime)->find("tee-pubkey");
  if (pk_it == (*runtime)->end()) {
    return burn("InvalidRequest", "error", "attest: runtime-data: missing field `tee-pubkey`");
  }
  auto tee_pubkey = CanonicalTeePubkey(pk_it->value());
  if (!tee_pubkey.ok())
    return burn("InvalidRequest", "error",
                fmt::format("attest: {}", core::Message(tee_pubkey.status())));

  auto evidence = core::GetObject(o, "tee-evidence", "attest");
  if (!evidence.ok()) return burn("InvalidRequest", "error", core::Message(evidence.status()));
  auto primary = (*evidence)->find("primary_evidence");
  if (primary == (*evidence)->end()) {
    return burn("InvalidRequest", "error",
                "attest: tee-evidence: missing field `primary_evidence`");
  }
  std::string additional;
  if (auto it = (*evidence)->find("additional_evidence"); it != (*evidence)->end()) {
    if (!it->value().is_string()) {
      return burn("InvalidRequest", "error",
                  "attest: tee-evidence.additional_evidence must be a JSON string");
    }
    additional = std::string(it->value().get_string());
  }

  attestation::AttestationService::Request ar;
  ar.tee = tee;
  ar.primary_evidence = primary->value();
  ar.additional_evidence = std::move(additional);
  ar.runtime_data["nonce"] = *nonce;
  ar.runtime_data["tee-pubkey"] = std::move(*tee_pubkey);
  if (auto it = o.find("init-data"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object()) {
      return burn("InvalidRequest", "error", "attest: init-data must be an object");
    }
    const auto& init = it->value().get_object();
    auto format = core::GetString(init, "format", "attest: init-data");
    if (!format.ok()) return burn("InvalidRequest", "error", core::Message(format.status()));
    if (*format != "toml") {
      return burn("InvalidRequest", "error",
                  fmt::format("attest: init-data format `{}` is not supported (toml)", *format));
    }
    auto body = core::GetString(init, "body", "attest: init-data");
    if (!body.ok()) return burn("InvalidRequest", "error", core::Message(body.status()));
    ar.init_data_toml = std::string(*body);
  }

  auto token = as_->Attest(ar);
  if (!token.ok()) {
    bool malformed = absl::IsInvalidArgument(token.status());
    return burn("AttestationError", malformed ? "error" : "failure",
                fmt::format("attest: {}", core::Message(token.status())));
  }
  if (!sessions_->MarkAttested(id, *token, digest)) {
    return fail("AttestationError", "error", "attest: session expired during attestation");
  }
  metrics_->Attestation(tee, "success", Since(t0));
  json::object r;
  r["token"] = *token;
  return JsonOk(json::serialize(r));
}

net::HttpResponse KbsService::GetResource(const net::HttpRequest& req,
                                          const std::vector<std::string>& path) {
  auto t0 = Clock::now();
  std::string resource = fmt::format("{}/{}/{}", path[0], path[1], path[2]);
  auto deny = [&](std::string_view reason, std::string_view type, std::string detail) {
    metrics_->ResourceDenied(std::string(reason), Since(t0));
    spdlog::info("resource `{}` refused to {}: {}", resource, req.remote, detail);
    return Error(401, type, std::move(detail));
  };

  // The token's claims, held as a value: the resource policy reads them as its input and the
  // TEE key is found inside them, both without copying.
  json::value claims;
  auto authz = req.Header("Authorization");
  if (authz && authz->substr(0, 7) == "Bearer ") {
    auto verified = token_verifier_->Verify(authz->substr(7));
    if (!verified.ok()) {
      return deny("token", "TokenVerifierError",
                  fmt::format("resource: {}", core::Message(verified.status())));
    }
    claims = std::move(*verified);
  } else if (auto cookie = req.Cookie(kSessionCookie)) {
    auto session = sessions_->Get(std::string(*cookie));
    if (!session.ok()) {
      return deny("token", "TokenNotFound",
                  fmt::format("resource: {}", core::Message(session.status())));
    }
    if (session->state != Session::State::kAttested) {
      return deny("token", "TokenNotFound",
                  "resource: session is not attested (call /kbs/v0/attest first)");
    }
    // Our own token, kept server-side since /attest: decoding suffices, no signature check.
    auto jwt = crypto::DecodeJwt(session->token);
    if (!jwt.ok()) {
      return deny("token", "TokenVerifierError",
                  fmt::format("resource: session token: {}", core::Message(jwt.status())));
    }
    claims = std::move(jwt->claims);
    const json::object& claims_object = claims.get_object();
    auto exp = claims_object.find("exp");
    if (exp != claims_object.end() && exp->value().is_int64() &&
        core::ToUnixSeconds(clock_.Now()) > exp->value().get_int64()) {
      return deny("token", "TokenVerifierError", "resource: the session's token has expired");
    }
  } else {
    return deny("token", "TokenNotFound",
                "resource: no attestation token: send `Authorization: Bearer <token>` or the "
                "kbs-session-id cookie of an attested session");
  }

  json::object data;
  data["plugin"] = "resource";
  data["resource-path"] = json::array{path[0], path[1], path[2]};
  data["query"] = ParseQuery(req.query);
  auto allowed = resource_policy_->Allowed(claims, json::value(std::move(data)));
  if (!allowed.ok()) {
    metrics_->PolicyEvaluation(false, true);
    return deny("policy", "PolicyDeny", core::Message(allowed.status()));
  }
  metrics_->PolicyEvaluation(*allowed, false);
  if (!*allowed) {
    return deny("policy", "PolicyDeny",
                fmt::format("resource: access to `{}` denied by the resource policy", resource));
  }
  auto value = kv_->Get(kRepositoryNamespace, resource);
  if (!value.ok()) {
    metrics_->ResourceDenied("error", Since(t0));
    return Error(503, "StorageError",
                 fmt::format("resource: storage: {}", core::Message(value.status())));
  }
  if (!value->has_value()) {
    return deny("not_found", "ResourceNotFound",
                fmt::format("resource: `{}` does not exist", resource));
  }
  auto pubkey = ExtractTeePubkey(claims, config_.attestation_token.extra_teekey_paths);
  if (!pubkey.ok())
    return deny("token", "JweError", fmt::format("resource: {}", core::Message(pubkey.status())));
  auto jwe = crypto::JweEncrypt(**pubkey, **value);
  if (!jwe.ok())
    return deny("token", "JweError", fmt::format("resource: {}", core::Message(jwe.status())));
  metrics_->ResourceReleased(Since(t0));
  spdlog::debug("resource `{}` released to {}", resource, req.remote);
  return JsonOk(json::serialize(*jwe));
}

net::HttpResponse KbsService::Admin(const net::HttpRequest& req, std::string_view endpoint,
                                    const std::vector<std::string>& rest) {
  std::string target = req.target;
  absl::Status access = admin_->Check(req.Header("Authorization").value_or(""), target);
  if (!access.ok()) {
    int status = absl::IsUnauthenticated(access) ? 401 : 403;
    spdlog::warn("admin request {} {} from {} refused: {}", req.method, req.path, req.remote,
                 core::Message(access));
    return Error(status, "AdminAuthAccess", core::Message(access));
  }
  auto bad = [](std::string detail) { return Error(400, "InvalidRequest", std::move(detail)); };
  auto storage_error = [](const absl::Status& s) {
    return Error(503, "StorageError", core::Message(s));
  };

  if (endpoint == "resource") {
    std::string resource = fmt::format("{}/{}/{}", rest[0], rest[1], rest[2]);
    if (req.method == "POST" || req.method == "PUT") {
      if (req.body.empty()) return bad(fmt::format("resource `{}`: empty body", resource));
      absl::Status s = kv_->Put(kRepositoryNamespace, resource, req.body);
      if (!s.ok()) return storage_error(s);
      spdlog::info("admin: resource `{}` written ({} bytes)", resource, req.body.size());
      return JsonOk("");
    }
    if (req.method == "DELETE") {
      auto deleted = kv_->Delete(kRepositoryNamespace, resource);
      if (!deleted.ok()) return storage_error(deleted.status());
      if (!*deleted) {
        return Error(404, "ResourceNotFound",
                     fmt::format("resource `{}` does not exist", resource));
      }
      spdlog::info("admin: resource `{}` deleted", resource);
      return JsonOk("");
    }
    return Error(405, "MethodNotAllowed", "resources accept GET, POST, PUT and DELETE");
  }

  if (endpoint == "resource-policy" && rest.empty()) {
    if (req.method == "GET") return JsonOk(R"(["resource-policy"])");
    if (req.method != "POST")
      return Error(405, "MethodNotAllowed", "resource-policy accepts GET and POST");
    auto doc = core::ParseJson(req.body);
    if (!doc.ok()) return bad(fmt::format("resource-policy: {}", core::Message(doc.status())));
    if (!doc->is_object()) return bad("resource-policy: request is not a JSON object");
    auto policy_b64 = core::GetString(doc->get_object(), "policy", "resource-policy");
    if (!policy_b64.ok()) return bad(core::Message(policy_b64.status()));
    auto policy = core::Base64UrlDecode(*policy_b64);
    if (!policy.ok()) {
      return bad(fmt::format("resource-policy: `policy` is not base64url: {}",
                             core::Message(policy.status())));
    }
    absl::Status s = resource_policy_->Set(std::move(*policy));
    if (!s.ok()) {
      return absl::IsInvalidArgument(s) ? Error(400, "ParsePolicyError", core::Message(s))
                                        : storage_error(s);
    }
    spdlog::info("admin: resource policy replaced");
    return JsonOk("");
  }

  if (endpoint == "attestation-policy" && rest.empty()) {
    if (req.method == "GET") {
      auto ids = as_->ListPolicies();
      if (!ids.ok()) return storage_error(ids.status());
      json::array a;
      for (auto& id : *ids) a.emplace_back(id);
      return JsonOk(json::serialize(a));
    }
    if (req.method != "POST")
      return Error(405, "MethodNotAllowed", "attestation-policy accepts GET and POST");
    absl::Status s = as_->SetPolicy(req.body);
    if (!s.ok()) {
      return absl::IsInvalidArgument(s) ? Error(400, "ParsePolicyError", core::Message(s))
                                        : storage_error(s);
    }
    spdlog::info("admin: attestation policy set");
    return JsonOk("");
  }

  if (endpoint == "reference-value") {
    if (req.method == "POST" && rest.empty()) {
      absl::Status s = rvs_->Register(req.body);
      if (!s.ok()) {
        return absl::IsInvalidArgument(s) ? Error(400, "RvpsError", core::Message(s))
                                          : storage_error(s);
      }
      spdlog::info("admin: reference values registered");
      return JsonOk("");
    }
    if (rest.empty()) return Error(404, "InvalidRequestPath", "reference-value: missing id");
    std::string id = rest[0];
    for (size_t i = 1; i < rest.size(); ++i) id += "/" + rest[i];
    if (req.method == "GET") {
      auto v = rvs_->Get(id);
      if (!v.ok()) return storage_error(v.status());
      if (!v->has_value()) {
        return Error(404, "RvpsError",
                     fmt::format("reference value `{}` does not exist or has expired", id));
      }
      return JsonOk(json::serialize(**v));
    }
    if (req.method == "DELETE") {
      auto deleted = rvs_->Delete(id);
      if (!deleted.ok()) return storage_error(deleted.status());
      if (!*deleted)
        return Error(404, "RvpsError", fmt::format("reference value `{}` does not exist", id));
      return JsonOk("");
    }
    return Error(405, "MethodNotAllowed", "reference-value accepts GET, POST and DELETE");
  }

  if (endpoint == "reference-values" && rest.empty() && req.method == "GET") {
    auto ids = rvs_->List();
    if (!ids.ok()) return storage_error(ids.status());
    json::array a;
    for (auto& id : *ids) a.emplace_back(id);
    return JsonOk(json::serialize(a));
  }
  return Error(404, "InvalidRequestPath", fmt::format("request path `{}` is invalid", req.path));
}

absl::StatusOr<std::unique_ptr<KbsServer>> KbsServer::Start(const KbsConfig& config,
                                                            const core::Clock& clock) {
  std::unique_ptr<KbsServer> server(new KbsServer());
  CCB_ASSIGN_OR_RETURN(server->service_, KbsService::Create(config, clock));
  net::HttpServerOptions options;
  options.sockets = config.http_server.sockets;
  if (!config.http_server.insecure_http) {
    options.tls_certificate_file = config.http_server.certificate;
    options.tls_private_key_file = config.http_server.private_key;
  }
  options.max_body_bytes = config.http_server.payload_request_size_mib * 1024 * 1024;
  options.threads = config.http_server.worker_count;
  options.error_response = [](int status, std::string detail) {
    std::string_view type = status == 413 ? "PayloadTooLarge" : "InvalidRequest";
    return KbsService::Error(status, type, std::move(detail));
  };
  KbsService* service = server->service_.get();
  CCB_ASSIGN_OR_RETURN(server->http_, net::HttpServer::Start(std::move(options),
                                                             [service](const net::HttpRequest& r) {
                                                               return service->Handle(r);
                                                             }));
  return server;
}

}  // namespace ccburst::kbs
