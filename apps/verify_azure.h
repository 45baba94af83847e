// `ccburst verify --tee az-tdx-vtpm|az-snp-vtpm`: offline verification of the Azure vTPM evidence
// the reference attester sends (evidence/azure), for operators. The TD quote's DCAP collateral
// comes from an offline directory (--collateral), the SNP report's VCEK from the evidence and its
// roots from AMD's pinned ARKs; the TPM quote's nonce must be the given report data.
#pragma once

#include <string>

namespace ccburst::apps {

struct AzureVerifyArgs {
  std::string tee;              // "az-tdx-vtpm" or "az-snp-vtpm"
  std::string evidence_file;    // the evidence JSON (v0, v1 or v2)
  std::string collateral_dir;   // az-tdx-vtpm: DCAP collateral directory (required)
  std::string certs_dir;        // az-snp-vtpm: optional directory of ARK-signed CRLs (*.crl)
  std::string trusted_root;     // az-tdx-vtpm: PEM root instead of Intel's (test hierarchies)
  std::string at;               // RFC 3339; empty means now
  std::string nonce_hex;        // the TPM quote's expected extraData, hex ...
  std::string report_data_hex;  // ... under either name (exactly one of the two)
  bool json = false;
};

// Prints the verdict (human: one verdict line with the TCB status and advisories for TDX, the
// checks passed and the claims; --json: {verified, tee, evidence_version, tcb_status,
// advisory_ids, checks, claims, error}) and returns the exit code: 0 verified, 1 not, 2 usage.
int VerifyAzure(const AzureVerifyArgs& args);

}  // namespace ccburst::apps
