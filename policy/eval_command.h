// `ccburst policy eval`: evaluates a query against policy files the way `opa eval` does and
// prints the result set as JSON.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace ccburst::policy {

// Loads `policy_files` (Rego modules), optional `input_file` and `data_file` (JSON), evaluates
// `query` (strict builtin errors) and prints the result set JSON array to `out` (e.g.
// `[{"x":[4]}]`, `[]` when there is no solution). Returns 0 with at least one solution, 1 with
// none, and 2 on a read, parse or evaluation error (the message goes to `err`).
int PolicyEvalMain(const std::vector<std::string>& policy_files,
                   const std::optional<std::string>& input_file,
                   const std::optional<std::string>& data_file, const std::string& query,
                   std::ostream& out, std::ostream& err);

}  // namespace ccburst::policy
