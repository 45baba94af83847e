#include "attestation/attestation_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "attestation/default_policies.h"
#include "attestation/ear.h"
#include "attestation/init_data.h"
#include "attestation/internal/policy_evaluator.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "crypto/jwt_claims.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;

constexpr size_t kMaxPolicyIdLength = 128;
// The TEE class of primary evidence; device evidence would use its own class (gpu, ...).
constexpr std::string_view kCpuClass = "cpu";

// The `arch` of a device as a metric label: upper-cased; "" unless it is a short identifier, so
// that evidence cannot mint arbitrary label values.
std::string ArchLabel(std::string_view arch) {
  if (arch.empty() || arch.size() > 32) return "";
  std::string out;
  for (char c : arch) {
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      out += c;
    } else {
      return "";
    }
  }
  return out;
}

// The device a device verifier's refusal names ("<tee>: device <i>..."), if any.
std::optional<size_t> FailedDeviceIndex(std::string_view tee, std::string_view message) {
  std::string prefix = fmt::format("{}: device ", tee);
  if (!message.starts_with(prefix)) return std::nullopt;
  message.remove_prefix(prefix.size());
  size_t i = 0, n = 0;
  for (; n < message.size() && n < 4 && message[n] >= '0' && message[n] <= '9'; ++n) {
    i = i * 10 + static_cast<size_t>(message[n] - '0');
  }
  if (n == 0) return std::nullopt;
  return i;
}

// The arch a refused device declares in its evidence (`device_evidence_list[i].arch`, the
// NVIDIA layout), "" when the refusal names no device or the evidence has none.
std::string FailedDeviceArch(std::string_view tee, const json::value& evidence,
                             const absl::Status& status) {
  std::optional<size_t> i = FailedDeviceIndex(tee, core::Message(status));
  const json::object* o = evidence.if_object();
  const json::value* list = o != nullptr ? o->if_contains("device_evidence_list") : nullptr;
  if (!i || list == nullptr || !list->is_array() || *i >= list->get_array().size()) return "";
  const json::object* d = list->get_array()[*i].if_object();
  const json::value* arch = d != nullptr ? d->if_contains("arch") : nullptr;
  return arch != nullptr && arch->is_string() ? ArchLabel(arch->get_string()) : "";
}

bool ValidPolicyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxPolicyIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

absl::Status PolicyInvalid(std::string message) {
  return absl::InvalidArgumentError(fmt::format("attestation-policy: {}", message));
}

}  // namespace

AttestationService::AttestationService(store::KeyValueStore& kv, ReferenceValueStore& rvs,
                                       crypto::PrivateKey token_key, const core::Clock& clock,
                                       AttestationServiceOptions options)
    : kv_(kv),
      rvs_(rvs),
      token_key_(std::move(token_key)),
      token_public_key_(token_key_.Public()),
      clock_(clock),
      options_(std::move(options)),
      policies_(std::make_unique<internal::PolicyEvaluator>()) {
  header_jwk_ = token_public_key_.ToJwk();
  header_jwk_["alg"] = "ES256";
}

AttestationService::~AttestationService() = default;

void AttestationService::RegisterVerifier(std::unique_ptr<evidence::Verifier> v) {
  std::unique_lock lock(verifiers_mu_);
  std::string tee(v->tee());
  verifiers_[tee] = std::move(v);
}

void AttestationService::RegisterDeviceVerifier(std::unique_ptr<evidence::DeviceVerifier> v) {
  std::unique_lock lock(verifiers_mu_);
  std::string tee(v->tee());
  device_verifiers_[tee] = std::move(v);
}

bool AttestationService::SupportsTee(std::string_view tee) const {
  std::shared_lock lock(verifiers_mu_);
  return verifiers_.find(tee) != verifiers_.end();
}

