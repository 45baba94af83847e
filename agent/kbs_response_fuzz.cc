// libFuzzer target: arbitrary bytes as what a KBS answers the agent: an error body (KbsError), an
// attestation token (JwtExpiry) and a resource JWE (JSON, then JweDecrypt with the agent's key).
// Each must give a value or a status, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/kbs_client.h"
#include "core/json.h"
#include "crypto/jwe.h"
#include "crypto/key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ccburst::crypto::PrivateKey key = ccburst::crypto::PrivateKey::GenerateEcP256();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)ccburst::agent::KbsError(size > 0 ? 400 + data[0] % 200 : 500, body);
  (void)ccburst::agent::JwtExpiry(body);
  auto doc = ccburst::core::ParseJson(body);
  if (doc.ok() && doc->is_object()) (void)ccburst::crypto::JweDecrypt(key, doc->get_object());
  return 0;
}
