// Registers the Azure verifiers (az-tdx-vtpm, az-snp-vtpm) with the KBS's attestation service,
// built from the [dcap_verifier] and [snp_verifier] settings the `tdx` and `snp` verifiers read
// (collateral/azure does the building; this only maps KBS configuration to its settings).
#pragma once

#include "attestation/attestation_service.h"
#include "core/status.h"
#include "kbs/config.h"

namespace ccburst::kbs {

// InvalidArgument naming the setting when a test root/bundle is unreadable or a setting is bad.
absl::Status RegisterAzureVerifiers(attestation::AttestationService& service,
                                    const KbsConfig::AttestationService& config);

}  // namespace ccburst::kbs
