// The attestation service of the KBS: it verifies TEE evidence with the TEE's evidence::Verifier,
// checks that the evidence is bound to the KBS session (runtime data) and to the init-data,
// appraises the resulting claims with an attestation policy (Rego, with reference values) and
// issues an EAR attestation token (ES256 JWT) that the resource policy and the secret release
// rely on. It also verifies its own tokens and manages attestation policies. See PROTOCOL.md
// "Binding evidence to the session", "EAR attestation token" and "Policies".
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/reference_values.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"
#include "evidence/verifier.h"
#include "store/key_value_store.h"

namespace ccburst::attestation {

namespace internal {
class PolicyEvaluator;
}

// KeyValueStore namespace of attestation policies (key: policy id, value: Rego text).
inline constexpr std::string_view kAttestationPolicyNamespace = "attestation-policies";

struct AttestationServiceOptions {
  std::string issuer = "ccburst";            // token `iss`
  std::chrono::seconds token_lifetime{300};  // `exp` - `iat`
  std::string developer = "ccburst";         // `ear.verifier-id`
  std::string build = "0.1.0";
};

// The outcome of one device of an attestation, for metrics (kbs_device_attestations_total).
struct DeviceOutcome {
  std::string arch;    // upper-cased `arch` of the device ("HOPPER"), "" when unknown
  std::string status;  // the device submodule's `ear.status`, or "failed" (refused the attestation)
};

// Thread-safe. `kv`, `rvs` and `clock` must outlive it.
class AttestationService {
 public:
  // `token_key` must be an EC P-256 key; with any other key Attest fails (FailedPrecondition).
  AttestationService(store::KeyValueStore& kv, ReferenceValueStore& rvs,
                     crypto::PrivateKey token_key, const core::Clock& clock,
                     AttestationServiceOptions options = {});
  ~AttestationService();

  // Adds (or replaces) the verifier for `v->tee()`; attestations already running keep the
  // verifier they started with.
  void RegisterVerifier(std::unique_ptr<evidence::Verifier> v);
  // Adds (or replaces) the device verifier for additional evidence `v->tee()` ("nvidia").
  void RegisterDeviceVerifier(std::unique_ptr<evidence::DeviceVerifier> v);
  // Whether a verifier for `tee` is registered.
  bool SupportsTee(std::string_view tee) const;

  struct Request {
    std::string tee;
    boost::json::value primary_evidence;
    std::string additional_evidence;            // the JSON string as received ("" if none)
    boost::json::object runtime_data;           // {"nonce":..., "tee-pubkey":{...}}
    std::optional<std::string> init_data_toml;  // init-data body (format toml) if present
    std::string policy_id = "default";          // base name; the class suffix is added: _cpu
  };

  // Appraises the evidence and returns a signed EAR token:
  //  1. the binding digest SHA-384 (SHA-512 for tee "se") of
  //     JCS({"additional-evidence", "nonce", "tee-pubkey"}) of the request;
  //  2. init-data (if any) parsed, digested with its `algorithm`;
  //  3. the TEE verifier checks the evidence against both digests and yields claims;
  //  4. the annotated evidence (TEE claims under the TEE name; report_data, init_data,
  //     runtime_data_claims, init_data_claims at the top) is the input of the attestation policy
  //     `<policy_id>_cpu` (stored, else built in), evaluated with the host function
  //     `query_reference_value(id)`;
  //  5. `data.policy.trust_claims` becomes the trustworthiness vector of submod `cpu0` and its
  //     worst tier the `ear.status`; `data.policy.extensions` become appraisal extensions.
  //  6. device evidence: when device verifiers are registered, `additional_evidence` must be ""
  //     or a JSON object mapping TEE names to evidence; each entry with a registered device
  //     verifier is verified against the device binding SHA-384(JCS({"nonce","tee-pubkey"}))
  //     (a failing device fails the attestation, naming it), and each device is appraised by
  //     `<policy_id>_<class>` (`default_gpu`) into its own submodule `<class><i>` (gpu0, gpu1,
  //     ...). The token carries each device's claims without its measurements (the policy sees
  //     them), to keep it small.
  // A contraindicated status still yields a token: the resource policy decides.
  // Errors: InvalidArgument for malformed input (unsupported tee, bad runtime data, bad
  // init-data, malformed evidence), PermissionDenied for failed verification, each naming the
  // check; NotFound for an unknown policy; FailedPrecondition for a policy whose results are
  // unusable or that fails to evaluate; the store's errors.
  // `devices` (optional) is cleared and gets one entry per appraised device, in submodule order,
  // with its `ear.status`; when a device fails verification (PermissionDenied naming
  // "<tee>: device <i>"), one entry with status "failed" for it, with the `arch` its evidence
  // declares. Devices are left out when the attestation fails for any other reason.
  absl::StatusOr<std::string> Attest(const Request& req,
                                     std::vector<DeviceOutcome>* devices = nullptr);

