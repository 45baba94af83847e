#include "policy/evaluator.h"

#include <absl/container/inlined_vector.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "policy/builtins.h"

namespace ccburst::policy {

namespace {

// Non-owning reference to a callable; continuations only live down the stack.
template <typename Sig>
class FnRef;
template <typename R, typename... A>
class FnRef<R(A...)> {
 public:
  template <typename F>
  requires(!std::is_same_v<std::decay_t<F>, FnRef> && std::is_invocable_r_v<R, F&, A...>)
      FnRef(F&& f)  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

// Returning false from a continuation stops the search.
using Cont = FnRef<bool()>;
using ValueCont = FnRef<bool(const Value&)>;
using ListCont = FnRef<bool(ValueVector&)>;
using PairCont = FnRef<bool(const Value&, const Value&)>;

struct EvalError {
  absl::StatusCode status = absl::StatusCode::kInvalidArgument;
  std::string message;
  std::string code;  // OPA's error code ("eval_type_error"), empty for limits
};

struct HostError {
  absl::Status status;
};

// Variable slots of one rule body or query; small frames live on the stack.
struct Frame {
  explicit Frame(int n) : vals(static_cast<size_t>(n)), bound(static_cast<size_t>(n), 0) {}
  absl::InlinedVector<Value, 8> vals;
  absl::InlinedVector<uint8_t, 8> bound;
};

// Call arguments: most calls have at most four.
using ArgVector = absl::InlinedVector<Value, 4>;
struct Args {
  const Value* data;
  size_t size;
  const Value& operator[](size_t i) const { return data[i]; }
};

const Value kTrue = Value::Bool(true);

bool IsConstantTerm(const Term* t) {
  if (!t) return true;
  switch (t->kind) {
    case TermKind::kScalar:
      return true;
    case TermKind::kArray:
    case TermKind::kSet:
    case TermKind::kObject:
      for (const auto& e : t->elems) {
        if (!IsConstantTerm(e.get())) return false;
      }
      return true;
    default:
      return false;
  }
}

// Nested object under construction for rules with dynamic head parts.
struct ObjTree {
  std::optional<Value> leaf;
  std::map<Value, ObjTree> kids;

  Value ToValue() const {
    if (leaf) return *leaf;
    ObjectEntries entries;
    entries.reserve(kids.size());
    for (const auto& [k, v] : kids) entries.emplace_back(k, v.ToValue());
    return Value::Object(std::move(entries));
  }
};

class Evaluator {
 public:
  // `input`/`json_input`: the input as a Value or as JSON (converted on demand), or neither
  // (undefined). `data`/`json_data` likewise; one of them is set.
  Evaluator(const CompiledPolicy& policy, const Value* input, const core::json::value* json_input,
            const Value* data, const core::json::value* json_data, const EvalOptions& options)
      : policy_(policy), json_data_(data ? nullptr : json_data), options_(options) {
    if (data) data_ = *data;
    if (input) world_.input = *input;
    world_.json_input = input ? nullptr : json_input;
    deadline_ = std::chrono::steady_clock::now() + options.limits.timeout;
  }

  // What one `input...` reference site reached in the JSON input, and its converted value.
  struct WalkSlot {
    bool known = false;
    const core::json::value* node = nullptr;
    size_t next = 0;  // first key not followed
    std::optional<Value> value;
  };

  std::vector<Bindings> Run(const CompiledQuery& q) {
    char base;
    stack_base_ = &base;
    static const std::string kQueryModule = "query";
    module_ = &kQueryModule;
    Frame f(q.num_slots);
    std::vector<Bindings> out;
    EvalBody(*q.body, 0, f, [&]() {
      Bindings b;
      for (const auto& [name, slot] : q.output_vars) {
        if (f.bound[slot]) b.emplace_back(name, f.vals[slot]);
      }
      out.push_back(std::move(b));
      return true;
    });
    return out;
  }

 private:
  // ---- errors and limits ----
  [[noreturn]] void Fail(const Term* at, std::string_view code, const std::string& msg) {
    std::string text;
    if (at && at->line > 0 && module_) {
      text = fmt::format("{}:{}: {}: {}", *module_, at->line, code, msg);
    } else {
      text = fmt::format("{}: {}", code, msg);
    }
    throw EvalError{absl::StatusCode::kInvalidArgument, std::move(text), std::string(code)};
  }
  [[noreturn]] void FailAtLine(int line, std::string_view code, const std::string& msg) {
    Term t;
    t.line = line;
    Fail(&t, code, msg);
  }

  [[noreturn]] void StepsExceeded() {
    throw EvalError{absl::StatusCode::kResourceExhausted,
                    fmt::format("policy: evaluation exceeded {} steps", options_.limits.max_steps)};
  }

  // Large builtin results cost steps in proportion to their size, so repeated doubling of a
  // string or array runs into the step limit instead of exhausting memory.
  void ChargeResult(const Value& v) {
    uint64_t units = 0;
    if (v.IsString()) {
      units = v.AsString().size() / 64;
    } else if (v.IsArray() || v.IsSet()) {
      units = v.AsArray().size();
    } else if (v.IsObject()) {
      units = v.AsObject().size();
    }
    steps_ += units;
    if (steps_ > options_.limits.max_steps) StepsExceeded();
  }

  void Step() {
    if (++steps_ > options_.limits.max_steps) StepsExceeded();
    if ((steps_ & 255) == 0 && std::chrono::steady_clock::now() > deadline_) {
      throw EvalError{absl::StatusCode::kDeadlineExceeded,
                      fmt::format("policy: evaluation exceeded time limit of {}ms",
                                  options_.limits.timeout.count())};
    }
    CheckStack();
  }

  // Continuations nest: one expression with thousands of calls (an array of them, a long chain
  // of operators) recurses once per call without a Step() between (found by the fuzz campaign:
  // a 3.9 kB policy overflowed the stack), so every term checks the native stack it has used.
  void CheckStack() const {
    char probe;
    size_t used = static_cast<size_t>(stack_base_ - &probe);
    if (used > options_.limits.max_stack_bytes) {
      throw EvalError{absl::StatusCode::kResourceExhausted,
                      "policy: evaluation exceeded stack limit"};
    }
  }

  struct DepthGuard {
    DepthGuard(Evaluator* e) : e(e) {
      if (++e->depth_ > e->options_.limits.max_depth) {
        throw EvalError{absl::StatusCode::kResourceExhausted,
                        fmt::format("policy: evaluation exceeded maximum depth {}",
                                    e->options_.limits.max_depth)};
      }
    }
    ~DepthGuard() { --e->depth_; }
    Evaluator* e;
  };

  [[noreturn]] void Unsafe(const Term& t) {
    Fail(&t, "rego_unsafe_var_error", fmt::format("var {} is unsafe", t.name));
  }

