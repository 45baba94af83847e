#include "kbs/request_log.h"

#include <spdlog/spdlog.h>

#include <string>

#include "core/log_safe.h"

namespace ccburst::kbs {

void LogRequestEvent(spdlog::level::level_enum level, std::string_view event,
                     std::string_view remote, std::string_view detail) {
  if (!spdlog::should_log(level)) return;
  static core::LogRateLimiter limiter;
  std::string safe_event = core::LogSafe(event, 512);
  std::string safe_detail = core::LogSafe(detail, 512);
  auto verdict = limiter.Admit(safe_event + '\0' + safe_detail, std::chrono::steady_clock::now());
  if (!verdict.log) return;
  if (verdict.suppressed > 0) {
    spdlog::log(level, "{} from {}: {} ({} identical lines suppressed)", safe_event,
                core::LogSafe(remote, 64), safe_detail, verdict.suppressed);
    return;
  }
  spdlog::log(level, "{} from {}: {}", safe_event, core::LogSafe(remote, 64), safe_detail);
}

}  // namespace ccburst::kbs
