#include "collateral/azure/verifiers.h"

#include <spdlog/spdlog.h>

#include "evidence/azure/verifier.h"

namespace ccburst::collateral::azure {

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzTdxVtpmVerifier(
    const dcap::DcapVerifierConfig& config, std::string_view where) {
  CCB_ASSIGN_OR_RETURN(auto source, dcap::NewDcapCollateralSource(config, where));
  CCB_ASSIGN_OR_RETURN(auto anchor, dcap::LoadDcapTrustAnchor(config, where));
  spdlog::info("az-tdx-vtpm verifier: TD quote collateral from {}{}{}",
               config.collateral_dir ? *config.collateral_dir : config.collateral_service,
               config.cache_dir ? ", disk cache " : "", config.cache_dir.value_or(""));
  return evidence::azure::AzTdxVtpmVerifier::Create({std::move(source), std::move(anchor)});
}

absl::StatusOr<std::unique_ptr<evidence::Verifier>> NewAzSnpVtpmVerifier(
    const snp::SnpVerifierConfig& config, std::string_view where) {
  evidence::snp::SnpVerifierOptions options;
  if (config.trusted_ark) {
    CCB_ASSIGN_OR_RETURN(options.anchors, snp::LoadArkBundle(*config.trusted_ark, where));
    options.allow_unpinned_arks = true;
  }
  spdlog::info("az-snp-vtpm verifier: VCEKs from the evidence, {}",
               config.trusted_ark ? "test ARK bundle " + *config.trusted_ark
                                  : std::string("AMD's pinned ARKs"));
  CCB_ASSIGN_OR_RETURN(auto v, evidence::azure::AzSnpVtpmVerifier::Create(std::move(options)), "{}",
                       where);
  return std::unique_ptr<evidence::Verifier>(std::move(v));
}

}  // namespace ccburst::collateral::azure
