// Asynchronous HTTP/1.1 server (optionally over TLS 1.2+) that carries the KBS protocol. One
// io_context is run by a fixed pool of threads; connections are kept alive and every connection
// is served in order on its own strand, so a slow or hostile client (TLS garbage, plaintext on a
// TLS port, slowloris headers, oversized bodies) only ever costs its own connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/http.h"

namespace ccburst::net {

// TLS protocol settings of an HTTPS server. ccburst-kbs fills them from the reference KBS's
// `[http_server]` keys `tls_profile`, `tls_min_version`, `tls_max_version`, `tls_ciphers` and
// `tls_groups` (Trustee kbs/src/http.rs, kbs/docs/config.md "TLS Configuration").
struct TlsOptions {
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::string max_version = "1.3";  // "1.2" or "1.3", not below min_version
  // Colon-separated OpenSSL names. `TLS_*` names are TLS 1.3 suites (SSL_CTX_set_ciphersuites),
  // the others TLS 1.2 ciphers (SSL_CTX_set_cipher_list); a version none of them names keeps
  // OpenSSL's defaults. Unset: OpenSSL's defaults for both.
  std::optional<std::string> ciphers = std::nullopt;
  // Key-exchange groups (SSL_CTX_set1_groups_list). Unset: the first post-quantum hybrid group
  // this OpenSSL knows (X25519MLKEM768, SecP256r1MLKEM768, X448MLKEM1024, SecP384r1MLKEM1024)
  // followed by X25519:secp256r1:secp384r1, as the reference KBS does.
  std::optional<std::string> groups = std::nullopt;
};

// Checks `tls` without a certificate (versions known and ordered, every cipher and group name
// known to this OpenSSL); the error names the key. Start() runs the same checks.
absl::Status ValidateTlsOptions(const TlsOptions& tls);

struct HttpServerOptions {
  // Listening sockets: "127.0.0.1:8080", "[::1]:0", "0.0.0.0:8443", "localhost:8080"; port 0 =
  // ephemeral (see HttpServer::ports()).
  std::vector<std::string> sockets;
  // TLS on every socket when both are set (setting only one is an error).
  std::optional<std::string> tls_certificate_file;  // PEM chain, leaf first
  std::optional<std::string> tls_private_key_file;  // PEM
  TlsOptions tls;  // protocol versions, ciphers and groups when TLS is on
  // Requests whose Content-Length exceeds this are answered 413 without reading the body; chunked
  // bodies are cut off with 413 as soon as they exceed it.
  size_t max_body_bytes = 2 * 1024 * 1024;
  // Request line + headers larger than this are answered 431.
  size_t max_header_bytes = 16 * 1024;
  int threads = 0;  // 0 = std::thread::hardware_concurrency()
  // How long a connection may sit idle between requests, and the most a client may take to send
  // one request's headers or body or to complete the TLS handshake; then it is closed quietly.
  std::chrono::seconds idle_timeout{60};
  // How long a new connection may take to complete the TLS handshake and send its first
  // request's headers (a connection that never speaks costs a file descriptor; it gets less time
  // than a kept-alive one between requests).
  std::chrono::seconds first_request_timeout{10};
  // Most connections open at once; 0 = below the process's file limit (RLIMIT_NOFILE soft limit
  // minus max(64, limit/8) kept for files, sockets to backends and the listeners). At the limit a
  // new connection closes the connection that has waited longest for its next (or first)
  // request's headers, i.e. one with no request in flight, as mature servers drain idle
  // keep-alive connections; when every connection has a request in flight the new one is closed.
  size_t max_connections = 0;
  // Builds the response for transport-level errors (400 malformed request, 413 body too large,
  // 431 header too large) and for handler exceptions (500). Default: text/plain `detail`.
  std::function<HttpResponse(int status, std::string detail)> error_response;
};

class HttpServer {
 public:
  // Binds every socket and starts the I/O threads. Errors name the socket or file at fault:
  // kInvalidArgument for an unparsable socket, a missing/unreadable certificate or key, or a key
  // that does not match the certificate; kUnavailable when binding or listening fails (port in
  // use, address not available).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           HttpHandler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // Calls Stop().

  // Bound ports, in the order of `options.sockets`.
  std::vector<uint16_t> ports() const;
  // Number of TCP connections accepted so far (for tests and metrics).
  uint64_t accepted_connections() const;
  // Connections open now, and the limit in force (see HttpServerOptions::max_connections).
  size_t open_connections() const;
  size_t max_connections() const;
  // Closes the listeners and every open connection and joins the threads. Idempotent. Must not
  // be called from a handler.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccburst::net
