// The built-in attestation policies (attestation/policies/*.rego), embedded into the binary at
// build time so that a fresh KBS appraises evidence without any configuration. A policy stored
// with the same id through the admin API takes precedence.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccburst::attestation {

// The Rego text of built-in policy `id` ("default_cpu", "default_gpu"), or nullopt.
std::optional<std::string_view> BuiltinPolicy(std::string_view id);

// Ids of the built-in policies, sorted.
std::vector<std::string> BuiltinPolicyIds();

}  // namespace ccburst::attestation
