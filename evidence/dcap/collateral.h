// DCAP collateral (for TDX quotes today): Intel PCS/PCCS TCB Info v3 (`id` TDX) and QE Identity v2
// (`TD_QE`) bodies with their issuer chains, the PCK CRL with its issuer chain, and the Intel
// SGX Root CA CRL. `VerifyCollateral` checks all of it once at a verification time (chains to
// the trust anchor, signatures over the exact signed JSON bytes, CRL issuer/signature/validity,
// revocation of the signing certificates, issue/next-update dates) and yields a parsed,
// immutable `VerifiedCollateral` that quote verification can reuse until its validity window
// closes. Pure: no I/O, no clock.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "evidence/dcap/certificates.h"

namespace ccburst::evidence::dcap {

namespace json = boost::json;

// Collateral exactly as served by Intel PCS v4 / a PCCS (bodies verbatim).
struct Collateral {
  std::string tcb_info_json;             // {"tcbInfo":{...},"signature":"<hex r||s>"}
  std::string tcb_info_issuer_chain;     // PEM: TCB signing certificate, root CA
  std::string qe_identity_json;          // {"enclaveIdentity":{...},"signature":"..."}
  std::string qe_identity_issuer_chain;  // PEM
  std::string pck_crl;                   // DER (or PEM)
  std::string pck_crl_issuer_chain;      // PEM: PCK CA, root CA
  std::string root_ca_crl;               // DER (or PEM)
};

// SHA-256 over all members (length-prefixed): identifies a collateral set for caching.
std::string CollateralFingerprint(const Collateral& c);

struct TcbLevel {
  std::array<uint8_t, 16> sgx_svns{};
  uint16_t pcesvn = 0;
  std::array<uint8_t, 16> tdx_svns{};
  std::string tcb_date;  // RFC 3339 text as in the TCB Info
  std::string status;    // UpToDate, SWHardeningNeeded, ConfigurationNeeded, ...
  std::vector<std::string> advisory_ids;
};

struct TdxModuleTcbLevel {
  uint8_t isvsvn = 0;
  std::string tcb_date;
  std::string status;
  std::vector<std::string> advisory_ids;
};

struct TdxModuleIdentity {
  std::string id;  // "TDX_01"
  std::string mrsigner;
  std::string attributes;
  std::string attributes_mask;
  std::vector<TdxModuleTcbLevel> tcb_levels;  // in TCB Info order (latest first)
};

struct TcbInfo {
  std::string id;
  int version = 0;
  std::string issue_date;
  std::string next_update;
  core::TimePoint issue_time;
  core::TimePoint next_update_time;
  std::string fmspc;   // 6 raw bytes
  std::string pce_id;  // 2 raw bytes
  int64_t tcb_evaluation_data_number = 0;
  std::string module_mrsigner;  // raw (tdxModule)
  std::string module_attributes;
  std::string module_attributes_mask;
  std::vector<TdxModuleIdentity> module_identities;
  // Ordered as Intel QVL orders them: descending by SGX SVNs (lexicographic), then PCESVN, then
  // TDX SVNs.
  std::vector<TcbLevel> tcb_levels;
};

struct QeTcbLevel {
  uint16_t isvsvn = 0;
  std::string tcb_date;
  std::string status;
  std::vector<std::string> advisory_ids;
};

struct QeIdentity {
  std::string id;
  int version = 0;
  std::string issue_date;
  std::string next_update;
  core::TimePoint issue_time;
  core::TimePoint next_update_time;
  int64_t tcb_evaluation_data_number = 0;
  uint32_t miscselect = 0;
  uint32_t miscselect_mask = 0;
  std::string attributes;       // 16 raw bytes
  std::string attributes_mask;  // 16 raw bytes
  std::string mrsigner;         // 32 raw bytes
  uint16_t isvprodid = 0;
  std::vector<QeTcbLevel> tcb_levels;
};

// A signed PCS body split into the exact signed text of the inner object and its signature.
struct SignedBody {
  std::string signed_bytes;  // the text of the inner object, byte for byte
  std::string signature;     // 64 raw bytes r||s
  json::object inner;
};

// Splits `body` ({"<key>":{...},"signature":"<hex>"}). InvalidArgument "<what>: ..." when the
// JSON, the key or the signature is malformed.
absl::StatusOr<SignedBody> SplitSignedBody(std::string_view body, std::string_view key,
                                           std::string_view what);
// Structural parsing of the inner objects (no signature or date checks).
absl::StatusOr<TcbInfo> ParseTcbInfo(const json::object& inner);
absl::StatusOr<QeIdentity> ParseQeIdentity(const json::object& inner);

struct VerifiedCollateral {
  TcbInfo tcb_info;
  QeIdentity qe_identity;
  CrlPtr pck_crl;
  CrlPtr root_ca_crl;
  CertPtr pck_crl_issuer;  // the PCK CA certificate that signed the PCK CRL
  CertPtr root;            // the trusted root certificate
  int64_t pck_crl_number = 0;
  int64_t root_ca_crl_number = 0;
  // Every item (TCB Info, QE Identity, both CRLs, issuer certificates) is valid in
  // [valid_from, valid_until); the items that bound the window are named for errors.
  core::TimePoint valid_from;
  std::string valid_from_item;
  core::TimePoint valid_until;
  std::string valid_until_item;
  std::string earliest_issue_date;
  std::string latest_issue_date;
};

// Where collateral comes from (Intel PCS, a PCCS, an offline directory, caches). Defined here,
// implemented with I/O in collateral/dcap: evidence defines the interface, collateral implements
// it. Implementations must be thread-safe.
class CollateralSource {
 public:
  virtual ~CollateralSource() = default;
  // Collateral for the platform family `fmspc` (6 raw bytes) whose PCK certificate was issued by
  // the PCK CA `ca` ("platform" or "processor"), preferably valid at `now`. NotFound naming the
  // missing item when there is none, Unavailable when a backend is down.
  virtual absl::StatusOr<std::shared_ptr<const Collateral>> Get(std::string_view fmspc,
                                                                std::string_view ca,
                                                                core::TimePoint now) const = 0;
};

// A source holding one fixed collateral set (tests, the operator command).
class FixedCollateralSource final : public CollateralSource {
 public:
  explicit FixedCollateralSource(Collateral c)
      : collateral_(std::make_shared<const Collateral>(std::move(c))) {}
  absl::StatusOr<std::shared_ptr<const Collateral>> Get(std::string_view, std::string_view,
                                                        core::TimePoint) const override {
    return collateral_;
  }

 private:
  std::shared_ptr<const Collateral> collateral_;
};

// Verifies `collateral` at `now` against `anchor`. Errors are PermissionDenied naming the item
// and the check ("tdx: tcb info: signature verification failed", "tdx: qe identity: expired
// (nextUpdate 2025-03-15T03:39:00Z)", "tdx: pck crl: signature verification failed",
// "tdx: root ca crl: expired ..."), or InvalidArgument for malformed collateral.
// `certs` shares certificate and CRL decoding across calls (when null, they are decoded for this
// call only); every signature, chain and CRL is verified at every call.
absl::StatusOr<std::shared_ptr<const VerifiedCollateral>> VerifyCollateral(
    const Collateral& collateral, const TrustAnchor& anchor, core::TimePoint now,
    crypto::CertificateCache* certs = nullptr);

// Re-checks the validity window of already verified collateral at `now`; PermissionDenied
// naming the item that is expired or not yet valid.
absl::Status CheckCollateralTime(const VerifiedCollateral& c, core::TimePoint now);

}  // namespace ccburst::evidence::dcap
