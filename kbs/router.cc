#include "kbs/router.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/log_safe.h"
#include "kbs/errors.h"
#include "net/url.h"

namespace ccburst::kbs {

void Router::AddPath(std::string path, Methods methods, Handler handler) {
  routes_.push_back(Entry{std::move(path), false, false, std::move(methods), std::move(handler)});
}

void Router::AddEndpoint(std::string name, bool subpaths, Methods methods, Handler handler) {
  routes_.push_back(Entry{std::move(name), true, subpaths, std::move(methods), std::move(handler)});
}

net::HttpResponse Router::Dispatch(const Entry& e, const net::HttpRequest& request,
                                   std::span<const std::string_view> rest) const {
  const auto& allowed = e.methods.allowed;
  if (!allowed.empty() &&
      std::find(allowed.begin(), allowed.end(), request.method) == allowed.end()) {
    return ErrorResponse(ErrorKind::kMethodNotAllowed, e.methods.refusal);
  }
  return e.handler(request, rest);
}

net::HttpResponse Router::Route(const net::HttpRequest& request) const {
  // Routing and the admin ACLs (AdminAuthorizer::Check) both see the normalized path, so the
  // path an access decision was made on is the path the handler acts on.
  auto normalized = net::NormalizePath(request.path);
  if (!normalized.ok()) {
    return ErrorResponse(
        ErrorKind::kInvalidRequestPath,
        fmt::format("request path `{}` is invalid: {}", core::LogSafe(request.path),
                    core::Message(normalized.status())));
  }
  const std::string& path = *normalized;
  for (const Entry& e : routes_) {
    if (!e.endpoint && e.name == path) return Dispatch(e, request, {});
  }
  if (path.rfind(kApiPrefix, 0) != 0) {
    return ErrorResponse(ErrorKind::kInvalidRequestPath,
                         fmt::format("request path `{}` is invalid", core::LogSafe(path)));
  }
  std::vector<std::string_view> parts =
      net::SplitPath(std::string_view(path).substr(kApiPrefix.size()));
  std::string_view endpoint = parts[0];
  std::span<const std::string_view> rest(parts.data() + 1, parts.size() - 1);
  for (const Entry& e : routes_) {
    if (e.endpoint && e.name == endpoint && (e.subpaths || rest.empty())) {
      return Dispatch(e, request, rest);
    }
  }
  return ErrorResponse(ErrorKind::kPluginNotFound,
                       fmt::format("no endpoint or plugin named `{}`", endpoint));
}

}  // namespace ccburst::kbs
