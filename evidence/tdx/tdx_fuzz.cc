// libFuzzer target: arbitrary bytes as a TDX quote. Parsing, PCK extension reading and claim
// generation must return a status for every input and never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/dcap/verify.h"
#include "evidence/tdx/claims.h"
#include "evidence/tdx/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccburst::evidence::tdx;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto quote = ParseQuote(bytes);
  if (!quote.ok()) return 0;
  if (quote->signed_data.size() != (quote->header.version == 5 ? 702u : 632u) &&
      quote->signed_data.size() != 638u) {
    __builtin_trap();
  }
  auto pck = ccburst::evidence::dcap::ReadPckInfo(quote->pck_chain_pem);
  if (pck.ok()) (void)ParsedQuoteClaims(*quote, pck->ext, nullptr);
  return 0;
}
