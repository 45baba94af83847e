#include "kbs/resource_policy.h"

#include <fmt/format.h>

namespace ccburst::kbs {
namespace {
constexpr std::string_view kNamespace = kResourcePolicyNamespace;
constexpr std::string_view kKey = "resource-policy";
}  // namespace

absl::Status ResourcePolicy::Init(std::optional<std::string> initial) {
  CCB_ASSIGN_OR_RETURN(std::optional<std::string> stored, kv_.Get(kNamespace, kKey));
  if (stored) return Install(std::move(*stored), false);
  return Install(initial ? std::move(*initial) : std::string(kDefaultResourcePolicy), true);
}

absl::Status ResourcePolicy::Set(std::string rego) { return Install(std::move(rego), true); }

absl::Status ResourcePolicy::Install(std::string rego, bool persist) {
  auto compiled = policy::Compile({policy::Module{"resource-policy.rego", rego}});
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("resource policy: {}", core::Message(compiled.status())));
  }
  CCB_RETURN_IF_ERROR(policy::CheckContract(**compiled, ResourcePolicyContract()),
                      "resource policy");
  std::lock_guard install(install_mu_);
  if (persist) CCB_RETURN_IF_ERROR(kv_.Put(kNamespace, kKey, rego));
  std::lock_guard lock(mu_);
  text_ = std::move(rego);
  compiled_ = std::move(*compiled);
  return absl::OkStatus();
}

absl::StatusOr<bool> ResourcePolicy::Allowed(const core::json::value& claims,
                                             const core::json::value& data) const {
  std::shared_ptr<const policy::CompiledPolicy> compiled;
  if (kv_.Shared()) {
    // Another replica may have installed a new policy: one read per decision, a compile only
    // when the text changed.
    CCB_ASSIGN_OR_RETURN(std::optional<std::string> stored, kv_.Get(kNamespace, kKey),
                         "resource policy");
    if (stored && *stored != Text()) {
      auto fresh = policy::Compile({policy::Module{"resource-policy.rego", *stored}});
      if (fresh.ok()) {
        std::lock_guard lock(mu_);
        text_ = std::move(*stored);
        compiled_ = std::move(*fresh);
      }
    }
  }
  {
    std::lock_guard lock(mu_);
    compiled = compiled_;
  }
  if (!compiled) return absl::FailedPreconditionError("resource policy: not initialised");
  policy::EvalOptions options;
  options.strict_builtin_errors = true;
  auto result = policy::EvalRule(*compiled, "data.policy.allow", &claims, data, options);
  if (!result.ok()) {
    return absl::InternalError(
        fmt::format("resource policy: evaluation failed: {}", core::Message(result.status())));
  }
  return result->has_value() && (*result)->is_bool() && (*result)->get_bool();
}

std::string ResourcePolicy::Text() const {
  std::lock_guard lock(mu_);
  return text_;
}

}  // namespace ccburst::kbs
