// libFuzzer target: arbitrary bytes as the init-data TOML a pod hands the agent. Parsing must
// return a status for every input (toml++ throws; the adapter must catch it) and a parsed
// document's digest must have the size of its algorithm.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/init_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ccburst::agent::ParseInitData(text);
  if (parsed.ok() && parsed->digest.size() != ccburst::crypto::HashSize(parsed->algorithm)) {
    __builtin_trap();
  }
  return 0;
}
