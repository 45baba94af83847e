// The Azure verifiers (`az-tdx-vtpm`, `az-snp-vtpm`) as a deployment configures them. They read
// the sections the `tdx` and `snp` verifiers already read, through those TEEs' own factories:
// az-tdx-vtpm verifies its TD quote with the DCAP collateral source and trust anchor of
// [dcap_verifier] (Intel PCS / a PCCS or an offline directory, cached in memory and optionally on
// disk); az-snp-vtpm verifies its SNP report against AMD's pinned roots or the [snp_verifier]
// `trusted_ark` test bundle (the VCEK always comes from the evidence; vcek_sources are not used).
// These are the Azure lines of attestation/'s verifier registry. Building reads only local files;
// no network I/O happens until the first attestation needs collateral.
#pragma once

#include <memory>
#include <string_view>

#include "collateral/dcap/verifier_factory.h"
#include "collateral/snp/verifier_factory.h"
#include "core/status.h"
#include "evidence/verifier.h"

namespace ccburst::collateral::azure {

// The `az-tdx-vtpm` verifier over its own cache of the [dcap_verifier] collateral source (same
// settings and disk directory as `tdx`). Errors as NewDcapCollateralSource / LoadDcapTrustAnchor,
// naming `where`.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzTdxVtpmVerifier(
    const dcap::DcapVerifierConfig& config, std::string_view where);

// The `az-snp-vtpm` verifier: VMPL 0 (the paravisor's), report v3+ (processor generation from
// CPUID), AMD's pinned roots unless `trusted_ark` (TEST ONLY) names a PEM bundle.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzSnpVtpmVerifier(
    const snp::SnpVerifierConfig& config, std::string_view where);

}  // namespace ccburst::collateral::azure
