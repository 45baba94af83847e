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

}  // namespace ccburst::evidence
