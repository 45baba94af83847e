// The `snp` TEE: AMD SEV-SNP attestation reports verified offline at an explicit time.
//
// Checks, in order (the first failing one is reported): report version and SIGNATURE_ALGO; the
// endorsement key chain VCEK -> ASK -> ARK (or VLEK -> ASVK -> ARK), RSA-PSS SHA-384, anchored in
// an ARK whose public key is pinned (amd_roots.h); every certificate's validity at the
// verification time; the processor generation of the certificate against the report's CPUID
// fields (v3+); the report signature (ECDSA P-384/SHA-384 over bytes [0, 0x2A0)); the VCEK/VLEK
// SPL extensions against REPORTED_TCB and the VCEK hwID against CHIP_ID; VMPL; then REPORT_DATA
// against the session binding and HOST_DATA against the init-data digest.
//
// The VCEK/VLEK (and optionally the ASK/ASVK and ARK) come from the evidence; when the evidence
// carries no endorsement key, from a CertSource (collateral/snp: an operator directory or AMD KDS),
// which is the only way this module reaches the outside world. Verified chains (parsed
// certificates, the VCEK/VLEK public key and extensions, the chain verdict) and verified CRLs are
// kept in bounded least-recently-used caches keyed by their exact bytes, so a repeated chain costs
// one hash lookup plus the per-report checks (validity windows, CRL dates and revocation, TCB,
// chip id, VMPL, signature).
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/snp/amd_roots.h"
#include "evidence/snp/certificates.h"
#include "evidence/snp/evidence.h"
#include "evidence/snp/report.h"
#include "evidence/verifier.h"

namespace ccburst::evidence::snp {

// What a CertSource is asked for: the endorsement key that signed a report.
struct VekQuery {
  Generation product = Generation::kUnknown;  // kUnknown for v2 reports (no CPUID fields)
  SigningKey kind = SigningKey::kVcek;        // kVcek or kVlek
  std::string chip_id;                        // 64 bytes from the report
  Tcb reported_tcb;
};

// Supplies endorsement keys the evidence does not carry. Implementations must be thread-safe.
class CertSource {
 public:
  virtual ~CertSource() = default;
  // The VCEK/VLEK certificate (DER or PEM) for `query`. NotFound when the source has none,
  // Unavailable when its backend cannot be reached.
  virtual absl::StatusOr<std::string> FetchVek(const VekQuery& query) const = 0;
  // The ARK-signed certificate revocation list (DER or PEM) for `product` that covers the
  // intermediate of a `kind` chain: for kVcek the list of revoked ASKs (KDS
  // `/vcek/v1/{product}/crl`), for kVlek the list of revoked ASVKs (KDS `/vlek/v1/{product}/crl`).
  // NotFound (the default) or Unavailable skip this source's revocation check.
  virtual absl::StatusOr<std::string> FetchCrl(Generation product, SigningKey kind) const {
    return absl::NotFoundError("snp: no CRL source");
  }
};

// An in-memory CertSource over certificate blobs (DER or PEM, PEM may hold several): returns the
// VCEK/VLEK whose hwID and SPLs match the query, else the first of the requested kind (so the
// verifier reports the precise mismatch), else NotFound. Unparseable blobs are InvalidArgument.
absl::StatusOr<std::shared_ptr<const CertSource>> NewStaticCertSource(
    const std::vector<std::string>& blobs);

struct SnpVerifierOptions {
  // Trusted roots; empty means AMD's (AmdProductAnchors()).
  std::vector<ProductAnchor> anchors;
  // Accept anchors whose ARK key is not one of AMD's pinned fingerprints (test hierarchies).
  bool allow_unpinned_arks = false;
  // The VMPL a report must carry; nullopt accepts any VMPL.
  std::optional<uint32_t> required_vmpl = 0;
  // Lowest accepted report version (2..5). Trustee refuses v2 (no CPUID fields); ccburst accepts
  // it by default and takes the processor generation from the certificate.
  uint32_t min_report_version = 2;
  // Where to get an endorsement key the evidence does not carry; may be null.
  std::shared_ptr<const CertSource> cert_source;
  // Verified chains kept in memory; the least recently used one is dropped when full. 0 disables
  // the cache (every report re-parses and re-verifies its chain).
  size_t chain_cache_entries = 1024;
  // Parsed and signature-checked CRLs kept in memory (least recently used dropped when full).
  size_t crl_cache_entries = 64;
  // ARK-signed CRLs (DER or PEM, any generation) checked against the ASK/ASVK, in addition to a
  // CRL entry in the evidence's certificate table and the CertSource's FetchCrl. A CRL naming a
  // chain's ARK must verify with that ARK's key and its [thisUpdate, nextUpdate] window must hold
  // the verification time; otherwise verification fails naming the CRL. CRLs of other ARKs are
  // ignored.
  std::vector<std::string> crls;
  // Keep using a CRL after its nextUpdate (its revocations still apply) instead of failing: for
  // an offline KBS that cannot refresh CRLs. Trustee does not check CRLs at all.
  bool accept_expired_crls = false;
};

// The outcome of a successful verification.
struct Verification {
  Report report;  // TCBs decoded with the final generation
  Generation product = Generation::kUnknown;
  SigningKey signing_key = SigningKey::kVcek;
  VekExtensions vek;
  std::string vek_subject_cn;
  boost::json::object claims;
};

// Trustee's SNP claim set (PROTOCOL.md "Claim names"): policy_abi_major/minor,
// policy_{smt_allowed,migrate_ma,debug_allowed,single_socket}, reported_tcb_{bootloader,tee,snp,
// microcode}, platform_{tsme,smt}_enabled, measurement, report_data, init_data (= HOST_DATA),
// chip_id (hex).
boost::json::object ReportClaims(const Report& report);

class SnpVerifier final : public Verifier {
 public:
  // Parses and checks the anchors (ARK self-signed, pinned unless allowed otherwise, ASK/ASVK
  // signed by the ARK). Bad anchors are InvalidArgument.
  static absl::StatusOr<std::unique_ptr<SnpVerifier>> Create(SnpVerifierOptions options = {});
  ~SnpVerifier() override;

