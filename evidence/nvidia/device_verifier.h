// The `nvidia` device verifier of the attestation service: the `nvidia` entry of
// `additional_evidence` ({"device_evidence_list":[{arch, uuid, evidence, certificate}, ...]}), each
// GPU verified by NvidiaVerifier with the SPDM nonce = the first 32 bytes of the device binding,
// at most `max_devices` GPUs per request.
#pragma once

#include <memory>

#include "evidence/nvidia/verifier.h"
#include "evidence/verifier.h"

namespace ccburst::evidence::nvidia {

struct NvidiaDeviceVerifierOptions {
  NvidiaVerifierOptions verifier;
  // More devices in one request are refused (InvalidArgument) before any is verified.
  size_t max_devices = 8;
};

class NvidiaDeviceVerifier final : public DeviceVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<NvidiaDeviceVerifier>> Create(
      NvidiaDeviceVerifierOptions options = {});

  std::string_view tee() const override { return "nvidia"; }
  std::string_view device_class() const override { return "gpu"; }

  // Claims per GPU as DeviceVerification::claims. Errors start "nvidia: device <i>: " (with the
  // uuid when sent) followed by the failed check's message.
  absl::StatusOr<std::vector<boost::json::object>> Verify(const boost::json::value& evidence,
                                                          std::string_view device_binding,
                                                          core::TimePoint now) const override;

 private:
  NvidiaDeviceVerifier(std::unique_ptr<NvidiaVerifier> verifier, size_t max_devices)
      : verifier_(std::move(verifier)), max_devices_(max_devices) {}
  std::unique_ptr<NvidiaVerifier> verifier_;
  size_t max_devices_;
};

}  // namespace ccburst::evidence::nvidia
