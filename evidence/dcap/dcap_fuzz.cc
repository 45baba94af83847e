// libFuzzer target: arbitrary bytes as Intel PCS collateral JSON (TCB Info and QE Identity
// bodies). Splitting out the signed bytes and parsing must never crash; when splitting succeeds
// the signed bytes must be a substring of the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/dcap/collateral.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccburst::evidence::dcap;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto tcb = SplitSignedBody(bytes, "tcbInfo", "tcb info"); tcb.ok()) {
    if (bytes.find(tcb->signed_bytes) == std::string_view::npos) __builtin_trap();
    (void)ParseTcbInfo(tcb->inner);
  }
  if (auto qe = SplitSignedBody(bytes, "enclaveIdentity", "qe identity"); qe.ok()) {
    if (bytes.find(qe->signed_bytes) == std::string_view::npos) __builtin_trap();
    (void)ParseQeIdentity(qe->inner);
  }
  (void)ccburst::crypto::Crl::Parse(bytes, "crl");
  return 0;
}
