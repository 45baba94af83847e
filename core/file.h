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

// Writes a secret (a private key, a token, a released resource) so that no other user can ever
// read it, not even briefly, and a crash leaves either the old file or the new one: the data goes
// to a temporary file in the same directory created with O_CREAT|O_EXCL and mode 0600 from the
// start (mkstemp), is fsync'ed, then renamed over `path` (and the directory fsync'ed). An
// existing `path` is replaced, so it ends up 0600 too. Unavailable "cannot write `path`: <reason>"
// on failure; the temporary file is removed then.
absl::Status WriteSecretFile(const std::string& path, std::string_view data);

}  // namespace ccburst::core
