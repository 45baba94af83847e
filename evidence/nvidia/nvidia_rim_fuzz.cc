// libFuzzer target for the NVIDIA RIM parser (rim.h): the XML, SWID structure and payload reading
// that run on an untrusted RIM file (fetched or given offline) before and after its signature
// check. Every input must give a value or a status, never a crash; a parsed RIM must be
// consistent (indices unique, every value 48 bytes of hex).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "evidence/nvidia/rim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccburst::evidence::nvidia;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto rim = ParseRimUnverified(in);
  if (!rim.ok()) return 0;
  std::set<uint32_t> indices;
  for (const RimMeasurement& m : rim->measurements) {
    if (!indices.insert(m.index).second || m.values.empty() ||
        m.values.size() > kMaxRimAlternatives) {
      std::abort();
    }
    for (const auto& v : m.values) {
      if (v.size() != 96) std::abort();
    }
  }
  (void)RimReferenceMeasurements(*rim);
  return 0;
}
