#include "kbs/azure_verifiers.h"

#include "collateral/azure/verifiers.h"

namespace ccburst::kbs {

absl::Status RegisterAzureVerifiers(attestation::AttestationService& service,
                                    const KbsConfig::AttestationService& config) {
  const auto& dcap = config.dcap_verifier;
  collateral::azure::DcapSettings settings;
  settings.collateral_service = dcap.collateral_service;
  settings.collateral_dir = dcap.collateral_dir;
  settings.tcb_update_type = dcap.tcb_update_type;
  settings.cache_dir = dcap.cache_dir;
  settings.trusted_root_ca = dcap.trusted_root_ca;
  CCB_ASSIGN_OR_RETURN(auto tdx, collateral::azure::NewAzTdxVtpmVerifier(settings));
  service.RegisterVerifier(std::move(tdx));
  CCB_ASSIGN_OR_RETURN(auto snp,
                       collateral::azure::NewAzSnpVtpmVerifier(config.snp_verifier.trusted_ark));
  service.RegisterVerifier(std::move(snp));
  return absl::OkStatus();
}

}  // namespace ccburst::kbs
