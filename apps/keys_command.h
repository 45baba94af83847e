// `ccburst keygen` (admin Ed25519 key pair and admin token) and `ccburst make-cert` (a
// self-signed TLS key and certificate for local HTTPS).
#pragma once

#include <vector>

#include "apps/command.h"

namespace ccburst::apps {

std::vector<Subcommand> KeyCommands();

}  // namespace ccburst::apps
