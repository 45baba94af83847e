// Plain value types shared by the HTTP server and client: a parsed request as handed to a handler,
// the response a handler returns, and the handler signature. They hold no Boost types, so modules
// that serve or call HTTP (kbs, agent, apps) do not compile Beast.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccburst::net {

// Header list in received (or insertion) order; names keep their original case.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first header called `name`. The view points into `headers`.
std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name);

// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// One request as received by the server. Handlers get it by const reference; views returned by
// the accessors live as long as the request.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received, path + optional "?query"
  std::string path;    // target before '?', percent-decoding NOT applied
  std::string query;   // after '?', may be empty
  HttpHeaders headers;
  std::string body;
  std::string remote;  // "ip:port" ("[v6]:port" for IPv6)
  bool tls = false;

  // Case-insensitive header lookup (first match).
  std::optional<std::string_view> Header(std::string_view name) const;
  // Value of cookie `name` (case-sensitive) from the Cookie header(s), first match, surrounding
  // whitespace removed. nullopt when there is no such cookie.
  std::optional<std::string_view> Cookie(std::string_view name) const;
};

struct HttpResponse;
// Sends a held response (HttpResponse::hold): std::nullopt sends it as the handler built it, a
// value sends that instead. Callable from any thread; the first call counts, later ones and calls
// after the server has stopped do nothing.
using HttpRelease = std::function<void(std::optional<HttpResponse> replacement)>;

// What a handler answers. Content-Length is computed by the server; Content-Length and
// Transfer-Encoding headers set here are ignored, and so are headers whose name or value contains
// CR, LF or NUL. A `Connection: close` header makes the server close the connection after it.
struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // Holds the response back: when set, the server calls it once with an HttpRelease and sends
  // nothing on the connection until that is called (the request stays in flight, so the
  // connection is never closed as idle meanwhile). For an answer that must wait for work that
  // needs no I/O thread, such as the audit trail's commit of a release's record: the thread
  // serves other connections in the meantime instead of blocking.
  std::function<void(HttpRelease release)> hold;

  // Replaces every header called `name` (case-insensitive) by one with `value`.
  void SetHeader(std::string name, std::string value);
  // Case-insensitive header lookup (first match).
  std::optional<std::string_view> Header(std::string_view name) const;
  // A response with `Content-Type: application/json`.
  static HttpResponse Json(int status, std::string body);
};

// Called on a server I/O thread for every complete request; must be thread-safe and should not
// block for long. Exceptions are caught by the server and answered with 500.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace ccburst::net
