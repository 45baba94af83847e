// The Azure verifiers of ccburst-kbs (`az-tdx-vtpm`, `az-snp-vtpm`), built from the settings the
// `tdx` and `snp` verifiers already read, passed as plain values so that any configuration layer
// can call them: az-tdx-vtpm verifies its TD quote with the DCAP collateral source of
// [dcap_verifier] (Intel PCS / a PCCS or an offline directory, cached in memory and optionally on
// disk), az-snp-vtpm verifies its SNP report against AMD's pinned roots or the [snp_verifier]
// test bundle (the VCEK always comes from the evidence). Building reads only local files; no
// network I/O happens until the first attestation needs collateral.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "evidence/snp/amd_roots.h"
#include "evidence/tdx/tdx_verifier.h"
#include "evidence/verifier.h"

namespace ccburst::collateral::azure {

// [attestation_service.verifier_config.dcap_verifier], as values.
struct DcapSettings {
  // Intel PCS or a PCCS (`https://host[:port]/sgx/certification/v4/`).
  std::string collateral_service;
  // An offline collateral directory (collateral/tdx layout) used instead of collateral_service.
  std::optional<std::string> collateral_dir;
  // "early" or "standard"; empty means standard.
  std::string tcb_update_type;
  std::optional<std::string> cache_dir;
  // TEST ONLY: a PEM root key/certificate trusted instead of Intel's.
  std::optional<std::string> trusted_root_ca;
};

// "https://host[:port]/sgx/certification/v4/" (Trustee's form) -> "https://host[:port]": the PCS
// client appends the per-item paths itself.
std::string PcsBaseUrl(std::string url);

// The cached DCAP collateral source for `settings` (Caching(OfflineDir) or Caching(Pcs)). A bad
// tcb_update_type is InvalidArgument naming `setting_name`.
absl::StatusOr<std::shared_ptr<const evidence::tdx::TdxCollateralSource>> NewDcapCollateralSource(
    const DcapSettings& settings, std::string_view setting_name);

// Groups a PEM bundle into per-generation anchors by subject CN, as AMD names them (`ARK-<P>`,
// `SEV-<P>`, `SEV-VLEK-<P>`). An unreadable or malformed bundle is InvalidArgument naming
// `setting_name` and the file.
absl::StatusOr<std::vector<evidence::snp::ProductAnchor>> LoadArkBundle(
    const std::string& path, std::string_view setting_name);

// The `az-tdx-vtpm` verifier. Its own collateral cache (same settings, same disk directory as
// `tdx`). An unreadable `trusted_root_ca` is InvalidArgument naming it.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzTdxVtpmVerifier(
    const DcapSettings& settings);

// The `az-snp-vtpm` verifier: VMPL 0 (the paravisor's), report v3+ (processor generation from
// CPUID), AMD's pinned roots unless `trusted_ark` (TEST ONLY) names a PEM bundle.
absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzSnpVtpmVerifier(
    const std::optional<std::string>& trusted_ark);

}  // namespace ccburst::collateral::azure
