// The `az-snp-vtpm` and `az-tdx-vtpm` TEEs: Azure confidential VMs, where a paravisor (HCL) sits
// between the guest and the hardware and the evidence is a vTPM quote plus the HCL report that
// carries the hardware report (hcl.h, tpm.h, evidence.h).
//
// Checks, in order (the first failing one is reported, "az-snp-vtpm: <check>: ..."):
//  1. the evidence JSON (v0/v1/v2) and the HCL report parse; the variable data holds an RSA
//     HCLAkPub of at least 2048 bits;
//  2. tpm quote: TPMS_ATTEST strictly parsed, RSASSA-PKCS1-v1_5/SHA-256 signature by HCLAkPub,
//     SHA-256 bank PCR0-23 selected and pcrDigest == SHA-256(PCR0 || ... || PCR23), extraData ==
//     the session binding (the report-data digest, exactly);
//  3. hardware binding: the hardware report's REPORT_DATA[0:32] == SHA-256(variable data)
//     (az-tdx-vtpm: the TD quote's, and the TDREPORT's);
//  4. hardware report: az-snp-vtpm verifies the SNP report exactly as `snp` does (VCEK from the
//     evidence chained to the pinned ARK, signature, TCB vs VCEK, chip id, VMPL 0) with the
//     processor generation from the CPUID fields (a v2 report is refused); az-tdx-vtpm verifies the
//     TD quote with full DCAP exactly as `tdx` does (collateral, TCB status, a Revoked TCB
//     refused);
//  5. v2: the HCL `user-data` starts with the report-data digest;
//  6. init-data: PCR8 == SHA-256(32 zero bytes || init-data digest) when the request carried
//     init-data. Without init-data PCR8 is still reported (`init_data`), never silently dropped.
// Claims: the `snp` / `tdx` claims, with Trustee's Azure overrides: `report_data` (hex extraData),
// `init_data` (hex PCR8), `tpm` {"pcr00".."pcr23": hex}; plus `vm_configuration` (the HCL's
// vm-configuration object verbatim: secure-boot, tpm-enabled, console-enabled, vmUniqueId, ...).
//
// Steady state costs: the hardware signature checks (cached chains/collateral in snp/tdx), one
// RSA-2048 verify, and hashing; the parsed variable data (HCLAkPub) is cached by its exact bytes.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/azure/evidence.h"
#include "evidence/azure/hcl.h"
#include "evidence/azure/tpm.h"
#include "evidence/snp/verifier.h"
#include "evidence/tdx/verifier.h"
#include "evidence/verifier.h"

namespace ccburst::evidence::azure {

// What a successful verification found, beside the claims.
struct AzVerification {
  int evidence_version = 0;
  QuoteAttest quote;
  HclReport hcl;
  boost::json::object claims;
  // az-tdx-vtpm only.
  std::string tcb_status;
  std::vector<std::string> advisory_ids;
  // az-snp-vtpm only.
  snp::Generation product = snp::Generation::kUnknown;
};

namespace internal {
// Parsed variable data by its exact bytes (bounded; cleared when full). Thread-safe.
class RuntimeDataCache {
 public:
  absl::StatusOr<std::shared_ptr<const RuntimeData>> Get(const std::string& var_data);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const RuntimeData>, std::less<>> entries_;
};
}  // namespace internal

class AzSnpVtpmVerifier final : public Verifier {
 public:
  // `options` as for `snp` (anchors, CRLs, caches); required_vmpl defaults to 0 and the minimum
  // report version is raised to 3. Bad anchors are InvalidArgument.
  static absl::StatusOr<std::unique_ptr<AzSnpVtpmVerifier>> Create(
      snp::SnpVerifierOptions options = {});

  std::string_view tee() const override { return "az-snp-vtpm"; }
  absl::StatusOr<boost::json::object> Verify(const boost::json::value& evidence,
                                             const ExpectedBinding& binding,
                                             core::TimePoint now) const override;
  // All checks on parsed evidence; with `binding` null the nonce, user-data and init-data are
  // reported but not checked (the operator command has no session).
  absl::StatusOr<AzVerification> VerifyEvidence(const Evidence& evidence,
                                                const ExpectedBinding* binding,
                                                core::TimePoint now) const;

 private:
  explicit AzSnpVtpmVerifier(std::unique_ptr<snp::SnpVerifier> snp) : snp_(std::move(snp)) {}
  std::unique_ptr<snp::SnpVerifier> snp_;
  mutable internal::RuntimeDataCache runtime_data_;
};

class AzTdxVtpmVerifier final : public Verifier {
 public:
  // Collateral and trust anchor as for `tdx` (the same source can serve both). Errors as
  // tdx::TdxVerifier::Create's.
  static absl::StatusOr<std::unique_ptr<AzTdxVtpmVerifier>> Create(tdx::TdxVerifierOptions options);

  std::string_view tee() const override { return "az-tdx-vtpm"; }
  absl::StatusOr<boost::json::object> Verify(const boost::json::value& evidence,
                                             const ExpectedBinding& binding,
                                             core::TimePoint now) const override;
  absl::StatusOr<AzVerification> VerifyEvidence(const Evidence& evidence,
                                                const ExpectedBinding* binding,
                                                core::TimePoint now) const;

 private:
  explicit AzTdxVtpmVerifier(std::unique_ptr<tdx::TdxVerifier> tdx) : tdx_(std::move(tdx)) {}

  std::unique_ptr<tdx::TdxVerifier> tdx_;
  mutable internal::RuntimeDataCache runtime_data_;
};

}  // namespace ccburst::evidence::azure
