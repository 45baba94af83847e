// Rego v1 policy engine (the policy language of the Open Policy Agent), written from scratch
// for ccburst: no packaged C++ Rego engine exists on Debian, and the KBS needs one to run
// Trustee-style resource and attestation policies.
//
// Modules are parsed and compiled once into an immutable CompiledPolicy (thread-safe to
// evaluate concurrently), then evaluated against `input` and `data`. Evaluation distinguishes
// undefined (no result), false, and errors; hostile policies are bounded by EvalLimits (steps,
// rule nesting depth, native stack use, wall time). Errors carry OPA's error code:
// "eval_conflict_error: ...", "eval_type_error: ...", "eval_builtin_error: ..."; when the
// failing expression is in a module, OPA's location prefix comes first
// ("policy.rego:4: eval_type_error: ..."). The code also travels with the Status as a payload;
// ErrorCode() reads it (no message parsing).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "policy/value.h"

namespace ccburst::policy {

struct Module {
  std::string name;  // used in errors: "name:line:col: expected ..."
  std::string source;
};

// A function the host supplies per evaluation, callable from policies by name (e.g.
// `query_reference_value("svn")`). A returned error aborts evaluation with that error. Within
// one evaluation it is called at most once per distinct argument list (answers are memoized),
// so it must answer consistently for the duration of an evaluation.
struct HostFunction {
  std::string name;
  int arity = 0;
  std::function<absl::StatusOr<core::json::value>(const std::vector<core::json::value>& args)> fn;
};

struct EvalLimits {
  uint64_t max_steps = 1'000'000;  // expression evaluations and iteration steps
  uint32_t max_depth = 256;        // nested rule/function evaluations
  std::chrono::milliseconds timeout{1000};
  size_t max_stack_bytes = 4u << 20;  // native stack the evaluator may use
};

struct EvalOptions {
  bool strict_builtin_errors = true;  // Trustee runs strict; OPA's default is non-strict
  EvalLimits limits;
  const std::vector<HostFunction>* host_functions = nullptr;
};

class CompiledPolicy;  // immutable after compilation; safe to evaluate from many threads at once

// Parses and compiles modules together (they may share or nest packages). Parse errors are
// InvalidArgument "name:line:col: expected X, found Y"; compile errors carry OPA's code
// ("name:line:col: rego_recursion_error: rule data.p.a is recursive: data.p.a -> data.p.a",
// rego_unsafe_var_error, rego_type_error). Compiling never evaluates.
absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Compile(const std::vector<Module>& modules);

// What a host that runs policies requires of them beyond compiling. CheckContract runs these
// checks when a policy is set, so a policy that could only fail or be undefined at every
// evaluation is refused up front instead of stored.
struct PolicyContract {
  struct Function {
    std::string name;
    int arity = 0;
  };
  std::vector<std::string> package;         // every module's package, e.g. {"policy"}
  std::vector<std::string> required_rules;  // value rules the host evaluates in `package`
  std::vector<Function> host_functions;     // the only calls besides builtins and user functions
  // Top-level keys of the `data` document the host passes. A static reference into `data` that
  // reaches neither one of these nor a rule of the policy is an undefined reference.
  std::vector<std::string> data_roots;
};

// Checks a compiled policy against `contract`. Compile() already refuses what OPA's compiler
// refuses on its own (parse errors, unsafe variables, arity of builtins and user functions,
// recursion, conflicting rules); this adds what only the host knows. Errors are InvalidArgument
// "module:line:col: code: message" with the OPA error code attached (see ErrorCode):
//   rego_type_error: undefined function <name>        (not a builtin, rule or host function)
//   rego_type_error: <name>: arity mismatch: ...       (host functions)
//   rego_type_error: undefined ref: data.<path>        (see data_roots)
//   rego_compile_error: package <pkg> is not <package> (the package the host evaluates)
//   rego_compile_error: no <rule> rule in package <package>
absl::Status CheckContract(const CompiledPolicy& policy, const PolicyContract& contract);

// Caches compiled policies keyed by a hash of the module names and texts (full-text comparison
// guards against collisions). Thread-safe. Holds at most `max_entries` policies; the oldest
// entry is dropped first.
class PolicyCache {
 public:
  explicit PolicyCache(size_t max_entries = 256) : max_entries_(max_entries) {}
  // Returns the cached policy for these modules or compiles it; compile errors are returned
  // and not cached.
  absl::StatusOr<std::shared_ptr<const CompiledPolicy>> GetOrCompile(
      const std::vector<Module>& modules);
  size_t size() const;

 private:
  struct Entry {
    std::vector<Module> modules;
    std::shared_ptr<const CompiledPolicy> policy;
    uint64_t seq = 0;
  };
  size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_multimap<size_t, Entry> entries_;
  uint64_t seq_ = 0;
};

// Evaluates a document path like "data.policy.allow". nullopt = undefined. Sets are returned
// as sorted arrays, non-string object keys as their JSON text. `input` nullptr = undefined.
// The path's query is compiled once per policy and reused; only the parts of `input` and
// `data` the policy reaches are converted, so a large input costs what the policy reads.
absl::StatusOr<std::optional<core::json::value>> EvalRule(const CompiledPolicy& policy,
                                                          std::string_view path,
                                                          const core::json::value* input,
                                                          const core::json::value& data,
                                                          const EvalOptions& options);

// Evaluates a query (a Rego body, e.g. "data.x.p = y; y > 1") and returns the result set: an
// array with one object per solution mapping each named query variable to its JSON value.
// Errors: a Status whose message is OPA's error text ("[file:line: ]code: message").
absl::StatusOr<core::json::array> EvalQuery(const CompiledPolicy& policy, std::string_view query,
                                            const core::json::value* input,
                                            const core::json::value& data,
                                            const EvalOptions& options);

// One solution of a query in internal values (sets stay sets).
using Bindings = std::vector<std::pair<std::string, Value>>;

// Same as EvalQuery on internal values: `input` may hold sets (from ParseInputTerm).
absl::StatusOr<std::vector<Bindings>> EvalQueryValues(const CompiledPolicy& policy,
                                                      std::string_view query, const Value* input,
                                                      const Value& data,
                                                      const EvalOptions& options);

// Same as EvalRule on internal values.
absl::StatusOr<std::optional<Value>> EvalRuleValue(const CompiledPolicy& policy,
                                                   std::string_view path, const Value* input,
                                                   const Value& data, const EvalOptions& options);

// Parses Rego term text (which may contain sets, e.g. `{"x": {1, 2}}`) into a ground value.
// Errors: InvalidArgument for syntax errors or terms that are not constant.
absl::StatusOr<Value> ParseInputTerm(std::string_view text);

// The type URL of the payload that carries OPA's error code on a policy error's Status.
inline constexpr char kErrorCodePayloadUrl[] = "type.googleapis.com/ccburst.policy.ErrorCode";

// `status` with OPA error code `opa_code` attached (an OK status, or an empty code, is returned
// unchanged). The message is not touched: it already says the code as OPA prints it.
absl::Status WithErrorCode(absl::Status status, std::string_view opa_code);

// The OPA error code of a compile or evaluation error ("rego_type_error", "eval_conflict_error",
// "eval_builtin_error", ...), or "" when the status carries none.
std::string ErrorCode(const absl::Status& status);

}  // namespace ccburst::policy
