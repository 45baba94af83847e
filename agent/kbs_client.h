// Client side of the KBS protocol 0.4.0, as the guest components run it: /auth -> challenge,
// evidence bound to SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) -> /attest -> EAR
// token, then resources fetched with the session cookie (or a bearer token) and unwrapped from
// their JWE with the TEE key. Used by the `ccburst` CLI, the agent and the load generator.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "agent/attester.h"
#include "core/json.h"
#include "core/status.h"
#include "crypto/key.h"
#include "net/http_client.h"

namespace ccburst::agent {

// Binding digest the KBS recomputes (SHA-384, SHA-512 for `se`).
std::string BindingDigest(std::string_view tee, std::string_view nonce,
                          const core::json::object& tee_pubkey,
                          std::string_view additional_evidence = "");

class KbsClient {
 public:
  // `tee_key_alg`: ECDH-ES+A256KW (with a P-256 or P-521 key), RSA-OAEP-256 or RSA1_5.
  KbsClient(std::unique_ptr<net::HttpClient> http, std::unique_ptr<Attester> attester,
            crypto::PrivateKey tee_key, std::string tee_key_alg);

  // Runs /auth and /attest; returns the EAR token. A refusal is PermissionDenied carrying the
  // server's status, error type and detail; transport failures are Unavailable.
  absl::StatusOr<std::string> Attest(std::optional<std::string> init_data_toml = std::nullopt);

  // GET /kbs/v0/resource/<path> and decrypts it. Uses `bearer_token` when set, otherwise the
  // session cookie, attesting first when there is no attested session.
  absl::StatusOr<std::string> GetResource(std::string_view path);

  void set_bearer_token(std::optional<std::string> t) { bearer_token_ = std::move(t); }
  // Sends /attest through `other` (another KBS replica; not owned, outlives this client) with the
  // session cookie from /auth; /auth and resources stay on this client's own connection. Null:
  // everything on one connection (the default).
  void set_attest_http(net::HttpClient* other) { attest_http_ = other; }
  const std::optional<std::string>& token() const { return token_; }
  net::HttpClient& http() { return *http_; }

 private:
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<Attester> attester_;
  crypto::PrivateKey tee_key_;
  std::string tee_key_alg_;
  // The tee-pubkey JWK (or why the key cannot receive secrets), derived once: it is sent and
  // hashed on every attestation.
  absl::StatusOr<core::json::object> tee_pubkey_;
  std::optional<std::string> token_;
  std::optional<std::string> bearer_token_;
  net::HttpClient* attest_http_ = nullptr;
};

// Turns a non-2xx KBS response into a status: "kbs: HTTP 401 PolicyDeny: <detail>".
absl::Status KbsError(int status, std::string_view body);

}  // namespace ccburst::agent
