// The `nvidia` device verifier of the attestation service: the `nvidia` entry of
// `additional_evidence` ({"device_evidence_list":[{arch, uuid, evidence, certificate}, ...]}), each
// GPU verified by NvidiaVerifier with the SPDM nonce = the first 32 bytes of the device binding,
// at most `max_devices` GPUs per request. With a RimSource (off by default), each verified GPU's
// driver and VBIOS RIMs are fetched, verified (rim.h) and compared with its measurements: the
// outcome is the GPU's `rim` claim, which default_gpu.rego reads; a RIM that cannot be had or
// does not verify never refuses the device, it only leaves the measurements unappraised. With an
// OcspSource (off by default), each verified GPU's chain is checked by OCSP (ocsp.h): a revoked
// certificate refuses the GPU, a status that cannot be had only leaves it without OCSP assurance.
#pragma once

#include <memory>

#include "evidence/nvidia/ocsp.h"
#include "evidence/nvidia/rim.h"
#include "evidence/nvidia/verifier.h"
#include "evidence/verifier.h"

namespace ccburst::evidence::nvidia {

struct NvidiaDeviceVerifierOptions {
  NvidiaVerifierOptions verifier;
  // More devices in one request are refused (InvalidArgument) before any is verified.
  size_t max_devices = 8;
  // RIM fetching: off when null. `rim_trust_anchors` (PEM or DER, at least one with a source)
  // check the fetched RIMs' signing chains.
  std::shared_ptr<const RimSource> rim_source;
  std::vector<std::string> rim_trust_anchors;
  // OCSP checking of the device chains: off when null.
  std::shared_ptr<const OcspSource> ocsp_source;
};

class NvidiaDeviceVerifier final : public DeviceVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<NvidiaDeviceVerifier>> Create(
      NvidiaDeviceVerifierOptions options = {});

  std::string_view tee() const override { return "nvidia"; }
  std::string_view device_class() const override { return "gpu"; }

  // Claims per GPU as DeviceVerification::claims, plus with a RIM source
  // `rim`: {"ids": [RIM IDs], "measurements_match": bool, "mismatched_indices": [SPDM index]} or
  // {"ids", "error": why no golden values could be had}, and with an OCSP source `ocsp`
  // (CheckChainOcsp:
  // {"status": "good"} or {"status": "unknown", "error"}). Errors start "nvidia: device <i>: "
  // (with the uuid when sent) followed by the failed check's message ("ocsp: certificate `<CN>`
  // revoked at <time>" for a revoked certificate).
  absl::StatusOr<std::vector<boost::json::object>> Verify(const boost::json::value& evidence,
                                                          std::string_view device_binding,
                                                          core::TimePoint now) const override;

 private:
  NvidiaDeviceVerifier(std::unique_ptr<NvidiaVerifier> verifier, size_t max_devices)
      : verifier_(std::move(verifier)), max_devices_(max_devices) {}
  boost::json::object RimClaim(const boost::json::object& claims, core::TimePoint now) const;

  std::unique_ptr<NvidiaVerifier> verifier_;
  size_t max_devices_;
  std::shared_ptr<const RimSource> rim_source_;
  std::unique_ptr<RimVerifier> rim_verifier_;
  std::shared_ptr<const OcspSource> ocsp_source_;
};

}  // namespace ccburst::evidence::nvidia
