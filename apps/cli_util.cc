#include "apps/cli_util.h"

#include "core/file.h"

namespace ccburst::apps {

// Secrets (keys, tokens, released resources) are created 0600 from the start and renamed into
// place, never chmod'ed after the fact.
absl::Status WriteFile(const std::string& path, std::string_view data, bool secret) {
  return secret ? core::WriteSecretFile(path, data) : core::WriteFile(path, data);
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
