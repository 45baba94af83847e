#include "policy/rego.h"

#include <fmt/format.h>

#include "absl/strings/cord.h"
#include "policy/compiler.h"
#include "policy/evaluator.h"
#include "policy/parser.h"

namespace ccburst::policy {

namespace {

size_t HashModules(const std::vector<Module>& modules) {
  size_t h = 0xcbf29ce484222325ull;
  std::hash<std::string> hasher;
  for (const auto& m : modules) {
    h ^= hasher(m.name) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= hasher(m.source) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  }
  return h;
}

bool SameModules(const std::vector<Module>& a, const std::vector<Module>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].source != b[i].source) return false;
  }
  return true;
}

absl::StatusOr<Value> ConstantValue(const Term& t) {
  switch (t.kind) {
    case TermKind::kScalar:
      return t.value;
    case TermKind::kArray:
    case TermKind::kSet: {
      ValueVector elems;
      for (const auto& e : t.elems) {
        CCB_ASSIGN_OR_RETURN(Value v, ConstantValue(*e));
        elems.push_back(std::move(v));
      }
      return t.kind == TermKind::kArray ? Value::Array(std::move(elems))
                                        : Value::Set(std::move(elems));
    }
    case TermKind::kObject: {
      ObjectEntries entries;
      for (size_t i = 0; i + 1 < t.elems.size(); i += 2) {
        CCB_ASSIGN_OR_RETURN(Value k, ConstantValue(*t.elems[i]));
        CCB_ASSIGN_OR_RETURN(Value v, ConstantValue(*t.elems[i + 1]));
        entries.emplace_back(std::move(k), std::move(v));
      }
      return Value::Object(std::move(entries));
    }
    default:
      return absl::InvalidArgumentError(
          fmt::format("term:{}:{}: expected a constant term", t.line, t.col));
  }
}

core::json::object BindingsToJson(const Bindings& b) {
  core::json::object obj;
  for (const auto& [name, value] : b) obj[name] = value.ToJson();
  return obj;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Compile(const std::vector<Module>& modules) {
  std::vector<ParsedModule> parsed;
  parsed.reserve(modules.size());
  for (const auto& m : modules) {
    CCB_ASSIGN_OR_RETURN(ParsedModule pm, ParseModule(m.name, m.source));
    parsed.push_back(std::move(pm));
  }
  CCB_ASSIGN_OR_RETURN(std::shared_ptr<CompiledPolicy> policy, CompileModules(std::move(parsed)));
  return std::shared_ptr<const CompiledPolicy>(std::move(policy));
}

absl::StatusOr<std::shared_ptr<const CompiledPolicy>> PolicyCache::GetOrCompile(
    const std::vector<Module>& modules) {
  size_t h = HashModules(modules);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto range = entries_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      if (SameModules(it->second.modules, modules)) {
        it->second.seq = ++seq_;
        return it->second.policy;
      }
    }
  }
  // Compile outside the lock; a concurrent compile of the same text is harmless.
  CCB_ASSIGN_OR_RETURN(auto policy, Compile(modules));
  std::lock_guard<std::mutex> lock(mu_);
  auto range = entries_.equal_range(h);
  for (auto it = range.first; it != range.second; ++it) {
    if (SameModules(it->second.modules, modules)) return it->second.policy;
  }
  if (entries_.size() >= max_entries_ && !entries_.empty()) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.seq < oldest->second.seq) oldest = it;
    }
    entries_.erase(oldest);
  }
  entries_.emplace(h, Entry{modules, policy, ++seq_});
  return policy;
}

size_t PolicyCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

