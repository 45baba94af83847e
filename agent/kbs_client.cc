#include "agent/kbs_client.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/jwe.h"

namespace ccburst::agent {

namespace json = core::json;

std::string BindingDigest(std::string_view tee, std::string_view nonce,
                          const json::object& tee_pubkey, std::string_view additional_evidence) {
  json::value binding = json::object();  // a value: Jcs() then takes it as is
  json::object& members = binding.get_object();
  members["additional-evidence"] = additional_evidence;
  members["nonce"] = nonce;
  members["tee-pubkey"] = tee_pubkey;
  std::string canonical = core::Jcs(binding);
  return tee == "se" ? crypto::Sha512(canonical) : crypto::Sha384(canonical);
}

absl::Status KbsError(int status, std::string_view body) {
  std::string type = "unknown";
  std::string detail(body.substr(0, 512));
  if (auto doc = core::ParseJson(body); doc.ok() && doc->is_object()) {
    const auto& o = doc->get_object();
    if (auto t = o.find("type"); t != o.end() && t->value().is_string()) {
      std::string_view full = t->value().get_string();
      type = std::string(full.substr(full.rfind('/') + 1));
    }
    if (auto d = o.find("detail"); d != o.end() && d->value().is_string()) {
      detail = std::string(d->value().get_string());
    }
  }
  std::string msg = fmt::format("kbs: HTTP {} {}: {}", status, type, detail);
  if (status == 401 || status == 403) return absl::PermissionDeniedError(msg);
  if (status == 404) return absl::NotFoundError(msg);
  if (status >= 500) return absl::UnavailableError(msg);
  return absl::InvalidArgumentError(msg);
}

absl::Status ValidateResourcePath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("resource path `{}`: {}", path.substr(0, 256), why));
  };
  if (path.size() > 1024) return bad("longer than 1024 bytes");
  int segments = 0;
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view seg = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (seg.empty()) return bad("empty segment");
    if (seg == "." || seg == "..") return bad("`.` or `..` segment");
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok)
        return bad(fmt::format("character 0x{:02x} is not allowed", static_cast<uint8_t>(c)));
    }
    ++segments;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (segments != 3) return bad(fmt::format("{} segments, want repo/type/tag", segments));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseResourceUri(std::string_view uri) {
  constexpr std::string_view kScheme = "kbs://";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError(
        fmt::format("resource uri `{}`: want kbs:///repo/type/tag", uri.substr(0, 256)));
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("resource uri `{}`: no resource path", uri.substr(0, 256)));
  }
  std::string path(rest.substr(slash + 1));
  CCB_RETURN_IF_ERROR(ValidateResourcePath(path), "resource uri `{}`", uri.substr(0, 256));
  return path;
}

std::optional<int64_t> JwtExpiry(std::string_view token) {
  size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto payload = core::Base64Decode(token.substr(a + 1, b - a - 1), core::Base64Alphabet::kUrl,
                                    core::Base64Padding::kOptional);
  if (!payload.ok()) return std::nullopt;
  auto doc = core::ParseJson(*payload);
  if (!doc.ok() || !doc->is_object()) return std::nullopt;
  const json::value* exp = doc->get_object().if_contains("exp");
  if (exp == nullptr) return std::nullopt;
  if (exp->is_int64()) return exp->get_int64();
  if (exp->is_uint64() && exp->get_uint64() < (1ull << 62)) {
    return static_cast<int64_t>(exp->get_uint64());
  }
  if (exp->is_double()) return static_cast<int64_t>(exp->get_double());
  return std::nullopt;
}

KbsClient::KbsClient(std::unique_ptr<net::HttpClient> http, std::unique_ptr<Attester> attester,
                     crypto::PrivateKey tee_key, std::string tee_key_alg, const core::Clock* clock)
    : http_(std::move(http)),
      attester_(std::move(attester)),
      tee_key_(std::move(tee_key)),
      tee_key_alg_(std::move(tee_key_alg)),
      tee_pubkey_(crypto::TeePubkeyJwk(tee_key_, tee_key_alg_)),
      clock_(clock) {}

absl::StatusOr<std::string> KbsClient::Token() {
  static const core::SystemClock kSystemClock;
  const core::Clock& clock = clock_ != nullptr ? *clock_ : kSystemClock;
  constexpr int64_t kMarginSeconds = 30;
  if (token_ && (!token_exp_ || core::ToUnixSeconds(clock.Now()) + kMarginSeconds < *token_exp_)) {
    return *token_;
  }
  return Attest();
}

