// Top-down evaluator for compiled Rego: bodies are solved left to right with backtracking
// (continuation passing), rules are materialized on demand and memoized for one evaluation,
// and every evaluation is bounded by EvalLimits. Internal to the policy module.
#pragma once

#include <vector>

#include "core/status.h"
#include "policy/compiler.h"
#include "policy/rego.h"

namespace ccburst::policy {

// Runs a compiled query and returns every solution (each named query variable that was bound).
// Errors carry OPA's error text; limit violations are ResourceExhausted / DeadlineExceeded;
// host function errors keep their own status.
absl::StatusOr<std::vector<Bindings>> RunCompiledQuery(const CompiledPolicy& policy,
                                                       const CompiledQuery& query,
                                                       const Value* input, const Value& data,
                                                       const EvalOptions& options);

// Same, with `input` (nullptr = undefined) and `data` given as JSON. Only the parts of them
// that the policy reaches are converted to Values, so a large input costs only what the
// policy reads.
absl::StatusOr<std::vector<Bindings>> RunCompiledQueryJson(const CompiledPolicy& policy,
                                                           const CompiledQuery& query,
                                                           const core::json::value* input,
                                                           const core::json::value& data,
                                                           const EvalOptions& options);

}  // namespace ccburst::policy
