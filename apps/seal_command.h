// `ccburst seal` (a sealed secret naming a KBS resource, for a Kubernetes Secret the agent
// unseals inside the TEE) and `ccburst encrypt-file` (the AES-256-GCM file that
// `ccburst-agent decrypt` opens with a key from the KBS).
#pragma once

#include <vector>

#include "apps/command.h"

namespace ccburst::apps {

std::vector<Subcommand> SealCommands();

}  // namespace ccburst::apps