absl::StatusOr<std::string> AttestationService::Attest(const Request& req,
                                                       std::vector<DeviceOutcome>* devices_out) {
  if (devices_out != nullptr) devices_out->clear();
  if (token_key_.type() != crypto::KeyType::kEcP256) {
    return absl::FailedPreconditionError(fmt::format(
        "attestation: token key must be EC P-256, not {}", crypto::KeyTypeName(token_key_.type())));
  }
  std::shared_ptr<const evidence::Verifier> verifier;
  std::map<std::string, std::shared_ptr<const evidence::DeviceVerifier>, std::less<>> devices;
  {
    std::shared_lock lock(verifiers_mu_);
    auto it = verifiers_.find(req.tee);
    if (it != verifiers_.end()) verifier = it->second;
    devices = device_verifiers_;
  }
  if (verifier == nullptr) {
    return absl::InvalidArgumentError(fmt::format("attestation: unsupported tee `{}`", req.tee));
  }
  if (!ValidPolicyId(req.policy_id)) {
    return absl::InvalidArgumentError(
        fmt::format("attestation: invalid policy id `{}`", req.policy_id));
  }

  // 1. Session binding: the digest the hardware report data must carry.
  const json::value* nonce = req.runtime_data.if_contains("nonce");
  if (nonce == nullptr || !nonce->is_string()) {
    return absl::InvalidArgumentError("attestation: runtime data has no string `nonce`");
  }
  const json::value* tee_pubkey = req.runtime_data.if_contains("tee-pubkey");
  if (tee_pubkey == nullptr || !tee_pubkey->is_object()) {
    return absl::InvalidArgumentError("attestation: runtime data has no object `tee-pubkey`");
  }
  json::value binding_material(req.runtime_data);  // a value: Jcs() then takes it as is
  binding_material.get_object()["additional-evidence"] = req.additional_evidence;
  std::string canonical = core::Jcs(binding_material);
  evidence::ExpectedBinding binding;
  binding.report_data_digest =
      req.tee == "se" ? crypto::Sha512(canonical) : crypto::Sha384(canonical);

  // 2. Init-data.
  json::value init_data_claims;  // null without init-data
  if (req.init_data_toml) {
    CCB_ASSIGN_OR_RETURN(InitData init_data, ParseInitData(*req.init_data_toml));
    binding.init_data_digest = std::move(init_data.digest);
    init_data_claims = std::move(init_data.claims);
  }

  // 3. Evidence.
  core::TimePoint now = clock_.Now();
  CCB_ASSIGN_OR_RETURN(json::object tee_claims,
                       verifier->Verify(req.primary_evidence, binding, now));
  CCB_ASSIGN_OR_RETURN(std::vector<DeviceClaims> device_claims,
                       VerifyDevices(devices, req, now, devices_out));

  // 4. Claims for the policy and the token; `additional-evidence` is left out of the token, as
  // the reference does, because device evidence can make it too large for an HTTP header.
  CCB_ASSIGN_OR_RETURN(
      json::object annotated_claims,
      AnnotateEvidence(req.tee, std::move(tee_claims), req.runtime_data, init_data_claims));
  // Held as a value so that the policy reads it without a copy; it moves into the token after.
  json::value annotated(std::move(annotated_claims));

  // 5. Appraisal.
  std::string policy_id = fmt::format("{}_{}", req.policy_id, kCpuClass);
  CCB_ASSIGN_OR_RETURN(json::object appraisal, Appraise(policy_id, annotated));
  appraisal["ear.appraisal-policy-id"] = req.policy_id;
  appraisal["ear.veraison.annotated-evidence"] = std::move(annotated);

  int64_t iat = core::ToUnixSeconds(now);
  json::object claims;
  claims["eat_profile"] = kEarProfile;
  claims["iat"] = iat;
  claims["ear.verifier-id"] =
      json::object{{"developer", options_.developer}, {"build", options_.build}};
  json::object submods{{fmt::format("{}0", kCpuClass), std::move(appraisal)}};
  // 6. Device appraisal: one submodule per device, numbered per class.
  std::map<std::string, size_t, std::less<>> next_index;
  std::vector<DeviceOutcome> appraised;  // reported only with the token
  for (DeviceClaims& d : device_claims) {
    json::value input(json::object{{d.tee, d.claims}});
    CCB_ASSIGN_OR_RETURN(json::object device_appraisal,
                         Appraise(fmt::format("{}_{}", req.policy_id, d.device_class), input));
    device_appraisal["ear.appraisal-policy-id"] = req.policy_id;
    {
      const json::value* arch = d.claims.if_contains("arch");
      const json::value* status = device_appraisal.if_contains("ear.status");
      appraised.push_back(
          {ArchLabel(arch != nullptr && arch->is_string() ? arch->get_string() : ""),
           status != nullptr && status->is_string() ? std::string(status->get_string()) : ""});
    }
    d.claims.erase("measurements");
    device_appraisal["ear.veraison.annotated-evidence"] =
        json::object{{d.tee, std::move(d.claims)}};
    size_t index = next_index[d.device_class]++;
    submods[fmt::format("{}{}", d.device_class, index)] = std::move(device_appraisal);
  }
  claims["submods"] = std::move(submods);
  claims["exp"] = iat + options_.token_lifetime.count();
  claims["iss"] = options_.issuer;
  CCB_ASSIGN_OR_RETURN(std::string token, SignToken(claims));
  if (devices_out != nullptr) *devices_out = std::move(appraised);
  return token;
}

