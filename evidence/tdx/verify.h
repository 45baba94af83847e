// Intel DCAP verification of a TDX quote against verified collateral, following Intel's Quote
// Verification Library (QVL) step for step: PCK chain to the trust anchor and PCK CRL, FMSPC /
// PCE-ID match, TDX module identity and SEAM checks, QE report signature by the PCK key, QE
// report data binding of the attestation key, QE identity, quote signature, TCB level
// selection and status convergence (TCB level, TDX module, TD relaunch for TD report 1.5, QE).
// Pure: bytes, verified collateral, anchor and time in; a verdict or a precise error out.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/tdx/collateral.h"
#include "evidence/tdx/pck.h"
#include "evidence/tdx/quote.h"
#include "evidence/tdx/x509.h"

namespace ccburst::evidence::tdx {

// A quote whose signatures, chains and collateral checks passed, with its TCB evaluation.
struct TdxVerdict {
  Quote quote;
  PckExtensions pck;
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

// Parsed PCK chains (and attestation keys) keyed by their bytes, so that a platform's repeated
// quotes cost only their own signature checks: a chain's signatures are verified once against
// the anchor; its validity period and revocation are still checked at every verification. One
// cache must only ever be used with one trust anchor. Thread-safe; bounded (cleared when full).
class PckChainCache {
 public:
  struct Chain {
    CertPtr leaf, ca, root;
    PckExtensions ext;
    std::optional<crypto::PublicKey> pck_key;
    std::string issuer;                     // common name of the PCK CA
    core::TimePoint not_before, not_after;  // intersection of the three certificates
    bool verified = false;                  // signatures checked against the anchor
  };
  // `certs` decodes the certificates (a cache of this PckChainCache's own when null).
  explicit PckChainCache(size_t max_entries = 4096,
                         std::shared_ptr<crypto::CertificateCache> certs = nullptr)
      : max_entries_(max_entries),
        certs_(certs != nullptr ? std::move(certs) : std::make_shared<crypto::CertificateCache>()) {
  }

  // The parsed chain for `pem` (parsed and inserted on a miss); InvalidArgument for a chain
  // that does not parse or lacks the SGX extensions.
  absl::StatusOr<std::shared_ptr<const Chain>> Get(const std::string& pem);
  void MarkVerified(const std::string& pem, std::shared_ptr<const Chain> chain);
  absl::StatusOr<crypto::PublicKey> AttestationKey(const std::string& raw);

 private:
  size_t max_entries_;
  std::shared_ptr<crypto::CertificateCache> certs_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Chain>> chains_;
  std::map<std::string, crypto::PublicKey> keys_;
};

// The check names used in errors, e.g. "tdx: quote signature verification failed",
// "tdx: qe report signature verification failed", "tdx: qe report data does not match
// sha256(attestation key || qe auth data)", "tdx: pck certificate chain: ...", "tdx: pck
// certificate is revoked", "tdx: tcb not supported: ...". Signature and chain failures are
// PermissionDenied; a malformed quote is InvalidArgument. A TCB whose evaluation is terminal
// in QVL (no matching level, TDX module mismatch) is an error; Revoked is returned as a
// verdict so the caller decides (TdxVerifier rejects it).
// `cache` (optional) skips re-parsing and re-verifying a PCK chain seen before. Without it the
// chain is fully verified and its certificates are decoded for this call only.
absl::StatusOr<TdxVerdict> VerifyQuote(const Quote& quote, const VerifiedCollateral& collateral,
                                       const TrustAnchor& anchor, core::TimePoint now,
                                       PckChainCache* cache = nullptr);

// Parses the PCK chain in `quote` and returns its SGX extensions (no verification): which
// FMSPC and CA the collateral must be fetched for.
struct PckInfo {
  PckExtensions ext;
  // "platform" or "processor" (the PCS `ca` parameter), from the PCK issuer common name.
  std::string ca;
};
absl::StatusOr<PckInfo> ReadPckInfo(const Quote& quote, PckChainCache* cache = nullptr);

}  // namespace ccburst::evidence::tdx