namespace {

std::optional<Value> ResultOf(const std::vector<Bindings>& results) {
  if (results.empty()) return std::nullopt;
  for (const auto& [name, v] : results[0]) {
    if (name == "$result") return v;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledQuery>> CompiledPolicy::RuleQuery(
    std::string_view path) const {
  {
    std::shared_lock lock(rule_queries_mu_);
    auto it = rule_queries_.find(path);
    if (it != rule_queries_.end()) return it->second;
  }
  CCB_ASSIGN_OR_RETURN(TermPtr ref, ParseTerm("path", path));
  if (ref->kind == TermKind::kVar) {
    if (ref->name != "data" && ref->name != "input") {
      return absl::InvalidArgumentError(
          fmt::format("policy: path `{}` must start with data", path));
    }
  } else if (ref->kind != TermKind::kRef || ref->elems[0]->kind != TermKind::kVar ||
             (ref->elems[0]->name != "data" && ref->elems[0]->name != "input")) {
    return absl::InvalidArgumentError(fmt::format("policy: path `{}` must start with data", path));
  }
  auto body = std::make_shared<Body>();
  Expr e;
  e.kind = ExprKind::kUnify;
  auto var = std::make_shared<Term>();
  var->kind = TermKind::kVar;
  var->name = "$result";
  e.lhs = var;
  e.rhs = ref;
  body->exprs.push_back(std::move(e));
  CCB_ASSIGN_OR_RETURN(CompiledQuery q, CompileQueryBody(std::move(body)));
  auto compiled = std::make_shared<const CompiledQuery>(std::move(q));
  std::unique_lock lock(rule_queries_mu_);
  if (rule_queries_.size() < kMaxRuleQueries) rule_queries_.emplace(std::string(path), compiled);
  return compiled;
}

absl::StatusOr<std::optional<Value>> EvalRuleValue(const CompiledPolicy& policy,
                                                   std::string_view path, const Value* input,
                                                   const Value& data, const EvalOptions& options) {
  CCB_ASSIGN_OR_RETURN(auto q, policy.RuleQuery(path));
  CCB_ASSIGN_OR_RETURN(auto results, RunCompiledQuery(policy, *q, input, data, options));
  return ResultOf(results);
}

absl::StatusOr<std::optional<core::json::value>> EvalRule(const CompiledPolicy& policy,
                                                          std::string_view path,
                                                          const core::json::value* input,
                                                          const core::json::value& data,
                                                          const EvalOptions& options) {
  CCB_ASSIGN_OR_RETURN(auto q, policy.RuleQuery(path));
  CCB_ASSIGN_OR_RETURN(auto results, RunCompiledQueryJson(policy, *q, input, data, options));
  std::optional<Value> result = ResultOf(results);
  if (!result) return std::optional<core::json::value>();
  return std::optional<core::json::value>(result->ToJson());
}

absl::StatusOr<std::vector<Bindings>> EvalQueryValues(const CompiledPolicy& policy,
                                                      std::string_view query, const Value* input,
                                                      const Value& data,
                                                      const EvalOptions& options) {
  CCB_ASSIGN_OR_RETURN(CompiledQuery q, policy.CompileQuery(query));
  return RunCompiledQuery(policy, q, input, data, options);
}

absl::StatusOr<core::json::array> EvalQuery(const CompiledPolicy& policy, std::string_view query,
                                            const core::json::value* input,
                                            const core::json::value& data,
                                            const EvalOptions& options) {
  CCB_ASSIGN_OR_RETURN(CompiledQuery q, policy.CompileQuery(query));
  CCB_ASSIGN_OR_RETURN(auto results, RunCompiledQueryJson(policy, q, input, data, options));
  core::json::array out;
  for (const auto& b : results) out.push_back(BindingsToJson(b));
  return out;
}

absl::StatusOr<Value> ParseInputTerm(std::string_view text) {
  CCB_ASSIGN_OR_RETURN(TermPtr t, ParseTerm("term", text));
  return ConstantValue(*t);
}

absl::Status WithErrorCode(absl::Status status, std::string_view opa_code) {
  if (status.ok() || opa_code.empty()) return status;
  status.SetPayload(kErrorCodePayloadUrl, absl::Cord(std::string(opa_code)));
  return status;
}

std::string ErrorCode(const absl::Status& status) {
  auto code = status.GetPayload(kErrorCodePayloadUrl);
  return code ? std::string(*code) : std::string();
}

}  // namespace ccburst::policy
