// The one way the KBS logs something a client caused. Every value passed here may be
// request-derived: each is escaped and truncated (core::LogSafe) so a client can neither forge a
// log line nor flood the log, and identical lines (same event, same detail, whatever the client
// address) are rate-limited, with the number dropped reported on the next line admitted.
#pragma once

#include <spdlog/common.h>

#include <string_view>

namespace ccburst::kbs {

// Writes "<event> from <remote>: <detail>" at `level`, unless the same event and detail were
// logged too often lately (see core::LogRateLimiter; 5 per 10 s per line).
void LogRequestEvent(spdlog::level::level_enum level, std::string_view event,
                     std::string_view remote, std::string_view detail);

}  // namespace ccburst::kbs
