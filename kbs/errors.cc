#include "kbs/errors.h"

#include <fmt/format.h>

#include "core/json.h"

namespace ccburst::kbs {

ErrorInfo Describe(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kProtocolVersion:
      return {"ProtocolVersion", 401};
    case ErrorKind::kInvalidRequest:
      return {"InvalidRequest", 401};
    case ErrorKind::kUnsupportedTee:
      return {"UnsupportedTee", 401};
    case ErrorKind::kAttestationError:
      return {"AttestationError", 401};
    case ErrorKind::kTokenNotFound:
      return {"TokenNotFound", 401};
    case ErrorKind::kTokenVerifierError:
      return {"TokenVerifierError", 401};
    case ErrorKind::kPolicyDeny:
      return {"PolicyDeny", 401};
    case ErrorKind::kResourceNotFound:
      return {"ResourceNotFound", 401};
    case ErrorKind::kJweError:
      return {"JweError", 401};
    case ErrorKind::kTooManySessions:
      return {"TooManySessions", 503};
    case ErrorKind::kInvalidRequestPath:
      return {"InvalidRequestPath", 404};
    case ErrorKind::kPluginNotFound:
      return {"PluginNotFound", 404};
    case ErrorKind::kMethodNotAllowed:
      return {"MethodNotAllowed", 405};
    case ErrorKind::kAdminUnauthenticated:
      return {"AdminAuthAccess", 401};
    case ErrorKind::kAdminForbidden:
      return {"AdminAuthAccess", 403};
    case ErrorKind::kAdminBadRequest:
      return {"InvalidRequest", 400};
    case ErrorKind::kParsePolicyError:
      return {"ParsePolicyError", 400};
    case ErrorKind::kRvpsError:
      return {"RvpsError", 400};
    case ErrorKind::kAdminResourceNotFound:
      return {"ResourceNotFound", 404};
    case ErrorKind::kReferenceValueNotFound:
      return {"RvpsError", 404};
    case ErrorKind::kStorageError:
      return {"StorageError", 503};
    case ErrorKind::kPayloadTooLarge:
      return {"PayloadTooLarge", 413};
    case ErrorKind::kHeaderTooLarge:
      return {"InvalidRequest", 431};
    case ErrorKind::kMalformedHttp:
      return {"InvalidRequest", 400};
    case ErrorKind::kInternal:
      return {"InvalidRequest", 500};
  }
  return {"InvalidRequest", 500};
}

std::string ErrorTypeUrl(ErrorKind kind) {
  return fmt::format("https://github.com/confidential-containers/kbs/errors/{}",
                     Describe(kind).type);
}

net::HttpResponse ErrorResponse(ErrorKind kind, std::string detail) {
  core::json::object body;
  body["type"] = ErrorTypeUrl(kind);
  body["detail"] = std::move(detail);
  return net::HttpResponse::Json(Describe(kind).http_status, core::json::serialize(body));
}

ErrorKind HttpServerErrorKind(int status) {
  switch (status) {
    case 413:
      return ErrorKind::kPayloadTooLarge;
    case 431:
      return ErrorKind::kHeaderTooLarge;
    case 400:
      return ErrorKind::kMalformedHttp;
    default:
      return ErrorKind::kInternal;
  }
}

}  // namespace ccburst::kbs
