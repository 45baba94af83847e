// `ccburst attest` and `ccburst get-resource`: act as a sample TEE (the development TEE of the
// reference stack) against a KBS, like Trustee's kbs-client.
#pragma once

#include <vector>

#include "apps/command.h"

namespace ccburst::apps {

std::vector<Subcommand> ClientCommands(const GlobalOptions* global);

}  // namespace ccburst::apps
