#include "apps/policy_command.h"

#include <iostream>
#include <optional>

#include "attestation/default_policies.h"
#include "core/file.h"
#include "kbs/policy_presets.h"
#include "policy/eval_command.h"
#include "policy/rego.h"

namespace ccburst::apps {
namespace {

struct EvalFlags {
  std::vector<std::string> policy_files;
  std::string input_file, data_file, query;
  std::string check_kind = "resource", check_file;
};

// `ccburst policy check`: the checks the KBS runs when the policy is set (OPA's compile-time
// checks and the KBS's contract for the kind), without a KBS. 0 = accepted, 1 = refused (the
// error on stderr names the check and file:line:col), 2 = unreadable file.
int PolicyCheckMain(const std::string& kind, const std::string& file) {
  auto text = core::ReadFile(file);
  if (!text.ok()) {
    std::cerr << core::Message(text.status()) << "\n";
    return 2;
  }
  auto compiled = policy::Compile({policy::Module{file, *text}});
  absl::Status s = compiled.status();
  if (s.ok()) {
    s = policy::CheckContract(**compiled, kind == "attestation"
                                              ? attestation::AttestationPolicyContract()
                                              : kbs::ResourcePolicyContract());
  }
  if (!s.ok()) {
    std::cerr << kind << " policy: " << core::Message(s) << "\n";
    return 1;
  }
  std::cout << kind << " policy " << file << ": ok\n";
  return 0;
}

}  // namespace

std::vector<Subcommand> PolicyCommands() {
  auto f = std::make_shared<EvalFlags>();
  auto eval = std::make_shared<CLI::App*>(nullptr);
  return {{"policy", "Rego tools",
           [f, eval](CLI::App* policy) {
             policy->require_subcommand(1);
             *eval = policy->add_subcommand("eval", "evaluate a Rego query (like `opa eval`)");
             (*eval)->add_option("--policy", f->policy_files, "Rego module (repeatable)");
             (*eval)->add_option("--input", f->input_file, "input JSON file");
             (*eval)->add_option("--data", f->data_file, "data JSON file");
             (*eval)->add_option("query", f->query, "query, e.g. data.policy.allow")->required();
             auto* check = policy->add_subcommand(
                 "check", "run the checks the KBS runs when a policy is set (exit 1: refused)");
             check->add_option("--kind", f->check_kind, "resource (default) or attestation")
                 ->check(CLI::IsMember({"resource", "attestation"}));
             check->add_option("file", f->check_file, "Rego policy file")->required();
           },
           [f, eval] {
             if (!f->check_file.empty()) return PolicyCheckMain(f->check_kind, f->check_file);
             if (!**eval) return 0;
             std::optional<std::string> in, data;
             if (!f->input_file.empty()) in = f->input_file;
             if (!f->data_file.empty()) data = f->data_file;
             return policy::PolicyEvalMain(f->policy_files, in, data, f->query, std::cout,
                                           std::cerr);
           }}};
}

}  // namespace ccburst::apps
