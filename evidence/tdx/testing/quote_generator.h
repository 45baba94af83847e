// Test-only: a complete DCAP hierarchy of our own (root CA, PCK Platform CA, TCB signing
// certificate, PCK certificate with Intel's SGX extensions, Root CA and PCK CRLs) that issues TDX
// quotes (v4, or v5 with a TD report 1.5 body) with chosen report data and the matching signed
// collateral (TCB Info v3, QE Identity v2). Verifying them needs dcap::TrustAnchor(root key): the
// Intel root never trusts them. Used by unit tests (revocation, TCB status paths), end-to-end
// tests of the KBS and the load benchmark. Never link into production binaries.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"
#include "evidence/dcap/certificates.h"
#include "evidence/dcap/collateral.h"

namespace ccburst::evidence::tdx::testing {

struct HierarchyOptions {
  // Certificate validity: [not_before, not_after].
  core::TimePoint not_before = core::FromUnixSeconds(1'700'000'000);
  core::TimePoint not_after = core::FromUnixSeconds(2'000'000'000);
  std::string fmspc = std::string("\x00\x90\x6e\xa1\x00\x00", 6);
  std::string pce_id = std::string("\x00\x00", 2);
  std::array<uint8_t, 16> sgx_svns = {3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  uint16_t pcesvn = 11;
  // Subject common name of the PCK leaf (Intel's contain "SGX PCK Certificate"). Not saved by
  // Save: Load reads it back from the certificate.
  std::string pck_subject_cn = "Test SGX PCK Certificate";
};

struct QuoteSpec {
  int version = 4;                              // 4, or 5 (TD report 1.5 body)
  std::string report_data;                      // up to 64 bytes, zero-padded
  std::string mr_config_id;                     // up to 48 bytes, zero-padded
  std::string mr_td = std::string(48, '\x11');  // up to 48 bytes, zero-padded
  // TEE_TCB_SVN: module ISVSVN, module major version, TDX components...
  std::array<uint8_t, 16> tee_tcb_svn = {6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::array<uint8_t, 16> tee_tcb_svn2 = {6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::array<std::string, 4> rtmr;  // each up to 48 bytes, zero-padded
  uint16_t qe_isvsvn = 6;
  std::string td_attributes = std::string(8, '\0');

  // Fields a genuine platform never varies, each checked by the verifier against the collateral
  // or a constant; a test sets one of them to show that its check alone refuses the quote (the
  // quote is signed consistently, so no other check fails first).
  std::string mr_signer_seam = std::string(48, '\0');  // the TDX module identity's mrsigner
  std::string seam_attributes = std::string(8, '\0');  // must be zero
  std::string qe_vendor_id;                            // empty: Intel's (kIntelQeVendorId)
  uint32_t qe_miscselect = 0;                          // QE Identity: 00000000 / FFFFFFFF
  // QE Identity: attributes 11000000..., mask FBFFFFFFFFFFFFFF0000000000000000.
  std::string qe_attributes = std::string("\x11", 1) + std::string(15, '\0');
  std::string qe_mrsigner;  // empty: the hierarchy's QE signer (the QE Identity's mrsigner)
};

struct CollateralSpec {
  core::TimePoint issue_date;  // TCB Info / QE Identity issueDate and CRL thisUpdate
  core::TimePoint next_update;
  // Status of the TCB level the default platform matches (the lower level is OutOfDate).
  std::string tcb_status = "UpToDate";
  std::vector<std::string> advisory_ids;
  // Status of TDX_01's level for module ISVSVN >= 4.
  std::string module_status = "UpToDate";
  std::string qe_status = "UpToDate";  // QE identity level for ISVSVN >= 4
  bool revoke_pck = false;             // list the PCK certificate in the PCK CRL
  bool revoke_pck_ca = false;          // list the PCK CA in the Root CA CRL

  // TCB Info pceId (raw, 2 bytes); empty: the hierarchy's, which its PCK certificate carries.
  std::string tcb_info_pce_id;
  // `attributes` of the TDX module (tdxModule and TDX_01), 8 raw bytes; the mask is all ones.
  std::string module_attributes = std::string(8, '\0');
  // `mrsigner` of the TDX_01 module identity, 48 raw bytes (tdxModule's, for TDX 1.0 modules,
  // stays zero as Intel's).
  std::string module_identity_mrsigner = std::string(48, '\0');
  // Who signs the PCK CRL (with the PCK CRL issuer chain naming that CA): the PCK leaf's issuer,
  // or a CA under the same root that is not the leaf's issuer: one with another name (a PCK
  // Processor CA) or one with the issuer's name and another key.
  enum class PckCrlIssuer { kPckCa, kOtherPckCa, kSameNameOtherKey };
  PckCrlIssuer pck_crl_issuer = PckCrlIssuer::kPckCa;
};

class TdxTestHierarchy {
 public:
  // Generates all keys and certificates. Aborts only if OpenSSL fails to generate.
  static std::unique_ptr<TdxTestHierarchy> Create(HierarchyOptions options = {});
  // Reads a hierarchy written by Save, so that one process can create it and others issue quotes
  // from it. A missing file is NotFound naming it; unparseable content, or a key that does not
  // belong to its certificate, is InvalidArgument.
  static absl::StatusOr<std::unique_ptr<TdxTestHierarchy>> Load(const std::string& dir);
  ~TdxTestHierarchy();

  // Writes the options (hierarchy.json), the private keys (PKCS#8 PEM, *.key) and certificates
  // (PEM, *.crt) to `dir`, created if needed. The keys are unencrypted: test material only.
  // I/O failures are Internal naming the file.
  absl::Status Save(const std::string& dir) const;

  dcap::TrustAnchor anchor() const;
  const crypto::PublicKey& root_key() const;
  std::string root_pem() const;

  // A signed quote; ReportData etc. as in `spec`.
  absl::StatusOr<std::string> IssueQuote(const QuoteSpec& spec) const;
  // Matching collateral signed by the test TCB signing key / CAs.
  absl::StatusOr<dcap::Collateral> MakeCollateral(const CollateralSpec& spec) const;

 private:
  struct Impl;
  explicit TdxTestHierarchy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccburst::evidence::tdx::testing
