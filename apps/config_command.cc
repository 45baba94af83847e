#include "apps/config_command.h"

#include <iostream>

#include "agent/admin_client.h"
#include "apps/cli_util.h"
#include "apps/verify_nvidia.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "kbs/policy_presets.h"

namespace ccburst::apps {
namespace {

struct ConfigFlags {
  std::string admin_token_file;
  std::string res_path, resource_file, policy_file;
  bool allow_all = false, deny_all = false, affirming = false, gpus_affirming = false,
       default_policy = false;
  std::string policy_id = "default_cpu";
  std::string rv_name, rv_value, rv_id;
  bool rv_json = false;
  std::vector<std::string> rims;
  std::string rim_root, rim_at;
  CLI::App* set_rim = nullptr;
  CLI::App *set_res = nullptr, *del_res = nullptr, *set_rp = nullptr, *get_rp = nullptr,
           *set_ap = nullptr, *get_ap = nullptr, *set_rv = nullptr, *get_rv = nullptr;
};

void SetUpConfig(CLI::App* config, ConfigFlags* f) {
  config->require_subcommand(1);
  config->add_option("--admin-token-file", f->admin_token_file, "file holding an admin JWT");
  f->set_res = config->add_subcommand("set-resource", "store a secret");
  f->set_res->add_option("--path", f->res_path, "repository/type/tag")->required();
  f->set_res->add_option("--resource-file", f->resource_file, "file with the secret bytes")
      ->required();
  f->del_res = config->add_subcommand("delete-resource", "delete a secret");
  f->del_res->add_option("--path", f->res_path, "repository/type/tag")->required();
  f->set_rp = config->add_subcommand("set-resource-policy", "replace the resource policy");
  auto* pf = f->set_rp->add_option("--policy-file", f->policy_file, "Rego policy file");
  auto* aa = f->set_rp->add_flag("--allow-all", f->allow_all, "release to any attested TEE");
  auto* da = f->set_rp->add_flag("--deny-all", f->deny_all, "release nothing");
  auto* af =
      f->set_rp->add_flag("--affirming", f->affirming, "release when every submod is affirming");
  f->set_rp->add_flag("--gpus-affirming", f->gpus_affirming,
                      "release when the CPU and every GPU (at least one) are affirming");
  auto* df = f->set_rp->add_flag("--default", f->default_policy, "the KBS default policy");
  pf->excludes(aa, da, af, df);
  aa->excludes(da, af, df);
  da->excludes(af, df);
  af->excludes(df);
  f->get_rp = config->add_subcommand("get-resource-policy", "list resource policy ids");
  f->set_ap = config->add_subcommand("set-attestation-policy", "set an attestation policy");
  f->set_ap->add_option("--id", f->policy_id, "policy id, <name>_<class> (e.g. default_cpu)");
  f->set_ap->add_option("--policy-file", f->policy_file, "Rego policy file")->required();
  f->set_ap->add_option("--type", "policy type (rego)")->check(CLI::IsMember({"rego"}));
  f->get_ap = config->add_subcommand("get-attestation-policies", "list attestation policies");
  f->set_rv = config->add_subcommand("set-sample-reference-value",
                                     "register a reference value for the sample TEE");
  f->set_rv->add_option("name", f->rv_name, "reference value id, e.g. svn")->required();
  f->set_rv->add_option("value", f->rv_value, "value (a string unless --json)")->required();
  f->set_rv->add_flag("--json", f->rv_json, "parse VALUE as JSON (a number, array, ...)");
  f->set_rim = config->add_subcommand(
      "set-rim-reference-values",
      "verify NVIDIA RIMs locally and register their golden measurements as nvidia_measurements");
  f->set_rim->add_option("--rim", f->rims, "a signed RIM file (driver or VBIOS); repeatable")
      ->required();
  f->set_rim
      ->add_option("--rim-root", f->rim_root,
                   "the RIM trust anchor (PEM): NVIDIA's RIM signing root or a test RIM CA")
      ->required();
  f->set_rim->add_option("--at", f->rim_at, "verification time, RFC 3339 (default: now)");
  f->get_rv = config->add_subcommand("get-reference-value", "print a reference value");
  f->get_rv->add_option("--id", f->rv_id, "reference value id")->required();
}

int RunConfig(const GlobalOptions& g, const ConfigFlags& f) {
  std::string token;
  if (!f.admin_token_file.empty()) {
    auto t = core::ReadFile(f.admin_token_file);
    if (!t.ok()) return Fail(t.status());
    token = Trim(*t);
  }
  auto http = Http(g);
  if (!http.ok()) return Fail(http.status());
  agent::AdminClient admin(std::move(*http), token);
  absl::Status s;
  if (*f.set_res) {
    auto bytes = core::ReadFile(f.resource_file);
    if (!bytes.ok()) return Fail(bytes.status());
    s = admin.SetResource(f.res_path, *bytes);
  } else if (*f.del_res) {
    s = admin.DeleteResource(f.res_path);
  } else if (*f.set_rp) {
    std::string rego;
    if (f.allow_all) {
      rego = kbs::kAllowAllResourcePolicy;
    } else if (f.deny_all) {
      rego = kbs::kDenyAllResourcePolicy;
    } else if (f.affirming) {
      rego = kbs::kAffirmingResourcePolicy;
    } else if (f.gpus_affirming) {
      rego = kbs::kCpuAndGpusAffirmingResourcePolicy;
    } else if (f.default_policy) {
      rego = kbs::kDefaultResourcePolicy;
    } else if (!f.policy_file.empty()) {
      auto text = core::ReadFile(f.policy_file);
      if (!text.ok()) return Fail(text.status());
      rego = *text;
    } else {
      return Fail(absl::InvalidArgumentError(
          "set-resource-policy needs --policy-file, --allow-all, --deny-all, --affirming, "
          "--gpus-affirming or --default"));
    }
    s = admin.SetResourcePolicy(rego);
  } else if (*f.get_rp) {
    auto r = admin.ListResourcePolicies();
    if (!r.ok()) return Fail(r.status());
    std::cout << *r << "\n";
  } else if (*f.set_ap) {
    auto text = core::ReadFile(f.policy_file);
    if (!text.ok()) return Fail(text.status());
    s = admin.SetAttestationPolicy(f.policy_id, *text);
  } else if (*f.get_ap) {
    auto r = admin.ListAttestationPolicies();
    if (!r.ok()) return Fail(r.status());
    std::cout << *r << "\n";
  } else if (*f.set_rv) {
    core::json::value v = core::json::string(f.rv_value);
    if (f.rv_json) {
      auto parsed = core::ParseJson(f.rv_value);
      if (!parsed.ok()) return Fail(parsed.status());
      v = *parsed;
    }
    s = admin.SetSampleReferenceValue(f.rv_name, v);
  } else if (*f.set_rim) {
    core::TimePoint at = core::SystemClock::Get().Now();
    if (!f.rim_at.empty()) {
      auto parsed = core::ParseRfc3339(f.rim_at);
      if (!parsed.ok()) return Fail(parsed.status());
      at = *parsed;
    }
    evidence::nvidia::RimCheck failed = evidence::nvidia::RimCheck::kNone;
    auto golden = VerifyRimFiles(f.rims, f.rim_root, at, &failed);
    if (!golden.ok()) return Fail(golden.status());
    s = admin.SetSampleReferenceValue("nvidia_measurements", golden->measurements);
    if (s.ok()) {
      std::cout << "nvidia_measurements: " << golden->measurements.size()
                << " golden measurement(s) from " << f.rims.size() << " verified RIM(s)\n";
    }
  } else if (*f.get_rv) {
    auto r = admin.GetReferenceValue(f.rv_id);
    if (!r.ok()) return Fail(r.status());
    std::cout << *r << "\n";
  }
  if (!s.ok()) return Fail(s);
  return 0;
}

}  // namespace

std::vector<Subcommand> ConfigCommands(const GlobalOptions* global) {
  auto f = std::make_shared<ConfigFlags>();
  return {{"config", "manage the KBS (admin API)",
           [f](CLI::App* cmd) { SetUpConfig(cmd, f.get()); },
           [global, f] { return RunConfig(*global, *f); }}};
}

}  // namespace ccburst::apps
