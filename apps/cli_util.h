// Helpers shared by the command groups: files with owner-only permissions for secrets, trimmed
// token files, HTTP clients for the KBS.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "apps/command.h"
#include "net/http_client.h"

namespace ccburst::apps {

// core::WriteFile, then owner read/write only when `secret`.
absl::Status WriteFile(const std::string& path, std::string_view data, bool secret = false);
// `s` without trailing newlines, carriage returns and spaces.
std::string Trim(std::string s);
// An HTTP client for the KBS at `g.url`, trusting `g.cert_file` when set.
absl::StatusOr<std::unique_ptr<net::HttpClient>> Http(const GlobalOptions& g);

}  // namespace ccburst::apps
