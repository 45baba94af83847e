// Compile and evaluation cost of the KBS resource policy and the attestation appraisal policy.
#include <benchmark/benchmark.h>

#include <map>

#include "core/file.h"
#include "core/json.h"
#include "policy/rego.h"

namespace ccburst::policy {
namespace {

namespace json = core::json;

constexpr char kResourcePolicy[] = R"(package policy
import rego.v1
default allow := false
allow if {
    input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["sample"]
}
)";

constexpr char kAppraisalPolicy[] = R"(package policy
import rego.v1
default executables := 33
default hardware := 97
default configuration := 36
default file_system := 0
default instance_identity := 0
default runtime_opaque := 0
default storage_opaque := 0
default sourced_data := 0
executables := 3 if {
  input.sample.launch_digest in query_reference_value("launch_digest")
}
hardware := 2 if { input.sample.svn in query_reference_value("svn") }
configuration := 2 if { input.sample.debug == false }
trust_claims := {
  "executables": executables, "hardware": hardware, "configuration": configuration,
  "file-system": file_system, "instance-identity": instance_identity,
  "runtime-opaque": runtime_opaque, "storage-opaque": storage_opaque, "sourced-data": sourced_data,
}
extensions := {"a": 1}
)";

void BM_CompileResourcePolicy(benchmark::State& state) {
  for (auto _ : state) {
    auto p = Compile({Module{"resource.rego", kResourcePolicy}});
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_CompileResourcePolicy);

void BM_CompileAppraisalPolicy(benchmark::State& state) {
  for (auto _ : state) {
    auto p = Compile({Module{"appraisal.rego", kAppraisalPolicy}});
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_CompileAppraisalPolicy);

void BM_EvalResourcePolicy(benchmark::State& state) {
  auto p = Compile({Module{"resource.rego", kResourcePolicy}});
  json::value input = json::parse(
      R"({"submods":{"cpu0":{"ear.status":"affirming","ear.veraison.annotated-evidence":{"sample":{"svn":"1","launch_digest":"abcd"}}}}})");
  json::value data = json::object();
  EvalOptions opts;
  for (auto _ : state) {
    auto r = EvalRule(**p, "data.policy.allow", &input, data, opts);
    if (!r.ok() || !*r || **r != json::value(true)) state.SkipWithError("unexpected result");
  }
}
BENCHMARK(BM_EvalResourcePolicy);

// The KBS's default resource policy (kbs/policy_presets.h) over the claims of an EAR token for
// a TDX guest, shaped as the KBS hands them to the policy: what every resource request costs.
constexpr char kDefaultResourcePolicy[] = R"(package policy
import rego.v1

default allow := false

allow if {
	not input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["sample"]
}
)";

// TDX claims as PROTOCOL.md names them (values from a real quote, shortened where repetitive).
constexpr char kTdxClaims[] = R"({
 "quote": {
  "header": {"version": "0400", "att_key_type": "0200", "tee_type": "81000000",
             "vendor_id": "939a7233f79c4ca9940a0db3957f0607", "user_data": "d099bfec0a477aa85a605dceabf2b10800000000"},
  "body": {
   "tcb_svn": "03000500000000000000000000000000",
   "mr_seam": "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1",
   "mrsigner_seam": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "seam_attributes": "0000000000000000", "td_attributes": "0000001000000000", "xfam": "e742060000000000",
   "mr_td": "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
   "mr_config_id": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "mr_owner": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "mr_owner_config": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "rtmr_0": "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288",
   "rtmr_1": "559cfcf42716ed6c40a48b5a9d2b1d4de4a00e1f6d3d3ddb7c5de5b31ff1ea2e3e0f5e5d0ed4c1a2b9f7a3e8d6c4b2a1",
   "rtmr_2": "2eab9c9f6d3c0e5f4a0f0d6b3c1a1e2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a",
   "rtmr_3": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "report_data": "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429"
  }
 },
 "td_attributes": {"debug": false, "key_locker": false, "perfmon": false, "protection_keys": false, "septve_disable": true},
 "tcb_status": "UpToDate", "advisory_ids": ["INTEL-SA-00837"], "collateral_expiration_status": "0",
 "report_data": "fCxx", "init_data": "00"
})";