  // Verifies a token issued by this service: compact JWS, header alg ES256, signature with this
  // service's key, `exp` and `iat` (crypto::CheckJwtTimeClaims) and `iss`. Returns its claims.
  // Errors are PermissionDenied: "token: malformed: ...", "token: signature verification
  // failed", "token: jwt: expired at ...", "token: jwt: issued in the future at ...",
  // "token: issuer `x` is not accepted".
  absl::StatusOr<boost::json::object> VerifyToken(std::string_view token) const;

  // {"keys":[{"kty":"EC","crv":"P-256","x":..,"y":..,"alg":"ES256","use":"sig","kid":<RFC 7638
  // thumbprint>}]} for /.well-known/jwks.json.
  boost::json::object Jwks() const;

  // Stores an attestation policy from the admin API body
  // {"type":"rego","policy_id":"default_cpu","policy":"<base64url Rego>"} (`type` optional, must
  // be "rego"). The policy must compile; errors are InvalidArgument naming the bad field or the
  // Rego error with its line:column.
  absl::Status SetPolicy(std::string_view body_json);

  // Ids of the stored and built-in policies, sorted, without duplicates.
  absl::StatusOr<std::vector<std::string>> ListPolicies();

  // The Rego text of policy `id` (stored, else built in); NotFound when neither exists.
  absl::StatusOr<std::string> GetPolicy(std::string_view id);

  // "sha256:<hex>" of the Rego text the last appraisal under policy `id` read (what its token
  // was issued under; the audit trail records it), or nullopt before the first one. Cached per
  // text, so an appraisal hashes a policy only when its text changed.
  std::optional<std::string> AppraisedPolicyDigest(std::string_view id) const;

 private:
  struct DeviceClaims {
    std::string tee;           // "nvidia"
    std::string device_class;  // "gpu"
    boost::json::object claims;
  };
  absl::StatusOr<std::vector<DeviceClaims>> VerifyDevices(
      const std::map<std::string, std::shared_ptr<const evidence::DeviceVerifier>, std::less<>>&
          verifiers,
      const Request& req, core::TimePoint now, std::vector<DeviceOutcome>* failed) const;
  absl::StatusOr<boost::json::object> Appraise(const std::string& policy_id,
                                               const boost::json::value& annotated);
  absl::StatusOr<std::string> SignToken(const boost::json::object& claims) const;

  store::KeyValueStore& kv_;
  ReferenceValueStore& rvs_;
  crypto::PrivateKey token_key_;
  crypto::PublicKey token_public_key_;
  boost::json::object header_jwk_;
  const core::Clock& clock_;
  AttestationServiceOptions options_;

  mutable std::shared_mutex verifiers_mu_;
  std::map<std::string, std::shared_ptr<const evidence::Verifier>, std::less<>> verifiers_;
  std::map<std::string, std::shared_ptr<const evidence::DeviceVerifier>, std::less<>>
      device_verifiers_;

  std::unique_ptr<internal::PolicyEvaluator> policies_;

  struct AppraisedPolicy {
    std::string text;
    std::string digest;
  };
  mutable std::mutex appraised_mu_;
  std::map<std::string, AppraisedPolicy, std::less<>> appraised_;
};

}  // namespace ccburst::attestation
