// libFuzzer target: arbitrary bytes as a CC event log (CCEL). The parser must return a status
// for every input and never crash; a parsed log must render to JSON and replay every RTMR.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/eventlog/ccel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto log = ccburst::evidence::eventlog::ParseCcel(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!log.ok()) return 0;
  (void)ccburst::evidence::eventlog::ToJson(*log);
  for (uint32_t index = 1; index <= 4; ++index) {                    // MR indexes of RTMR0..3
    (void)ccburst::evidence::eventlog::Replay(*log, index, 0x000C);  // SHA-384
  }
  return 0;
}
