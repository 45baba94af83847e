// The KBS resource policy: Rego deciding whether the holder of an attestation token may read a
// resource. `data.policy.allow` must be exactly `true`; `input` is the token's claims and `data`
// holds the request ({"plugin","resource-path","query"}). Stored in the key-value store
// (namespace "kbs", key "resource-policy", as Trustee) and compiled once per change.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/json.h"
#include "core/status.h"
#include "kbs/policy_presets.h"
#include "kbs/storage.h"
#include "policy/rego.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

class ResourcePolicy {
 public:
  explicit ResourcePolicy(store::KeyValueStore& kv) : kv_(kv) {}

  // Loads the stored policy; when none is stored installs `initial` (or the default policy).
  absl::Status Init(std::optional<std::string> initial);

  // Compiles and stores a new policy; a policy that does not compile or does not meet
  // ResourcePolicyContract() is refused (InvalidArgument "resource policy: file:line:col: <OPA
  // error code>: ...") and the old one stays. Storing and swapping the served copy are one step:
  // after concurrent Sets, the stored policy is the served one.
  absl::Status Set(std::string rego);

  // Evaluates `data.policy.allow`. true only when it is exactly `true`; an evaluation error is
  // returned as an error (callers deny).
  absl::StatusOr<bool> Allowed(const core::json::value& claims,
                               const core::json::value& data) const;

  std::string Text() const;

 private:
  absl::Status Install(std::string rego, bool persist);

  store::KeyValueStore& kv_;
  // Held across storing a new policy and swapping the in-memory copy, so that the stored and the
  // served policy are always the same one (two concurrent Sets cannot interleave). Readers never
  // take it.
  std::mutex install_mu_;
  mutable std::mutex mu_;
  // Mutable: with a shared store (replicas), Allowed() picks up a policy another replica stored.
  mutable std::string text_;
  mutable std::shared_ptr<const policy::CompiledPolicy> compiled_;
};

}  // namespace ccburst::kbs