  // ---- bindings ----
  static bool Bind(Frame& f, int slot, const Value& v, Cont k) {
    f.vals[slot] = v;
    f.bound[slot] = 1;
    bool r = k();
    f.bound[slot] = 0;
    f.vals[slot] = Value();
    return r;
  }

  // True when matching `t` against a value can bind variables.
  bool HasUnboundPattern(const Term& t, const Frame& f) const {
    if (t.ground) return false;
    switch (t.kind) {
      case TermKind::kVar:
        return t.slot >= 0 && !f.bound[t.slot];
      case TermKind::kArray:
        for (const auto& e : t.elems) {
          if (HasUnboundPattern(*e, f)) return true;
        }
        return false;
      case TermKind::kObject:
        for (size_t i = 1; i < t.elems.size(); i += 2) {
          if (HasUnboundPattern(*t.elems[i], f)) return true;
        }
        return false;
      default:
        return false;
    }
  }

  // ---- bodies and expressions ----

  // True when `t` yields at most one value under the current bindings (no iteration).
  bool IsDeterministic(const Term& t, const Frame& f) const {
    if (t.ground) return true;
    switch (t.kind) {
      case TermKind::kScalar:
      case TermKind::kArrayCompr:
      case TermKind::kSetCompr:
      case TermKind::kObjectCompr:
        return true;
      case TermKind::kVar:
        return t.slot < 0 || f.bound[t.slot];
      case TermKind::kCall:
        if (IsOutputCall(t)) return false;
        [[fallthrough]];
      default:
        for (const auto& e : t.elems) {
          if (HasUnboundPattern(*e, f) || !IsDeterministic(*e, f)) return false;
        }
        return true;
    }
  }

  std::optional<Value> EvalFirst(const Term& t, Frame& f) {
    std::optional<Value> out;
    EvalTerm(t, f, [&](const Value& v) {
      out = v;
      return false;
    });
    return out;
  }

  // Solves the body from expression `i`. Expressions with at most one solution are handled in
  // a loop, so long bodies of checks and assignments use constant stack; the first expression
  // that can produce several solutions continues through continuations.
  bool EvalBody(const Body& b, size_t i, Frame& f, Cont k) {
    absl::InlinedVector<int, 4> bound_here;
    bool result = true;
    bool failed = false;
    for (; i < b.exprs.size(); ++i) {
      const Expr& e = b.exprs[i];
      if (!e.with.empty()) break;
      if (e.negated) {
        Step();
        bool found = false;
        EvalExprPositive(e, f, [&]() {
          found = true;
          return false;
        });
        if (found) {
          failed = true;
          break;
        }
        continue;
      }
      if (e.kind == ExprKind::kSome) continue;
      if (e.kind == ExprKind::kTerm) {
        if (auto truth = JsonInputTruth(*e.lhs)) {
          Step();
          if (!*truth) {
            failed = true;
            break;
          }
          continue;
        }
      }
      if (e.kind == ExprKind::kTerm && !IsOutputCall(*e.lhs) && IsDeterministic(*e.lhs, f)) {
        Step();
        auto v = EvalFirst(*e.lhs, f);
        if (!v || v->IsFalse()) {
          failed = true;
          break;
        }
        continue;
      }
      if (e.kind == ExprKind::kUnify || e.kind == ExprKind::kAssign) {
        const Term* var = nullptr;
        const Term* other = nullptr;
        if (e.lhs->kind == TermKind::kVar && e.lhs->slot >= 0 && !f.bound[e.lhs->slot]) {
          var = e.lhs.get();
          other = e.rhs.get();
        } else if (e.rhs->kind == TermKind::kVar && e.rhs->slot >= 0 && !f.bound[e.rhs->slot]) {
          var = e.rhs.get();
          other = e.lhs.get();
        }
        if (var && IsDeterministic(*other, f)) {
          Step();
          auto v = EvalFirst(*other, f);
          if (!v) {
            failed = true;
            break;
          }
          f.vals[var->slot] = std::move(*v);
          f.bound[var->slot] = 1;
          bound_here.push_back(var->slot);
          continue;
        }
        if (!var && !HasUnboundPattern(*e.lhs, f) && !HasUnboundPattern(*e.rhs, f) &&
            IsDeterministic(*e.lhs, f) && IsDeterministic(*e.rhs, f)) {
          Step();
          auto l = EvalFirst(*e.lhs, f);
          auto r = l ? EvalFirst(*e.rhs, f) : std::nullopt;
          if (!l || !r || *l != *r) {
            failed = true;
            break;
          }
          continue;
        }
      }
      break;
    }
    if (!failed) {
      if (i == b.exprs.size()) {
        result = k();
      } else {
        result = EvalExpr(b.exprs[i], f, [&]() { return EvalBody(b, i + 1, f, k); });
      }
    }
    for (auto it = bound_here.rbegin(); it != bound_here.rend(); ++it) {
      f.bound[*it] = 0;
      f.vals[*it] = Value();
    }
    return result;
  }

  bool EvalExpr(const Expr& e, Frame& f, Cont k) {
    Step();
    if (!e.with.empty()) return EvalWith(e, f, k);
    return EvalExprNoWith(e, f, k);
  }

  bool EvalExprNoWith(const Expr& e, Frame& f, Cont k) {
    if (e.negated) {
      bool found = false;
      EvalExprPositive(e, f, [&]() {
        found = true;
        return false;
      });
      if (found) return true;
      return k();
    }
    return EvalExprPositive(e, f, k);
  }

  bool EvalExprPositive(const Expr& e, Frame& f, Cont k) {
    switch (e.kind) {
      case ExprKind::kTerm: {
        const Term& t = *e.lhs;
        if (t.kind == TermKind::kCall && IsOutputCall(t)) {
          return EvalCall(
              t, f, [&](const Value& result) { return UnifyValue(*t.elems.back(), result, f, k); });
        }
        if (auto truth = JsonInputTruth(t)) {
          Step();
          return *truth ? k() : true;
        }
        return EvalTerm(t, f, [&](const Value& v) {
          if (v.IsFalse()) return true;
          return k();
        });
      }
      case ExprKind::kUnify:
      case ExprKind::kAssign:
        return Unify(*e.lhs, *e.rhs, f, k);
      case ExprKind::kSome:
        return k();
      case ExprKind::kSomeIn:
        return EvalTerm(*e.coll, f, [&](const Value& c) {
          return IterateChildren(c, [&](const Value& key, const Value& val) {
            if (e.key) {
              return UnifyValue(*e.key, key, f, [&]() { return UnifyValue(*e.val, val, f, k); });
            }
            return UnifyValue(*e.val, val, f, k);
          });
        });
      case ExprKind::kEvery:
        return EvalTerm(*e.coll, f, [&](const Value& c) {
          if (!c.IsArray() && !c.IsObject() && !c.IsSet()) return true;
          bool all = true;
          IterateChildren(c, [&](const Value& key, const Value& val) {
            bool found = false;
            auto body = [&]() {
              return EvalBody(*e.body, 0, f, [&]() {
                found = true;
                return false;
              });
            };
            if (e.key) {
              UnifyValue(*e.key, key, f, [&]() { return UnifyValue(*e.val, val, f, body); });
            } else {
              UnifyValue(*e.val, val, f, body);
            }
            if (!found) {
              all = false;
              return false;
            }
            return true;
          });
          if (!all) return true;
          return k();
        });
    }
    return true;
  }

