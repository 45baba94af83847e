#include "apps/cli_util.h"

#include <filesystem>

#include "core/file.h"

namespace ccburst::apps {

absl::Status WriteFile(const std::string& path, std::string_view data, bool secret) {
  CCB_RETURN_IF_ERROR(core::WriteFile(path, data));
  if (secret) {
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  return absl::OkStatus();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

absl::StatusOr<std::unique_ptr<net::HttpClient>> Http(const GlobalOptions& g) {
  net::HttpClientOptions o;
  o.base_url = g.url;
  if (!g.cert_file.empty()) o.ca_certificate_file = g.cert_file;
  return net::HttpClient::Create(std::move(o));
}

}  // namespace ccburst::apps
