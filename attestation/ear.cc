#include "attestation/ear.h"

#include <fmt/format.h>

namespace ccburst::attestation {
namespace {

namespace json = boost::json;

absl::Status PolicyError(std::string message) {
  return absl::FailedPreconditionError(std::move(message));
}

constexpr std::array<std::string_view, 5> kReservedAppraisalMembers = {
    "ear.status", "ear.trustworthiness-vector", "ear.appraisal-policy-id",
    "ear.veraison.annotated-evidence", "ear.veraison.policy-claims"};

std::optional<int64_t> AsInteger(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_double()) {
    double d = v.as_double();
    if (d >= -1e18 && d <= 1e18 && d == static_cast<double>(static_cast<int64_t>(d))) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

}  // namespace

TrustTier TierOf(int value) {
  if (value >= -1 && value <= 1) return TrustTier::kNone;
  if (value >= -32 && value < 32) return TrustTier::kAffirming;
  if (value >= -96 && value < 96) return TrustTier::kWarning;
  return TrustTier::kContraindicated;
}

std::string_view TierName(TrustTier tier) {
  switch (tier) {
    case TrustTier::kNone:
      return "none";
    case TrustTier::kAffirming:
      return "affirming";
    case TrustTier::kWarning:
      return "warning";
    case TrustTier::kContraindicated:
      return "contraindicated";
  }
  return "none";
}

json::object TrustVector::ToJson() const {
  json::object out;
  for (size_t i = 0; i < claims.size(); ++i) {
    if (claims[i]) out[kTrustClaimNames[i]] = *claims[i];
  }
  return out;
}

TrustTier TrustVector::Status() const {
  TrustTier worst = TrustTier::kNone;
  for (const auto& c : claims) worst = std::max(worst, TierOf(c.value_or(0)));
  return worst;
}

absl::StatusOr<TrustVector> TrustVectorFromPolicy(const json::value* trust_claims) {
  TrustVector vector;
  if (trust_claims == nullptr) {
    vector.claims.fill(0);
    return vector;
  }
  const json::object* obj = trust_claims->if_object();
  if (obj == nullptr) return PolicyError("trust_claims: must be an object");
  for (const auto& [name, value] : *obj) {
    auto it = std::find(kTrustClaimNames.begin(), kTrustClaimNames.end(), std::string_view(name));
    if (it == kTrustClaimNames.end()) {
      return PolicyError(
          fmt::format("trust_claims: `{}` is not an AR4SI claim", std::string_view(name)));
    }
    std::optional<int64_t> n = AsInteger(value);
    if (!n || *n < -128 || *n > 127) {
      return PolicyError(fmt::format("trust_claims: `{}` must be an integer in -128..127",
                                     std::string_view(name)));
    }
    vector.claims[it - kTrustClaimNames.begin()] = static_cast<int8_t>(*n);
  }
  if (obj->empty()) return PolicyError("trust_claims: at least one claim must be set");
  return vector;
}

absl::Status AddPolicyExtensions(const json::value* extensions, json::object& appraisal) {
  if (extensions == nullptr || extensions->is_null()) return absl::OkStatus();
  const json::array* list = extensions->if_array();
  if (list == nullptr) return PolicyError("extensions: must be an array");
  std::vector<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    const json::object* ext = (*list)[i].if_object();
    const json::value* name = ext ? ext->if_contains("name") : nullptr;
    const json::value* key = ext ? ext->if_contains("key") : nullptr;
    const json::value* value = ext ? ext->if_contains("value") : nullptr;
    if (name == nullptr || !name->is_string() || key == nullptr || !AsInteger(*key) ||
        value == nullptr) {
      return PolicyError(fmt::format(
          "extensions[{}]: must be an object with string `name`, integer `key` and `value`", i));
    }
    std::string_view n = name->as_string();
    if (std::find(kReservedAppraisalMembers.begin(), kReservedAppraisalMembers.end(), n) !=
            kReservedAppraisalMembers.end() ||
        std::find(seen.begin(), seen.end(), n) != seen.end()) {
      return PolicyError(fmt::format("extensions[{}]: name `{}` is already used", i, n));
    }
    seen.emplace_back(n);
    if (!value->is_null()) appraisal[n] = *value;
  }
  return absl::OkStatus();
}

absl::StatusOr<json::object> AnnotateEvidence(std::string_view tee, json::object claims,
                                              const json::object& runtime_data,
                                              const json::value& init_data_claims) {
  json::object out;
  if (json::value* init_data = claims.if_contains("init_data")) {
    if (!init_data->is_string()) {
      return absl::InternalError(
          fmt::format("{}: verifier claim `init_data` is not a string", tee));
    }
    out["init_data"] = std::move(*init_data);
    out["init_data_claims"] = init_data_claims;
    claims.erase("init_data");
  }
  if (json::value* report_data = claims.if_contains("report_data")) {
    if (!report_data->is_string()) {
      return absl::InternalError(
          fmt::format("{}: verifier claim `report_data` is not a string", tee));
    }
    out["report_data"] = std::move(*report_data);
    out["runtime_data_claims"] = runtime_data;
    claims.erase("report_data");
  }
  out[tee] = std::move(claims);
  return out;
}

}  // namespace ccburst::attestation
