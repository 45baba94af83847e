// `ccburst config ...`: the KBS admin API (resources, resource and attestation policies,
// reference values), with an admin JWT.
#pragma once

#include <vector>

#include "apps/command.h"

namespace ccburst::apps {

std::vector<Subcommand> ConfigCommands(const GlobalOptions* global);

}  // namespace ccburst::apps
