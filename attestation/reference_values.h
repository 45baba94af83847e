// Reference values: the approved measurements (launch digests, TCB versions, PCRs, ...) that
// attestation policies compare claims with through `query_reference_value(id)`. They are
// registered with the admin API (`POST /kbs/v0/reference-value`, the reference RVPS message
// format), kept durably in the KeyValueStore namespace "reference-values", and expire (by
// default 12 months after registration) so that stale measurements stop being trusted.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/key_value_store.h"

namespace ccburst::attestation {

// KeyValueStore namespace of the stored values.
inline constexpr std::string_view kReferenceValueNamespace = "reference-values";

// Thread-safe (all state is in the KeyValueStore). `kv` and `clock` must outlive this object.
class ReferenceValueStore {
 public:
  ReferenceValueStore(store::KeyValueStore& kv, const core::Clock& clock,
                      std::chrono::months validity = std::chrono::months(12));

  // Registers the values of a reference-value message:
  // {"version":"0.1.0","type":"sample","payload":"<standard base64 of {name: value, ...}>"}.
  // `version` may be omitted (defaults to 0.1.0); `type` must be "sample". Each name becomes a
  // reference value id holding its value verbatim (any JSON: a list of accepted values, or a
  // scalar that policies compare with `==`), replacing an earlier value of that id and expiring
  // `validity` after now. Errors are InvalidArgument naming the bad field
  // ("reference-value: unsupported type `corim`"), or the store's error.
  absl::Status Register(std::string_view body_json);

  // Stores one value directly (administration and tests), expiring at `expiration`.
  absl::Status Put(std::string_view id, const boost::json::value& value,
                   core::TimePoint expiration);

  // The value of `id`; nullopt when unknown or expired.
  absl::StatusOr<std::optional<boost::json::value>> Get(std::string_view id);

  // Ids of the values that have not expired, sorted.
  absl::StatusOr<std::vector<std::string>> List();

  // Removes `id`; false when it was not stored.
  absl::StatusOr<bool> Delete(std::string_view id);

 private:
  store::KeyValueStore& kv_;
  const core::Clock& clock_;
  std::chrono::months validity_;
};

}  // namespace ccburst::attestation
