// The hardware TEE verifiers of ccburst-kbs, built from [attestation_service.verifier_config]:
// `tdx` (Intel DCAP quotes, collateral from Intel PCS / a PCCS or an offline directory, cached in
// memory and optionally on disk) and `snp` (AMD SEV-SNP reports, VCEKs from the evidence, AMD KDS
// or Trustee OfflineStore directories). Building them reads only local files (test roots); no
// network I/O happens until the first attestation needs collateral.
#pragma once

#include <memory>
#include <vector>

#include "core/status.h"
#include "evidence/verifier.h"
#include "kbs/config.h"

namespace ccburst::kbs {

// The `tdx` verifier for `config`. An unreadable or unparseable `trusted_root_ca` is
// InvalidArgument naming the key and file.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewTdxVerifier(
    const KbsConfig::AttestationService::DcapVerifier& config);

// The `snp` verifier for `config`. An unreadable or malformed `trusted_ark` bundle (PEM ARK
// `ARK-<Product>`, optionally its ASK `SEV-<Product>` and ASVK `SEV-VLEK-<Product>`) or a bad KDS
// URL is InvalidArgument naming the key.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewSnpVerifier(
    const KbsConfig::AttestationService::SnpVerifier& config);

}  // namespace ccburst::kbs
