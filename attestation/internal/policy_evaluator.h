// Adapter between the attestation service and the Rego engine (policy/): compiles attestation
// policies once per text, evaluates the two rules an attestation policy defines
// (`data.policy.trust_claims`, `data.policy.extensions`) in strict mode with the host function
// `query_reference_value(id)`, and converts the results to JSON. Not for use outside attestation/.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::attestation::internal {

// Looks up a reference value: the value, null when unknown, or an error (store down).
using HostQuery = std::function<absl::StatusOr<boost::json::value>(std::string_view id)>;

struct PolicyResults {
  std::optional<boost::json::value> trust_claims;  // nullopt: rule undefined
  std::optional<boost::json::value> extensions;    // nullopt: rule undefined
};

// Thread-safe.
class PolicyEvaluator {
 public:
  PolicyEvaluator();
  ~PolicyEvaluator();

  // Compiles `rego` as module `<id>.rego` and checks it against AttestationPolicyContract().
  // Errors are InvalidArgument "<id>.rego:line:col: expected X, found Y" or
  // "<id>.rego:line:col: <OPA error code>: <message>".
  absl::Status Check(std::string_view id, std::string_view rego);

  // Evaluates policy `id` whose text is `rego` on `input` with strict builtin errors. Compiled
  // policies are cached by text. Each reference value is queried at most once per call. Compile
  // and evaluation errors are FailedPrecondition; errors of `query` pass through.
  absl::StatusOr<PolicyResults> Evaluate(const std::string& id, const std::string& rego,
                                         const boost::json::value& input, const HostQuery& query);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccburst::attestation::internal
