// The TEE names the attestation gate can watch: the `tee` label of the KBS's
// `kbs_attestations_total` counter, which is the KBS protocol's TEE name ("tdx", "az-tdx-vtpm",
// ...). A profile whose `tee` is spelled any other way never matches a sample, so its gate would
// silently stay open; the configuration refuses such names instead.
#pragma once

#include <span>
#include <string_view>

#include "core/status.h"

namespace ccburst::scaler {

// "sample", "tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm", and the other TEEs of the KBS protocol
// ("sgx", "cca", "csv", "se").
std::span<const std::string_view> KbsTeeNames();

// OK for a KBS TEE name. Otherwise InvalidArgument naming `where` and, for another spelling of a
// known TEE (Trustee's enum names "AzTdxVtpm"/"aztdxvtpm", "az_snp_vtpm", "TDX"), the name to use:
// "config: `profiles.azure.tee` `azsnpvtpm` is not a KBS TEE name (did you mean `az-snp-vtpm`?)".
absl::Status CheckTeeName(std::string_view name, std::string_view where);

}  // namespace ccburst::scaler