  // `with` modifiers replace input, parts of data, or functions while one expression runs.
  bool EvalWith(const Expr& e, Frame& f, Cont k) {
    std::vector<Value> values;
    for (const auto& w : e.with) {
      std::optional<Value> v;
      EvalTerm(*w.value, f, [&](const Value& x) {
        v = x;
        return false;
      });
      if (!v) return true;
      values.push_back(*v);
    }
    // The replaced world starts with an empty rule cache: rule values may depend on it.
    World inner;
    if (const Value* in = InputValue()) inner.input = *in;
    inner.data_overrides = world_.data_overrides;
    for (size_t i = 0; i < e.with.size(); ++i) {
      const Term& target = *e.with[i].target;
      const Term* head = target.kind == TermKind::kRef ? target.elems[0].get() : &target;
      std::vector<Value> path;
      if (target.kind == TermKind::kRef) {
        for (size_t j = 1; j < target.elems.size(); ++j) {
          if (target.elems[j]->kind != TermKind::kScalar) {
            Fail(&target, "rego_compile_error", "with target must be a static reference");
          }
          path.push_back(target.elems[j]->value);
        }
      }
      if (head->kind == TermKind::kVar && head->slot == kSlotInput) {
        Value base = inner.input ? *inner.input : Value::EmptyObject();
        inner.input = path.empty() ? values[i] : SetPath(base, path, 0, values[i]);
      } else if (head->kind == TermKind::kVar && head->slot == kSlotData) {
        std::vector<std::string> spath;
        for (const auto& p : path) spath.push_back(p.IsString() ? p.AsString() : p.ToJsonString());
        inner.data_overrides.emplace_back(std::move(spath), values[i]);
      } else {
        Fail(&target, "rego_compile_error", "with target must be input or data");
      }
    }
    // Errors abort the whole evaluation, so the world needs no restoring on the error path.
    std::swap(world_, inner);
    bool r = EvalExprNoWith(e, f, [&]() {
      std::swap(world_, inner);  // the rest of the body runs in the outer world
      bool res = k();
      std::swap(world_, inner);
      return res;
    });
    std::swap(world_, inner);
    return r;
  }

  static Value SetPath(const Value& base, const std::vector<Value>& path, size_t i,
                       const Value& v) {
    if (i == path.size()) return v;
    ObjectEntries entries;
    if (base.IsObject()) entries = base.AsObject();
    const Value* child = base.Find(path[i]);
    Value next = SetPath(child ? *child : Value::EmptyObject(), path, i + 1, v);
    entries.emplace_back(path[i], std::move(next));
    return Value::Object(std::move(entries));
  }

  // ---- terms ----
  bool EvalTerm(const Term& t, Frame& f, ValueCont k) {
    CheckStack();
    switch (t.kind) {
      case TermKind::kScalar:
        return k(t.value);
      case TermKind::kVar:
        if (t.slot == kSlotInput) {
          const Value* in = InputValue();
          return in ? k(*in) : true;
        }
        if (t.slot == kSlotData) return EvalDataRoot(nullptr, f, k);
        if (!f.bound[t.slot]) Unsafe(t);
        return k(f.vals[t.slot]);
      case TermKind::kRef:
        return EvalRef(t, f, k);
      case TermKind::kArray: {
        ValueVector acc;
        return EvalList(t.elems, 0, acc, f,
                        [&](ValueVector& vals) { return k(Value::Array(vals)); });
      }
      case TermKind::kSet: {
        ValueVector acc;
        return EvalList(t.elems, 0, acc, f, [&](ValueVector& vals) { return k(Value::Set(vals)); });
      }
      case TermKind::kObject: {
        ValueVector acc;
        return EvalList(t.elems, 0, acc, f, [&](ValueVector& vals) {
          ObjectEntries entries;
          entries.reserve(vals.size() / 2);
          if (!t.object_order.empty()) {
            for (uint32_t p : t.object_order) entries.emplace_back(vals[2 * p], vals[2 * p + 1]);
          } else {
            for (size_t i = 0; i + 1 < vals.size(); i += 2)
              entries.emplace_back(vals[i], vals[i + 1]);
          }
          return k(Value::Object(std::move(entries)));
        });
      }
      case TermKind::kArrayCompr: {
        ValueVector out;
        EvalBody(*t.body, 0, f, [&]() {
          return EvalTerm(*t.elems[0], f, [&](const Value& v) {
            out.push_back(v);
            return true;
          });
        });
        return k(Value::Array(std::move(out)));
      }
      case TermKind::kSetCompr: {
        ValueVector out;
        EvalBody(*t.body, 0, f, [&]() {
          return EvalTerm(*t.elems[0], f, [&](const Value& v) {
            out.push_back(v);
            return true;
          });
        });
        return k(Value::Set(std::move(out)));
      }
      case TermKind::kObjectCompr: {
        std::map<Value, Value> out;
        EvalBody(*t.body, 0, f, [&]() {
          return EvalTerm(*t.elems[0], f, [&](const Value& key) {
            return EvalTerm(*t.elems[1], f, [&](const Value& val) {
              auto [it, inserted] = out.emplace(key, val);
              if (!inserted && it->second != val) {
                Fail(&t, "eval_conflict_error", "object keys must be unique");
              }
              return true;
            });
          });
        });
        ObjectEntries entries(out.begin(), out.end());
        return k(Value::Object(std::move(entries)));
      }
      case TermKind::kCall:
        if (IsOutputCall(t)) {
          Fail(&t, "rego_type_error", fmt::format("{}: too many arguments", t.FnName()));
        }
        return EvalCall(t, f, k);
    }
    return true;
  }

  bool EvalList(const std::vector<TermPtr>& ts, size_t i, ValueVector& acc, Frame& f, ListCont k) {
    return EvalList<ValueVector>(ts, i, ts.size(), acc, f, k);
  }

