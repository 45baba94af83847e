// Client side of the KBS protocol 0.4.0, as the guest components run it: /auth -> challenge,
// evidence bound to SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) -> /attest -> EAR
// token, then resources fetched with the session cookie (or a bearer token) and unwrapped from
// their JWE with the TEE key. Used by the `ccburst` CLI, the agent and the load generator.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/attester.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "crypto/key.h"
#include "net/http_client.h"

namespace ccburst::agent {

// Binding digest the KBS recomputes (SHA-384, SHA-512 for `se`).
std::string BindingDigest(std::string_view tee, std::string_view nonce,
                          const core::json::object& tee_pubkey,
                          std::string_view additional_evidence = "");

// "repo/type/tag" from a resource URI "kbs:///repo/type/tag" (the host part, as in
// "kbs://kbs.example/repo/type/tag", is ignored as the reference does). InvalidArgument naming the
// URI for another scheme or a path that ValidateResourcePath refuses.
absl::StatusOr<std::string> ParseResourceUri(std::string_view uri);

// A KBS resource path is three non-empty segments of [A-Za-z0-9._-], none of them "." or "..":
// InvalidArgument "resource path `a//b`: empty segment" etc. otherwise.
absl::Status ValidateResourcePath(std::string_view path);

// The `exp` claim (seconds since the epoch) of a JWT, without checking its signature (the agent
// only needs to know when to re-attest); nullopt when the token has no readable `exp`.
std::optional<int64_t> JwtExpiry(std::string_view token);

class KbsClient {
 public:
  // `tee_key_alg`: ECDH-ES+A256KW (with a P-256 or P-521 key), RSA-OAEP-256 or RSA1_5. `clock`
  // (not owned, may be null for the system clock) decides when a cached token has expired.
  KbsClient(std::unique_ptr<net::HttpClient> http, std::unique_ptr<Attester> attester,
            crypto::PrivateKey tee_key, std::string tee_key_alg,
            const core::Clock* clock = nullptr);

  // Runs /auth and /attest; returns the EAR token. `init_data_toml` (else the one set with
  // set_init_data) goes to /attest as {"format":"toml","body":..}. A refusal is PermissionDenied
  // carrying the server's status, error type and detail; transport failures are Unavailable.
  absl::StatusOr<std::string> Attest(std::optional<std::string> init_data_toml = std::nullopt);

  // The cached EAR token while it has not expired (30 s of margin), else a fresh one.
  absl::StatusOr<std::string> Token();

  // GET /kbs/v0/resource/<path> and decrypts it. Uses `bearer_token` when set, otherwise the
  // session cookie, attesting first when there is no attested session or its token has expired,
  // and attesting again once when the KBS answers 401 (a restarted KBS has forgotten the
  // session), as the reference client does. An invalid `path` is InvalidArgument, before any
  // request.
  absl::StatusOr<std::string> GetResource(std::string_view path);

  // Device evidence sent in `additional_evidence`: called on every attestation with the device
  // binding SHA-384(JCS({"nonce","tee-pubkey"})), it returns the map {tee: evidence} ("nvidia":
  // {...}); its serialization is sent and bound into the CPU evidence. Errors abort Attest.
  using DeviceEvidenceFn =
      std::function<absl::StatusOr<core::json::object>(std::string_view device_binding)>;
  void set_device_evidence(DeviceEvidenceFn fn) { device_evidence_ = std::move(fn); }

  void set_bearer_token(std::optional<std::string> t) { bearer_token_ = std::move(t); }
  void set_init_data(std::optional<std::string> toml) { init_data_ = std::move(toml); }
  // Sends /attest through `other` (another KBS replica; not owned, outlives this client) with the
  // session cookie from /auth; /auth and resources stay on this client's own connection. Null:
  // everything on one connection (the default).
  void set_attest_http(net::HttpClient* other) { attest_http_ = other; }
  const std::optional<std::string>& token() const { return token_; }
  const Attester& attester() const { return *attester_; }
  net::HttpClient& http() { return *http_; }
  // Number of /attest round trips that returned a token (tests, metrics).
  int attestations() const { return attestations_; }

 private:
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<Attester> attester_;
  crypto::PrivateKey tee_key_;
  std::string tee_key_alg_;
  // The tee-pubkey JWK (or why the key cannot receive secrets), derived once: it is sent and
  // hashed on every attestation.
  absl::StatusOr<core::json::object> tee_pubkey_;
  const core::Clock* clock_;
  std::optional<std::string> token_;
  std::optional<int64_t> token_exp_;
  std::optional<std::string> bearer_token_;
  std::optional<std::string> init_data_;
  int attestations_ = 0;
  DeviceEvidenceFn device_evidence_;
  net::HttpClient* attest_http_ = nullptr;
};

// Turns a non-2xx KBS response into a status: "kbs: HTTP 401 PolicyDeny: <detail>".
absl::Status KbsError(int status, std::string_view body);

}  // namespace ccburst::agent
