#include "agent/kbs_client.h"

#include <fmt/format.h>

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

KbsClient::KbsClient(std::unique_ptr<net::HttpClient> http, std::unique_ptr<Attester> attester,
                     crypto::PrivateKey tee_key, std::string tee_key_alg)
    : http_(std::move(http)),
      attester_(std::move(attester)),
      tee_key_(std::move(tee_key)),
      tee_key_alg_(std::move(tee_key_alg)),
      tee_pubkey_(crypto::TeePubkeyJwk(tee_key_, tee_key_alg_)) {}

absl::StatusOr<std::string> KbsClient::Attest(std::optional<std::string> init_data_toml) {
  http_->ClearCookies();
  token_.reset();
  json::object request;
  request["version"] = "0.4.0";
  request["tee"] = attester_->tee();
  request["extra-params"] =
      json::object{{"supported-hash-algorithms", json::array{"sha256", "sha384", "sha512"}}};
  CCB_ASSIGN_OR_RETURN(auto auth, http_->Send("POST", "/kbs/v0/auth", json::serialize(request),
                                              {{"Content-Type", "application/json"}}));
  if (auth.status != 200) return KbsError(auth.status, auth.body);
  CCB_ASSIGN_OR_RETURN(json::value challenge, core::ParseJson(auth.body));
  CCB_ASSIGN_OR_RETURN(const json::object* co, core::AsObject(challenge, "challenge"));
  CCB_ASSIGN_OR_RETURN(std::string_view nonce, core::GetString(*co, "nonce", "challenge"));

  CCB_RETURN_IF_ERROR(tee_pubkey_.status());
  const json::object& tee_pubkey = *tee_pubkey_;
  std::string digest = BindingDigest(attester_->tee(), nonce, tee_pubkey);
  CCB_ASSIGN_OR_RETURN(json::value evidence, attester_->Evidence(digest));

  json::object attestation;
  if (init_data_toml) {
    attestation["init-data"] = json::object{{"format", "toml"}, {"body", *init_data_toml}};
  }
  attestation["runtime-data"] = json::object{{"nonce", nonce}, {"tee-pubkey", tee_pubkey}};
  attestation["tee-evidence"] =
      json::object{{"primary_evidence", std::move(evidence)}, {"additional_evidence", ""}};
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
  CCB_ASSIGN_OR_RETURN(json::value result, core::ParseJson(att.body));
  CCB_ASSIGN_OR_RETURN(const json::object* ro, core::AsObject(result, "attestation response"));
  CCB_ASSIGN_OR_RETURN(std::string_view token,
                       core::GetString(*ro, "token", "attestation response"));
  token_ = std::string(token);
  return *token_;
}

absl::StatusOr<std::string> KbsClient::GetResource(std::string_view path) {
  net::HttpHeaders headers;
  if (bearer_token_) {
    headers.emplace_back("Authorization", "Bearer " + *bearer_token_);
  } else if (!token_) {
    CCB_RETURN_IF_ERROR(Attest().status());
  }
  std::string target = fmt::format("/kbs/v0/resource/{}", path);
  CCB_ASSIGN_OR_RETURN(auto r, http_->Send("GET", target, {}, headers));
  if (r.status != 200) return KbsError(r.status, r.body);
  CCB_ASSIGN_OR_RETURN(json::value jwe, core::ParseJson(r.body));
  CCB_ASSIGN_OR_RETURN(const json::object* jo, core::AsObject(jwe, "resource response"));
  return crypto::JweDecrypt(tee_key_, *jo);
}

}  // namespace ccburst::agent
