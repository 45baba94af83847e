// Abstract syntax of Rego v1 modules and queries. The parser builds it; the compiler then
// resolves names in place (variables to frame slots, rule names and imports to `data`
// references, calls to builtins or user functions) and reorders body expressions for safety.
// After compilation the tree is immutable and shared by concurrent evaluations.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policy/value.h"

namespace ccburst::policy {

struct Body;
struct Term;
using TermPtr = std::shared_ptr<Term>;
struct RuleNode;
struct Builtin;

enum class TermKind {
  kScalar,       // value
  kVar,          // name, slot
  kRef,          // elems[0] head, elems[1..] keys (`.x` is a string scalar)
  kArray,        // elems
  kObject,       // elems: key0, value0, key1, value1, ...
  kSet,          // elems
  kArrayCompr,   // elems[0] head, body
  kSetCompr,     // elems[0] head, body
  kObjectCompr,  // elems[0] key, elems[1] value, body
  kCall,         // fn_path names the function, elems are the arguments
};

// How a call was resolved by the compiler.
enum class CallTarget { kUnresolved, kBuiltin, kFunction, kHost };

struct Term {
  TermKind kind = TermKind::kScalar;
  int line = 0;
  int col = 0;
  Value value;
  std::string name;  // kVar
  int slot = -1;     // kVar after compilation
  bool wildcard = false;
  std::vector<TermPtr> elems;
  std::shared_ptr<Body> body;
  // kCall
  std::vector<std::string> fn_path;  // e.g. {"object", "union_n"} or {"data", "pkg", "f"}
  CallTarget target = CallTarget::kUnresolved;
  const Builtin* builtin = nullptr;
  const RuleNode* function = nullptr;
  int host_index = -1;
  bool has_output = false;  // called with one extra argument that receives the result
  // kRef `data.a.b...` whose leading string keys elems[1, rule_end) name a node holding complete
  // rules (set by the compiler): evaluation reads that rule's value directly instead of
  // walking the data tree by name, unless `with` replaces part of data.
  const RuleNode* rule_node = nullptr;
  size_t rule_end = 0;
  // No frame variable and no call that may bind an output anywhere in the term (comprehensions
  // count as ground): it yields at most one value and binds nothing. Set by the compiler.
  bool ground = false;
  // Dense index (per compiled policy) of a `input...` reference or a host-function call in a
  // module's rule, for per-evaluation caches; -1 elsewhere (e.g. in queries). Set by the compiler.
  int site = -1;
  // kObject whose keys are all constants and distinct: the pair indices in key order, so the
  // object is built already sorted. Set by the compiler.
  std::vector<uint32_t> object_order;
  // Dotted function name for messages ("object.union_n").
  std::string FnName() const;
};

enum class ExprKind {
  kTerm,    // a bare term or call; succeeds when defined and not false
  kUnify,   // lhs = rhs
  kAssign,  // lhs := rhs
  kSome,    // some x, y (declaration only)
  kSomeIn,  // some [key,] val in coll
  kEvery,   // every [key,] val in coll { body }
};

struct WithModifier {
  TermPtr target;  // a ref to input or data
  TermPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::kTerm;
  bool negated = false;
  int line = 0;
  int col = 0;
  TermPtr lhs;  // kTerm: the term; kUnify/kAssign: left side
  TermPtr rhs;
  TermPtr key;  // kSomeIn/kEvery: may be null
  TermPtr val;
  TermPtr coll;
  std::vector<TermPtr> some_vars;
  std::shared_ptr<Body> body;  // kEvery
  std::vector<WithModifier> with;
};

struct Body {
  std::vector<Expr> exprs;
  int scope = -1;  // compiler scope id
};

enum class RuleKind {
  kComplete,       // p := v / p if ...
  kPartialSet,     // p contains x
  kPartialObject,  // p[k] := v, or a ref head with a dynamic part
  kFunction,       // f(args) := v
};

struct ElseClause {
  TermPtr value;  // null means true
  std::shared_ptr<Body> body;
  int line = 0;
  int col = 0;
};

struct Rule {
  RuleKind kind = RuleKind::kComplete;
  bool is_default = false;
  // Head reference below the package: ref[0] is the rule name (string scalar), the rest are
  // the terms of `.x` / `[t]` parts.
  std::vector<TermPtr> ref;
  std::vector<TermPtr> args;   // functions
  TermPtr value;               // null means `true`
  TermPtr key;                 // kPartialSet element
  std::shared_ptr<Body> body;  // never null (empty body = true)
  std::vector<ElseClause> elses;
  int line = 0;
  int col = 0;
  std::string module;
  int num_slots = 0;
  // Index of the first dynamic part of `ref` (== ref.size() when all static strings).
  size_t static_len = 0;
};

struct Import {
  std::vector<TermPtr> path;  // ref terms: head var ("data"/"input"/"future"/"rego") + keys
  std::string alias;
  int line = 0;
  int col = 0;
};

struct ParsedModule {
  std::string name;
  std::vector<std::string> package;  // without the leading "data"
  int package_line = 0;              // position of the package path
  int package_col = 0;
  std::vector<Import> imports;
  std::vector<std::shared_ptr<Rule>> rules;
};

}  // namespace ccburst::policy
