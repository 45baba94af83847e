// The outbound-fetch limits (net/fetch_gate.h) as a verifier section of the configuration names
// them: the same keys in [attestation_service.verifier_config.snp_verifier] (AMD KDS) and
// .dcap_verifier (Intel PCS/PCCS).
#pragma once

#include <toml++/toml.h>

#include <string_view>

#include "core/status.h"
#include "core/toml_config.h"
#include "net/fetch_gate.h"

namespace ccburst::net {

// The keys ParseFetchLimits reads, for the section's CheckKeys.
inline constexpr std::string_view kFetchLimitKeys[] = {
    "max_fetches_in_flight",  "fetches_per_minute",      "fetch_burst",         "fetch_wait_ms",
    "negative_cache_seconds", "max_retry_after_seconds", "max_waiting_requests"};

// Reads those keys of `t` present into `out` (absent keys keep their values). A value out of
// range is InvalidArgument "config: `where.key` = v is outside min..max".
absl::Status ParseFetchLimits(const toml::table& t, std::string_view where, FetchGateOptions& out);

}  // namespace ccburst::net
