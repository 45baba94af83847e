// TDX quote verification: the Intel DCAP checks of evidence/dcap (PCK chain, QE report and
// identity, quote signature, TCB level matching, QE convergence) composed, in Intel QVL's order,
// with what only TDX has: the TDX module identity and SEAM checks, the TDX component SVNs of the
// TCB level (TEE_TCB_SVN), the TDX module TCB status and the TD relaunch check of TD report 1.5
// bodies. Pure: a parsed quote, verified collateral, anchor and time in; a verdict or a precise
// error out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/dcap/collateral.h"
#include "evidence/dcap/pck.h"
#include "evidence/dcap/verify.h"
#include "evidence/tdx/quote.h"

namespace ccburst::evidence::tdx {

// A quote whose signatures, chains and collateral checks passed, with its TCB evaluation.
struct TdxVerdict {
  Quote quote;
  dcap::PckExtensions pck;
  std::string pck_issuer;  // "Intel SGX PCK Platform CA" / "Intel SGX PCK Processor CA"
  // UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded,
  // OutOfDate, OutOfDateConfigurationNeeded, TDRelaunchAdvised,
  // TDRelaunchAdvisedConfigurationNeeded or Revoked.
  std::string tcb_status;
  std::vector<std::string> advisory_ids;
  std::string tcb_date;           // of the selected TDX TCB level
  std::string sgx_tcb_status;     // of the selected SGX TCB level
  std::string tdx_module_status;  // of the TDX module identity level ("UpToDate" for TDX 1.0)
  std::string qe_tcb_status;      // of the QE identity level
  std::string qe_tcb_date;
  int64_t tcb_eval_num = 0;
};

// The check names used in errors are those of dcap/verify.h plus "tdx: tdx module identity
// TDX_03 is not in the tcb info", "tdx: mr_signer_seam does not match the tdx module identity
// mrsigner", "tdx: tcb not supported: tee_tcb_svn ... matches no tcb level of fmspc ...".
// Signature and chain failures are PermissionDenied; a malformed quote is InvalidArgument. A TCB
// whose evaluation is terminal in QVL (no matching level, TDX module mismatch) is an error;
// Revoked is returned as a verdict so the caller decides (TdxVerifier rejects it).
// `cache` (optional) skips re-parsing and re-verifying a PCK chain seen before.
absl::StatusOr<TdxVerdict> VerifyQuote(const Quote& quote,
                                       const dcap::VerifiedCollateral& collateral,
                                       const dcap::TrustAnchor& anchor, core::TimePoint now,
                                       dcap::PckChainCache* cache = nullptr);

}  // namespace ccburst::evidence::tdx
