// The one table of KBS errors: each kind a handler can report maps here, and only here, to its
// Trustee error type (the `type` URL https://github.com/confidential-containers/kbs/errors/<Type>)
// and its HTTP status. Handlers name a kind and a detail; they never pick a status. Protocol
// endpoints keep Trustee's contract: 401 for every refusal, 404 for a bad path (docs/kbs.md).
#pragma once

#include <string>
#include <string_view>

#include "net/http.h"

namespace ccburst::kbs {

enum class ErrorKind {
  // The protocol (/auth, /attest, resources): 401 unless said otherwise.
  kProtocolVersion,
  kInvalidRequest,
  kUnsupportedTee,
  kAttestationError,
  kTokenNotFound,
  kTokenVerifierError,
  kPolicyDeny,
  kResourceNotFound,
  kJweError,
  kTooManySessions,  // 503
  // Routing.
  kInvalidRequestPath,  // 404
  kPluginNotFound,      // 404
  kMethodNotAllowed,    // 405
  // The admin API.
  kAdminUnauthenticated,    // 401 AdminAuthAccess
  kAdminForbidden,          // 403 AdminAuthAccess
  kAdminBadRequest,         // 400 InvalidRequest
  kParsePolicyError,        // 400
  kRvpsError,               // 400
  kAdminResourceNotFound,   // 404 ResourceNotFound
  kReferenceValueNotFound,  // 404 RvpsError
  kStorageError,            // 503
  // The HTTP layer, before a handler runs.
  kPayloadTooLarge,  // 413
  kHeaderTooLarge,   // 431 InvalidRequest
  kMalformedHttp,    // 400 InvalidRequest
  kInternal,         // 500 InvalidRequest (a handler failed unexpectedly)
};

struct ErrorInfo {
  std::string_view type;  // Trustee's error type name, the last segment of the `type` URL
  int http_status;
};

// The table row of `kind`.
ErrorInfo Describe(ErrorKind kind);

// "https://github.com/confidential-containers/kbs/errors/<Type>".
std::string ErrorTypeUrl(ErrorKind kind);

// The KBS error response: status from the table, body {"type": <url>, "detail": <detail>}.
net::HttpResponse ErrorResponse(ErrorKind kind, std::string detail);

// `s` with every byte that is not part of well-formed UTF-8 written as `\xNN`, so that a detail
// quoting client bytes is still a valid JSON string (ErrorResponse applies it).
std::string ValidUtf8(std::string_view s);

// The kind of an error the HTTP server produced before any handler ran (its status: 413, 431,
// 400 or 500).
ErrorKind HttpServerErrorKind(int status);

}  // namespace ccburst::kbs