json::value EarClaims(const json::value& tee_claims, const char* tee) {
  json::object evidence{{tee, tee_claims},
                        {"report_data", "fCxx"},
                        {"init_data", ""},
                        {"runtime_data_claims", json::object{{"nonce", "q6ZPOVfHQHnsIXDUVjs4"}}},
                        {"init_data_claims", json::object()}};
  json::object tv{{"instance-identity", 0}, {"configuration", 2}, {"executables", 3},
                  {"file-system", 0},       {"hardware", 2},      {"runtime-opaque", 0},
                  {"storage-opaque", 0},    {"sourced-data", 0}};
  json::object cpu0{{"ear.status", "affirming"},
                    {"ear.trustworthiness-vector", tv},
                    {"ear.appraisal-policy-id", "default"},
                    {"ear.veraison.annotated-evidence", evidence}};
  return json::object{
      {"eat_profile", "tag:github.com,2024:confidential-containers/Trustee"},
      {"iat", 1764000000},
      {"exp", 1764000300},
      {"iss", "ccburst-kbs"},
      {"ear.verifier-id", json::object{{"developer", "ccburst"}, {"build", "0.1.0"}}},
      {"submods", json::object{{"cpu0", cpu0}}}};
}

// What the KBS does per resource request: the token's claims (JSON) and the request's data.
void BM_EvalDefaultResourcePolicyTdxToken(benchmark::State& state) {
  auto p = Compile({Module{"resource.rego", kDefaultResourcePolicy}});
  json::value input = EarClaims(json::parse(kTdxClaims), "tdx");
  json::value data =
      json::parse(R"({"plugin":"resource","resource-path":["default","key","1"],"query":{}})");
  EvalOptions opts;
  for (auto _ : state) {
    auto r = EvalRule(**p, "data.policy.allow", &input, data, opts);
    if (!r.ok() || !*r || **r != json::value(true)) state.SkipWithError("unexpected result");
  }
}
BENCHMARK(BM_EvalDefaultResourcePolicyTdxToken);

// The attestation policy the KBS ships (attestation/policies/default_cpu.rego) over TDX claims
// whose measurements are all registered as reference values: the appraisal of one TDX guest.
void BM_EvalDefaultCpuPolicyTdx(benchmark::State& state) {
  auto text =
      core::ReadFile(std::string(CCB_SOURCE_DIR) + "/attestation/policies/default_cpu.rego");
  if (!text.ok()) {
    state.SkipWithError("default_cpu.rego not found");
    return;
  }
  auto p = Compile({Module{"default_cpu.rego", *text}});
  if (!p.ok()) {
    state.SkipWithError(std::string(p.status().message()).c_str());
    return;
  }
  json::value tdx = json::parse(kTdxClaims);
  json::object input{{"tdx", tdx},
                     {"report_data", "fCxx"},
                     {"init_data", ""},
                     {"runtime_data_claims", json::object{{"nonce", "q6ZPOVfHQHnsIXDUVjs4"}}},
                     {"init_data_claims", json::object()}};
  const json::object& body = tdx.at("quote").at("body").as_object();
  std::map<std::string, json::value> rvs;
  for (const char* id : {"rtmr_1", "rtmr_2", "mr_td", "xfam"}) {
    rvs[id] = json::array{body.at(id), "00"};
  }
  std::vector<HostFunction> hosts{
      HostFunction{"query_reference_value", 1,
                   [&](const std::vector<json::value>& args) -> absl::StatusOr<json::value> {
                     if (!args[0].is_string()) return json::value(nullptr);
                     auto it = rvs.find(std::string(args[0].as_string()));
                     return it == rvs.end() ? json::value(nullptr) : it->second;
                   }}};
  json::value data = json::object();
  json::value in(input);
  EvalOptions opts;
  opts.host_functions = &hosts;
  for (auto _ : state) {
    auto r = EvalRule(**p, "data.policy.trust_claims", &in, data, opts);
    if (!r.ok() || !*r || (*r)->at("executables") != json::value(3) ||
        (*r)->at("hardware") != json::value(2) || (*r)->at("configuration") != json::value(2)) {
      state.SkipWithError("unexpected trust vector");
      break;
    }
  }
}
BENCHMARK(BM_EvalDefaultCpuPolicyTdx);

void BM_EvalAppraisalPolicy(benchmark::State& state) {
  auto p = Compile({Module{"appraisal.rego", kAppraisalPolicy}});
  json::value input = json::parse(R"({"sample":{"launch_digest":"ef01","svn":2,"debug":false}})");
  json::value data = json::object();
  std::vector<HostFunction> hosts{
      HostFunction{"query_reference_value", 1,
                   [](const std::vector<json::value>& args) -> absl::StatusOr<json::value> {
                     if (args[0].as_string() == "launch_digest")
                       return json::parse(R"(["abcd","ef01"])");
                     return json::parse("[1,2]");
                   }}};
  EvalOptions opts;
  opts.host_functions = &hosts;
  for (auto _ : state) {
    auto r = EvalRule(**p, "data.policy.trust_claims", &input, data, opts);
    if (!r.ok() || !*r) state.SkipWithError("unexpected result");
  }
}
BENCHMARK(BM_EvalAppraisalPolicy);

}  // namespace
}  // namespace ccburst::policy
