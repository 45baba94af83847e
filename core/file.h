// Reading whole files (configuration, keys, policies) with an error that names the path.
#pragma once

#include <string>

#include "core/status.h"

namespace ccburst::core {

// The file's bytes; NotFound "cannot read `path`: <reason>" when it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace ccburst::core
