// Intel DCAP quote checks against verified collateral, following Intel's Quote Verification
// Library (QVL): PCK chain to the trust anchor and PCK CRL, FMSPC / PCE-ID match, QE report
// signature by the PCK key, QE report data binding of the attestation key, QE identity, quote
// signature, TCB level matching and the TCB-status vocabulary and QE convergence. The TEE layer
// (evidence/tdx's VerifyQuote; SGX and Azure TDX next) composes these steps with its body checks.
// Pure: bytes, verified collateral, anchor and time in; a verdict or a precise error out.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/dcap/certificates.h"
#include "evidence/dcap/collateral.h"
#include "evidence/dcap/pck.h"
#include "evidence/dcap/quote.h"

namespace ccburst::evidence::dcap {

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

// QVL's TCB status values, in the vocabulary of TCB Info and the sgx_ql_qv_result_t names.
enum class TcbStatus {
  kUpToDate,
  kSwHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSwHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
  kTdRelaunchAdvised,
  kTdRelaunchAdvisedConfigurationNeeded,
  kUnrecognized,
};
// "UpToDate" -> kUpToDate, ...; anything else (including the TD relaunch values, which only
// convergence produces) is kUnrecognized.
TcbStatus ParseTcbStatus(std::string_view s);
std::string_view TcbStatusName(TcbStatus s);
// True for the *ConfigurationNeeded values.
bool ConfigurationNeeded(TcbStatus s);

// QE identity outcome (QVL EnclaveReportVerifier).
enum class QeStatus { kOk, kOutOfDate, kRevoked };
// QVL's convergence of a platform TCB status with the QE identity status.
TcbStatus ConvergeWithQe(TcbStatus tcb, QeStatus qe);

// PermissionDenied "tdx: tcb not supported: <why>": a TCB whose evaluation is terminal in QVL.
absl::Status TcbNotSupported(std::string_view why);
// Upper-case hex, as Intel writes FMSPCs and PCE-IDs.
std::string UpperHex(std::string_view bytes);

// Parses the PCK chain and returns its SGX extensions (no verification): which FMSPC and CA the
// collateral must be fetched for.
struct PckInfo {
  PckExtensions ext;
  // "platform" or "processor" (the PCS `ca` parameter), from the PCK issuer common name.
  std::string ca;
};
absl::StatusOr<PckInfo> ReadPckInfo(const std::string& pck_chain_pem,
                                    PckChainCache* cache = nullptr);

// The DCAP checks of a quote, in QVL's order; a TEE layer (evidence/tdx) runs them around its own
// body checks. Signature and chain failures are PermissionDenied naming the check ("tdx: quote
// signature verification failed", "tdx: qe report signature verification failed", "tdx: qe
// report data does not match sha256(attestation key || qe auth data)", "tdx: pck certificate
// chain: ...", "tdx: pck certificate is revoked by the pck crl"); a malformed quote is
// InvalidArgument. `cache` (optional) skips re-parsing and re-verifying a PCK chain seen before;
// without it the chain is fully verified and its certificates are decoded for this call only.

// Collateral validity at `now`, the QE vendor id, the PCK chain to `anchor` (validity, subject,
// root CA CRL, PCK CRL issuer and revocation) and the FMSPC / PCE-ID of the PCK certificate
// against the TCB Info. Returns the (verified) chain.
absl::StatusOr<std::shared_ptr<const PckChainCache::Chain>> VerifyPckChain(
    const QuoteSignatureData& quote, const VerifiedCollateral& collateral,
    const TrustAnchor& anchor, core::TimePoint now, PckChainCache* cache = nullptr);

// The QE report: signed by the PCK key, binding the attestation key, matching the QE identity
// (miscselect, attributes, mrsigner, isvprodid) and its TCB level (NotSupported when the QE's
// isvsvn is below every level).
struct QeVerdict {
  QeStatus status = QeStatus::kOk;
  std::string tcb_status;  // of the QE identity level
  std::string tcb_date;
};
absl::StatusOr<QeVerdict> VerifyQeReport(const QuoteSignatureData& quote,
                                         const PckChainCache::Chain& pck,
                                         const QeIdentity& qe_identity);

// The quote signature by the attestation key (InvalidArgument when the key is not a P-256 point).
absl::Status VerifyQuoteSignature(const QuoteSignatureData& quote, PckChainCache* cache = nullptr);

// QVL matchTcbLevels: the first TCB level, in TCB Info order, that the PCK's SGX components and
// PCESVN reach is the SGX level; the first such level that `tee_reaches` also accepts is the TEE
// level (null when none does; the TEE layer names its own components in that error). No SGX level
// is TcbNotSupported.
struct TcbLevels {
  const TcbLevel* sgx = nullptr;
  const TcbLevel* tee = nullptr;
};
absl::StatusOr<TcbLevels> MatchTcbLevels(const TcbInfo& info, const PckExtensions& pck,
                                         const std::function<bool(const TcbLevel&)>& tee_reaches);

}  // namespace ccburst::evidence::dcap