  // Evaluates ts[i, end) (every combination of their values) into `acc`.
  template <typename Vec>
  bool EvalList(const std::vector<TermPtr>& ts, size_t i, size_t end, Vec& acc, Frame& f,
                FnRef<bool(Vec&)> k) {
    // Fast path for terms that produce exactly one value without a continuation.
    while (i < end) {
      const Term& t = *ts[i];
      if (t.kind == TermKind::kScalar) {
        acc.push_back(t.value);
      } else if (t.kind == TermKind::kVar && t.slot >= 0) {
        if (!f.bound[t.slot]) Unsafe(t);
        acc.push_back(f.vals[t.slot]);
      } else {
        break;
      }
      ++i;
    }
    if (i == end) return k(acc);
    size_t size = acc.size();
    return EvalTerm(*ts[i], f, [&](const Value& v) {
      acc.resize(size);
      acc.push_back(v);
      bool r = EvalList<Vec>(ts, i + 1, end, acc, f, k);
      return r;
    });
  }

  // Visits (key, value) children of a collection: array (index, element), object (key,
  // value), set (element, element). Other values have no children.
  bool IterateChildren(const Value& c, PairCont k) {
    switch (c.kind()) {
      case Value::Kind::kArray: {
        const auto& elems = c.AsArray();
        for (size_t i = 0; i < elems.size(); ++i) {
          Step();
          if (!k(Value::Int(static_cast<int64_t>(i)), elems[i])) return false;
        }
        return true;
      }
      case Value::Kind::kObject:
        for (const auto& [key, val] : c.AsObject()) {
          Step();
          if (!k(key, val)) return false;
        }
        return true;
      case Value::Kind::kSet:
        for (const auto& e : c.AsSet()) {
          Step();
          if (!k(e, e)) return false;
        }
        return true;
      default:
        return true;
    }
  }

  // ---- references ----
  bool EvalRef(const Term& t, Frame& f, ValueCont k) {
    const Term& head = *t.elems[0];
    if (head.kind == TermKind::kVar) {
      if (head.slot == kSlotData) {
        if (t.rule_node && world_.data_overrides.empty()) {
          static const std::vector<std::string> kNoPath;
          std::optional<Value> v = MaterializeNode(t.rule_node, nullptr, kNoPath);
          return v ? IndexValue(*v, t, t.rule_end, f, k) : true;
        }
        return EvalDataRoot(&t, f, k);
      }
      if (head.slot == kSlotInput) {
        if (world_.input) return IndexValue(*world_.input, t, 1, f, k);
        if (world_.json_input) return IndexJsonInput(t, f, k);
        return true;
      }
      if (!f.bound[head.slot]) Unsafe(head);
      return IndexValue(f.vals[head.slot], t, 1, f, k);
    }
    return EvalTerm(head, f, [&](const Value& hv) { return IndexValue(hv, t, 1, f, k); });
  }

  // The whole input as a Value (converted from JSON on first use); nullptr when undefined.
  const Value* InputValue() {
    if (world_.input) return &*world_.input;
    if (world_.json_input) return &JsonValue(world_.json_input);
    return nullptr;
  }

  // The Value of a part of the JSON input, converted once per evaluation.
  const Value& JsonValue(const core::json::value* j) {
    auto it = json_values_.find(j);
    if (it == json_values_.end()) {
      it = json_values_.emplace(j, Value::FromJson(*j)).first;
    }
    return it->second;
  }

  // `input.a.b[0]...`: walks the constant keys on the JSON input itself and converts only the
  // part reached; keys that JSON cannot hold (non-strings on objects) are simply absent.
  bool IndexJsonInput(const Term& ref, Frame& f, ValueCont k) {
    size_t i = 1;
    const core::json::value* j = WalkJsonInput(ref, &i);
    if (!j) return true;
    if (WalkSlot* slot = SiteSlot(ref)) {
      // Converted once per reference site (two sites reaching one node convert it twice).
      if (!slot->value) slot->value = Value::FromJson(*j);
      return IndexValue(*slot->value, ref, i, f, k);
    }
    return IndexValue(JsonValue(j), ref, i, f, k);
  }

  // Follows the constant keys of `ref` (from elems[*i]) on the JSON input; returns the node
  // reached (with *i at the first key not followed) or nullptr when a key is absent.
  const core::json::value* WalkJsonInput(const Term& ref, size_t* i) const {
    // Only the evaluation's own JSON input is ever walked (`with input` replaces it by a
    // Value), so the answer for a reference site is kept for the evaluation.
    WalkSlot* slot = *i == 1 ? SiteSlot(ref) : nullptr;
    if (!slot) return WalkJsonInputUncached(ref, i);
    if (!slot->known) {
      slot->node = WalkJsonInputUncached(ref, i);
      slot->next = *i;
      slot->known = true;
    }
    *i = slot->next;
    return slot->node;
  }
  // The per-evaluation cache entry of an input reference site; nullptr when it has none.
  WalkSlot* SiteSlot(const Term& ref) const {
    if (ref.site < 0 || static_cast<size_t>(ref.site) >= policy_.num_sites()) return nullptr;
    if (walk_cache_.empty()) walk_cache_.resize(policy_.num_sites());
    return &walk_cache_[static_cast<size_t>(ref.site)];
  }
  const core::json::value* WalkJsonInputUncached(const Term& ref, size_t* i) const {
    const core::json::value* j = world_.json_input;
    for (; *i < ref.elems.size() && ref.elems[*i]->kind == TermKind::kScalar; ++*i) {
      const Value& key = ref.elems[*i]->value;
      if (j->is_object()) {
        if (!key.IsString()) return nullptr;
        j = j->get_object().if_contains(key.AsString());
        if (!j) return nullptr;
      } else if (j->is_array()) {
        if (!key.IsNumber() || !key.AsNumber().IsInteger()) return nullptr;
        auto idx = key.AsNumber().AsInt64();
        const auto& arr = j->get_array();
        if (!idx || *idx < 0 || static_cast<size_t>(*idx) >= arr.size()) return nullptr;
        j = &arr[static_cast<size_t>(*idx)];
      } else {
        return nullptr;  // scalars have no children
      }
    }
    return j;
  }

  // A bare `input.a.b` expression only asks "defined and not false": answered on the JSON
  // input without converting the (possibly large) document it names. nullopt: not applicable.
  std::optional<bool> JsonInputTruth(const Term& t) const {
    if (t.kind != TermKind::kRef || world_.input || !world_.json_input) return std::nullopt;
    const Term& head = *t.elems[0];
    if (head.kind != TermKind::kVar || head.slot != kSlotInput) return std::nullopt;
    size_t i = 1;
    const core::json::value* j = WalkJsonInput(t, &i);
    if (!j) return false;
    if (i != t.elems.size()) return std::nullopt;  // a dynamic key follows
    return !(j->is_bool() && !j->get_bool());
  }

