// Where NVIDIA RIMs come from when RIM fetching is on (off by default; the I/O side of
// evidence/nvidia's RimSource): NVIDIA's RIM service, `GET <base_url>/v1/rim/<RIM ID>` answering
// {"id", "rim": "<base64 of the XML>", "sha256", "last_updated"} (a raw XML body is accepted too),
// fetched through a net::FetchGate as the AMD KDS and Intel PCS collateral are (bounded, coalesced
// per RIM ID, negatively cached, backing off per RIM ID with a capped Retry-After, a hanging
// service costing a request at most the gate's wait), and kept in memory: a RIM ID names one
// immutable document.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/nvidia/rim.h"
#include "net/fetch_gate.h"

namespace ccburst::collateral::nvidia {

struct RimServiceOptions {
  std::string base_url = "https://rim.attestation.nvidia.com";
  // PEM trust anchors for base_url; the system roots when absent.
  std::optional<std::string> ca_certificate_file;
  std::chrono::milliseconds timeout{10000};
  // How the service is asked (net/fetch_gate.h); `limits.clock` defaults to `clock`.
  net::FetchGateOptions limits;
  // RIMs kept in memory (the oldest go first); each is at most evidence::nvidia::kMaxRimBytes.
  size_t max_cached = 64;
  const core::Clock* clock = nullptr;
};

// A RimSource over NVIDIA's RIM service. 404 is NotFound (negatively cached); connection
// failures, 429 and 5xx are Unavailable "nvidia rim service: GET <path>: ..." and back off that
// RIM ID; the gate's own refusals are Unavailable; a 200 whose body is neither JSON with a base64
// `rim` nor XML is Unavailable (and backs off). A bad base URL or CA file is InvalidArgument.
absl::StatusOr<std::shared_ptr<const evidence::nvidia::RimSource>> NewRimServiceSource(
    RimServiceOptions options);

// The service path of a RIM ID: "/v1/rim/NV_GPU_DRIVER_GH100_550.90.07". IDs other than
// [A-Za-z0-9._-] are refused by the source (InvalidArgument) before any fetch.
std::string RimServicePath(const std::string& id);

}  // namespace ccburst::collateral::nvidia
