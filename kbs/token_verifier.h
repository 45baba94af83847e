// Verification of attestation tokens presented as `Authorization: Bearer <EAR>` (the passport
// model): the signing key must be this KBS's token key or one of the configured trusted JWK
// sets (or, only when insecure_header_jwk is set, the key in the token's own header), the
// signature must verify and the token must be within its lifetime (crypto::CheckJwtTimeClaims).
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::kbs {

class TokenVerifier {
 public:
  TokenVerifier(const core::Clock& clock, std::vector<crypto::PublicKey> trusted_keys,
                bool insecure_header_jwk);

  // Reads a JWKS file ({"keys":[...]}); errors name the file and the bad key.
  static absl::StatusOr<std::vector<crypto::PublicKey>> LoadJwks(const std::string& path);

  // Returns the verified claims. PermissionDenied naming the failed check: "token: malformed
  // ...", "token: signing key is not trusted", "token: signature verification failed",
  // "token: jwt: expired at ...".
  absl::StatusOr<core::json::object> Verify(std::string_view token) const;

 private:
  struct Trusted {
    crypto::PublicKey key;
    core::json::object jwk;
  };
  const core::Clock& clock_;
  std::vector<Trusted> trusted_;
  bool insecure_header_jwk_;
};

// Finds the TEE public key (a JWK with `alg`) the resource must be encrypted to:
// /submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey, then each of
// `extra_paths` (JSON pointers). NotFound names the paths tried. The result points into
// `claims` and is valid as long as `claims` is neither changed nor destroyed.
absl::StatusOr<const core::json::object*> ExtractTeePubkey(
    const core::json::value& claims, const std::vector<std::string>& extra_paths);

}  // namespace ccburst::kbs
