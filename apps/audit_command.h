// `ccburst audit ...`: the audit trail's offline tools (docs/audit.md). `verify` checks an export's
// chain, checkpoints and trailer against the audit public key and says where it breaks; `query`
// filters its records; `report` summarises a time range for a compliance officer (text, and HTML
// with --html); `export` fetches the trail from the KBS admin API; `public-key` prints the audit
// key's public half for auditors.
#pragma once

#include <vector>

#include "apps/command.h"

namespace ccburst::apps {

std::vector<Subcommand> AuditCommands(const GlobalOptions* global);

}  // namespace ccburst::apps
