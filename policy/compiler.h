// Compilation of parsed Rego modules into an immutable policy: a tree of rules mirroring the
// `data` document, with every variable resolved to a frame slot, every rule or import name
// rewritten into a `data` reference, every call bound to a builtin or user function, and the
// expressions of every body ordered so that variables are bound before they are needed.
// Internal to the policy module; users go through policy/rego.h.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "policy/ast.h"

namespace ccburst::policy {

// Slot markers for the two root documents.
inline constexpr int kSlotData = -2;
inline constexpr int kSlotInput = -3;

// One node of the rule tree (a package, a rule, or an intermediate ref-head segment).
struct RuleNode {
  std::string name;
  std::vector<std::string> path;  // from the data root, e.g. {"policy", "allow"}
  std::map<std::string, std::unique_ptr<RuleNode>> children;
  std::vector<const Rule*> complete;  // complete rules ending here
  const Rule* default_rule = nullptr;
  std::vector<const Rule*> sets;     // `contains` rules ending here
  std::vector<const Rule*> objects;  // rules whose head has a dynamic part after this node
  std::vector<const Rule*> functions;
  const Rule* default_function = nullptr;
  int arity = -1;  // functions
  int id = 0;      // dense index of the node in its policy (0 is the root)

  bool HasValueRules() const {
    return !complete.empty() || default_rule || !sets.empty() || !objects.empty();
  }
  bool IsFunction() const { return !functions.empty() || default_function; }
  std::string PathString() const;
};

// A compiled body with its frame size (used for queries).
struct CompiledQuery {
  std::shared_ptr<Body> body;
  int num_slots = 0;
  std::vector<std::pair<std::string, int>> output_vars;  // named query variables and slots
};

}  // namespace ccburst::policy

namespace ccburst::policy {

class CompiledPolicy {
 public:
  const RuleNode& root() const { return *root_; }
  // The modules as compiled (names resolved, bodies ordered).
  const std::vector<ParsedModule>& modules() const { return modules_; }
  // Number of nodes in the rule tree (ids are 0 .. num_nodes() - 1).
  size_t num_nodes() const { return num_nodes_; }
  // Number of cache sites (Term::site ids are 0 .. num_sites() - 1).
  size_t num_sites() const { return num_sites_; }
  // Compiles a query against this policy (names resolve against `data`/`input` only).
  absl::StatusOr<CompiledQuery> CompileQuery(std::string_view query) const;
  // Compiles a query given as an already parsed body.
  absl::StatusOr<CompiledQuery> CompileQueryBody(std::shared_ptr<Body> body) const;

  // The compiled query `$result = <path>` for a document path ("data.policy.allow"), compiled
  // on first use and kept (at most kMaxRuleQueries paths), so evaluating a rule by path does
  // not parse or compile anything. Errors: InvalidArgument for a path that is not a reference
  // into data or input.
  absl::StatusOr<std::shared_ptr<const CompiledQuery>> RuleQuery(std::string_view path) const;
  static constexpr size_t kMaxRuleQueries = 64;

 private:
  friend absl::StatusOr<std::shared_ptr<CompiledPolicy>> CompileModules(
      std::vector<ParsedModule> modules);
  std::vector<ParsedModule> modules_;
  std::unique_ptr<RuleNode> root_;
  size_t num_nodes_ = 1;
  size_t num_sites_ = 0;
  mutable std::shared_mutex rule_queries_mu_;
  mutable std::map<std::string, std::shared_ptr<const CompiledQuery>, std::less<>> rule_queries_;
};

// Builds the rule tree and resolves every rule. Errors are InvalidArgument with a position.
absl::StatusOr<std::shared_ptr<CompiledPolicy>> CompileModules(std::vector<ParsedModule> modules);

// Finds the node for a static path below the data root; nullptr when absent.
const RuleNode* FindNode(const RuleNode& root, const std::vector<std::string>& path);

}  // namespace ccburst::policy
