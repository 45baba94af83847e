// Recursive-descent parser for Rego v1 modules, queries and terms. Errors are InvalidArgument
// "name:line:col: expected X, found Y". Nesting is bounded so hostile input cannot exhaust the
// stack.
#pragma once

#include <string_view>

#include "core/status.h"
#include "policy/ast.h"

namespace ccburst::policy {

// Parses one module (package, imports, rules).
absl::StatusOr<ParsedModule> ParseModule(std::string_view name, std::string_view source);

// Parses a query: expressions separated by `;` or newlines.
absl::StatusOr<std::shared_ptr<Body>> ParseQuery(std::string_view source);

// Parses a single term (used for conformance `input_term` and rule paths).
absl::StatusOr<TermPtr> ParseTerm(std::string_view name, std::string_view source);

}  // namespace ccburst::policy
