// The seam between the attestation service and TEE-specific evidence checks. Each TEE type
// (sample, tdx, snp, az-snp-vtpm, ...) has one Verifier that checks the hardware evidence
// cryptographically, checks that it is bound to the KBS session (report data) and, where the
// hardware can carry it, to the init-data, and turns the evidence into claims for policy.
// Verifiers are pure: evidence bytes, the expected binding and the verification time in, claims
// or a precise error out; no I/O, no global clock.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace ccburst::evidence {

// What the evidence must be bound to (PROTOCOL.md "Binding evidence to the session").
struct ExpectedBinding {
  // Raw digest of the JCS runtime data (SHA-384, SHA-512 for `se`) that the KBS rebuilt.
  std::string report_data_digest;
  // Raw digest of the init-data TOML when the request carried init-data.
  std::optional<std::string> init_data_digest;
};

// One per TEE type; implementations are immutable and thread-safe.
class Verifier {
 public:
  virtual ~Verifier() = default;

  // The KBS protocol name of the TEE: "sample", "tdx", "snp", ...
  virtual std::string_view tee() const = 0;

  // Verifies `evidence` (the `primary_evidence` JSON) at time `now`, checks its report data (and
  // init-data, where the TEE carries it) against `binding`, and returns the TEE claims as a JSON
  // object. A verifier may add `report_data` and `init_data` claims; the attestation service
  // lifts them to the top of the annotated evidence. Errors: InvalidArgument for malformed
  // evidence, PermissionDenied for a failed check; each message starts with the TEE name and
  // names the check ("sample: report_data does not match the session binding").
  virtual absl::StatusOr<boost::json::object> Verify(const boost::json::value& evidence,
                                                     const ExpectedBinding& binding,
                                                     core::TimePoint now) const = 0;
};

// Verifies the evidence of devices attached to a confidential VM (GPUs, ...) that arrives in the
// request's `additional_evidence` map under the verifier's `tee()` name ("nvidia"). Device evidence
// is bound to the device form of the session binding, SHA-384(JCS({"nonce","tee-pubkey"}))
// (PROTOCOL.md), each device type taking from it what its hardware can carry. Implementations are
// immutable and thread-safe.
class DeviceVerifier {
 public:
  virtual ~DeviceVerifier() = default;

  // The key of the device evidence in `additional_evidence` ("nvidia").
  virtual std::string_view tee() const = 0;
  // The EAR submodule class of its devices ("gpu": submodules gpu0, gpu1, ...) and the suffix of
  // their attestation policy (`default_gpu`).
  virtual std::string_view device_class() const = 0;

  // Verifies every device in `evidence` at `now` against `device_binding` (the raw SHA-384 digest)
  // and returns one claims object per device, in the evidence's order. A device that fails refuses
  // the whole evidence: InvalidArgument for malformed evidence (or more devices than the verifier
  // accepts), PermissionDenied for a failed check, each message naming the TEE, the device and
  // the check ("nvidia: device 1: report nonce ... does not match the expected nonce ...").
  virtual absl::StatusOr<std::vector<boost::json::object>> Verify(
      const boost::json::value& evidence, std::string_view device_binding,
      core::TimePoint now) const = 0;
};

}  // namespace ccburst::evidence
