#include "agent/attesters.h"

#include <fmt/format.h>

#include <vector>

#include "agent/vtpm/azure_attester.h"

namespace ccburst::agent {

std::span<const AttesterEntry> Attesters() {
  auto vtpm = [](const AttesterOptions& o) {
    return vtpm::AzureVtpmOptions{.tcti = o.tpm_tcti, .imds_url = o.imds_url};
  };
  static const std::vector<AttesterEntry> table = {
      {"az-tdx-vtpm",
       [vtpm](const AttesterOptions& o) {
         return vtpm::IsAzureVtpm(evidence::azure::Platform::kTdx, vtpm(o));
       },
       [vtpm](const AttesterOptions& o) {
         return vtpm::NewAzureVtpmAttester("az-tdx-vtpm", vtpm(o));
       }},
      {"az-snp-vtpm",
       [vtpm](const AttesterOptions& o) {
         return vtpm::IsAzureVtpm(evidence::azure::Platform::kSnp, vtpm(o));
       },
       [vtpm](const AttesterOptions& o) {
         return vtpm::NewAzureVtpmAttester("az-snp-vtpm", vtpm(o));
       }},
      {"tdx", DetectTdx, NewTdxAttester},
      {"snp", DetectSnp, NewSnpAttester},
      {"sample", [](const AttesterOptions&) { return false; },
       [](const AttesterOptions&) -> absl::StatusOr<std::unique_ptr<Attester>> {
         return NewSampleAttester();
       }},
  };
  return table;
}

absl::StatusOr<std::unique_ptr<Attester>> MakeAttester(std::string_view tee,
                                                       const AttesterOptions& options) {
  if (tee == "auto") {
    for (const AttesterEntry& e : Attesters()) {
      if (e.detect(options)) return e.make(options);
    }
    return absl::NotFoundError(
        "attester: no TEE detected (no configfs-tsm provider, TEE guest device or vTPM); "
        "pass --tee");
  }
  std::string known;
  for (const AttesterEntry& e : Attesters()) {
    if (e.name == tee) return e.make(options);
    known += known.empty() ? "" : ", ";
    known += e.name;
  }
  return absl::InvalidArgumentError(
      fmt::format("attester: unknown tee `{}` (auto, {})", tee, known));
}

}  // namespace ccburst::agent
