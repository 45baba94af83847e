#include "attestation/internal/policy_evaluator.h"

#include <fmt/format.h>

#include <map>

#include "attestation/default_policies.h"
#include "policy/rego.h"

namespace ccburst::attestation::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kTrustClaimsRule = "data.policy.trust_claims";
constexpr std::string_view kExtensionsRule = "data.policy.extensions";
constexpr std::string_view kQueryReferenceValue = "query_reference_value";

std::vector<policy::Module> Modules(std::string_view id, std::string_view rego) {
  return {policy::Module{fmt::format("{}.rego", id), std::string(rego)}};
}

}  // namespace

struct PolicyEvaluator::Impl {
  policy::PolicyCache cache;
};

PolicyEvaluator::PolicyEvaluator() : impl_(std::make_unique<Impl>()) {}
PolicyEvaluator::~PolicyEvaluator() = default;

absl::Status PolicyEvaluator::Check(std::string_view id, std::string_view rego) {
  auto compiled = impl_->cache.GetOrCompile(Modules(id, rego));
  if (!compiled.ok()) return absl::InvalidArgumentError(core::Message(compiled.status()));
  return policy::CheckContract(**compiled, AttestationPolicyContract());
}

absl::StatusOr<PolicyResults> PolicyEvaluator::Evaluate(const std::string& id,
                                                        const std::string& rego,
                                                        const json::value& input,
                                                        const HostQuery& query) {
  auto compiled = impl_->cache.GetOrCompile(Modules(id, rego));
  if (!compiled.ok()) {
    return absl::FailedPreconditionError(
        fmt::format("does not compile: {}", core::Message(compiled.status())));
  }

  // Policies query the same ids repeatedly (and from both rules); the answers must also stay
  // the same within one appraisal.
  std::map<std::string, json::value, std::less<>> answers;
  absl::Status host_error;
  std::vector<policy::HostFunction> host_functions;
  host_functions.push_back(policy::HostFunction{
      std::string(kQueryReferenceValue), 1,
      [&](const std::vector<json::value>& args) -> absl::StatusOr<json::value> {
        if (args.size() != 1 || !args[0].is_string()) {
          return absl::InvalidArgumentError(
              fmt::format("{}: the reference value id must be a string", kQueryReferenceValue));
        }
        std::string_view rv_id = args[0].as_string();
        if (auto it = answers.find(rv_id); it != answers.end()) return it->second;
        auto value = query(rv_id);
        if (!value.ok()) {
          host_error = value.status();
          return value.status();
        }
        answers.emplace(std::string(rv_id), *value);
        return std::move(*value);
      }});

  policy::EvalOptions options;
  options.strict_builtin_errors = true;
  options.host_functions = &host_functions;
  // Both rules read the same input: convert it to the engine's values once, not per rule.
  const policy::Value input_value = policy::Value::FromJson(input);
  const policy::Value data = policy::Value::FromJson(json::object());

  PolicyResults results;
  for (auto [rule, out] : {std::pair{kTrustClaimsRule, &results.trust_claims},
                           std::pair{kExtensionsRule, &results.extensions}}) {
    auto value = policy::EvalRuleValue(**compiled, rule, &input_value, data, options);
    if (!host_error.ok()) return host_error;
    if (!value.ok()) {
      return absl::FailedPreconditionError(
          fmt::format("{}: {}", rule, core::Message(value.status())));
    }
    if (value->has_value()) *out = (*value)->ToJson();
  }
  return results;
}

}  // namespace ccburst::attestation::internal
