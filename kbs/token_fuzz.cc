// libFuzzer target: arbitrary bytes as a bearer token (JWT decoding, header key handling,
// signature verification, claim checks).
#include <cstdint>
#include <string>

#include "core/clock.h"
#include "crypto/key.h"
#include "kbs/token_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto key = ccburst::crypto::PrivateKey::GenerateEcP256();
  static ccburst::kbs::TokenVerifier strict(ccburst::core::SystemClock::Get(), {key.Public()},
                                            false);
  static ccburst::kbs::TokenVerifier insecure(ccburst::core::SystemClock::Get(), {key.Public()},
                                              true);
  std::string token(reinterpret_cast<const char*>(data), size);
  auto a = strict.Verify(token);
  auto b = insecure.Verify(token);
  // Nothing random can carry a valid signature by our key.
  if (a.ok()) __builtin_trap();
  (void)b;
  return 0;
}
