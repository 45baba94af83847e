#include "apps/policy_command.h"

#include <iostream>
#include <optional>

#include "policy/eval_command.h"

namespace ccburst::apps {
namespace {

struct EvalFlags {
  std::vector<std::string> policy_files;
  std::string input_file, data_file, query;
};

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
           },
           [f, eval] {
             if (!**eval) return 0;
             std::optional<std::string> in, data;
             if (!f->input_file.empty()) in = f->input_file;
             if (!f->data_file.empty()) data = f->data_file;
             return policy::PolicyEvalMain(f->policy_files, in, data, f->query, std::cout,
                                           std::cerr);
           }}};
}

}  // namespace ccburst::apps
