// libFuzzer target for the NVIDIA report parser and the device-evidence list: the first input
// byte selects the raw SPDM report parser (with the claim rendering) or the JSON device-evidence
// parser; the rest is the input. Every input must give a value or a status, never a crash; a
// parsed report must be consistent with its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "evidence/nvidia/report.h"
#include "evidence/nvidia/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccburst::evidence::nvidia;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto r = ParseReport(in);
    if (r.ok()) {
      if (r->bytes != in || r->signature.size() != kSignatureSize ||
          r->signature_offset + kSignatureSize + r->trailing_bytes != in.size() ||
          r->request_nonce.size() != kNonceSize || r->Opaque(kOpaqueFwid) == nullptr) {
        std::abort();
      }
      (void)ConfigClaims(*r);
      (void)MeasurementClaims(*r);
    }
  } else {
    auto v = ccburst::core::ParseJson(in);
    if (v.ok()) {
      auto list = ParseDeviceEvidenceList(*v, 8);
      if (list.ok() && (list->empty() || list->size() > 8)) std::abort();
    }
  }
  return 0;
}