  static const Value* LookupChild(const Value& v, const Value& key) {
    switch (v.kind()) {
      case Value::Kind::kArray: {
        if (!key.IsNumber()) return nullptr;
        auto idx = key.AsNumber().AsInt64();
        if (!idx || !key.AsNumber().IsInteger() || *idx < 0) return nullptr;
        const auto& elems = v.AsArray();
        if (static_cast<size_t>(*idx) >= elems.size()) return nullptr;
        return &elems[static_cast<size_t>(*idx)];
      }
      case Value::Kind::kObject:
        return v.Find(key);
      case Value::Kind::kSet: {
        const auto& elems = v.AsSet();
        auto it = std::lower_bound(elems.begin(), elems.end(), key);
        if (it != elems.end() && *it == key) return &*it;
        return nullptr;
      }
      default:
        return nullptr;
    }
  }

  bool IndexValue(const Value& v, const Term& ref, size_t i, Frame& f, ValueCont k) {
    if (i == ref.elems.size()) return k(v);
    const Term& key = *ref.elems[i];
    if (HasUnboundPattern(key, f)) {
      return IterateChildren(v, [&](const Value& ck, const Value& cv) {
        return UnifyValue(key, ck, f, [&]() { return IndexValue(cv, ref, i + 1, f, k); });
      });
    }
    if (key.kind == TermKind::kScalar) {
      const Value* child = LookupChild(v, key.value);
      return child ? IndexValue(*child, ref, i + 1, f, k) : true;
    }
    return EvalTerm(key, f, [&](const Value& kv) {
      const Value* child = LookupChild(v, kv);
      return child ? IndexValue(*child, ref, i + 1, f, k) : true;
    });
  }

  // `ref` null means the bare `data` document.
  bool EvalDataRoot(const Term* ref, Frame& f, ValueCont k) {
    static const Term kEmptyRef = [] {
      Term t;
      t.kind = TermKind::kRef;
      t.elems.push_back(std::make_shared<Term>());
      return t;
    }();
    std::vector<std::string> path;
    if (json_data_) {
      // `data.<name>...` with data given as JSON: descend into the one top-level member (as
      // EvalDataNode would) and convert only that member.
      const Term* first = ref && ref->elems.size() > 1 ? ref->elems[1].get() : nullptr;
      if (first && first->kind == TermKind::kScalar && first->value.IsString() &&
          world_.data_overrides.empty()) {
        const std::string& name = first->value.AsString();
        const Value* child_base = nullptr;
        if (json_data_->is_object()) {
          if (const auto* j = json_data_->get_object().if_contains(name))
            child_base = &JsonValue(j);
        }
        path.push_back(name);
        auto it = policy_.root().children.find(name);
        if (it != policy_.root().children.end()) {
          return EvalDataNode(it->second.get(), child_base, *ref, 2, path, f, k);
        }
        return child_base ? EvalDataNode(nullptr, child_base, *ref, 2, path, f, k) : true;
      }
      data_ = JsonValue(json_data_);
      json_data_ = nullptr;
    }
    return EvalDataNode(&policy_.root(), &data_, ref ? *ref : kEmptyRef, 1, path, f, k);
  }

  const Value* FindOverride(const std::vector<std::string>& path) const {
    for (auto it = world_.data_overrides.rbegin(); it != world_.data_overrides.rend(); ++it) {
      if (it->first == path) return &it->second;
    }
    return nullptr;
  }

  bool HasOverrideBelow(const std::vector<std::string>& path) const {
    for (const auto& [p, _] : world_.data_overrides) {
      if (p.size() > path.size() && std::equal(path.begin(), path.end(), p.begin())) return true;
    }
    return false;
  }

  bool EvalDataNode(const RuleNode* node, const Value* base, const Term& ref, size_t i,
                    std::vector<std::string>& path, Frame& f, ValueCont k) {
    if (!world_.data_overrides.empty()) {
      if (const Value* ov = FindOverride(path)) return IndexValue(*ov, ref, i, f, k);
    }
    if (node && node->IsFunction()) return true;
    bool override_below = !world_.data_overrides.empty() && HasOverrideBelow(path);
    // Walk key by key while below a package (or a base document, or a `with` override), so
    // only the rules on the path are evaluated.
    bool walk = i < ref.elems.size() &&
                (node ? !node->HasValueRules() : ((base && base->IsObject()) || override_below));
    if (!walk) {
      std::optional<Value> v;
      if (node) {
        v = MaterializeNode(node, base, path);
      } else if (base || override_below) {
        v = base ? *base : Value::EmptyObject();
        if (override_below) v = ApplyOverrides(*v, path);
      }
      if (!v) return true;
      return IndexValue(*v, ref, i, f, k);
    }
    const Term& key = *ref.elems[i];
    auto descend = [&](const std::string& name) -> bool {
      const Value* child_base = base ? base->FindKey(name) : nullptr;
      path.push_back(name);
      bool r;
      auto it = node ? node->children.find(name) : decltype(node->children.end())();
      if (node && it != node->children.end()) {
        r = EvalDataNode(it->second.get(), child_base, ref, i + 1, path, f, k);
      } else if (child_base || !world_.data_overrides.empty()) {
        r = EvalDataNode(nullptr, child_base, ref, i + 1, path, f, k);
      } else {
        r = true;
      }
      path.pop_back();
      return r;
    };
    if (HasUnboundPattern(key, f)) {
      std::set<std::string> names;
      if (node) {
        for (const auto& [name, _] : node->children) names.insert(name);
      }
      if (base && base->IsObject()) {
        for (const auto& [kk, _] : base->AsObject()) {
          if (kk.IsString()) names.insert(kk.AsString());
        }
      }
      for (const auto& [p, _] : world_.data_overrides) {
        if (p.size() > path.size() && std::equal(path.begin(), path.end(), p.begin())) {
          names.insert(p[path.size()]);
        }
      }
      for (const auto& name : names) {
        Step();
        bool r = UnifyValue(key, Value::String(name), f, [&]() { return descend(name); });
        if (!r) return false;
      }
      return true;
    }
    return EvalTerm(key, f, [&](const Value& kv) {
      if (kv.IsString()) return descend(kv.AsString());
      if (kv.IsNumber() && kv.AsNumber().IsInteger()) {
        // Base documents are stored by string keys; a number key finds its decimal text.
        return descend(kv.AsNumber().ToString());
      }
      return true;
    });
  }

  Value ApplyOverrides(const Value& v, const std::vector<std::string>& path) const {
    Value out = v;
    for (const auto& [p, ov] : world_.data_overrides) {
      if (p.size() > path.size() && std::equal(path.begin(), path.end(), p.begin())) {
        std::vector<Value> rest;
        for (size_t j = path.size(); j < p.size(); ++j) rest.push_back(Value::String(p[j]));
        out = SetPath(out, rest, 0, ov);
      }
    }
    return out;
  }

