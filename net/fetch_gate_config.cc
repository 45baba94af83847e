#include "net/fetch_gate_config.h"

namespace ccburst::net {

absl::Status ParseFetchLimits(const toml::table& t, std::string_view w, FetchGateOptions& o) {
  using core::config::GetInt;
  int64_t in_flight = static_cast<int64_t>(o.max_in_flight);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "max_fetches_in_flight", 1, 64, in_flight));
  o.max_in_flight = static_cast<size_t>(in_flight);
  int64_t per_minute = static_cast<int64_t>(o.fetches_per_minute);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "fetches_per_minute", 1, 60000, per_minute));
  o.fetches_per_minute = static_cast<double>(per_minute);
  int64_t burst = static_cast<int64_t>(o.burst);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "fetch_burst", 1, 10000, burst));
  o.burst = static_cast<double>(burst);
  int64_t wait_ms = o.wait.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "fetch_wait_ms", 10, 120000, wait_ms));
  o.wait = std::chrono::milliseconds(wait_ms);
  int64_t negative = o.negative_ttl.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "negative_cache_seconds", 0, 7 * 86400, negative));
  o.negative_ttl = std::chrono::seconds(negative);
  int64_t retry = o.max_retry_after.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "max_retry_after_seconds", 0, 86400, retry));
  o.max_retry_after = std::chrono::seconds(retry);
  int64_t waiting = static_cast<int64_t>(o.max_waiting);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "max_waiting_requests", 1, 4096, waiting));
  o.max_waiting = static_cast<size_t>(waiting);
  return absl::OkStatus();
}

}  // namespace ccburst::net
