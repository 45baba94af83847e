// Test-only Azure CVM evidence: an RSA-2048 attestation key (the vTPM's HCLAkPub), the HCL report
// around a generated SNP report (snp::testing::TestHierarchy) or a TDREPORT-shaped blob, a TD quote
// from the TDX test hierarchy whose report data binds the variable data, and a TPM quote over the
// 24 SHA-256 PCRs signed by the AK, in the reference attester's v0/v1/v2 JSON. Knobs break one
// binding at a time for negative tests. Never link into production binaries.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "crypto/key.h"
#include "evidence/azure/evidence.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/testing/quote_generator.h"

namespace ccburst::evidence::azure::testing {

struct AzSpec {
  int version = 2;    // 0, 1 or 2
  std::string nonce;  // the TPM quote's extraData: the session's report-data digest
  // HCL `user-data` (64 bytes, zero-padded); default: the nonce for v2, zeros otherwise.
  std::optional<std::string> user_data;
  // When set, PCR8 = SHA-256(32 zero bytes || digest); otherwise PCR8 is zero.
  std::optional<std::string> init_data_digest;
  // PCR values other than PCR8 are a fixed pattern; PCR11 can be chosen (policy reference value).
  std::optional<std::string> pcr11;
  // false: the hardware report's REPORT_DATA does not bind the variable data.
  bool bind_var_data = true;
  // TDX: false gives a TD quote whose report data binds another VM's variable data.
  bool td_quote_binds_var_data = true;
  // Sign the TPM quote with this key instead of the AK (must be RSA).
  const crypto::PrivateKey* tpm_signer = nullptr;
  // SNP report fields (report_data is set from the variable data).
  snp::testing::ReportSpec snp;
  // TD quote fields (report_data is set from the variable data).
  tdx::testing::QuoteSpec td;
  // false: the variable data carries no HCLEkPub (keeps an HCL report within the 2048 bytes a
  // software TPM's NV index holds).
  bool include_ek = true;
};

// The variable data JSON (HCLAkPub = HCLEkPub = `ak`, vm-configuration, user-data) for `spec`.
std::string VarDataFor(const crypto::PublicKey& ak, const AzSpec& spec);

// What the paravisor and the Azure IMDS give a VM whose vTPM attestation key is `ak`: the HCL
// report (NV index 0x01400001, not padded) and, for TDX, the TD quote IMDS returns for its
// TDREPORT, for SNP the VCEK (DER). ccburst-testgen provisions these into a software TPM.
struct HclBundle {
  std::string hcl_report;
  std::string td_quote;  // TDX
  std::string vcek_der;  // SNP
};
absl::StatusOr<HclBundle> SnpHclBundle(const snp::testing::TestHierarchy& h,
                                       const crypto::PublicKey& ak, const AzSpec& spec);
absl::StatusOr<HclBundle> TdxHclBundle(const tdx::testing::TdxTestHierarchy& h,
                                       const crypto::PublicKey& ak, const AzSpec& spec);

class AzAttester {
 public:
  // Generates the AK (RSA-2048).
  AzAttester();
  explicit AzAttester(crypto::PrivateKey ak) : ak_(std::move(ak)) {}

  const crypto::PrivateKey& ak() const { return ak_; }

  // The variable data JSON (HCLAkPub, HCLEkPub, vm-configuration, user-data) for `spec`.
  std::string VarData(const AzSpec& spec) const;
  // The 24 PCR values for `spec`.
  Pcrs MakePcrs(const AzSpec& spec) const;
  // A signed TPM quote over `spec.nonce` and MakePcrs(spec).
  absl::StatusOr<TpmQuote> MakeTpmQuote(const AzSpec& spec) const;

  absl::StatusOr<Evidence> SnpEvidence(const snp::testing::TestHierarchy& h,
                                       const AzSpec& spec) const;
  absl::StatusOr<Evidence> TdxEvidence(const tdx::testing::TdxTestHierarchy& h,
                                       const AzSpec& spec) const;
  // As the reference attester sends it (EvidenceToJson), JSON text.
  absl::StatusOr<std::string> SnpEvidenceJson(const snp::testing::TestHierarchy& h,
                                              const AzSpec& spec) const;
  absl::StatusOr<std::string> TdxEvidenceJson(const tdx::testing::TdxTestHierarchy& h,
                                              const AzSpec& spec) const;

 private:
  crypto::PrivateKey ak_;
};

}  // namespace ccburst::evidence::azure::testing