  // ---- rules ----
  std::optional<Value> MaterializeNode(const RuleNode* node, const Value* base,
                                       const std::vector<std::string>& path) {
    if (world_.cache.empty()) world_.cache.resize(policy_.num_nodes());
    CachedRule& cached = world_.cache[static_cast<size_t>(node->id)];
    if (cached.done) return cached.value;
    if (std::find(in_progress_.begin(), in_progress_.end(), node) != in_progress_.end()) {
      Fail(nullptr, "rego_recursion_error",
           fmt::format("rule {} is recursive", node->PathString()));
    }
    in_progress_.push_back(node);  // a stack: rules being materialized, innermost last
    DepthGuard depth(this);
    std::optional<Value> result;
    try {
      result = ComputeNode(node, base, path);
    } catch (...) {
      in_progress_.pop_back();
      throw;
    }
    in_progress_.pop_back();
    CachedRule& slot = world_.cache[static_cast<size_t>(node->id)];  // `cached` may be stale
    slot.done = true;
    slot.value = result;
    return result;
  }

  std::optional<Value> ComputeNode(const RuleNode* node, const Value* base,
                                   const std::vector<std::string>& node_path) {
    if (!node->complete.empty() || node->default_rule) return EvalComplete(node);
    std::vector<std::string> path = node_path;
    if (!node->sets.empty()) {
      ValueVector elems;
      for (const Rule* r : node->sets) {
        WithModule m(this, r);
        Frame fr(r->num_slots);
        EvalBody(*r->body, 0, fr, [&]() {
          return EvalTerm(*r->key, fr, [&](const Value& v) {
            elems.push_back(v);
            return true;
          });
        });
      }
      return Value::Set(std::move(elems));
    }
    ObjTree tree;
    if (base && base->IsObject()) {
      for (const auto& [k, v] : base->AsObject()) tree.kids[k].leaf = v;
    }
    for (const auto& [name, child] : node->children) {
      if (child->IsFunction()) continue;
      const Value* child_base = base ? base->FindKey(name) : nullptr;
      path.push_back(name);
      std::optional<Value> v;
      if (const Value* ov = world_.data_overrides.empty() ? nullptr : FindOverride(path)) {
        v = *ov;
      } else {
        v = MaterializeNode(child.get(), child_base, path);
      }
      path.pop_back();
      if (v) {
        ObjTree t;
        t.leaf = *v;
        tree.kids[Value::String(name)] = std::move(t);
      }
    }
    for (const Rule* r : node->objects) {
      WithModule m(this, r);
      Frame fr(r->num_slots);
      std::vector<TermPtr> parts(r->ref.begin() + static_cast<long>(r->static_len), r->ref.end());
      EvalBody(*r->body, 0, fr, [&]() {
        ValueVector acc;
        return EvalList(parts, 0, acc, fr, [&](ValueVector& keys) {
          return EvalTerm(r->value ? *r->value : TrueTerm(), fr, [&](const Value& v) {
            InsertPath(tree, keys, v, r);
            return true;
          });
        });
      });
    }
    Value out = tree.ToValue();
    if (!world_.data_overrides.empty() && HasOverrideBelow(path)) out = ApplyOverrides(out, path);
    return out;
  }

  void InsertPath(ObjTree& tree, const ValueVector& keys, const Value& v, const Rule* r) {
    ObjTree* cur = &tree;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (cur->leaf) {
        FailAtLine(r->line, "eval_conflict_error", "object keys must be unique");
      }
      cur = &cur->kids[keys[i]];
    }
    if (cur->leaf) {
      if (*cur->leaf != v) {
        FailAtLine(r->line, "eval_conflict_error", "object keys must be unique");
      }
      return;
    }
    if (!cur->kids.empty())
      FailAtLine(r->line, "eval_conflict_error", "object keys must be unique");
    cur->leaf = v;
  }

  static const Term& TrueTerm() {
    static const Term t = [] {
      Term x;
      x.kind = TermKind::kScalar;
      x.value = Value::Bool(true);
      return x;
    }();
    return t;
  }

  struct WithModule {
    WithModule(Evaluator* e, const Rule* r) : e(e), saved(e->module_) { e->module_ = &r->module; }
    ~WithModule() { e->module_ = saved; }
    Evaluator* e;
    const std::string* saved;
  };

  // Evaluates one rule with its else chain, calling `cb` for each value produced by the first
  // clause that succeeds. `args` are the call arguments for functions.
  void EvalDefinition(const Rule* r, const Args* args, FnRef<bool(const Value&)> cb) {
    WithModule m(this, r);
    auto run_clause = [&](const Body& body, const Term* value) -> bool {
      Frame fr(r->num_slots);
      bool any = false;
      bool constant = IsConstantTerm(value);
      auto on_body = [&]() {
        return EvalTerm(value ? *value : TrueTerm(), fr, [&](const Value& v) {
          any = true;
          bool more = cb(v);
          return more && !constant;
        });
      };
      if (args) {
        UnifyArgs(r->args, *args, 0, fr, [&]() { return EvalBody(body, 0, fr, on_body); });
      } else {
        EvalBody(body, 0, fr, on_body);
      }
      return any;
    };
    if (run_clause(*r->body, r->value.get())) return;
    for (const auto& ec : r->elses) {
      if (run_clause(*ec.body, ec.value.get())) return;
    }
  }

  bool UnifyArgs(const std::vector<TermPtr>& params, const Args& args, size_t i, Frame& f, Cont k) {
    if (i == params.size()) return k();
    return UnifyValue(*params[i], args[i], f,
                      [&]() { return UnifyArgs(params, args, i + 1, f, k); });
  }

  std::optional<Value> EvalComplete(const RuleNode* node) {
    std::optional<Value> result;
    for (const Rule* r : node->complete) {
      EvalDefinition(r, nullptr, [&](const Value& v) {
        if (!result) {
          result = v;
        } else if (*result != v) {
          WithModule m(this, r);
          FailAtLine(r->line, "eval_conflict_error",
                     "complete rules must not produce multiple outputs");
        }
        return true;
      });
    }
    if (!result && node->default_rule) {
      const Rule* r = node->default_rule;
      WithModule m(this, r);
      Frame fr(r->num_slots);
      EvalTerm(r->value ? *r->value : TrueTerm(), fr, [&](const Value& v) {
        result = v;
        return false;
      });
    }
    return result;
  }

