// libFuzzer target for the untrusted Azure structures: the HCL report (and its variable-data JSON)
// and the TPM structures (TPMS_ATTEST, TPMT_SIGNATURE). The first byte selects the parser. Every
// input must parse or fail with a status, never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/azure/hcl.h"
#include "evidence/azure/tpm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  namespace az = ccburst::evidence::azure;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto h = az::ParseHclReport(in);
      if (h.ok()) (void)az::ParseRuntimeData(h->var_data);
      break;
    }
    case 1:
      (void)az::ParseRuntimeData(in);
      break;
    case 2: {
      auto q = az::ParseQuoteAttest(in);
      if (q.ok()) (void)az::MarshalQuoteAttest(*q);
      break;
    }
    default:
      (void)az::RsaSignatureBytes(in, 256);
      break;
  }
  return 0;
}
