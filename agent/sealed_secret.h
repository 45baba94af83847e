// Sealed secrets in the reference confidential-data-hub format
// (guest-components confidential-data-hub/docs/SEALED_SECRET.md): the text
// `sealed.<JWS header>.<JWS payload>.<JWS signature>`, each part base64url, whose payload is the
// secret's JSON description:
//   vault:    {"version":"0.1.0","type":"vault","provider":"kbs","name":"kbs:///repo/type/tag",
//              "provider_settings":{},"annotations":{}}
//   envelope: {"version":"0.1.0","type":"envelope","provider":..,"key_id":..,"encrypted_key":..,
//              "encrypted_data":..,"wrap_type":"A256GCM","iv":..,"provider_settings":{},..}
// The reference does not verify the signature yet (the header and signature may be dummies);
// neither does ccburst. A Kubernetes Secret holds the text; the agent unseals it inside the TEE.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::agent {

struct SealedSecret {
  std::string version;
  std::string type;      // "vault" or "envelope"
  std::string provider;  // "kbs" for the secrets ccburst unseals
  std::string name;      // vault: the resource URI
};

// Longest sealed secret accepted (a Kubernetes Secret value is at most 1 MiB).
inline constexpr size_t kMaxSealedSecretBytes = 64 * 1024;

// Parses the text (surrounding whitespace ignored). InvalidArgument naming the failed check:
// "sealed secret: missing `sealed.` prefix", "... want 4 dot-separated parts",
// "... payload is not base64url", "... `name` must be a string", "... unsupported version".
absl::StatusOr<SealedSecret> ParseSealedSecret(std::string_view text);

// A vault sealed secret naming the KBS resource `resource_uri` ("kbs:///repo/type/tag", checked),
// unsigned: header {"alg":"none"} and an empty signature (an unsecured JWS, RFC 7515 A.5).
absl::StatusOr<std::string> SealVaultSecret(std::string_view resource_uri);

}  // namespace ccburst::agent