  std::optional<Value> EvalFunction(const RuleNode* node, const Args& args) {
    DepthGuard depth(this);
    std::optional<Value> result;
    for (const Rule* r : node->functions) {
      EvalDefinition(r, &args, [&](const Value& v) {
        if (!result) {
          result = v;
        } else if (*result != v) {
          WithModule m(this, r);
          FailAtLine(r->line, "eval_conflict_error",
                     "functions must not produce multiple outputs for same inputs");
        }
        return true;
      });
    }
    if (!result && node->default_function) {
      const Rule* r = node->default_function;
      WithModule m(this, r);
      Frame fr(r->num_slots);
      EvalTerm(r->value ? *r->value : TrueTerm(), fr, [&](const Value& v) {
        result = v;
        return false;
      });
    }
    return result;
  }

  // ---- calls ----
  // The host function a call names (nullptr: none). The answer is kept per call site: the same
  // few sites are asked about many times.
  const HostFunction* FindHost(const Term& t) const {
    if (!options_.host_functions) return nullptr;
    HostSlot* slot = nullptr;
    if (t.site >= 0 && static_cast<size_t>(t.site) < policy_.num_sites()) {
      if (host_cache_.empty()) host_cache_.resize(policy_.num_sites());
      slot = &host_cache_[static_cast<size_t>(t.site)];
      if (slot->known) return slot->fn;
    }
    const HostFunction* found = nullptr;
    for (const auto& h : *options_.host_functions) {
      if (FnNameIs(t, h.name)) {
        found = &h;
        break;
      }
    }
    if (slot) *slot = HostSlot{true, found};
    return found;
  }

  // t.FnName() == name, without building the dotted name.
  static bool FnNameIs(const Term& t, std::string_view name) {
    size_t pos = 0;
    for (size_t i = 0; i < t.fn_path.size(); ++i) {
      if (i) {
        if (pos >= name.size() || name[pos] != '.') return false;
        ++pos;
      }
      const std::string& part = t.fn_path[i];
      if (name.compare(pos, part.size(), part) != 0) return false;
      pos += part.size();
    }
    return pos == name.size();
  }

  bool IsOutputCall(const Term& t) const {
    if (t.target == CallTarget::kHost) {
      const HostFunction* h = FindHost(t);
      return h && static_cast<int>(t.elems.size()) == h->arity + 1;
    }
    return t.has_output;
  }

  bool EvalCall(const Term& t, Frame& f, ValueCont k) {
    if ((t.target == CallTarget::kHost || t.target == CallTarget::kUnresolved) && !FindHost(t)) {
      Fail(&t, "rego_type_error", fmt::format("undefined function {}", t.FnName()));
    }
    size_t n = t.elems.size();
    if (IsOutputCall(t)) --n;
    ArgVector acc;
    return EvalList<ArgVector>(t.elems, 0, n, acc, f, [&](ArgVector& args) -> bool {
      switch (t.target) {
        case CallTarget::kBuiltin: {
          std::optional<Value> r;
          bctx_.budget =
              options_.limits.max_steps > steps_ ? options_.limits.max_steps - steps_ : 0;
          try {
            r = t.builtin->fn(bctx_, BuiltinArgs(args.data(), args.size()));
          } catch (const BuiltinError& e) {
            if (options_.strict_builtin_errors) Fail(&t, e.code, e.message);
            return true;
          } catch (const BudgetExceeded&) {
            StepsExceeded();
          }
          if (!r) return true;
          ChargeResult(*r);
          return k(*r);
        }
        case CallTarget::kFunction: {
          auto r = EvalFunction(t.function, Args{args.data(), args.size()});
          if (!r) return true;
          return k(*r);
        }
        case CallTarget::kHost:
        case CallTarget::kUnresolved: {
          const HostFunction* h = FindHost(t);
          if (!h) {
            Fail(&t, "rego_type_error", fmt::format("undefined function {}", t.FnName()));
          }
          if (static_cast<int>(args.size()) != h->arity) {
            Fail(&t, "rego_type_error",
                 fmt::format("{}: arity mismatch: {} arguments given, function takes {}",
                             t.FnName(), args.size(), h->arity));
          }
          // One evaluation sees one answer per host call (reference values do not change
          // while a policy runs), so repeated calls are answered from the evaluation's memo.
          for (const auto& [fn, memo_args, result] : host_memo_) {
            if (fn == h &&
                std::equal(memo_args.begin(), memo_args.end(), args.begin(), args.end())) {
              Value answer = result;  // the memo may grow while `k` runs
              return k(answer);
            }
          }
          std::vector<core::json::value> jargs;
          jargs.reserve(args.size());
          for (const auto& a : args) jargs.push_back(a.ToJson());
          absl::StatusOr<core::json::value> r = h->fn(jargs);
          if (!r.ok()) throw HostError{r.status()};
          Value answer = Value::FromJson(*r);
          host_memo_.emplace_back(h, ValueVector(args.begin(), args.end()), answer);
          return k(answer);
        }
      }
      return true;
    });
  }

  // ---- unification ----
  bool Unify(const Term& a, const Term& b, Frame& f, Cont k) {
    bool a_free = a.kind == TermKind::kVar && a.slot >= 0 && !f.bound[a.slot];
    bool b_free = b.kind == TermKind::kVar && b.slot >= 0 && !f.bound[b.slot];
    if (a_free && b_free) Unsafe(a);
    if (a_free) return EvalTerm(b, f, [&](const Value& v) { return Bind(f, a.slot, v, k); });
    if (b_free) return EvalTerm(a, f, [&](const Value& v) { return Bind(f, b.slot, v, k); });
    if (a.kind == TermKind::kArray && b.kind == TermKind::kArray) {
      if (a.elems.size() != b.elems.size()) return true;
      std::vector<std::pair<const Term*, const Term*>> pairs;
      for (size_t i = 0; i < a.elems.size(); ++i)
        pairs.emplace_back(a.elems[i].get(), b.elems[i].get());
      std::vector<char> done(pairs.size(), 0);
      return UnifyTermPairs(pairs, done, pairs.size(), f, k);
    }
    if (HasUnboundPattern(a, f)) {
      if (HasUnboundPattern(b, f) && a.kind == TermKind::kObject && b.kind == TermKind::kObject) {
        return UnifyObjects(a, b, f, k);
      }
      return EvalTerm(b, f, [&](const Value& v) { return UnifyValue(a, v, f, k); });
    }
    return EvalTerm(a, f, [&](const Value& v) { return UnifyValue(b, v, f, k); });
  }