absl::StatusOr<std::vector<AttestationService::DeviceClaims>> AttestationService::VerifyDevices(
    const std::map<std::string, std::shared_ptr<const evidence::DeviceVerifier>, std::less<>>&
        verifiers,
    const Request& req, core::TimePoint now, std::vector<DeviceOutcome>* failed) const {
  std::vector<DeviceClaims> out;
  if (verifiers.empty() || req.additional_evidence.empty()) return out;
  auto parsed = core::ParseJson(req.additional_evidence);
  if (!parsed.ok() || !parsed->is_object()) {
    return absl::InvalidArgumentError(
        "attestation: additional_evidence is not a JSON object of device evidence");
  }
  // The device binding: the session binding without the additional evidence it carries.
  json::value material(json::object{{"nonce", req.runtime_data.at("nonce")},
                                    {"tee-pubkey", req.runtime_data.at("tee-pubkey")}});
  std::string device_binding = crypto::Sha384(core::Jcs(material));
  for (const auto& [tee, evidence] : parsed->as_object()) {
    auto it = verifiers.find(std::string_view(tee));
    if (it == verifiers.end()) continue;
    auto claims = it->second->Verify(evidence, device_binding, now);
    if (!claims.ok()) {
      if (failed != nullptr && absl::IsPermissionDenied(claims.status())) {
        failed->clear();  // the devices verified so far are not appraised
        std::string arch = FailedDeviceArch(tee, evidence, claims.status());
        if (!arch.empty()) failed->push_back({std::move(arch), "failed"});
      }
      return claims.status();
    }
    for (json::object& c : *claims) {
      out.push_back({std::string(tee), std::string(it->second->device_class()), std::move(c)});
    }
  }
  return out;
}

absl::StatusOr<json::object> AttestationService::Appraise(const std::string& policy_id,
                                                          const json::value& annotated) {
  CCB_ASSIGN_OR_RETURN(std::string policy_text, GetPolicy(policy_id));
  {
    std::lock_guard lock(appraised_mu_);
    AppraisedPolicy& a = appraised_[policy_id];
    if (a.digest.empty() || a.text != policy_text) {
      a.text = policy_text;
      a.digest = "sha256:" + core::HexEncode(crypto::Sha256(policy_text));
    }
  }
  internal::HostQuery query = [this](std::string_view id) -> absl::StatusOr<json::value> {
    CCB_ASSIGN_OR_RETURN(std::optional<json::value> value, rvs_.Get(id));
    return value ? std::move(*value) : json::value(nullptr);
  };
  auto results = policies_->Evaluate(policy_id, policy_text, annotated, query);
  if (!results.ok()) {
    return absl::Status(
        results.status().code(),
        fmt::format("attestation-policy `{}`: {}", policy_id, core::Message(results.status())));
  }
  auto wrap = [&](const absl::Status& s) {
    return absl::Status(s.code(),
                        fmt::format("attestation-policy `{}`: {}", policy_id, core::Message(s)));
  };

  auto vector = TrustVectorFromPolicy(results->trust_claims ? &*results->trust_claims : nullptr);
  if (!vector.ok()) return wrap(vector.status());
  json::object appraisal;
  appraisal["ear.status"] = TierName(vector->Status());
  appraisal["ear.trustworthiness-vector"] = vector->ToJson();
  absl::Status ext =
      AddPolicyExtensions(results->extensions ? &*results->extensions : nullptr, appraisal);
  if (!ext.ok()) return wrap(ext);
  return appraisal;
}

absl::StatusOr<std::string> AttestationService::SignToken(const json::object& claims) const {
  return crypto::SignJwt(token_key_, claims, json::object{{"jwk", header_jwk_}});
}

