// libFuzzer target for the outside bytes the vTPM attesters parse themselves: the IMDS answers
// (TD quote, VCEK certificate) and the NV index contents as the attester reads them (HCL report
// and its runtime claims, through evidence/azure). Nothing may crash, leak or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/vtpm/imds.h"
#include "evidence/azure/hcl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ccburst::agent::vtpm::ParseTdQuoteResponse(in);
  (void)ccburst::agent::vtpm::ParseCertificationResponse(in);
  auto hcl = ccburst::evidence::azure::ParseHclReport(in);
  if (hcl.ok()) (void)ccburst::evidence::azure::ParseRuntimeData(hcl->var_data);
  return 0;
}
