// The built-in attestation policies (attestation/policies/*.rego), embedded into the binary at
// build time so that a fresh KBS appraises evidence without any configuration. A policy stored
// with the same id through the admin API takes precedence.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/rego.h"

namespace ccburst::attestation {

// What every attestation policy must be, checked when one is set (admin API, `ccburst policy
// check --kind attestation`): package `policy` with a `trust_claims` rule (the rule the
// attestation service appraises; `extensions` is optional), calling no function besides the
// builtins, its own functions and `query_reference_value(id)`, and reading no `data` (the service
// passes an empty document).
inline policy::PolicyContract AttestationPolicyContract() {
  policy::PolicyContract c;
  c.package = {"policy"};
  c.required_rules = {"trust_claims"};
  c.host_functions = {{"query_reference_value", 1}};
  return c;
}

// The Rego text of built-in policy `id` ("default_cpu", "default_gpu"), or nullopt.
std::optional<std::string_view> BuiltinPolicy(std::string_view id);

// Ids of the built-in policies, sorted.
std::vector<std::string> BuiltinPolicyIds();

}  // namespace ccburst::attestation
