// libFuzzer target: arbitrary bytes as a sealed secret (a Kubernetes Secret value the agent
// unseals) and as a resource URI. Both must return a status for every input; a vault secret that
// parses names a URI whose path, once accepted, passes the path check again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/kbs_client.h"
#include "agent/sealed_secret.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto secret = ccburst::agent::ParseSealedSecret(text);
  if (secret.ok() && secret->type == "vault") {
    auto path = ccburst::agent::ParseResourceUri(secret->name);
    if (path.ok() && !ccburst::agent::ValidateResourcePath(*path).ok()) __builtin_trap();
  }
  (void)ccburst::agent::ParseResourceUri(text);
  return 0;
}
