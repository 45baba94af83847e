// Prometheus metrics of the KBS (served at /metrics). Names follow Trustee's where Trustee has
// one, so existing dashboards keep working; `kbs_attestations_total{tee,outcome}` is the series
// the burst scaler watches to gate bursting on attestation health, and
// `kbs_device_attestations_total{arch,outcome}` the one that closes the gate of a GPU profile.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace ccburst::kbs {

class KbsMetrics {
 public:
  KbsMetrics();

  // outcome: "success" (token issued), "failure" (verification refused the evidence) or
  // "error" (malformed request, unknown session, ...).
  void Attestation(const std::string& tee, const std::string& outcome, double seconds);
  // One per device of an attestation (kbs_device_attestations_total{arch,outcome}): status is
  // the device's `ear.status` ("affirming" -> success; "warning", "contraindicated" or "failed"
  // (refused) -> failure; anything else -> error); arch "" is counted as "unknown".
  void DeviceAttestation(const std::string& arch, const std::string& status);
  void Auth(bool ok);
  void ResourceReleased(double seconds);
  // reason: "policy", "token", "not_found", "error".
  void ResourceDenied(const std::string& reason, double seconds);
  void PolicyEvaluation(bool allowed, bool error);
  void HttpRequest() { http_requests_->Increment(); }
  void SetActiveSessions(double n) { active_sessions_->Set(n); }

  // Prometheus text exposition format.
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* attestations_;
  prometheus::Family<prometheus::Counter>* attestation_successes_;
  prometheus::Family<prometheus::Counter>* attestation_failures_;
  prometheus::Counter* attestation_errors_;
  prometheus::Family<prometheus::Counter>* device_attestations_;
  prometheus::Family<prometheus::Histogram>* attestation_latency_;
  prometheus::Family<prometheus::Counter>* resource_denials_;
  prometheus::Counter* attestation_requests_;
  prometheus::Counter* auth_requests_;
  prometheus::Counter* auth_successes_;
  prometheus::Counter* auth_errors_;
  prometheus::Counter* resource_releases_;
  prometheus::Histogram* resource_latency_;
  prometheus::Counter* policy_evaluations_;
  prometheus::Counter* policy_approvals_;
  prometheus::Counter* policy_violations_;
  prometheus::Counter* policy_errors_;
  prometheus::Counter* http_requests_;
  prometheus::Gauge* active_sessions_;
};

}  // namespace ccburst::kbs
