// Resource policies users expect out of the box: the KBS default and the presets behind the
// CLI's --allow-all, --deny-all, --affirming and --gpus-affirming. Header-only so that clients need
// no KBS code (the policy checks are the Rego engine's).
#pragma once

#include <string_view>

#include "policy/rego.h"

namespace ccburst::kbs {

// What every resource policy must be, checked when one is installed (admin API, start-up) and by
// `ccburst policy check --kind resource`: package `policy` with an `allow` rule, calling no
// function besides the builtins and its own, and reading no `data` besides its own rules and the
// request the KBS passes (`plugin`, `resource-path`, `query`).
inline policy::PolicyContract ResourcePolicyContract() {
  policy::PolicyContract c;
  c.package = {"policy"};
  c.required_rules = {"allow"};
  c.data_roots = {"plugin", "resource-path", "query"};
  return c;
}

// Policies users expect out of the box (the CLI's --allow-all, --deny-all, --affirming).
inline constexpr std::string_view kDefaultResourcePolicy = R"(package policy
import rego.v1

# Release resources to any attested TEE except the development-only `sample` TEE.
default allow := false

allow if {
	not input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["sample"]
}
)";

inline constexpr std::string_view kAllowAllResourcePolicy = R"(package policy
import rego.v1

default allow := true
)";

inline constexpr std::string_view kDenyAllResourcePolicy = R"(package policy
import rego.v1

default allow := false
)";

inline constexpr std::string_view kAffirmingResourcePolicy = R"(package policy
import rego.v1

# Release only when every appraised submodule of the token is affirming.
default allow := false

allow if {
	count(input.submods) > 0
	every _, submod in input.submods {
		submod["ear.status"] == "affirming"
	}
}
)";

// "CPU and every GPU affirming": the CPU TEE's submodule and at least one GPU submodule (gpu0,
// gpu1, ... from device evidence), every one of them affirming. For GPU workloads: a pod without
// attested GPUs, or with one GPU that is not affirming, gets nothing.
inline constexpr std::string_view kCpuAndGpusAffirmingResourcePolicy = R"(package policy
import rego.v1

default allow := false

allow if {
	input.submods.cpu0["ear.status"] == "affirming"
	input.submods.gpu0
	every name, submod in input.submods {
		submod["ear.status"] == "affirming"
	}
}
)";

}  // namespace ccburst::kbs
