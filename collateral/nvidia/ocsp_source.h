// Where NVIDIA device certificates' OCSP statuses come from when OCSP checking is on (off by
// default; the I/O side of evidence/nvidia's OcspSource): an OCSP responder (NVIDIA's is
// https://ocsp.ndis.nvidia.com), asked with HTTP POST application/ocsp-request through a
// net::FetchGate as the other collateral is (bounded, coalesced per CertID, failures backing off
// per CertID with a capped Retry-After, a hanging responder costing a request at most the gate's
// wait). Each answer is verified (evidence/nvidia/ocsp.h) on the gate's thread, where the nonce it
// must echo is known, and the verified status is kept in memory until its nextUpdate.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/nvidia/ocsp.h"
#include "net/fetch_gate.h"

namespace ccburst::collateral::nvidia {

struct OcspResponderOptions {
  std::string url = "https://ocsp.ndis.nvidia.com";
  // PEM trust anchors for an https url; the system roots when absent.
  std::optional<std::string> ca_certificate_file;
  std::chrono::milliseconds timeout{10000};
  // Send a nonce and require it echoed (as NVIDIA's reference verifier does by default). Without
  // it, a replayed response is still bounded by its nextUpdate.
  bool nonce = true;
  // How the responder is asked (net/fetch_gate.h); `limits.clock` defaults to `clock`.
  net::FetchGateOptions limits;
  // Verified statuses kept (the oldest go first).
  size_t max_cached = 256;
  const core::Clock* clock = nullptr;
};

// An OcspSource over an OCSP responder. Connection failures, timeouts, non-200 answers and
// answers that do not verify are Unavailable "nvidia ocsp: <CN>: ..." and back off that CertID
// (the gate's `initial_backoff`: failures are remembered briefly); the gate's own refusals are
// Unavailable. A bad URL or CA file is InvalidArgument.
absl::StatusOr<std::shared_ptr<const evidence::nvidia::OcspSource>> NewOcspResponderSource(
    OcspResponderOptions options);

}  // namespace ccburst::collateral::nvidia
