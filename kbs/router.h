// Request routing of ccburst-kbs: a table from paths to handlers with the methods each accepts.
// Routes match the normalized path (net::NormalizePath: percent-decoded, dot segments resolved);
// a path that does not normalize is InvalidRequestPath. Two kinds of routes: a fixed path
// (`/healthz`), and an endpoint of the KBS API
// (`/kbs/v0/<endpoint>[/<segment>...]`) whose handler receives the segments after the endpoint
// name. Everything that matches no route is an error from the error table (InvalidRequestPath
// outside /kbs/v0/, PluginNotFound inside it).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"

namespace ccburst::kbs {

class Router {
 public:
  using Handler = std::function<net::HttpResponse(const net::HttpRequest& request,
                                                  std::span<const std::string_view> rest)>;

  struct Methods {
    std::vector<std::string> allowed;  // empty: any method (the handler dispatches)
    std::string refusal;               // MethodNotAllowed detail ("/metrics accepts GET")
  };

  // `path` exactly.
  void AddPath(std::string path, Methods methods, Handler handler);
  // `/kbs/v0/<name>`; with `subpaths`, also `/kbs/v0/<name>/...` (the handler gets the rest).
  void AddEndpoint(std::string name, bool subpaths, Methods methods, Handler handler);

  // Never throws; unknown paths and methods are KBS error responses.
  net::HttpResponse Route(const net::HttpRequest& request) const;

  static constexpr std::string_view kApiPrefix = "/kbs/v0/";

 private:
  struct Entry {
    std::string name;  // full path for AddPath, endpoint name for AddEndpoint
    bool endpoint;
    bool subpaths;
    Methods methods;
    Handler handler;
  };
  net::HttpResponse Dispatch(const Entry& e, const net::HttpRequest& request,
                             std::span<const std::string_view> rest) const;
  std::vector<Entry> routes_;
};

}  // namespace ccburst::kbs
