// Synchronous HTTP/1.1 client over one kept-alive connection (plain or TLS 1.2+), used by the CLI,
// the agent's KBS client and the load generator. HTTPS verifies the server certificate chain
// against a CA file (or the system roots) and checks the URL's host name or IP address against
// the certificate (SNI is sent for host names). A small cookie jar carries the KBS session cookie.
//
// An HttpClient is not thread-safe: use one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "net/http.h"

namespace ccburst::net {

struct HttpClientOptions {
  // "http://127.0.0.1:8080", "https://kbs.example:8443", "https://[::1]:8443/prefix". A path
  // prefix is prepended to every request path.
  std::string base_url;
  // PEM trust anchor(s) for https; the system roots when absent.
  std::optional<std::string> ca_certificate_file;
  // PEM trust anchor(s) given as text (the agent's KBS certificate from init-data); used instead
  // of `ca_certificate_file` when set.
  std::optional<std::string> ca_certificate_pem;
  // Per request, covering connect + TLS handshake + write + read.
  std::chrono::milliseconds timeout{10000};
  size_t max_response_bytes = 64 * 1024 * 1024;
};

struct HttpClientResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  // Case-insensitive header lookup (first match); the view points into `headers`.
  std::optional<std::string_view> Header(std::string_view name) const;
};

class HttpClient {
 public:
  // Parses the base URL and loads the trust anchors. A bad URL or an unreadable CA file is
  // kInvalidArgument. Does not connect.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends one request (`path` is appended to the base URL's prefix and may carry a "?query") on
  // the kept-alive connection, reconnecting when there is none; when a reused connection turns
  // out to have been closed by the server before any response byte, the request is retried once
  // on a fresh connection. Content-Length, Host and Cookie (from the jar, unless `headers` has a
  // Cookie) are added. Any HTTP status is a successful result. Connection, TLS (e.g.
  // "certificate verify failed: ...") and timeout failures, and malformed or oversized responses,
  // are kUnavailable naming the method, the URL and the reason.
  absl::StatusOr<HttpClientResponse> Send(std::string_view method, std::string_view path,
                                          std::string_view body = {},
                                          const HttpHeaders& headers = {});

  // Cookie jar: `Set-Cookie: name=value; ...` in responses stores name=value (Max-Age=0 or a
  // negative Max-Age removes it); all stored cookies are sent on later requests. Attributes
  // (Path, Domain, Expires, Secure) are not interpreted: the client talks to one server.
  void ClearCookies();
  std::optional<std::string> GetCookie(std::string_view name) const;
  void SetCookie(std::string name, std::string value);

  // Closes the kept-alive connection, if any (the next Send reconnects).
  void Disconnect();
  // Number of TCP connections opened so far.
  uint64_t connections_opened() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccburst::net
