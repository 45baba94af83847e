// libFuzzer target: arbitrary bytes as the sample TEE's primary evidence. The verifier must
// return a status for every input and never crash; accepted evidence must carry the binding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/encoding.h"
#include "core/json.h"
#include "evidence/sample/sample.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto verifier = ccburst::evidence::NewSampleVerifier();
  static const ccburst::evidence::ExpectedBinding binding{std::string(48, '\x5a'),
                                                          std::string(32, '\x01')};
  auto evidence =
      ccburst::core::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!evidence.ok()) return 0;
  auto claims = verifier->Verify(*evidence, binding, ccburst::core::FromUnixSeconds(0));
  if (claims.ok()) {
    const auto& rd = claims->at("report_data").as_string();
    auto decoded = ccburst::core::Base64Decode(std::string_view(rd));
    if (!decoded.ok() || *decoded != binding.report_data_digest) std::abort();
  }
  return 0;
}
