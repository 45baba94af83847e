// Verification of NVIDIA Hopper GPU device evidence, offline at an explicit time.
//
// Checks, in the reference verifier's order (the first failing one is reported, as a `Check` and
// a message naming it): the report parses (report.h) and the device evidence is well formed
// (`parse`); the report signature, ECDSA P-384/SHA-384 over request || response-without-signature
// by the key of the chain's first certificate (`report-signature`); the chain has at least a leaf
// and a root (`chain-too-short`); its last certificate is byte-identical to a trust anchor, by
// default the NVIDIA Device Identity CA (`untrusted-root`); the leaf carries the FWID extension
// (2.23.133.5.4.1, RIoT CompositeDeviceID with a SHA-384 FWID) (`leaf-no-fwid`) equal to the
// report's opaque FWID (`fwid-mismatch`); every certificate is issued by the next one (names and
// signature) and every issuer is a CA allowed to sign certificates (`chain-signature`); every
// certificate is valid at the verification time (`chain-expired`); the leaf is an end entity
// allowed to sign, and its FWID extension names its issuer's key as the device key (`leaf`); the
// request nonce equals the expected nonce (`nonce`).
//
// Certificates are decoded through a crypto::CertificateCache, so a chain seen before costs its
// signature checks but no decoding. Revocation (NVIDIA OCSP) is checked by the device verifier
// when an OcspSource is configured (ocsp.h), not here; reference
// measurements (RIMs, rim.h) are not checked here: the measurements go to policy as claims.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/certificate.h"
#include "evidence/nvidia/report.h"

namespace ccburst::evidence::nvidia {

// The check that refused a device, named as in ../shared/testdata/nvidia (`invalid-<name>`).
enum class Check {
  kNone,
  kParse,
  kReportSignature,
  kChainTooShort,
  kUntrustedRoot,
  kLeafNoFwid,
  kFwidMismatch,
  kChainSignature,
  kChainExpired,
  kLeaf,
  kNonce,
};
// "parse", "report-signature", ..., "nonce"; "none" for kNone.
std::string_view CheckName(Check check);

// The FWID extension of a device leaf certificate.
inline constexpr std::string_view kFwidExtensionOid = "2.23.133.5.4.1";

// One GPU's evidence as the reference attester sends it in `device_evidence_list`.
struct DeviceEvidence {
  std::string arch;                 // "HOPPER" as sent
  std::optional<std::string> uuid;  // when sent
  std::string report;               // raw report bytes
  std::string cert_chain;           // the PEM chain text, leaf first
};

// Parses the `nvidia` entry of `additional_evidence`:
// {"device_evidence_list":[{"arch","uuid"?,"evidence","certificate"}]} with `evidence` the hex (or
// base64) report and `certificate` the base64 PEM chain. At most `max_devices` entries; more, none,
// an architecture other than Hopper (the only one verified locally) or a malformed member are
// InvalidArgument naming the device ("nvidia: device 1: ...").
absl::StatusOr<std::vector<DeviceEvidence>> ParseDeviceEvidenceList(const boost::json::value& v,
                                                                    size_t max_devices);

// The SPDM nonce expected for report data `report_data`: its first 32 bytes, zero-padded when
// shorter (the reference verifier's `regularize_data`).
std::string ExpectedNonce(std::string_view report_data);

// A verified certificate chain.
struct VerifiedChain {
  std::vector<std::shared_ptr<const crypto::Certificate>> certs;  // leaf first, anchor last
  std::string fwid;                                               // 48 bytes from the leaf
};

// A verified device.
struct DeviceVerification {
  Report report;
  VerifiedChain chain;
  // {"arch":"Hopper","uuid"?, "measurements":{index: hex}, "config":{opaque items}} as the
  // reference verifier names them.
  boost::json::object claims;
};

struct NvidiaVerifierOptions {
  // Trust anchors (PEM or DER); empty means the NVIDIA Device Identity CA (device_root.h).
  std::vector<std::string> trust_anchors;
  // Shared decoding cache; null makes a private one.
  std::shared_ptr<crypto::CertificateCache> cache;
};

class NvidiaVerifier {
 public:
  // Parses the anchors; a bad anchor is InvalidArgument, a shipped root whose DER hash differs
  // from the pin is Internal.
  static absl::StatusOr<std::unique_ptr<NvidiaVerifier>> Create(NvidiaVerifierOptions options = {});

  // Checks the chain (PEM, leaf first) at `now` from `chain-too-short` to `leaf`, with the leaf's
  // FWID compared to `expected_fwid` when given. PermissionDenied for a failed check and
  // InvalidArgument for unreadable PEM, messages starting "nvidia: "; `*failed` (when not null)
  // receives the check that failed, kNone on success.
  absl::StatusOr<VerifiedChain> VerifyChain(std::string_view chain_pem,
                                            std::optional<std::string_view> expected_fwid,
                                            core::TimePoint now, Check* failed = nullptr) const;

  // Every check on one device's evidence against `expected_nonce` (32 bytes; ExpectedNonce); with
  // `expected_nonce` null the request nonce is reported but not checked (operator command without
  // a session). Errors and `*failed` as VerifyChain.
  absl::StatusOr<DeviceVerification> VerifyDevice(const DeviceEvidence& evidence,
                                                  const std::string* expected_nonce,
                                                  core::TimePoint now,
                                                  Check* failed = nullptr) const;

 private:
  NvidiaVerifier() = default;
  absl::StatusOr<VerifiedChain> CheckChain(std::string_view chain_pem,
                                           std::optional<std::string_view> expected_fwid,
                                           core::TimePoint now, Check* failed) const;

  std::shared_ptr<crypto::CertificateCache> cache_;
  std::vector<std::string> anchors_der_;
};

}  // namespace ccburst::evidence::nvidia
