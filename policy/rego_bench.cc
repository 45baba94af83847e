// Compile and evaluation cost of the KBS resource policy and the attestation appraisal policy.
#include <benchmark/benchmark.h>

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
