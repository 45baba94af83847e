#include "kbs/attest_handlers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "attestation/tee_names.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/key.h"
#include "crypto/random.h"
#include "kbs/errors.h"
#include "kbs/request_log.h"

namespace ccburst::kbs {
namespace {

namespace json = core::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kProtocolVersion = "0.4.0";

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// "10.0.0.1:443" -> "10.0.0.1", "[::1]:443" -> "::1": the per-source session limit counts
// addresses, not connections.
std::string ClientAddress(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    size_t close = remote.find(']');
    return std::string(remote.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  return std::string(remote.substr(0, remote.rfind(':')));
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
  CCB_RETURN_IF_ERROR(
      core::WithCode(crypto::CheckPublicJwk(out), absl::StatusCode::kInvalidArgument),
      "runtime-data.tee-pubkey");
  return out;
}

}  // namespace

net::HttpResponse AttestationHandlers::Auth(const net::HttpRequest& req) {
  auto fail = [&](std::string detail) {
    metrics_.Auth(false);
    LogRequestEvent(spdlog::level::info, "auth refused", req.remote, detail);
    return ErrorResponse(ErrorKind::kInvalidRequest, std::move(detail));
  };
  auto doc = core::ParseJson(req.body);
  if (!doc.ok())
    return fail(fmt::format("auth: request is not valid JSON: {}", core::Message(doc.status())));
  if (!doc->is_object()) return fail("auth: request is not a JSON object");
  const auto& o = doc->get_object();
  auto version = core::GetString(o, "version", "auth");
  if (!version.ok()) return fail(core::Message(version.status()));
  if (*version != kProtocolVersion) {
    metrics_.Auth(false);
    return ErrorResponse(
        ErrorKind::kProtocolVersion,
        fmt::format("auth: protocol version `{}` is not supported (this KBS speaks {})", *version,
                    kProtocolVersion));
  }
  auto tee = core::GetString(o, "tee", "auth");
  if (!tee.ok()) return fail(core::Message(tee.status()));
  if (!attestation::IsProtocolTee(*tee)) return fail(fmt::format("auth: unknown tee `{}`", *tee));
  if (!as_.SupportsTee(*tee)) {
    metrics_.Auth(false);
    return ErrorResponse(ErrorKind::kUnsupportedTee,
                         fmt::format("auth: tee `{}` is not supported by this KBS", *tee));
  }
  if (!o.contains("extra-params")) return fail("auth: missing field `extra-params`");

  std::string nonce = core::Base64Encode(crypto::RandomBytes(32));
  auto created = sessions_.Create(std::string(*tee), nonce, ClientAddress(req.remote));
  if (absl::IsUnavailable(created.status())) {
    metrics_.Auth(false);
    return ErrorResponse(ErrorKind::kStorageError,
                         fmt::format("auth: {}", core::Message(created.status())));
  }
  if (!created.ok()) {
    metrics_.Auth(false);
    LogRequestEvent(spdlog::level::warn, "auth refused", req.remote,
                    core::Message(created.status()));
    return ErrorResponse(ErrorKind::kTooManySessions,
                         fmt::format("auth: {}", core::Message(created.status())));
  }
  const std::string& id = *created;
  metrics_.Auth(true);

  json::object challenge;
  challenge["nonce"] = nonce;
  challenge["extra-params"] = "";
  net::HttpResponse r = JsonOk(json::serialize(challenge));
  r.SetHeader("Set-Cookie", fmt::format("{}={}; Expires={}; Path=/; HttpOnly", kSessionCookie, id,
                                        core::FormatHttpDate(sessions_.ExpiryFor(clock_.Now()))));
  return r;
}

net::HttpResponse AttestationHandlers::Attest(const net::HttpRequest& req) {
  auto t0 = Clock::now();
  std::string tee = "unknown";
  std::string session_id, evidence_digest;  // for the audit record, once known
  auto fail = [&](ErrorKind kind, std::string outcome, std::string detail) {
    metrics_.Attestation(tee, outcome, Since(t0));
    RecordAttestation(req, tee, session_id, evidence_digest, outcome, detail, nullptr);
    LogRequestEvent(spdlog::level::info, fmt::format("attest refused (tee {})", tee), req.remote,
                    detail);
    return ErrorResponse(kind, std::move(detail));
  };
  auto cookie = req.Cookie(kSessionCookie);
  if (!cookie) {
    return fail(ErrorKind::kInvalidRequest, "error",
                "attest: missing kbs-session-id cookie (call /kbs/v0/auth first)");
  }
  std::string id(*cookie);
  auto session = sessions_.Get(id);
  if (absl::IsUnavailable(session.status())) {
    return fail(ErrorKind::kStorageError, "error",
                fmt::format("attest: {}", core::Message(session.status())));
  }
  if (!session.ok())
    return fail(ErrorKind::kInvalidRequest, "error",
                fmt::format("attest: {}", core::Message(session.status())));
  tee = session->tee;

  std::string digest = crypto::Sha256(req.body);
  session_id = session->id;
  evidence_digest = digest;
  if (session->state == Session::State::kAttested) {
    if (digest == session->attestation_digest) {
      json::object r;
      r["token"] = session->token;
      return JsonOk(json::serialize(r));
    }
    return fail(ErrorKind::kAttestationError, "error",
                "attest: nonce replay: this session's nonce was already used by a successful "
                "attestation; start again with /kbs/v0/auth");
  }

  // From here on, any failure burns the session: a nonce is good for one attempt.
  auto burn = [&](ErrorKind kind, std::string outcome, std::string detail) {
    sessions_.EraseIfAuthed(id, digest);
    return fail(kind, std::move(outcome), std::move(detail));
  };
  auto doc = core::ParseJson(req.body);
  if (!doc.ok())
    return burn(ErrorKind::kInvalidRequest, "error",
                fmt::format("attest: request is not valid JSON: {}", core::Message(doc.status())));
  if (!doc->is_object())
    return burn(ErrorKind::kInvalidRequest, "error", "attest: request is not a JSON object");
  const auto& o = doc->get_object();

  auto runtime = core::GetObject(o, "runtime-data", "attest");
  if (!runtime.ok())
    return burn(ErrorKind::kInvalidRequest, "error", core::Message(runtime.status()));
  auto nonce = core::GetString(**runtime, "nonce", "attest: runtime-data");
  if (!nonce.ok()) return burn(ErrorKind::kInvalidRequest, "error", core::Message(nonce.status()));
  if (*nonce != session->nonce) {
    return burn(ErrorKind::kAttestationError, "failure",
                "attest: nonce mismatch: runtime-data.nonce is not this session's challenge");
  }
  auto pk_it = (*runtime)->find("tee-pubkey");
  if (pk_it == (*runtime)->end()) {
    return burn(ErrorKind::kInvalidRequest, "error",
                "attest: runtime-data: missing field `tee-pubkey`");
  }
  auto tee_pubkey = CanonicalTeePubkey(pk_it->value());
  if (!tee_pubkey.ok())
    return burn(ErrorKind::kInvalidRequest, "error",
                fmt::format("attest: {}", core::Message(tee_pubkey.status())));

  auto evidence = core::GetObject(o, "tee-evidence", "attest");
  if (!evidence.ok())
    return burn(ErrorKind::kInvalidRequest, "error", core::Message(evidence.status()));
  auto primary = (*evidence)->find("primary_evidence");
  if (primary == (*evidence)->end()) {
    return burn(ErrorKind::kInvalidRequest, "error",
                "attest: tee-evidence: missing field `primary_evidence`");
  }
  std::string additional;
  if (auto it = (*evidence)->find("additional_evidence"); it != (*evidence)->end()) {
    if (!it->value().is_string()) {
      return burn(ErrorKind::kInvalidRequest, "error",
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
      return burn(ErrorKind::kInvalidRequest, "error", "attest: init-data must be an object");
    }
    const auto& init = it->value().get_object();
    auto format = core::GetString(init, "format", "attest: init-data");
    if (!format.ok())
      return burn(ErrorKind::kInvalidRequest, "error", core::Message(format.status()));
    if (*format != "toml") {
      return burn(ErrorKind::kInvalidRequest, "error",
                  fmt::format("attest: init-data format `{}` is not supported (toml)", *format));
    }
    auto body = core::GetString(init, "body", "attest: init-data");
    if (!body.ok()) return burn(ErrorKind::kInvalidRequest, "error", core::Message(body.status()));
    ar.init_data_toml = std::string(*body);
  }

  // With a shared store, the nonce is spent here, in one insert that every replica sees: of
  // attempts racing on it (on any replica) exactly one goes on, besides retries of its body.
  auto claim = sessions_.ClaimNonce(*session, digest);
  if (!claim.ok()) {
    // Nothing was spent: the client may retry the same nonce once the store is back.
    return fail(ErrorKind::kStorageError, "error",
                fmt::format("attest: {}", core::Message(claim.status())));
  }
  if (*claim == SessionStore::Claim::kBurned) {
    return fail(ErrorKind::kAttestationError, "error",
                "attest: this session's nonce was spent by a failed attestation; start again "
                "with /kbs/v0/auth");
  }
  if (*claim == SessionStore::Claim::kSpent) {
    return fail(ErrorKind::kAttestationError, "error",
                "attest: nonce replay: a concurrent attestation already used this session's "
                "nonce; start again with /kbs/v0/auth");
  }

  std::vector<attestation::DeviceOutcome> devices;
  auto token = as_.Attest(ar, &devices);
  for (const auto& d : devices) metrics_.DeviceAttestation(d.arch, d.status);
  if (absl::IsUnavailable(token.status())) {
    // A store or collateral fault (the attestation policy could not be read, a backend is down)
    // is the server's, not a verdict on the evidence: 503 StorageError, and the session is kept
    // so that the client may retry the same nonce once the fault is gone.
    return fail(ErrorKind::kStorageError, "error",
                fmt::format("attest: {}", core::Message(token.status())));
  }
  if (!token.ok()) {
    bool malformed = absl::IsInvalidArgument(token.status());
    return burn(ErrorKind::kAttestationError, malformed ? "error" : "failure",
                fmt::format("attest: {}", core::Message(token.status())));
  }
  // Compare-and-set: of concurrent attempts on one nonce, only the first to get here wins; the
  // others get its token if they sent the same body (a retry), else a replay error.
  std::optional<std::string> attested = sessions_.MarkAttested(id, *token, digest);
  if (!attested) {
    auto now = sessions_.Get(id);
    if (absl::IsUnavailable(now.status()) || (now.ok() && now->state == Session::State::kAuthed)) {
      // The shared store failed under the compare-and-swap: the nonce is unspent, the client
      // may retry.
      return fail(ErrorKind::kStorageError, "error",
                  now.ok() ? "attest: storage: the session could not be marked attested; retry"
                           : fmt::format("attest: {}", core::Message(now.status())));
    }
    if (!now.ok()) {
      return fail(ErrorKind::kAttestationError, "error",
                  "attest: session expired during attestation");
    }
    if (now->state == Session::State::kAttested && now->attestation_digest == digest) {
      json::object r;
      r["token"] = now->token;
      return JsonOk(json::serialize(r));
    }
    return fail(ErrorKind::kAttestationError, "error",
                "attest: nonce replay: a concurrent attestation already used this session's "
                "nonce; start again with /kbs/v0/auth");
  }
  metrics_.Attestation(tee, "success", Since(t0));
  RecordAttestation(req, tee, session->id, digest, "success", "", &*token);
  json::object r;
  r["token"] = *token;
  net::HttpResponse ok = JsonOk(json::serialize(r));
  // With a shared store the attested session is a new cookie value.
  if (*attested != id) {
    ok.SetHeader("Set-Cookie",
                 fmt::format("{}={}; Expires={}; Path=/; HttpOnly", kSessionCookie, *attested,
                             core::FormatHttpDate(sessions_.ExpiryFor(clock_.Now()))));
  }
  return ok;
}

void AttestationHandlers::RecordAttestation(const net::HttpRequest& req, std::string_view tee,
                                            std::string_view session_id,
                                            std::string_view evidence_digest,
                                            std::string_view verdict, std::string_view detail,
                                            const std::string* token) {
  if (audit_ == nullptr || !audit_->enabled()) return;
  json::object f;
  if (token != nullptr) {
    f = AuditTrail::AttestationFields(*token);
    // The appraisal policy's digest: the Rego text of `<policy_id>_cpu` the token was issued
    // under (kept by the attestation service from the appraisal).
    const json::value* id = f.if_contains("policy_id");
    std::string policy =
        fmt::format("{}_cpu", id && id->is_string() ? id->get_string() : "default");
    auto digest = as_.AppraisedPolicyDigest(policy);
    f["policy"] = policy;
    f["policy_digest"] = digest ? json::value(*digest) : json::value(nullptr);
  } else {
    f["detail"] = detail;
  }
  f["verdict"] = verdict;
  f["tee"] = tee;
  // The session id is a bearer credential until it expires: only its digest is recorded.
  f["session"] =
      session_id.empty() ? json::value(nullptr) : json::value(AuditTrail::Digest(session_id));
  f["evidence_digest"] = evidence_digest.empty()
                             ? json::value(nullptr)
                             : json::value("sha256:" + core::HexEncode(evidence_digest));
  f["client"] = ClientAddress(req.remote);
  audit_->RecordAsync(audit::kAttestation, std::move(f));
}

}  // namespace ccburst::kbs
