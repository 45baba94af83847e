// OCSP (RFC 6960) for the NVIDIA device certificate chain, as NVIDIA's reference verifier checks
// it: the status of every certificate between the leaf and the root (the leaf is made by the GPU
// itself and is unknown to NVIDIA's responder, so it is not asked), one request per certificate
// with a SHA-384 CertID and, by default, a nonce. The request builder and the response check here
// are pure (bytes, the chain and the verification time in); OcspSource is the seam
// collateral/nvidia implements with NVIDIA's responder behind a net::FetchGate.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/certificate.h"
#include "evidence/nvidia/verifier.h"

namespace ccburst::evidence::nvidia {

// A response without nextUpdate is taken as valid for this long after its thisUpdate.
inline constexpr std::chrono::hours kOcspDefaultValidity{1};
// Clock skew allowed between the responder and the verification time (thisUpdate in the future).
inline constexpr std::chrono::minutes kOcspSkew{5};

// One OCSP request for one certificate.
struct OcspRequest {
  std::string der;    // the OCSPRequest, POSTed as application/ocsp-request
  std::string key;    // hex SHA-256 of the DER CertID: names the certificate to caches and gates
  std::string nonce;  // the nonce extension's value; empty when none was sent
};

// A request for `cert`, issued by `issuer`, with a SHA-384 CertID and, with `nonce`, a random
// 32-byte nonce. Internal on an OpenSSL failure.
absl::StatusOr<OcspRequest> MakeOcspRequest(const crypto::Certificate& cert,
                                            const crypto::Certificate& issuer, bool nonce);

enum class OcspCertStatus { kGood, kRevoked, kUnknown };
// "good", "revoked", "unknown".
std::string_view OcspCertStatusName(OcspCertStatus status);

// A verified answer about one certificate.
struct OcspStatus {
  OcspCertStatus status = OcspCertStatus::kUnknown;
  core::TimePoint this_update;
  // nextUpdate, or this_update + kOcspDefaultValidity when the responder sent none: the answer
  // may be reused until then.
  core::TimePoint next_update;
  std::optional<core::TimePoint> revoked_at;  // kRevoked only
  int reason = -1;                            // CRL reason code of kRevoked; -1 when not given
};

// Checks the DER OCSPResponse `der` that answers `request` for `cert` at `now`: the response
// status is successful; the basic response verifies (OCSP_basic_verify) with its signer the
// issuer itself or a delegated responder (id-kp-OCSPSigning) issued by it, chaining to the
// anchor at `now`; `issuer_chain` is the cert's issuer first, the anchor last. The nonce is
// echoed when one was sent; the response has a SingleResponse for the CertID; thisUpdate is at
// most kOcspSkew after `now` and `now` is not after nextUpdate. PermissionDenied "ocsp: <check>"
// when a check fails, InvalidArgument "ocsp: malformed response" for bytes that are no response.
absl::StatusOr<OcspStatus> VerifyOcspResponse(
    std::string_view der, const OcspRequest& request, const crypto::Certificate& cert,
    std::span<const std::shared_ptr<const crypto::Certificate>> issuer_chain, core::TimePoint now);

// Where a certificate's verified OCSP status comes from (collateral/nvidia: NVIDIA's responder,
// fetched through a net::FetchGate and cached until nextUpdate).
class OcspSource {
 public:
  virtual ~OcspSource() = default;
  // The verified status of `chain.certs[index]` (issued by `chain.certs[index + 1]`) at `now`.
  // Unavailable when the responder cannot be asked or does not answer in time, PermissionDenied
  // or InvalidArgument when its answer does not verify (VerifyOcspResponse).
  virtual absl::StatusOr<OcspStatus> CertStatus(const VerifiedChain& chain, size_t index,
                                                core::TimePoint now) const = 0;
};

// The OCSP check of one verified device chain: each certificate from chain.certs[1] to the one
// before the anchor. A revoked certificate is PermissionDenied "ocsp: certificate `<CN>` revoked
// at <RFC 3339>[ (reason <n>)]"; otherwise the `ocsp` claim: {"status": "good"} when every
// certificate is good, or {"status": "unknown", "error": why} when a status could not be had, did
// not verify, or is "unknown" at the responder. With `*skip` set (an earlier fetch of this
// request was Unavailable) nothing is asked and the claim is unknown; an Unavailable answer sets
// it, so a hanging responder costs one request at most one fetch wait.
absl::StatusOr<boost::json::object> CheckChainOcsp(const OcspSource& source,
                                                   const VerifiedChain& chain, core::TimePoint now,
                                                   bool* skip);

}  // namespace ccburst::evidence::nvidia
