// The `tdx` TEE verifier: Intel TDX DCAP quotes (v4/v5) with an optional CC event log, as the
// Trustee attester sends them: `{"quote":"<standard base64>","cc_eventlog":"<standard
// base64>"|null}`. Collateral comes from a TdxCollateralSource (implemented with I/O in
// collateral/tdx); verified collateral is cached per collateral set until its validity window
// closes, so steady-state verification costs the quote's own signature checks.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "evidence/eventlog/ccel.h"
#include "evidence/tdx/collateral.h"
#include "evidence/tdx/verify.h"
#include "evidence/verifier.h"

namespace ccburst::evidence::tdx {

// Where collateral comes from (Intel PCS, a PCCS, an offline directory, caches). Implementations
// must be thread-safe.
class TdxCollateralSource {
 public:
  virtual ~TdxCollateralSource() = default;
  // Collateral for the platform family `fmspc` (6 raw bytes) whose PCK certificate was issued by
  // the PCK CA `ca` ("platform" or "processor"), preferably valid at `now`. NotFound naming the
  // missing item when there is none, Unavailable when a backend is down.
  virtual absl::StatusOr<std::shared_ptr<const TdxCollateral>> Get(std::string_view fmspc,
                                                                   std::string_view ca,
                                                                   core::TimePoint now) const = 0;
};

// A source holding one fixed collateral set (tests, the operator command).
class FixedCollateralSource final : public TdxCollateralSource {
 public:
  explicit FixedCollateralSource(TdxCollateral c)
      : collateral_(std::make_shared<const TdxCollateral>(std::move(c))) {}
  absl::StatusOr<std::shared_ptr<const TdxCollateral>> Get(std::string_view, std::string_view,
                                                           core::TimePoint) const override {
    return collateral_;
  }

 private:
  std::shared_ptr<const TdxCollateral> collateral_;
};

// Everything known about a verified quote.
struct TdxResult {
  TdxVerdict verdict;
  std::optional<eventlog::CcEventLog> eventlog;
  boost::json::object claims;
};

class TdxVerifier final : public Verifier {
 public:
  // `anchor`: the root CA key every chain must end in; production uses the Intel SGX Root CA.
  // `certs` decodes every certificate and CRL (TCB Info / QE Identity issuer chains, CRLs, PCK
  // chains) once across calls; it may be shared with other verifiers. A new one when null.
  explicit TdxVerifier(std::shared_ptr<const TdxCollateralSource> source,
                       TrustAnchor anchor = TrustAnchor::IntelSgxRootCa(),
                       std::shared_ptr<crypto::CertificateCache> certs = nullptr);

  std::string_view tee() const override { return "tdx"; }

  // Parses the evidence JSON, verifies the quote with collateral at `now` (VerifyQuoteAndLog),
  // rejects a Revoked TCB (terminal in Intel QVL / Trustee), checks REPORTDATA against
  // binding.report_data_digest zero-padded to 64 bytes and, when given, MRCONFIGID against
  // binding.init_data_digest zero-padded to 48 bytes, and returns the claims. Errors:
  // InvalidArgument for malformed evidence ("tdx: `quote` is not standard base64"),
  // PermissionDenied naming the failed check ("tdx: report_data does not match the session
  // binding"), NotFound/Unavailable from the collateral source.
  absl::StatusOr<boost::json::object> Verify(const boost::json::value& evidence,
                                             const ExpectedBinding& binding,
                                             core::TimePoint now) const override;

  // Verifies a raw quote (trailing bytes allowed) and, when present, a raw CC event log whose
  // replay must equal RTMR0-3. No session binding checks. The verdict may be Revoked.
  absl::StatusOr<TdxResult> VerifyQuoteAndLog(std::string_view quote,
                                              std::optional<std::string_view> ccel,
                                              core::TimePoint now) const;

  const TrustAnchor& anchor() const { return anchor_; }

 private:
  absl::StatusOr<std::shared_ptr<const VerifiedCollateral>> Collateral(
      const std::shared_ptr<const TdxCollateral>& raw, core::TimePoint now) const;

  std::shared_ptr<const TdxCollateralSource> source_;
  TrustAnchor anchor_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const VerifiedCollateral>> cache_;
  // Sources usually hand out the same immutable object until they refresh: remember the
  // verified collateral per object so the steady state skips even the fingerprint.
  struct ByObject {
    std::weak_ptr<const TdxCollateral> raw;
    std::shared_ptr<const VerifiedCollateral> verified;
  };
  mutable std::map<const TdxCollateral*, ByObject> by_object_;
  std::shared_ptr<crypto::CertificateCache> certs_;
  mutable PckChainCache chains_;
};

// Decodes the evidence JSON object into raw quote and optional event log bytes.
struct TdxEvidence {
  std::string quote;
  std::optional<std::string> cc_eventlog;
};
absl::StatusOr<TdxEvidence> ParseTdxEvidence(const boost::json::value& evidence);

// The operator command's result (`ccburst verify --tee tdx ... --json`): verifies `evidence`
// (a raw quote, or the evidence JSON) with `source` at `at` and returns
// {"verified": bool, "tcb_status": string|null, "advisory_ids": [...], "claims": {...}|null,
//  "error": string (only when not verified)}. A Revoked TCB or a TCB matching no level is not
// verified. Never fails: every failure is reported in `error`.
boost::json::object VerifyTdxEvidence(std::string_view evidence,
                                      std::shared_ptr<const TdxCollateralSource> source,
                                      const TrustAnchor& anchor, core::TimePoint at);

}  // namespace ccburst::evidence::tdx
