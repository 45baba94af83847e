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

namespace {

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) at the start of `s`, or 0.
size_t Utf8SequenceLength(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[0]));
      n = 1;
    } else {
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  return out;
}

net::HttpResponse ErrorResponse(ErrorKind kind, std::string detail) {
  core::json::object body;
  body["type"] = ErrorTypeUrl(kind);
  // A detail may quote what the client sent (a path, a tee name): a JSON string must be UTF-8.
  body["detail"] = ValidUtf8(detail);
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
