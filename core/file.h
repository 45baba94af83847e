// Reading and writing whole files (configuration, keys, policies) with errors that name the path.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::core {

// The file's bytes; NotFound "cannot read `path`: <reason>" when it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces the file's contents with `data`; Unavailable "cannot write `path`: <reason>" on failure.
absl::Status WriteFile(const std::string& path, std::string_view data);

}  // namespace ccburst::core