  std::string_view tee() const override { return "snp"; }

  // Evidence in either JSON form (evidence.h). Errors start with "snp: ".
  absl::StatusOr<boost::json::object> Verify(const boost::json::value& evidence,
                                             const ExpectedBinding& binding,
                                             core::TimePoint now) const override;

  // All checks on parsed evidence. With `binding` null, REPORT_DATA and HOST_DATA are reported but
  // not checked (the operator command has no session). InvalidArgument for malformed input (and
  // for evidence without an endorsement key when no CertSource is configured), PermissionDenied
  // for a failed check or a CertSource without the key, Unavailable when the CertSource is down.
  absl::StatusOr<Verification> VerifyEvidence(const Evidence& evidence,
                                              const ExpectedBinding* binding,
                                              core::TimePoint now) const;

  // How many verified chains are cached (at most chain_cache_entries).
  size_t CachedChainCount() const;

  struct Anchor;
  struct Chain;
  struct CrlEntry;
  struct Caches;

 private:
  explicit SnpVerifier(SnpVerifierOptions options);
  absl::StatusOr<std::shared_ptr<const Chain>> GetChain(const Report& report,
                                                        const Evidence& evidence) const;
  absl::StatusOr<std::shared_ptr<const Chain>> BuildChain(
      std::string_view vek_blob, const std::vector<const EvidenceCert*>& cas,
      SigningKey kind) const;

  absl::Status CheckRevocation(const Chain& chain, const Evidence& evidence,
                               core::TimePoint now) const;
  absl::StatusOr<std::shared_ptr<const CrlEntry>> GetCrl(std::string_view blob,
                                                         const Chain& chain) const;

  SnpVerifierOptions options_;
  std::vector<std::unique_ptr<Anchor>> anchors_;
  // Thread-safe LRU caches of chains (key: the exact VEK and CA bytes + kind) and CRLs (key: the
  // ARK's SPKI hash + the exact CRL bytes).
  std::unique_ptr<Caches> caches_;
};

}  // namespace ccburst::evidence::snp
