#include "evidence/nvidia/device_verifier.h"

#include <fmt/format.h>

#include "core/log_safe.h"

namespace ccburst::evidence::nvidia {

absl::StatusOr<std::unique_ptr<NvidiaDeviceVerifier>> NvidiaDeviceVerifier::Create(
    NvidiaDeviceVerifierOptions options) {
  CCB_ASSIGN_OR_RETURN(auto verifier, NvidiaVerifier::Create(std::move(options.verifier)));
  return std::unique_ptr<NvidiaDeviceVerifier>(
      new NvidiaDeviceVerifier(std::move(verifier), options.max_devices));
}

absl::StatusOr<std::vector<boost::json::object>> NvidiaDeviceVerifier::Verify(
    const boost::json::value& evidence, std::string_view device_binding,
    core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(std::vector<DeviceEvidence> devices,
                       ParseDeviceEvidenceList(evidence, max_devices_));
  const std::string nonce = ExpectedNonce(device_binding);
  std::vector<boost::json::object> claims;
  for (size_t i = 0; i < devices.size(); ++i) {
    auto v = verifier_->VerifyDevice(devices[i], &nonce, now);
    if (!v.ok()) {
      std::string message = core::Message(v.status());
      if (message.starts_with("nvidia: ")) message = message.substr(8);
      std::string who = devices[i].uuid
                            ? fmt::format("device {} ({})", i, core::LogSafe(*devices[i].uuid, 64))
                            : fmt::format("device {}", i);
      return absl::Status(v.status().code(), fmt::format("nvidia: {}: {}", who, message));
    }
    claims.push_back(std::move(v->claims));
  }
  return claims;
}

}  // namespace ccburst::evidence::nvidia