absl::StatusOr<std::string> KbsClient::Attest(std::optional<std::string> init_data_toml) {
  http_->ClearCookies();
  token_.reset();
  token_exp_.reset();
  if (!init_data_toml) init_data_toml = init_data_;
  json::object request;
  request["version"] = "0.4.0";
  request["tee"] = attester_->tee();
  request["extra-params"] =
      json::object{{"supported-hash-algorithms", json::array{"sha256", "sha384", "sha512"}}};
  CCB_ASSIGN_OR_RETURN(auto auth, http_->Send("POST", "/kbs/v0/auth", json::serialize(request),
                                              {{"Content-Type", "application/json"}}));
  if (auth.status != 200) return KbsError(auth.status, auth.body);
  CCB_ASSIGN_OR_RETURN(json::value challenge, core::ParseJson(auth.body), "kbs: challenge");
  CCB_ASSIGN_OR_RETURN(const json::object* co, core::AsObject(challenge, "challenge"));
  CCB_ASSIGN_OR_RETURN(std::string_view nonce, core::GetString(*co, "nonce", "challenge"));

  CCB_RETURN_IF_ERROR(tee_pubkey_.status());
  const json::object& tee_pubkey = *tee_pubkey_;
  std::string additional_evidence;
  if (device_evidence_) {
    json::value device_material(json::object{{"nonce", nonce}, {"tee-pubkey", tee_pubkey}});
    CCB_ASSIGN_OR_RETURN(json::object devices,
                         device_evidence_(crypto::Sha384(core::Jcs(device_material))));
    additional_evidence = json::serialize(devices);
  }
  std::string digest = BindingDigest(attester_->tee(), nonce, tee_pubkey, additional_evidence);
  CCB_ASSIGN_OR_RETURN(json::value evidence, attester_->Evidence(digest));

  json::object attestation;
  if (init_data_toml) {
    attestation["init-data"] = json::object{{"format", "toml"}, {"body", *init_data_toml}};
  }
  attestation["runtime-data"] = json::object{{"nonce", nonce}, {"tee-pubkey", tee_pubkey}};
  attestation["tee-evidence"] = json::object{{"primary_evidence", std::move(evidence)},
                                             {"additional_evidence", additional_evidence}};
  // With an attest replica, the session issued by this replica's /auth is completed there: the
  // cookie travels with the client, the session with the KBS's shared store.
  net::HttpClient* attest_http = http_.get();
  if (attest_http_ != nullptr) {
    attest_http = attest_http_;
    attest_http->ClearCookies();
    if (auto id = http_->GetCookie("kbs-session-id")) attest_http->SetCookie("kbs-session-id", *id);
  }
  CCB_ASSIGN_OR_RETURN(auto att,
                       attest_http->Send("POST", "/kbs/v0/attest", json::serialize(attestation),
                                         {{"Content-Type", "application/json"}}));
  if (att.status != 200) return KbsError(att.status, att.body);
  // A KBS whose sessions travel in the cookie answers with the attested session's new value:
  // resource requests go to the first replica, so it takes the cookie too.
  if (attest_http != http_.get()) {
    if (auto id = attest_http->GetCookie("kbs-session-id")) http_->SetCookie("kbs-session-id", *id);
  }
  CCB_ASSIGN_OR_RETURN(json::value result, core::ParseJson(att.body), "kbs: attestation response");
  CCB_ASSIGN_OR_RETURN(const json::object* ro, core::AsObject(result, "attestation response"));
  CCB_ASSIGN_OR_RETURN(std::string_view token,
                       core::GetString(*ro, "token", "attestation response"));
  token_ = std::string(token);
  token_exp_ = JwtExpiry(*token_);
  ++attestations_;
  return *token_;
}

absl::StatusOr<std::string> KbsClient::GetResource(std::string_view path) {
  CCB_RETURN_IF_ERROR(ValidateResourcePath(path));
  net::HttpHeaders headers;
  bool fresh = false;  // attested for this request: a 401 then is a refusal, not a lost session
  if (bearer_token_) {
    headers.emplace_back("Authorization", "Bearer " + *bearer_token_);
  } else {
    int before = attestations_;
    CCB_RETURN_IF_ERROR(Token().status());
    fresh = attestations_ != before;
  }
  std::string target = fmt::format("/kbs/v0/resource/{}", path);
  CCB_ASSIGN_OR_RETURN(auto r, http_->Send("GET", target, {}, headers));
  if (r.status == 401 && !bearer_token_ && !fresh) {
    CCB_RETURN_IF_ERROR(Attest().status(), "re-attestation after HTTP 401");
    CCB_ASSIGN_OR_RETURN(r, http_->Send("GET", target, {}, headers));
  }
  if (r.status != 200) return KbsError(r.status, r.body);
  CCB_ASSIGN_OR_RETURN(json::value jwe, core::ParseJson(r.body), "kbs: resource response");
  CCB_ASSIGN_OR_RETURN(const json::object* jo, core::AsObject(jwe, "kbs: resource response"));
  return crypto::JweDecrypt(tee_key_, *jo);
}

}  // namespace ccburst::agent
