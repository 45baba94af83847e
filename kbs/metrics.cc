#include "kbs/metrics.h"

#include <prometheus/text_serializer.h>

namespace ccburst::kbs {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return b;
}

}  // namespace

KbsMetrics::KbsMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  attestations_ = &BuildCounter()
                       .Name("kbs_attestations_total")
                       .Help("Attestations by TEE type and outcome (success, failure, error)")
                       .Register(*registry_);
  attestation_successes_ = &BuildCounter()
                                .Name("kbs_attestation_successes_total")
                                .Help("Successful attestations by TEE type")
                                .Register(*registry_);
  attestation_failures_ = &BuildCounter()
                               .Name("kbs_attestation_failures_total")
                               .Help("Failed attestations by TEE type")
                               .Register(*registry_);
  device_attestations_ =
      &BuildCounter()
           .Name("kbs_device_attestations_total")
           .Help("Devices (GPUs) appraised in attestations, by arch and outcome (success, failure)")
           .Register(*registry_);
  attestation_latency_ = &BuildHistogram()
                              .Name("kbs_attestation_duration_seconds")
                              .Help("Latency of /kbs/v0/attest by TEE type")
                              .Register(*registry_);
  resource_denials_ = &BuildCounter()
                           .Name("kbs_resource_denials_total")
                           .Help("Resource requests refused, by reason")
                           .Register(*registry_);
  attestation_errors_ = &BuildCounter()
                             .Name("kbs_attestation_errors_total")
                             .Help(
                                 "Attestation requests refused before any evidence was "
                                 "appraised (malformed, no session), as the reference KBS")
                             .Register(*registry_)
                             .Add({});
  attestation_requests_ = &BuildCounter()
                               .Name("kbs_attestation_requests_total")
                               .Help("Total /kbs/v0/attest requests")
                               .Register(*registry_)
                               .Add({});
  auto& auth = BuildCounter()
                   .Name("kbs_auth_requests_total")
                   .Help("Total /kbs/v0/auth requests")
                   .Register(*registry_);
  auth_requests_ = &auth.Add({});
  auth_successes_ = &BuildCounter()
                         .Name("kbs_auth_successes_total")
                         .Help("Successful /auth")
                         .Register(*registry_)
                         .Add({});
  auth_errors_ = &BuildCounter()
                      .Name("kbs_auth_errors_total")
                      .Help("Refused /auth")
                      .Register(*registry_)
                      .Add({});
  resource_releases_ = &BuildCounter()
                            .Name("kbs_resource_releases_total")
                            .Help("Resources released (JWE-wrapped) to attested TEEs")
                            .Register(*registry_)
                            .Add({});
  resource_latency_ = &BuildHistogram()
                           .Name("kbs_resource_request_duration_seconds")
                           .Help("Latency of GET /kbs/v0/resource")
                           .Register(*registry_)
                           .Add({}, LatencyBuckets());
  policy_evaluations_ = &BuildCounter()
                             .Name("kbs_policy_evaluations_total")
                             .Help("Resource policy evaluations")
                             .Register(*registry_)
                             .Add({});
  policy_approvals_ = &BuildCounter()
                           .Name("kbs_policy_approvals_total")
                           .Help("Resource policy approvals")
                           .Register(*registry_)
                           .Add({});
  policy_violations_ = &BuildCounter()
                            .Name("kbs_policy_violations_total")
                            .Help("Resource policy denials")
                            .Register(*registry_)
                            .Add({});
  policy_errors_ = &BuildCounter()
                        .Name("kbs_policy_errors_total")
                        .Help("Resource policy evaluation errors")
                        .Register(*registry_)
                        .Add({});
  http_requests_ = &BuildCounter()
                        .Name("kbs_http_requests_total")
                        .Help("Total HTTP requests")
                        .Register(*registry_)
                        .Add({});
  active_sessions_ = &BuildGauge()
                          .Name("kbs_active_sessions")
                          .Help("Protocol sessions that have not expired")
                          .Register(*registry_)
                          .Add({});
}

void KbsMetrics::Attestation(const std::string& tee, const std::string& outcome, double seconds) {
  // Family::Add returns the existing child for known labels; it takes a lock, which is cheap
  // next to an attestation.
  attestation_requests_->Increment();
  attestations_->Add({{"tee", tee}, {"outcome", outcome}}).Increment();
  // The reference KBS's families: evidence appraised and accepted or refused, per TEE; requests
  // refused before that are errors without a TEE.
  if (outcome == "success") {
    attestation_successes_->Add({{"tee_type", tee}}).Increment();
  } else if (outcome == "error") {
    attestation_errors_->Increment();
  } else {
    attestation_failures_->Add({{"tee_type", tee}}).Increment();
  }
  attestation_latency_->Add({{"tee", tee}}, LatencyBuckets()).Observe(seconds);
}

void KbsMetrics::DeviceAttestation(const std::string& arch, const std::string& status) {
  std::string outcome = "error";
  if (status == "affirming") {
    outcome = "success";
  } else if (status == "warning" || status == "contraindicated" || status == "failed") {
    outcome = "failure";
  }
  device_attestations_->Add({{"arch", arch.empty() ? "unknown" : arch}, {"outcome", outcome}})
      .Increment();
}

void KbsMetrics::Auth(bool ok) {
  auth_requests_->Increment();
  (ok ? auth_successes_ : auth_errors_)->Increment();
}

void KbsMetrics::ResourceReleased(double seconds) {
  resource_releases_->Increment();
  resource_latency_->Observe(seconds);
}

void KbsMetrics::ResourceDenied(const std::string& reason, double seconds) {
  resource_denials_->Add({{"reason", reason}}).Increment();
  resource_latency_->Observe(seconds);
}

void KbsMetrics::PolicyEvaluation(bool allowed, bool error) {
  policy_evaluations_->Increment();
  if (error) {
    policy_errors_->Increment();
  } else {
    (allowed ? policy_approvals_ : policy_violations_)->Increment();
  }
}

std::string KbsMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace ccburst::kbs
