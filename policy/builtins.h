// Registry of Rego builtin functions. A builtin takes evaluated argument values and returns a
// value, or nullopt for "undefined". Failures are reported by throwing BuiltinError (internal
// to the policy module); the evaluator turns them into a query error in strict mode and into
// "undefined" otherwise, as OPA does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "policy/value.h"

namespace ccburst::policy {

inline constexpr char kTypeError[] = "eval_type_error";
inline constexpr char kBuiltinError[] = "eval_builtin_error";

struct BuiltinError {
  std::string code;
  std::string message;
};

// Thrown by a builtin whose result would exceed the evaluation's remaining step budget; the
// evaluator reports it as a limit violation (in strict and non-strict mode alike).
struct BudgetExceeded {};

// Per-evaluation state builtins may read.
struct BuiltinContext {
  // The evaluation's time, fixed for one evaluation as OPA's time.now_ns is; read on first use
  // so that policies which never ask for the time do not pay for the clock.
  std::optional<int64_t> now_ns;
  int64_t NowNs() {
    if (!now_ns) {
      now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    }
    return *now_ns;
  }
  // Remaining evaluation steps. A builtin about to build a result much larger than its inputs
  // calls Charge first; one step buys one element or 64 bytes of result.
  uint64_t budget = UINT64_MAX;
  void Charge(uint64_t units) const {
    if (units > budget) throw BudgetExceeded{};
  }
};

// Integers larger than this are rejected by arithmetic builtins, so a policy cannot grow a
// number without bound (each squaring doubles its size).
inline constexpr size_t kMaxIntegerBits = 65536;

using BuiltinArgs = std::span<const Value>;
using BuiltinFn = std::optional<Value> (*)(BuiltinContext& ctx, BuiltinArgs args);

struct Builtin {
  std::string_view name;
  int arity;
  BuiltinFn fn;
};

// Looks up a builtin by its dotted name ("object.union_n"); nullptr when unknown.
const Builtin* FindBuiltin(std::string_view name);

// ---- helpers for builtin implementations ----

[[noreturn]] void ThrowTypeError(std::string_view fn, std::string message);
[[noreturn]] void ThrowBuiltinError(std::string_view fn, std::string message);
// "<fn>: operand <n> must be <expected> but got <type>"
[[noreturn]] void ThrowOperandError(std::string_view fn, int operand, std::string_view expected,
                                    const Value& got);

const std::string& ArgString(std::string_view fn, BuiltinArgs args, int i);
const Number& ArgNumber(std::string_view fn, BuiltinArgs args, int i);
const Value& ArgArray(std::string_view fn, BuiltinArgs args, int i);
const Value& ArgObject(std::string_view fn, BuiltinArgs args, int i);
const Value& ArgSet(std::string_view fn, BuiltinArgs args, int i);
bool ArgBool(std::string_view fn, BuiltinArgs args, int i);
// An integer number argument ("operand n must be integer number but got floating-point number").
int64_t ArgInt(std::string_view fn, BuiltinArgs args, int i);

// Registration (one per builtins_*.cc file).
class BuiltinRegistry;
void RegisterCoreBuiltins(BuiltinRegistry& r);
void RegisterStringBuiltins(BuiltinRegistry& r);
void RegisterRegexBuiltins(BuiltinRegistry& r);
void RegisterEncodingBuiltins(BuiltinRegistry& r);
void RegisterTimeBuiltins(BuiltinRegistry& r);

class BuiltinRegistry {
 public:
  void Add(std::string_view name, int arity, BuiltinFn fn);
  const Builtin* Find(std::string_view name) const;

 private:
  std::vector<Builtin> builtins_;
  friend const Builtin* FindBuiltin(std::string_view name);
};

// Formats values the way OPA's sprintf does for the verbs it supports.
std::string FormatSprintf(std::string_view format, const ValueVector& args);

}  // namespace ccburst::policy