absl::StatusOr<json::object> AttestationService::VerifyToken(std::string_view token) const {
  auto jwt = crypto::DecodeJwt(token);
  if (!jwt.ok()) {
    return absl::PermissionDeniedError(
        fmt::format("token: malformed: {}", core::Message(jwt.status())));
  }
  const json::value* alg = jwt->header.if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "ES256") {
    return absl::PermissionDeniedError("token: algorithm must be ES256");
  }
  if (!crypto::VerifyJwtSignature(*jwt, token_public_key_).ok()) {
    return absl::PermissionDeniedError("token: signature verification failed");
  }
  CCB_RETURN_IF_ERROR(
      core::WithCode(crypto::CheckJwtTimeClaims(jwt->claims, core::ToUnixSeconds(clock_.Now()),
                                                {.require_exp = true, .require_iat = true}),
                     absl::StatusCode::kPermissionDenied),
      "token");
  const json::value* iss = jwt->claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->as_string() != options_.issuer) {
    return absl::PermissionDeniedError(fmt::format(
        "token: issuer `{}` is not accepted",
        iss && iss->is_string() ? std::string_view(iss->as_string()) : std::string_view()));
  }
  return std::move(jwt->claims);
}

json::object AttestationService::Jwks() const {
  json::object key = token_public_key_.ToJwk();
  key["alg"] = "ES256";
  key["use"] = "sig";
  key["kid"] = crypto::JwkThumbprint(token_public_key_);
  return json::object{{"keys", json::array{std::move(key)}}};
}

absl::Status AttestationService::SetPolicy(std::string_view body_json) {
  auto body = core::ParseJson(body_json);
  if (!body.ok()) return PolicyInvalid(core::Message(body.status()));
  const json::object* obj = body->if_object();
  if (obj == nullptr) return PolicyInvalid("body is not a JSON object");
  if (const json::value* type = obj->if_contains("type")) {
    if (!type->is_string()) return PolicyInvalid("`type` must be a string");
    if (type->as_string() != "rego") {
      return PolicyInvalid(
          fmt::format("unsupported type `{}`", std::string_view(type->as_string())));
    }
  }
  const json::value* id = obj->if_contains("policy_id");
  if (id == nullptr) return PolicyInvalid("missing field `policy_id`");
  if (!id->is_string()) return PolicyInvalid("`policy_id` must be a string");
  std::string_view policy_id = id->as_string();
  if (!ValidPolicyId(policy_id)) {
    return PolicyInvalid(
        fmt::format("invalid `policy_id` `{}` (1..{} characters of A-Z a-z 0-9 _ - .)", policy_id,
                    kMaxPolicyIdLength));
  }
  const json::value* policy = obj->if_contains("policy");
  if (policy == nullptr) return PolicyInvalid("missing field `policy`");
  if (!policy->is_string()) return PolicyInvalid("`policy` must be a string");
  auto text = core::Base64UrlDecode(std::string_view(policy->as_string()));
  if (!text.ok()) {
    return PolicyInvalid(
        fmt::format("`policy` is not base64url: {}", core::Message(text.status())));
  }
  absl::Status compiled = policies_->Check(policy_id, *text);
  if (!compiled.ok()) {
    return PolicyInvalid(
        fmt::format("policy `{}` does not compile: {}", policy_id, core::Message(compiled)));
  }
  return kv_.Put(kAttestationPolicyNamespace, policy_id, *text);
}

absl::StatusOr<std::vector<std::string>> AttestationService::ListPolicies() {
  CCB_ASSIGN_OR_RETURN(auto stored, kv_.List(kAttestationPolicyNamespace));
  std::vector<std::string> ids = BuiltinPolicyIds();
  for (auto& [id, text] : stored) ids.push_back(std::move(id));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<std::string> AttestationService::AppraisedPolicyDigest(std::string_view id) const {
  std::lock_guard lock(appraised_mu_);
  auto it = appraised_.find(id);
  if (it == appraised_.end()) return std::nullopt;
  return it->second.digest;
}

absl::StatusOr<std::string> AttestationService::GetPolicy(std::string_view id) {
  CCB_ASSIGN_OR_RETURN(std::optional<std::string> stored, kv_.Get(kAttestationPolicyNamespace, id));
  if (stored) return std::move(*stored);
  if (auto builtin = BuiltinPolicy(id)) return std::string(*builtin);
  return absl::NotFoundError(fmt::format("attestation-policy: `{}` not found", id));
}

}  // namespace ccburst::attestation
