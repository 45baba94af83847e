// The KBS protocol's attestation handlers: `POST /kbs/v0/auth` (a session and its nonce) and
// `POST /kbs/v0/attest` (evidence checked by the attestation service, an EAR token bound to the
// session). Every refusal is an error-table kind with a detail naming the failed check; the
// handlers never pick an HTTP status.
#pragma once

#include "attestation/attestation_service.h"
#include "core/clock.h"
#include "kbs/audit_trail.h"
#include "kbs/metrics.h"
#include "kbs/sessions.h"
#include "net/http.h"

namespace ccburst::kbs {

class AttestationHandlers {
 public:
  // Every argument must outlive the handlers.
  AttestationHandlers(attestation::AttestationService& as, SessionStore& sessions,
                      KbsMetrics& metrics, const core::Clock& clock)
      : as_(as), sessions_(sessions), metrics_(metrics), clock_(clock) {}

  // {"version":"0.4.0","tee":..,"extra-params":..} -> {"nonce":..} and the session cookie.
  net::HttpResponse Auth(const net::HttpRequest& req);
  // {"runtime-data":..,"tee-evidence":..[,"init-data":..]} in the session -> {"token":..}. A
  // nonce is good for one attempt: any refusal after the session is found ends it.
  net::HttpResponse Attest(const net::HttpRequest& req);

  // Records every attestation (success or refusal) in `audit` (may be null).
  void set_audit(AuditTrail* audit) { audit_ = audit; }

 private:
  // One attestation record: the verdict ("success", "failure", "error"), and for a success the
  // token's appraisal (AuditTrail::AttestationFields).
  void RecordAttestation(const net::HttpRequest& req, std::string_view tee,
                         std::string_view session_id, std::string_view evidence_digest,
                         std::string_view verdict, std::string_view detail,
                         const std::string* token);

  attestation::AttestationService& as_;
  SessionStore& sessions_;
  KbsMetrics& metrics_;
  const core::Clock& clock_;
  AuditTrail* audit_ = nullptr;
};

}  // namespace ccburst::kbs