  // Two object patterns: match values by their (ground) keys.
  bool UnifyObjects(const Term& a, const Term& b, Frame& f, Cont k) {
    if (a.elems.size() != b.elems.size()) return true;
    std::vector<std::pair<Value, const Term*>> ka, kb;
    for (size_t i = 0; i + 1 < a.elems.size(); i += 2) {
      std::optional<Value> key;
      EvalTerm(*a.elems[i], f, [&](const Value& v) {
        key = v;
        return false;
      });
      if (!key) return true;
      ka.emplace_back(*key, a.elems[i + 1].get());
    }
    for (size_t i = 0; i + 1 < b.elems.size(); i += 2) {
      std::optional<Value> key;
      EvalTerm(*b.elems[i], f, [&](const Value& v) {
        key = v;
        return false;
      });
      if (!key) return true;
      kb.emplace_back(*key, b.elems[i + 1].get());
    }
    std::vector<std::pair<const Term*, const Term*>> pairs;
    for (const auto& entry : ka) {
      auto it =
          std::find_if(kb.begin(), kb.end(), [&](const auto& p) { return p.first == entry.first; });
      if (it == kb.end()) return true;
      pairs.emplace_back(entry.second, it->second);
    }
    std::vector<char> done(pairs.size(), 0);
    return UnifyTermPairs(pairs, done, pairs.size(), f, k);
  }

  bool IsFreeVar(const Term& t, const Frame& f) const {
    return t.kind == TermKind::kVar && t.slot >= 0 && !f.bound[t.slot];
  }

  // Unifies pairs of terms, each time picking a pair that does not have an unbound variable on
  // both sides, so earlier pairs can bind what later ones need.
  bool UnifyTermPairs(const std::vector<std::pair<const Term*, const Term*>>& pairs,
                      std::vector<char>& done, size_t remaining, Frame& f, Cont k) {
    if (remaining == 0) return k();
    size_t pick = pairs.size();
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (done[i]) continue;
      if (pick == pairs.size()) pick = i;
      if (!(IsFreeVar(*pairs[i].first, f) && IsFreeVar(*pairs[i].second, f))) {
        pick = i;
        break;
      }
    }
    done[pick] = 1;
    bool r = Unify(*pairs[pick].first, *pairs[pick].second, f,
                   [&]() { return UnifyTermPairs(pairs, done, remaining - 1, f, k); });
    done[pick] = 0;
    return r;
  }

  bool UnifyValue(const Term& t, const Value& v, Frame& f, Cont k) {
    switch (t.kind) {
      case TermKind::kScalar:
        return t.value == v ? k() : true;
      case TermKind::kVar:
        if (t.slot < 0) {
          return EvalTerm(t, f, [&](const Value& tv) { return tv == v ? k() : true; });
        }
        if (f.bound[t.slot]) return f.vals[t.slot] == v ? k() : true;
        return Bind(f, t.slot, v, k);
      case TermKind::kArray:
        if (!v.IsArray() || v.AsArray().size() != t.elems.size()) return true;
        return UnifyValueList(t, v.AsArray(), 0, f, k);
      case TermKind::kObject:
        if (!HasUnboundPattern(t, f)) break;
        if (!v.IsObject() || v.AsObject().size() != t.elems.size() / 2) return true;
        return UnifyObjectValue(t, v, 0, f, k);
      default:
        break;
    }
    return EvalTerm(t, f, [&](const Value& tv) { return tv == v ? k() : true; });
  }

  bool UnifyValueList(const Term& t, const ValueVector& vals, size_t i, Frame& f, Cont k) {
    if (i == vals.size()) return k();
    return UnifyValue(*t.elems[i], vals[i], f,
                      [&]() { return UnifyValueList(t, vals, i + 1, f, k); });
  }

  bool UnifyObjectValue(const Term& t, const Value& v, size_t i, Frame& f, Cont k) {
    if (i >= t.elems.size()) return k();
    return EvalTerm(*t.elems[i], f, [&](const Value& key) {
      const Value* member = v.Find(key);
      if (!member) return true;
      return UnifyValue(*t.elems[i + 1], *member, f,
                        [&]() { return UnifyObjectValue(t, v, i + 2, f, k); });
    });
  }

  struct CachedRule {
    bool done = false;
    std::optional<Value> value;  // nullopt: undefined
  };
  // What `with` modifiers replace.
  struct World {
    std::optional<Value> input;
    const core::json::value* json_input = nullptr;  // used while `input` is unset
    std::vector<std::pair<std::vector<std::string>, Value>> data_overrides;
    std::vector<CachedRule> cache;  // materialized rules by RuleNode::id, sized on first use
  };

  const CompiledPolicy& policy_;
  World world_;
  const core::json::value* json_data_;  // until converted into data_
  Value data_;
  const EvalOptions& options_;
  BuiltinContext bctx_;
  uint64_t steps_ = 0;
  uint32_t depth_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  const char* stack_base_ = nullptr;
  const std::string* module_ = nullptr;
  std::vector<const RuleNode*> in_progress_;
  std::vector<std::tuple<const HostFunction*, ValueVector, Value>> host_memo_;
  struct HostSlot {
    bool known = false;
    const HostFunction* fn = nullptr;
  };
  mutable std::vector<HostSlot> host_cache_;  // by Term::site, sized on first use
  mutable std::vector<WalkSlot> walk_cache_;  // by Term::site, sized on first use
  std::unordered_map<const core::json::value*, Value>
      json_values_;  // references stay valid on insert
};

}  // namespace

namespace {

absl::StatusOr<std::vector<Bindings>> Run(const CompiledPolicy& policy, const CompiledQuery& query,
                                          const Value* input, const core::json::value* json_input,
                                          const Value* data, const core::json::value* json_data,
                                          const EvalOptions& options) {
  try {
    Evaluator ev(policy, input, json_input, data, json_data, options);
    return ev.Run(query);
  } catch (const EvalError& e) {
    return WithErrorCode(absl::Status(e.status, e.message), e.code);
  } catch (const HostError& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("policy: evaluation ran out of memory");
  } catch (const std::exception& e) {
    // A library below the evaluator (Boost.Multiprecision, RE2's helpers) threw; report it
    // rather than letting it cross the module boundary.
    return absl::InternalError(fmt::format("policy: evaluation failed: {}", e.what()));
  }
}

}  // namespace

absl::StatusOr<std::vector<Bindings>> RunCompiledQuery(const CompiledPolicy& policy,
                                                       const CompiledQuery& query,
                                                       const Value* input, const Value& data,
                                                       const EvalOptions& options) {
  return Run(policy, query, input, nullptr, &data, nullptr, options);
}

absl::StatusOr<std::vector<Bindings>> RunCompiledQueryJson(const CompiledPolicy& policy,
                                                           const CompiledQuery& query,
                                                           const core::json::value* input,
                                                           const core::json::value& data,
                                                           const EvalOptions& options) {
  return Run(policy, query, nullptr, input, nullptr, &data, options);
}

}  // namespace ccburst::policy
