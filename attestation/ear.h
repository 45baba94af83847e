// EAR (Entity Attestation Result, draft-fv-rats-ear) building blocks shared by the attestation
// service and its tests: AR4SI trustworthiness tiers, the trustworthiness vector that an
// attestation policy produces (`data.policy.trust_claims`), appraisal extensions
// (`data.policy.extensions`) and the annotated evidence that is both the policy input and part of
// the token. Pure functions over JSON; the wire shapes follow PROTOCOL.md "EAR attestation
// token".
#pragma once

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::attestation {

// `eat_profile` of tokens (the reference Trustee profile, which clients check).
inline constexpr std::string_view kEarProfile =
    "tag:github.com,2024:confidential-containers/Trustee";

// AR4SI tiers, ordered from best to worst: the status of an appraisal is its worst claim's tier.
enum class TrustTier { kNone, kAffirming, kWarning, kContraindicated };

// -1..1 none; -32..-2 and 2..31 affirming; -96..-33 and 32..95 warning; the rest (96..127,
// -128..-97) contraindicated (the ranges of the reference EAR library).
TrustTier TierOf(int value);
// "none", "affirming", "warning", "contraindicated".
std::string_view TierName(TrustTier tier);

// The eight AR4SI claims in their EAR order (keys 0..7).
inline constexpr std::array<std::string_view, 8> kTrustClaimNames = {
    "instance-identity", "configuration",  "executables",    "file-system",
    "hardware",          "runtime-opaque", "storage-opaque", "sourced-data"};

// A trustworthiness vector; unset claims are not serialized (as in the reference).
struct TrustVector {
  std::array<std::optional<int8_t>, 8> claims;

  // {"instance-identity":0,...} with the set claims in EAR order.
  boost::json::object ToJson() const;
  // The worst tier over all claims (unset claims count as 0: none).
  TrustTier Status() const;
};

// Builds the vector from the value of `data.policy.trust_claims`: nullptr (rule undefined) sets
// every claim to 0; otherwise it must be an object of known claim names to integers in
// -128..127, with at least one member. Errors are FailedPrecondition (a broken policy, not bad
// evidence): "trust_claims: `foo` is not an AR4SI claim", "trust_claims: `executables` must be an
// integer in -128..127".
absl::StatusOr<TrustVector> TrustVectorFromPolicy(const boost::json::value* trust_claims);

// Adds `data.policy.extensions` to an appraisal: nullptr or null adds nothing; otherwise it must
// be an array of {"name": string, "key": integer, "value": any}; each becomes `name: value`
// in `appraisal` (null values are skipped). Names of the standard appraisal members and
// duplicates are FailedPrecondition errors.
absl::Status AddPolicyExtensions(const boost::json::value* extensions,
                                 boost::json::object& appraisal);

// The annotated evidence for TEE `tee` (also the attestation policy input): the verifier's
// `claims` under the TEE name, except that a `report_data` claim moves to the top together with
// `runtime_data_claims` (= `runtime_data`), and an `init_data` claim moves to the top together
// with `init_data_claims` (= `init_data_claims`, null when there is no init-data).
// A non-string `report_data`/`init_data` claim is an Internal error (a verifier bug).
absl::StatusOr<boost::json::object> AnnotateEvidence(std::string_view tee,
                                                     boost::json::object claims,
                                                     const boost::json::object& runtime_data,
                                                     const boost::json::value& init_data_claims);

}  // namespace ccburst::attestation
