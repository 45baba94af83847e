// libFuzzer target for the Rego parser and compiler: any byte string must either compile or
// be rejected with an error, never crash or hang. Inputs that compile are also evaluated under
// tight limits, so the fuzzer exercises the evaluator's bounds too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/rego.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccburst::policy;
  std::string source(reinterpret_cast<const char*>(data), size);
  auto policy = Compile({Module{"fuzz.rego", source}});
  (void)ParseInputTerm(source);
  if (!policy.ok()) return 0;
  EvalOptions options;
  options.limits.max_steps = 10000;
  options.limits.timeout = std::chrono::milliseconds(100);
  Value input = Value::EmptyObject();
  (void)EvalQueryValues(**policy, "data = x", &input, Value::EmptyObject(), options);
  return 0;
}
