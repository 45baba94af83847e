// The `tdx` TEE verifier: Intel TDX DCAP quotes (v4/v5) with an optional CC event log, as the
// Trustee attester sends them (evidence.h). Collateral comes from a dcap::CollateralSource
// (implemented with I/O in collateral/dcap); verified collateral is cached per collateral set
// until its validity window closes, so steady-state verification costs the quote's own signature
// checks. Built like every verifier: `Create(Options)`, then `Verify` (the KBS path) or
// `VerifyEvidence` (parsed evidence, optional binding: the operator command).
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/certificate.h"
#include "evidence/dcap/collateral.h"
#include "evidence/dcap/verify.h"
#include "evidence/eventlog/ccel.h"
#include "evidence/tdx/evidence.h"
#include "evidence/tdx/verify_quote.h"
#include "evidence/verifier.h"

namespace ccburst::evidence::tdx {

struct TdxVerifierOptions {
  // Where collateral comes from; required.
  std::shared_ptr<const dcap::CollateralSource> collateral_source;
  // The root CA key every chain must end in; unset means the Intel SGX Root CA.
  std::optional<dcap::TrustAnchor> anchor;
  // Decodes every certificate and CRL (TCB Info / QE Identity issuer chains, CRLs, PCK chains)
  // once across calls; it may be shared with other verifiers. Null means the verifier makes its
  // own.
  std::shared_ptr<crypto::CertificateCache> certificate_cache;
};

// The outcome of a successful verification (the shape of snp::Verification: the verdict on the
// parsed evidence, then the claims).
struct Verification {
  TdxVerdict verdict;  // the parsed quote, its TCB status and the DCAP details
  std::optional<eventlog::CcEventLog> eventlog;
  boost::json::object claims;
};

class TdxVerifier final : public Verifier {
 public:
  // InvalidArgument when no collateral source is given.
  static absl::StatusOr<std::unique_ptr<TdxVerifier>> Create(TdxVerifierOptions options);

  std::string_view tee() const override { return "tdx"; }

  // Parses the evidence JSON and runs VerifyEvidence with `binding`. Errors: InvalidArgument for
  // malformed evidence ("tdx: `quote` is not standard base64"), PermissionDenied naming the failed
  // check ("tdx: report_data does not match the session binding"), NotFound/Unavailable from the
  // collateral source.
  absl::StatusOr<boost::json::object> Verify(const boost::json::value& evidence,
                                             const ExpectedBinding& binding,
                                             core::TimePoint now) const override;

  // Verifies the quote with collateral at `now` and, when present, the CC event log, whose replay
  // must equal RTMR0-3. With `binding` set it then rejects a Revoked TCB (terminal in Intel QVL /
  // Trustee), checks REPORTDATA against binding.report_data_digest zero-padded to 64 bytes and,
  // when given, MRCONFIGID against binding.init_data_digest zero-padded to 48 bytes. With
  // `binding` null (the operator command has no session) none of these three is checked and the
  // verdict may be Revoked.
  absl::StatusOr<Verification> VerifyEvidence(const Evidence& evidence,
                                              const ExpectedBinding* binding,
                                              core::TimePoint now) const;

  const dcap::TrustAnchor& anchor() const { return anchor_; }

 private:
  TdxVerifier(std::shared_ptr<const dcap::CollateralSource> source, dcap::TrustAnchor anchor,
              std::shared_ptr<crypto::CertificateCache> certs);
  absl::StatusOr<std::shared_ptr<const dcap::VerifiedCollateral>> VerifiedCollateralFor(
      const std::shared_ptr<const dcap::Collateral>& raw, core::TimePoint now) const;

  std::shared_ptr<const dcap::CollateralSource> source_;
  dcap::TrustAnchor anchor_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const dcap::VerifiedCollateral>> cache_;
  // Sources usually hand out the same immutable object until they refresh: remember the
  // verified collateral per object so the steady state skips even the fingerprint.
  struct ByObject {
    std::weak_ptr<const dcap::Collateral> raw;
    std::shared_ptr<const dcap::VerifiedCollateral> verified;
  };
  mutable std::map<const dcap::Collateral*, ByObject> by_object_;
  std::shared_ptr<crypto::CertificateCache> certs_;
  mutable dcap::PckChainCache chains_;
};

}  // namespace ccburst::evidence::tdx
