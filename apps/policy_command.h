// `ccburst policy eval`: evaluate a Rego query (like `opa eval`), on policy::PolicyEvalMain.
#pragma once

#include <vector>

#include "apps/command.h"

namespace ccburst::apps {

std::vector<Subcommand> PolicyCommands();

}  // namespace ccburst::apps
