#include "policy/compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <set>

#include "policy/builtins.h"
#include "policy/parser.h"
#include "policy/rego.h"

namespace ccburst::policy {

std::string RuleNode::PathString() const {
  std::string out = "data";
  for (const auto& p : path) out += "." + p;
  return out;
}

const RuleNode* FindNode(const RuleNode& root, const std::vector<std::string>& path) {
  const RuleNode* node = &root;
  for (const auto& p : path) {
    auto it = node->children.find(p);
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

namespace {

struct CompileError {
  std::string message;
  std::string code;  // OPA's error code ("rego_type_error"), or empty
};

using SlotSet = std::set<int>;

TermPtr MakeDataRef(const std::vector<std::string>& path, int line, int col) {
  auto ref = std::make_shared<Term>();
  ref->kind = TermKind::kRef;
  ref->line = line;
  ref->col = col;
  auto head = std::make_shared<Term>();
  head->kind = TermKind::kVar;
  head->name = "data";
  head->slot = kSlotData;
  head->line = line;
  head->col = col;
  ref->elems.push_back(head);
  for (const auto& p : path) {
    auto k = std::make_shared<Term>();
    k->kind = TermKind::kScalar;
    k->value = Value::String(p);
    k->line = line;
    k->col = col;
    ref->elems.push_back(k);
  }
  return ref;
}

// Per-module name environment.
struct Env {
  const RuleNode* root = nullptr;
  std::vector<std::string> package;
  std::set<std::string> rule_names;  // first segments of rule heads in this package
  std::map<std::string, std::vector<TermPtr>> imports;
  std::string module;
  int* next_site = nullptr;  // numbering of Term::site; null for queries
};

class Resolver {
 public:
  explicit Resolver(const Env& env) : env_(env) {}

  int NumSlots() const { return num_slots_; }

  void ResolveRule(Rule& r) {
    for (pass_ = Pass::kCollect; pass_ != Pass::kDone; pass_ = Next(pass_)) WalkRule(r);
    // Order bodies.
    SlotSet arg_slots;
    for (auto& a : r.args) CollectSlots(*a, arg_slots, false);
    SlotSet bound = Reorder(*r.body, arg_slots);
    std::vector<const Term*> head;
    for (size_t i = r.static_len; i < r.ref.size(); ++i) head.push_back(r.ref[i].get());
    if (r.key) head.push_back(r.key.get());
    if (r.value) head.push_back(r.value.get());
    for (const Term* t : head) CheckSafe(*t, bound, r.line, r.col);
    for (auto& ec : r.elses) {
      SlotSet else_bound = Reorder(*ec.body, arg_slots);
      if (ec.value) CheckSafe(*ec.value, else_bound, ec.line, ec.col);
    }
    r.num_slots = num_slots_;
    for (auto& t : r.ref) MarkGround(*t);
    for (auto& t : r.args) MarkGround(*t);
    if (r.value) MarkGround(*r.value);
    if (r.key) MarkGround(*r.key);
    MarkGround(*r.body);
    for (auto& ec : r.elses) {
      if (ec.value) MarkGround(*ec.value);
      MarkGround(*ec.body);
    }
  }

  CompiledQuery ResolveQuery(std::shared_ptr<Body> body) {
    for (pass_ = Pass::kCollect; pass_ != Pass::kDone; pass_ = Next(pass_)) {
      int root = pass_ == Pass::kCollect ? NewScope(-1) : 0;
      WalkBody(*body, root);
    }
    Reorder(*body, {});
    MarkGround(*body);
    CompiledQuery q;
    q.body = std::move(body);
    q.num_slots = num_slots_;
    std::map<std::string, int> vars = scopes_[0].plain_slots;
    for (const auto& [name, slot] : scopes_[0].decl_slots) vars[name] = slot;
    for (const auto& [name, slot] : vars) {
      if (name.rfind("_$", 0) == 0) continue;
      q.output_vars.emplace_back(name, slot);
    }
    return q;
  }

 private:
  enum class Pass { kCollect, kResolve, kDone };
  static Pass Next(Pass p) { return p == Pass::kCollect ? Pass::kResolve : Pass::kDone; }

  // Declarations (`:=`, `some`, function arguments, `every` variables) are visible from the
  // expression that makes them onwards, as in OPA; other names are plain variables owned by
  // the outermost enclosing scope that mentions them.
  struct Scope {
    int parent = -1;
    int parent_index = -1;  // index of the expression in the parent that contains this scope
    int cur = -1;           // index of the expression being walked
    std::map<std::string, int> decl_index;
    std::set<std::string> used_plain;
    std::map<std::string, int> decl_slots;
    std::map<std::string, int> plain_slots;
  };

  // "module:line:col: code: msg", with the code attached to the error.
  [[noreturn]] void Fail(int line, int col, std::string_view code, const std::string& msg) {
    throw CompileError{fmt::format("{}:{}:{}: {}: {}", env_.module, line, col, code, msg),
                       std::string(code)};
  }

  int NewScope(int parent) {
    Scope s;
    s.parent = parent;
    s.parent_index = parent >= 0 ? scopes_[parent].cur : -1;
    scopes_.push_back(std::move(s));
    return static_cast<int>(scopes_.size()) - 1;
  }

  int NewSlot(int scope, const std::string& name = "_") {
    slot_scope_.push_back(scope);
    slot_name_.push_back(name);
    return num_slots_++;
  }

  static int SlotIn(std::map<std::string, int>& slots, const std::string& name, int scope,
                    Resolver* self) {
    auto it = slots.find(name);
    if (it != slots.end()) return it->second;
    int s = self->NewSlot(scope, name);
    slots[name] = s;
    return s;
  }

  bool IsAncestorOrSelf(int ancestor, int scope) const {
    for (int s = scope; s != -1; s = scopes_[s].parent) {
      if (s == ancestor) return true;
    }
    return false;
  }

  // The scope whose declaration of `name` is visible at the current position, or -1.
  int VisibleDecl(const std::string& name, int scope) const {
    int idx = scopes_[scope].cur;
    for (int s = scope; s != -1;) {
      auto it = scopes_[s].decl_index.find(name);
      if (it != scopes_[s].decl_index.end() && it->second <= idx) return s;
      idx = scopes_[s].parent_index;
      s = scopes_[s].parent;
    }
    return -1;
  }

  // ---- walking (shared by both passes) ----
  void WalkRule(Rule& r) {
    int root = pass_ == Pass::kCollect ? NewScope(-1) : 0;
    scopes_[root].cur = -1;
    for (auto& a : r.args) Declare(a, root);
    WalkBody(*r.body, root);
    scopes_[root].cur = std::numeric_limits<int>::max();
    for (size_t i = r.static_len; i < r.ref.size(); ++i) Use(r.ref[i], root);
    if (r.key) Use(r.key, root);
    if (r.value) Use(r.value, root);
    for (auto& ec : r.elses) {
      int saved = scopes_[root].cur;
      scopes_[root].cur = -1;  // else bodies see the arguments, not the main body
      int s = pass_ == Pass::kCollect ? NewScope(root) : ec.body->scope;
      scopes_[root].cur = saved;
      WalkBody(*ec.body, s);
      scopes_[s].cur = std::numeric_limits<int>::max();
      if (ec.value) Use(ec.value, s);
    }
  }

  void WalkBody(Body& b, int scope) {
    b.scope = scope;
    for (size_t i = 0; i < b.exprs.size(); ++i) {
      scopes_[scope].cur = static_cast<int>(i);
      WalkExpr(b.exprs[i], scope);
    }
  }

  void WalkExpr(Expr& e, int scope) {
    switch (e.kind) {
      case ExprKind::kSome:
        for (auto& v : e.some_vars) Declare(v, scope);
        break;
      case ExprKind::kAssign:
        Use(e.rhs, scope);
        Declare(e.lhs, scope);
        break;
      case ExprKind::kSomeIn:
        Use(e.coll, scope);
        if (e.key) Declare(e.key, scope);
        Declare(e.val, scope);
        break;
      case ExprKind::kEvery: {
        Use(e.coll, scope);
        int child = pass_ == Pass::kCollect ? NewScope(scope) : e.body->scope;
        scopes_[child].cur = -1;
        if (e.key) Declare(e.key, child);
        Declare(e.val, child);
        WalkBody(*e.body, child);
        break;
      }
      default:
        if (e.lhs) Use(e.lhs, scope);
        if (e.rhs) Use(e.rhs, scope);
    }
    for (auto& w : e.with) {
      if (pass_ == Pass::kResolve) ResolveWithTarget(w.target);
      Use(w.value, scope);
    }
  }

  // A pattern whose variables are declared here.
  void Declare(TermPtr& t, int scope) {
    switch (t->kind) {
      case TermKind::kVar:
        if (t->wildcard) {
          if (pass_ == Pass::kResolve) t->slot = NewSlot(scope);
          return;
        }
        if (pass_ == Pass::kCollect) {
          scopes_[scope].decl_index.emplace(t->name, scopes_[scope].cur);
        } else {
          ResolveVar(t, scope);
        }
        return;
      case TermKind::kArray:
        for (auto& e : t->elems) Declare(e, scope);
        return;
      case TermKind::kObject:
        for (size_t i = 0; i + 1 < t->elems.size(); i += 2) {
          Use(t->elems[i], scope);
          Declare(t->elems[i + 1], scope);
        }
        return;
      default:
        Use(t, scope);
    }
  }

  void Use(TermPtr& t, int scope) {
    switch (t->kind) {
      case TermKind::kScalar:
        return;
      case TermKind::kVar:
        if (pass_ == Pass::kCollect) {
          if (!t->wildcard && VisibleDecl(t->name, scope) < 0) {
            scopes_[scope].used_plain.insert(t->name);
          }
        } else {
          ResolveVar(t, scope);
          if (t->kind == TermKind::kRef) AnnotateRuleRef(*t);
        }
        return;
      case TermKind::kRef: {
        if (pass_ == Pass::kCollect) {
          for (auto& e : t->elems) Use(e, scope);
          return;
        }
        auto copy = std::make_shared<Term>(*t);
        Use(copy->elems[0], scope);
        if (copy->elems[0]->kind == TermKind::kRef) {
          // The head was a rule or import name: splice its path in front of our keys.
          auto merged = std::make_shared<Term>(*copy->elems[0]);
          for (size_t i = 1; i < copy->elems.size(); ++i) merged->elems.push_back(copy->elems[i]);
          merged->line = copy->line;
          merged->col = copy->col;
          size_t first_key = merged->elems.size() - (copy->elems.size() - 1);
          copy = merged;
          for (size_t i = first_key; i < copy->elems.size(); ++i) Use(copy->elems[i], scope);
        } else {
          for (size_t i = 1; i < copy->elems.size(); ++i) Use(copy->elems[i], scope);
        }
        AnnotateRuleRef(*copy);
        t = copy;
        return;
      }
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr: {
        int child = pass_ == Pass::kCollect ? NewScope(scope) : t->body->scope;
        WalkBody(*t->body, child);
        scopes_[child].cur = std::numeric_limits<int>::max();
        for (auto& e : t->elems) Use(e, child);
        return;
      }
      case TermKind::kCall:
        for (auto& e : t->elems) Use(e, scope);
        if (pass_ == Pass::kResolve) ResolveCall(*t);
        return;
      default:
        for (auto& e : t->elems) Use(e, scope);
    }
  }

  // Sets Term::ground bottom-up for every term of a body or term.
  void MarkGround(Body& b) const {
    for (auto& e : b.exprs) {
      for (TermPtr* t : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
        if (*t) MarkGround(**t);
      }
      for (auto& v : e.some_vars) MarkGround(*v);
      for (auto& w : e.with) {
        MarkGround(*w.target);
        MarkGround(*w.value);
      }
      if (e.body) MarkGround(*e.body);
    }
  }
  bool MarkGround(Term& t) const {
    bool ground = true;
    for (auto& e : t.elems) ground = MarkGround(*e) && ground;
    if (t.body) MarkGround(*t.body);
    switch (t.kind) {
      case TermKind::kVar:
        ground = t.slot < 0;
        break;
      case TermKind::kCall:
        if (t.target == CallTarget::kHost || t.target == CallTarget::kUnresolved) {
          ground = false;
          if (env_.next_site && t.site < 0) t.site = (*env_.next_site)++;
        }
        if (t.has_output) ground = false;
        break;
      case TermKind::kRef:
        if (env_.next_site && t.site < 0 && t.elems[0]->kind == TermKind::kVar &&
            t.elems[0]->slot == kSlotInput) {
          t.site = (*env_.next_site)++;
        }
        break;
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr:
        ground = true;
        break;
      case TermKind::kObject:
        SortConstantKeys(t);
        break;
      default:
        break;
    }
    t.ground = ground;
    return ground;
  }

  static void SortConstantKeys(Term& t) {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i + 1 < t.elems.size(); i += 2) {
      if (t.elems[i]->kind != TermKind::kScalar) return;
      order.push_back(i / 2);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return t.elems[2 * a]->value < t.elems[2 * b]->value;
    });
    for (size_t i = 1; i < order.size(); ++i) {
      if (t.elems[2 * order[i - 1]]->value == t.elems[2 * order[i]]->value) return;
    }
    t.object_order = std::move(order);
  }

  // Points a `data.<static keys>` reference at the rule node its keys reach when that node
  // holds complete rules (their value does not depend on base data), as the evaluator would
  // find it by walking the tree.
  void AnnotateRuleRef(Term& t) const {
    if (!env_.root || t.elems.empty() || t.elems[0]->kind != TermKind::kVar ||
        t.elems[0]->slot != kSlotData) {
      return;
    }
    const RuleNode* node = env_.root;
    for (size_t i = 1; i < t.elems.size(); ++i) {
      const Term& key = *t.elems[i];
      if (key.kind != TermKind::kScalar || !key.value.IsString()) return;
      auto it = node->children.find(key.value.AsString());
      if (it == node->children.end()) return;
      node = it->second.get();
      if (node->IsFunction()) return;
      if (node->HasValueRules()) {
        if (!node->sets.empty() || !node->objects.empty()) return;
        t.rule_node = node;
        t.rule_end = i + 1;
        return;
      }
    }
  }

  void ResolveWithTarget(TermPtr& t) {
    // Targets name input/data paths; they are never local variables.
    Term* head = t.get();
    if (t->kind == TermKind::kRef) head = t->elems[0].get();
    if (head->kind != TermKind::kVar) return;
    if (head->name == "input") {
      head->slot = kSlotInput;
    } else if (head->name == "data") {
      head->slot = kSlotData;
    } else if (env_.rule_names.count(head->name)) {
      std::vector<std::string> path = env_.package;
      path.push_back(head->name);
      TermPtr ref = MakeDataRef(path, t->line, t->col);
      if (t->kind == TermKind::kRef) {
        for (size_t i = 1; i < t->elems.size(); ++i) ref->elems.push_back(t->elems[i]);
      }
      t = ref;
    } else if (auto it = env_.imports.find(head->name); it != env_.imports.end()) {
      TermPtr ref = ImportRef(it->second, t->line, t->col);
      if (t->kind == TermKind::kRef) {
        for (size_t i = 1; i < t->elems.size(); ++i) ref->elems.push_back(t->elems[i]);
      }
      t = ref;
    }
  }

  TermPtr ImportRef(const std::vector<TermPtr>& path, int line, int col) {
    auto ref = std::make_shared<Term>();
    ref->kind = TermKind::kRef;
    ref->line = line;
    ref->col = col;
    auto head = std::make_shared<Term>(*path[0]);
    head->slot = head->name == "input" ? kSlotInput : kSlotData;
    ref->elems.push_back(head);
    for (size_t i = 1; i < path.size(); ++i) ref->elems.push_back(path[i]);
    if (ref->elems.size() == 1) return head;
    return ref;
  }

  void ResolveVar(TermPtr& t, int scope) {
    if (t->wildcard) {
      t->slot = NewSlot(scope);
      return;
    }
    const std::string& name = t->name;
    if (int s = VisibleDecl(name, scope); s >= 0) {
      t->slot = SlotIn(scopes_[s].decl_slots, name, s, this);
      return;
    }
    if (name == "data") {
      t->slot = kSlotData;
      return;
    }
    if (name == "input") {
      t->slot = kSlotInput;
      return;
    }
    if (env_.rule_names.count(name)) {
      std::vector<std::string> path = env_.package;
      path.push_back(name);
      t = MakeDataRef(path, t->line, t->col);
      return;
    }
    if (auto it = env_.imports.find(name); it != env_.imports.end()) {
      t = ImportRef(it->second, t->line, t->col);
      return;
    }
    // Outermost enclosing scope that uses the name owns it.
    std::vector<int> chain;
    for (int s = scope; s != -1; s = scopes_[s].parent) chain.push_back(s);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (scopes_[*it].used_plain.count(name)) {
        t->slot = SlotIn(scopes_[*it].plain_slots, name, *it, this);
        return;
      }
    }
    t->slot = SlotIn(scopes_[scope].plain_slots, name, scope, this);
  }

  void ResolveCall(Term& t) {
    const auto& fp = t.fn_path;
    const RuleNode* node = nullptr;
    if (fp[0] == "data") {
      node = FindNode(*env_.root, std::vector<std::string>(fp.begin() + 1, fp.end()));
    } else if (auto it = env_.imports.find(fp[0]);
               it != env_.imports.end() && it->second[0]->name == "data") {
      std::vector<std::string> path;
      for (size_t i = 1; i < it->second.size(); ++i)
        path.push_back(it->second[i]->value.AsString());
      for (size_t i = 1; i < fp.size(); ++i) path.push_back(fp[i]);
      node = FindNode(*env_.root, path);
    } else if (env_.rule_names.count(fp[0])) {
      std::vector<std::string> path = env_.package;
      path.insert(path.end(), fp.begin(), fp.end());
      node = FindNode(*env_.root, path);
    }
    int nargs = static_cast<int>(t.elems.size());
    if (node && node->IsFunction()) {
      t.target = CallTarget::kFunction;
      t.function = node;
      if (nargs == node->arity + 1) {
        t.has_output = true;
      } else if (nargs != node->arity) {
        Fail(t.line, t.col, "rego_type_error",
             fmt::format("{}: arity mismatch: {} arguments given, function takes {}", t.FnName(),
                         nargs, node->arity));
      }
      return;
    }
    if (const Builtin* b = FindBuiltin(t.FnName())) {
      t.target = CallTarget::kBuiltin;
      t.builtin = b;
      if (b->arity >= 0 && nargs == b->arity + 1) {
        t.has_output = true;
      } else if (nargs != b->arity && b->arity >= 0) {
        Fail(t.line, t.col, "rego_type_error",
             fmt::format("{}: arity mismatch: {} arguments given, function takes {}", t.FnName(),
                         nargs, b->arity));
      }
      return;
    }
    t.target = CallTarget::kHost;  // resolved by name at evaluation time
  }

  // ---- ordering for safety ----
  void CollectSlots(const Term& t, SlotSet& out, bool into_bodies) const {
    switch (t.kind) {
      case TermKind::kVar:
        if (t.slot >= 0) out.insert(t.slot);
        return;
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr:
        if (!into_bodies) return;
        for (auto& e : t.elems) CollectSlots(*e, out, true);
        for (auto& ex : t.body->exprs) CollectExprSlots(ex, out);
        return;
      default:
        for (auto& e : t.elems) CollectSlots(*e, out, into_bodies);
    }
  }

  void CollectExprSlots(const Expr& e, SlotSet& out) const {
    for (const TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
      if (*p) CollectSlots(**p, out, true);
    }
    for (auto& v : e.some_vars) CollectSlots(*v, out, true);
    if (e.body) {
      for (auto& ex : e.body->exprs) CollectExprSlots(ex, out);
    }
    for (auto& w : e.with) CollectSlots(*w.value, out, true);
  }

  // Slots a nested body reads from outside itself.
  void Captured(const Body& b, SlotSet& out) const {
    SlotSet all;
    for (auto& ex : b.exprs) CollectExprSlots(ex, all);
    for (int s : all) {
      if (!IsAncestorOrSelf(b.scope, slot_scope_[s])) out.insert(s);
    }
  }

  // Slots that must be bound before `t` can be evaluated to values.
  void Needs(const Term& t, SlotSet& out) const {
    switch (t.kind) {
      case TermKind::kScalar:
        return;
      case TermKind::kVar:
        if (t.slot >= 0) out.insert(t.slot);
        return;
      case TermKind::kRef:
        Needs(*t.elems[0], out);
        for (size_t i = 1; i < t.elems.size(); ++i) {
          const Term& k = *t.elems[i];
          if (k.kind == TermKind::kVar || k.kind == TermKind::kArray ||
              k.kind == TermKind::kObject) {
            PatternNeeds(k, out);
          } else {
            Needs(k, out);
          }
        }
        return;
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr: {
        SlotSet all;
        CollectSlots(t, all, true);
        for (int s : all) {
          if (!IsAncestorOrSelf(t.body->scope, slot_scope_[s])) out.insert(s);
        }
        return;
      }
      case TermKind::kCall: {
        size_t n = t.elems.size();
        // A host function's arity is only known at evaluation; its last argument may be an
        // output.
        bool maybe_output = t.target == CallTarget::kHost && n > 0;
        if (t.has_output || maybe_output) {
          --n;
          PatternNeeds(*t.elems[n], out);
        }
        for (size_t i = 0; i < n; ++i) Needs(*t.elems[i], out);
        return;
      }
      default:
        for (auto& e : t.elems) Needs(*e, out);
    }
  }

  // Slots that must be bound before `t` can be matched against a known value.
  void PatternNeeds(const Term& t, SlotSet& out) const {
    switch (t.kind) {
      case TermKind::kVar:
        return;
      case TermKind::kArray:
        for (auto& e : t.elems) PatternNeeds(*e, out);
        return;
      case TermKind::kObject:
        for (size_t i = 0; i + 1 < t.elems.size(); i += 2) {
          Needs(*t.elems[i], out);
          PatternNeeds(*t.elems[i + 1], out);
        }
        return;
      default:
        Needs(t, out);
    }
  }

  static bool Subset(const SlotSet& a, const SlotSet& b) {
    return std::includes(b.begin(), b.end(), a.begin(), a.end());
  }

  bool UnifyReady(const Term& a, const Term& b, const SlotSet& bound) const {
    SlotSet na, pb;
    Needs(a, na);
    PatternNeeds(b, pb);
    if (Subset(na, bound) && Subset(pb, bound)) return true;
    SlotSet nb, pa;
    Needs(b, nb);
    PatternNeeds(a, pa);
    if (Subset(nb, bound) && Subset(pa, bound)) return true;
    // Two literals unify element by element; each pair may bind for the next.
    std::vector<std::pair<const Term*, const Term*>> pairs;
    if (a.kind == TermKind::kArray && b.kind == TermKind::kArray &&
        a.elems.size() == b.elems.size()) {
      for (size_t i = 0; i < a.elems.size(); ++i)
        pairs.emplace_back(a.elems[i].get(), b.elems[i].get());
    } else if (a.kind == TermKind::kObject && b.kind == TermKind::kObject &&
               a.elems.size() == b.elems.size()) {
      for (size_t i = 0; i + 1 < a.elems.size(); i += 2) {
        if (a.elems[i]->kind != TermKind::kScalar) return false;
        const Term* match = nullptr;
        for (size_t j = 0; j + 1 < b.elems.size(); j += 2) {
          if (b.elems[j]->kind == TermKind::kScalar && b.elems[j]->value == a.elems[i]->value) {
            match = b.elems[j + 1].get();
          }
        }
        if (!match) return false;
        pairs.emplace_back(a.elems[i + 1].get(), match);
      }
    } else {
      return false;
    }
    // Keep trying pairs until all are ready or none makes progress.
    SlotSet cur = bound;
    std::vector<char> done(pairs.size(), 0);
    size_t remaining = pairs.size();
    while (remaining > 0) {
      bool progress = false;
      for (size_t i = 0; i < pairs.size(); ++i) {
        if (done[i] || !UnifyReady(*pairs[i].first, *pairs[i].second, cur)) continue;
        CollectSlots(*pairs[i].first, cur, false);
        CollectSlots(*pairs[i].second, cur, false);
        done[i] = 1;
        --remaining;
        progress = true;
      }
      if (!progress) return false;
    }
    return true;
  }

  template <typename Elsewhere>
  bool Ready(const Expr& e, const SlotSet& bound, const Elsewhere& elsewhere) const {
    for (auto& w : e.with) {
      SlotSet n;
      Needs(*w.value, n);
      if (!Subset(n, bound)) return false;
    }
    if (e.negated) {
      SlotSet all;
      CollectExprSlots(e, all);
      for (int s : all) {
        if (elsewhere(s) && !bound.count(s)) return false;
      }
      return true;
    }
    switch (e.kind) {
      case ExprKind::kSome:
        return true;
      case ExprKind::kTerm: {
        SlotSet n;
        Needs(*e.lhs, n);
        return Subset(n, bound);
      }
      case ExprKind::kUnify:
        return UnifyReady(*e.lhs, *e.rhs, bound);
      case ExprKind::kAssign: {
        SlotSet n;
        Needs(*e.rhs, n);
        PatternNeeds(*e.lhs, n);
        return Subset(n, bound);
      }
      case ExprKind::kSomeIn: {
        SlotSet n;
        Needs(*e.coll, n);
        if (e.key) PatternNeeds(*e.key, n);
        PatternNeeds(*e.val, n);
        return Subset(n, bound);
      }
      case ExprKind::kEvery: {
        SlotSet n;
        Needs(*e.coll, n);
        Captured(*e.body, n);
        return Subset(n, bound);
      }
    }
    return true;
  }

  void CheckSafe(const Term& t, const SlotSet& bound, int line, int col) {
    SlotSet needs;
    Needs(t, needs);
    for (int slot : needs) {
      if (!bound.count(slot)) {
        Fail(line, col, "rego_unsafe_var_error", fmt::format("var {} is unsafe", slot_name_[slot]));
      }
    }
  }

  // Orders `b` so each expression's inputs are bound first; returns the slots bound after the
  // body. Fails with rego_unsafe_var_error when no order works.
  SlotSet Reorder(Body& b, const SlotSet& bound_in) {
    SlotSet bound = bound_in;
    std::vector<SlotSet> expr_slots(b.exprs.size());
    std::map<int, int> occurrences;  // slot -> number of expressions of this body using it
    for (size_t i = 0; i < b.exprs.size(); ++i) {
      CollectExprSlots(b.exprs[i], expr_slots[i]);
      for (int slot : expr_slots[i]) ++occurrences[slot];
    }
    const size_t n = b.exprs.size();
    std::vector<char> used(n, 0);
    std::vector<Expr> ordered;
    ordered.reserve(n);
    size_t first = 0;
    while (ordered.size() < n) {
      while (used[first]) ++first;
      size_t pick = n;
      for (size_t i = first; i < n; ++i) {
        if (used[i]) continue;
        // A variable of a negated expression must be bound first when something else
        // (another expression, or an enclosing scope) also uses it.
        auto elsewhere = [&](int slot) {
          if (bound_in.count(slot)) return true;
          auto it = occurrences.find(slot);
          if (it != occurrences.end() && it->second > (expr_slots[i].count(slot) ? 1 : 0)) {
            return true;
          }
          return b.scope >= 0 && slot_scope_[slot] != b.scope &&
                 !IsAncestorOrSelf(b.scope, slot_scope_[slot]);
        };
        if (Ready(b.exprs[i], bound, elsewhere)) {
          pick = i;
          break;
        }
      }
      if (pick == n) ReportUnsafe(b.exprs[first], bound);
      used[pick] = 1;
      Expr& e = b.exprs[pick];
      if (!e.negated && e.kind != ExprKind::kSome) {
        for (const TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
          if (*p) CollectSlots(**p, bound, false);
        }
      }
      ordered.push_back(std::move(e));
    }
    b.exprs = std::move(ordered);
    // Nested bodies.
    for (auto& e : b.exprs) {
      for (const TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
        if (*p) ReorderNested(**p);
      }
      for (auto& w : e.with) ReorderNested(*w.value);
      if (e.kind == ExprKind::kEvery) {
        SlotSet in;
        if (e.key) CollectSlots(*e.key, in, false);
        CollectSlots(*e.val, in, false);
        for (int s = 0; s < num_slots_; ++s) {
          if (slot_scope_[s] != e.body->scope && IsAncestorOrSelf(slot_scope_[s], e.body->scope)) {
            in.insert(s);
          }
        }
        Reorder(*e.body, in);
      }
    }
    return bound;
  }

  [[noreturn]] void ReportUnsafe(const Expr& e, const SlotSet& bound) {
    SlotSet all;
    CollectExprSlots(e, all);
    for (int slot : all) {
      if (!bound.count(slot) && slot_name_[slot] != "_" && slot_name_[slot].rfind("_$", 0) != 0) {
        Fail(e.line, e.col, "rego_unsafe_var_error",
             fmt::format("var {} is unsafe", slot_name_[slot]));
      }
    }
    Fail(e.line, e.col, "rego_unsafe_var_error", "expression is unsafe");
  }

  void ReorderNested(Term& t) {
    switch (t.kind) {
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr: {
        SlotSet in;
        for (int s = 0; s < num_slots_; ++s) {
          if (slot_scope_[s] != t.body->scope && IsAncestorOrSelf(slot_scope_[s], t.body->scope)) {
            in.insert(s);
          }
        }
        Reorder(*t.body, in);
        for (auto& e : t.elems) ReorderNested(*e);
        return;
      }
      default:
        for (auto& e : t.elems) ReorderNested(*e);
    }
  }

  const Env& env_;
  Pass pass_ = Pass::kCollect;
  std::vector<Scope> scopes_;
  std::vector<int> slot_scope_;
  std::vector<std::string> slot_name_;
  int num_slots_ = 0;
};

RuleNode* EnsureNode(RuleNode& root, const std::vector<std::string>& path) {
  RuleNode* node = &root;
  for (const auto& p : path) {
    auto& child = node->children[p];
    if (!child) {
      child = std::make_unique<RuleNode>();
      child->name = p;
      child->path = node->path;
      child->path.push_back(p);
    }
    node = child.get();
  }
  return node;
}

Env MakeEnv(const RuleNode& root, const ParsedModule& mod,
            const std::map<std::vector<std::string>, std::set<std::string>>& pkg_rules) {
  Env env;
  env.root = &root;
  env.package = mod.package;
  env.module = mod.name;
  if (auto it = pkg_rules.find(mod.package); it != pkg_rules.end()) env.rule_names = it->second;
  for (const auto& imp : mod.imports) {
    const std::string& head = imp.path[0]->name;
    if (head == "future" || head == "rego") continue;
    if (head != "data" && head != "input") continue;
    env.imports[imp.alias] = imp.path;
  }
  return env;
}

// ---- dependencies between rules (recursion check, contract check) ----

// Calls `visit` on every term of a rule (head, arguments, bodies, else clauses, `with` values),
// nested terms included.
template <typename Visit>
void VisitTerm(const Term& t, const Visit& visit);

template <typename Visit>
void VisitBody(const Body& body, const Visit& visit) {
  for (const Expr& e : body.exprs) {
    for (const TermPtr* p : {&e.lhs, &e.rhs, &e.key, &e.val, &e.coll}) {
      if (*p) VisitTerm(**p, visit);
    }
    for (const auto& v : e.some_vars) VisitTerm(*v, visit);
    if (e.body) VisitBody(*e.body, visit);
    for (const auto& w : e.with) {
      if (w.value) VisitTerm(*w.value, visit);
    }
  }
}

template <typename Visit>
void VisitTerm(const Term& t, const Visit& visit) {
  visit(t);
  for (const auto& e : t.elems) VisitTerm(*e, visit);
  if (t.body) VisitBody(*t.body, visit);
}

template <typename Visit>
void VisitRule(const Rule& r, const Visit& visit) {
  for (const auto& t : r.ref) VisitTerm(*t, visit);
  for (const auto& t : r.args) VisitTerm(*t, visit);
  if (r.value) VisitTerm(*r.value, visit);
  if (r.key) VisitTerm(*r.key, visit);
  VisitBody(*r.body, visit);
  for (const auto& ec : r.elses) {
    if (ec.value) VisitTerm(*ec.value, visit);
    VisitBody(*ec.body, visit);
  }
}

bool ByPath(const RuleNode* a, const RuleNode* b) { return a->path < b->path; }

bool HasRules(const RuleNode& n) { return n.HasValueRules() || n.IsFunction(); }

std::vector<const Rule*> RulesOf(const RuleNode& n) {
  std::vector<const Rule*> out(n.complete.begin(), n.complete.end());
  if (n.default_rule) out.push_back(n.default_rule);
  out.insert(out.end(), n.sets.begin(), n.sets.end());
  out.insert(out.end(), n.objects.begin(), n.objects.end());
  out.insert(out.end(), n.functions.begin(), n.functions.end());
  if (n.default_function) out.push_back(n.default_function);
  return out;
}

void AddSubtree(const RuleNode& n, std::set<const RuleNode*>& out) {
  if (HasRules(n)) out.insert(&n);
  for (const auto& [_, c] : n.children) AddSubtree(*c, out);
}

// The rule nodes a term reads directly: a `data` reference depends on the rule node it names
// (or every rule below the deepest node it names statically), a call on the function it calls.
void TermDeps(const Term& t, const RuleNode& root, std::set<const RuleNode*>& out) {
  if (t.kind == TermKind::kCall && t.target == CallTarget::kFunction && t.function) {
    out.insert(t.function);
    return;
  }
  if (t.kind != TermKind::kRef || t.elems.empty() || t.elems[0]->kind != TermKind::kVar ||
      t.elems[0]->slot != kSlotData) {
    return;
  }
  const RuleNode* node = &root;
  for (size_t i = 1; i < t.elems.size(); ++i) {
    if (HasRules(*node)) break;
    const Term& k = *t.elems[i];
    if (k.kind == TermKind::kScalar && !k.value.IsString()) return;  // no rule has such a key
    if (k.kind != TermKind::kScalar) {
      AddSubtree(*node, out);  // a dynamic key may select any rule below
      return;
    }
    auto it = node->children.find(std::string(k.value.AsString()));
    if (it == node->children.end()) return;  // base data, not a rule
    node = it->second.get();
  }
  AddSubtree(*node, out);
}

// Fails with rego_recursion_error when a rule depends on itself, directly or through others
// (OPA's compile-time check); the message names the cycle.
void CheckRecursion(const RuleNode& root) {
  std::set<const RuleNode*> nodes;
  AddSubtree(root, nodes);
  std::map<const RuleNode*, std::set<const RuleNode*>> deps;
  for (const RuleNode* n : nodes) {
    auto& d = deps[n];
    for (const Rule* r : RulesOf(*n)) VisitRule(*r, [&](const Term& t) { TermDeps(t, root, d); });
  }
  // Depth-first search in path order (deterministic messages); `path` is the current chain.
  std::map<const RuleNode*, int> state;  // 1 on the path, 2 done
  std::vector<const RuleNode*> path;
  std::function<void(const RuleNode*)> visit = [&](const RuleNode* n) {
    state[n] = 1;
    path.push_back(n);
    std::vector<const RuleNode*> next(deps[n].begin(), deps[n].end());
    std::sort(next.begin(), next.end(), ByPath);
    for (const RuleNode* d : next) {
      if (state[d] == 2) continue;
      if (state[d] == 1) {
        std::string chain;
        for (auto it = std::find(path.begin(), path.end(), d); it != path.end(); ++it) {
          chain += (*it)->PathString() + " -> ";
        }
        chain += d->PathString();
        const Rule* r = RulesOf(*d).front();
        throw CompileError{fmt::format("{}:{}:{}: rego_recursion_error: rule {} is recursive: {}",
                                       r->module, r->line, r->col, d->PathString(), chain),
                           "rego_recursion_error"};
      }
      visit(d);
    }
    path.pop_back();
    state[n] = 2;
  };
  std::vector<const RuleNode*> ordered(nodes.begin(), nodes.end());
  std::sort(ordered.begin(), ordered.end(), ByPath);
  for (const RuleNode* n : ordered) {
    if (state[n] == 0) visit(n);
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<CompiledPolicy>> CompileModules(std::vector<ParsedModule> modules) {
  auto policy = std::make_shared<CompiledPolicy>();
  policy->root_ = std::make_unique<RuleNode>();
  RuleNode& root = *policy->root_;
  std::map<std::vector<std::string>, std::set<std::string>> pkg_rules;
  int next_site_count = 0;
  try {
    for (auto& mod : modules) {
      for (const auto& imp : mod.imports) {
        const std::string& head = imp.path[0]->name;
        if (head != "data" && head != "input" && head != "future" && head != "rego") {
          throw CompileError{
              fmt::format(
                  "{}:{}:{}: rego_parse_error: invalid import path: must begin with input or data",
                  mod.name, imp.line, imp.col),
              "rego_parse_error"};
        }
      }
      for (auto& rp : mod.rules) {
        Rule& r = *rp;
        pkg_rules[mod.package].insert(r.ref[0]->value.AsString());
        std::vector<std::string> path = mod.package;
        for (size_t i = 0; i < r.static_len; ++i) path.push_back(r.ref[i]->value.AsString());
        RuleNode* node = EnsureNode(root, path);
        switch (r.kind) {
          case RuleKind::kComplete:
            if (r.is_default) {
              if (node->default_rule) {
                throw CompileError{
                    fmt::format("{}:{}:{}: rego_type_error: multiple default rules {} found",
                                mod.name, r.line, r.col, node->PathString()),
                    "rego_type_error"};
              }
              node->default_rule = &r;
            } else {
              node->complete.push_back(&r);
            }
            break;
          case RuleKind::kPartialSet:
            node->sets.push_back(&r);
            break;
          case RuleKind::kPartialObject:
            node->objects.push_back(&r);
            break;
          case RuleKind::kFunction: {
            int arity = static_cast<int>(r.args.size());
            if (node->arity >= 0 && node->arity != arity) {
              throw CompileError{
                  fmt::format("{}:{}:{}: rego_type_error: conflicting rules {} found", mod.name,
                              r.line, r.col, node->PathString()),
                  "rego_type_error"};
            }
            node->arity = arity;
            if (r.is_default) {
              node->default_function = &r;
            } else {
              node->functions.push_back(&r);
            }
            break;
          }
        }
      }
    }
    // Conflicting kinds at one node; number the nodes.
    std::vector<RuleNode*> stack{&root};
    int next_id = 0;
    while (!stack.empty()) {
      RuleNode* n = stack.back();
      stack.pop_back();
      n->id = next_id++;
      int kinds = (!n->complete.empty() || n->default_rule ? 1 : 0) + (!n->sets.empty() ? 1 : 0) +
                  (n->IsFunction() ? 1 : 0);
      if (kinds > 1) {
        const Rule* r = !n->sets.empty()                           ? n->sets[0]
                        : n->IsFunction() && !n->functions.empty() ? n->functions[0]
                        : n->complete.empty()                      ? n->default_rule
                                                                   : n->complete[0];
        throw CompileError{fmt::format("{}:{}:{}: rego_type_error: conflicting rules {} found",
                                       r->module, r->line, r->col, n->PathString()),
                           "rego_type_error"};
      }
      for (const auto& [_, c] : n->children) stack.push_back(c.get());
    }
    policy->num_nodes_ = static_cast<size_t>(next_id);
    int& next_site = next_site_count;
    for (auto& mod : modules) {
      Env env = MakeEnv(root, mod, pkg_rules);
      env.next_site = &next_site;
      for (auto& rp : mod.rules) {
        Resolver resolver(env);
        resolver.ResolveRule(*rp);
      }
    }
    CheckRecursion(root);
  } catch (const CompileError& e) {
    return WithErrorCode(absl::InvalidArgumentError(e.message), e.code);
  }
  policy->num_sites_ = static_cast<size_t>(next_site_count);
  policy->modules_ = std::move(modules);
  return policy;
}

namespace {

std::string DottedPath(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

// The first undefined static `data` reference in `t`, as "data.a.b", or "" (see
// PolicyContract::data_roots).
std::string UndefinedRef(const Term& t, const RuleNode& root,
                         const std::vector<std::string>& data_roots) {
  if (t.kind != TermKind::kRef || t.elems.empty() || t.elems[0]->kind != TermKind::kVar ||
      t.elems[0]->slot != kSlotData) {
    return "";
  }
  const RuleNode* node = &root;
  std::string path = "data";
  for (size_t i = 1; i < t.elems.size(); ++i) {
    if (HasRules(*node)) return "";  // a reference into a rule's value
    const Term& k = *t.elems[i];
    if (k.kind != TermKind::kScalar || !k.value.IsString()) return "";
    const std::string& key = k.value.AsString();
    path += "." + key;
    auto it = node->children.find(key);
    if (it == node->children.end()) {
      bool base_data =
          node == &root && std::find(data_roots.begin(), data_roots.end(), key) != data_roots.end();
      return base_data ? "" : path;
    }
    if (node == &root && std::find(data_roots.begin(), data_roots.end(), key) != data_roots.end()) {
      return "";  // a package that shares its name with host data: not checked
    }
    node = it->second.get();
  }
  return "";
}

}  // namespace

absl::Status CheckContract(const CompiledPolicy& policy, const PolicyContract& contract) {
  auto fail = [](std::string_view module, int line, int col, std::string_view code,
                 std::string_view message) {
    return WithErrorCode(absl::InvalidArgumentError(
                             fmt::format("{}:{}:{}: {}: {}", module, line, col, code, message)),
                         code);
  };
  const std::string want = DottedPath(contract.package);
  for (const ParsedModule& mod : policy.modules()) {
    if (!contract.package.empty() && mod.package != contract.package) {
      return fail(mod.name, mod.package_line, mod.package_col, "rego_compile_error",
                  fmt::format("package {} is not {}, the package that is evaluated",
                              DottedPath(mod.package), want));
    }
  }
  for (const ParsedModule& mod : policy.modules()) {
    for (const auto& rp : mod.rules) {
      std::optional<absl::Status> error;
      VisitRule(*rp, [&](const Term& t) {
        if (error) return;
        if (t.kind == TermKind::kCall && t.target == CallTarget::kHost) {
          const std::string name = t.FnName();
          auto fn = std::find_if(contract.host_functions.begin(), contract.host_functions.end(),
                                 [&](const auto& f) { return f.name == name; });
          int nargs = static_cast<int>(t.elems.size());
          if (fn == contract.host_functions.end()) {
            error = fail(mod.name, t.line, t.col, "rego_type_error",
                         fmt::format("undefined function {}", name));
          } else if (nargs != fn->arity && nargs != fn->arity + 1) {
            error = fail(mod.name, t.line, t.col, "rego_type_error",
                         fmt::format("{}: arity mismatch: {} arguments given, function takes {}",
                                     name, nargs, fn->arity));
          }
          return;
        }
        if (std::string ref = UndefinedRef(t, policy.root(), contract.data_roots); !ref.empty()) {
          error = fail(mod.name, t.line, t.col, "rego_type_error",
                       fmt::format("undefined ref: {}", ref));
        }
      });
      if (error) return *error;
    }
  }
  for (const std::string& rule : contract.required_rules) {
    std::vector<std::string> path = contract.package;
    path.push_back(rule);
    const RuleNode* node = FindNode(policy.root(), path);
    if (node == nullptr || !node->HasValueRules()) {
      const ParsedModule* first = policy.modules().empty() ? nullptr : &policy.modules().front();
      return fail(first ? first->name : "policy", first ? first->package_line : 1,
                  first ? first->package_col : 1, "rego_compile_error",
                  fmt::format("no {} rule in package {} (data.{}.{} is evaluated)", rule, want,
                              want, rule));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledQuery> CompiledPolicy::CompileQuery(std::string_view query) const {
  CCB_ASSIGN_OR_RETURN(auto body, ParseQuery(query));
  return CompileQueryBody(std::move(body));
}

absl::StatusOr<CompiledQuery> CompiledPolicy::CompileQueryBody(std::shared_ptr<Body> body) const {
  Env env;
  env.root = root_.get();
  env.module = "query";
  try {
    Resolver resolver(env);
    return resolver.ResolveQuery(std::move(body));
  } catch (const CompileError& e) {
    return WithErrorCode(absl::InvalidArgumentError(e.message), e.code);
  }
}

}  // namespace ccburst::policy
