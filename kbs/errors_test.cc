#include "kbs/errors.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::kbs {
namespace {

TEST(ErrorTableTest, KindsMapToTrusteeTypesAndStatuses) {
  struct Row {
    ErrorKind kind;
    std::string_view type;
    int status;
  };
  const Row rows[] = {
      {ErrorKind::kProtocolVersion, "ProtocolVersion", 401},
      {ErrorKind::kInvalidRequest, "InvalidRequest", 401},
      {ErrorKind::kUnsupportedTee, "UnsupportedTee", 401},
      {ErrorKind::kAttestationError, "AttestationError", 401},
      {ErrorKind::kTokenNotFound, "TokenNotFound", 401},
      {ErrorKind::kTokenVerifierError, "TokenVerifierError", 401},
      {ErrorKind::kPolicyDeny, "PolicyDeny", 401},
      {ErrorKind::kResourceNotFound, "ResourceNotFound", 401},
      {ErrorKind::kJweError, "JweError", 401},
      {ErrorKind::kTooManySessions, "TooManySessions", 503},
      {ErrorKind::kInvalidRequestPath, "InvalidRequestPath", 404},
      {ErrorKind::kPluginNotFound, "PluginNotFound", 404},
      {ErrorKind::kMethodNotAllowed, "MethodNotAllowed", 405},
      {ErrorKind::kAdminUnauthenticated, "AdminAuthAccess", 401},
      {ErrorKind::kAdminForbidden, "AdminAuthAccess", 403},
      {ErrorKind::kAdminBadRequest, "InvalidRequest", 400},
      {ErrorKind::kParsePolicyError, "ParsePolicyError", 400},
      {ErrorKind::kRvpsError, "RvpsError", 400},
      {ErrorKind::kAdminResourceNotFound, "ResourceNotFound", 404},
      {ErrorKind::kReferenceValueNotFound, "RvpsError", 404},
      {ErrorKind::kStorageError, "StorageError", 503},
      {ErrorKind::kPayloadTooLarge, "PayloadTooLarge", 413},
      {ErrorKind::kHeaderTooLarge, "InvalidRequest", 431},
      {ErrorKind::kMalformedHttp, "InvalidRequest", 400},
      {ErrorKind::kInternal, "InvalidRequest", 500},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(Describe(r.kind).type, r.type) << r.type;
    EXPECT_EQ(Describe(r.kind).http_status, r.status) << r.type;
  }
}

TEST(ErrorTableTest, ResponseCarriesTypeUrlAndDetail) {
  net::HttpResponse r = ErrorResponse(ErrorKind::kPolicyDeny, "resource: denied");
  EXPECT_EQ(r.status, 401);
  auto body = core::ParseJson(r.body);
  ASSERT_OK(body);
  EXPECT_EQ(body->at("type").as_string(),
            "https://github.com/confidential-containers/kbs/errors/PolicyDeny");
  EXPECT_EQ(body->at("detail").as_string(), "resource: denied");
}

TEST(ErrorTableTest, DetailQuotingClientBytesIsAlwaysValidJson) {
  // Found by kbs_request_fuzz: a resource path of raw DER bytes made a 404 body that was not JSON.
  std::string bytes =
      std::string("caf\xc3\xa9 ") + "\x30\x82\xff\xc0\xaf\xed\xa0\x80 \xf4\x90\x80\x80";
  net::HttpResponse r = ErrorResponse(ErrorKind::kInvalidRequestPath, "path `" + bytes + "`");
  ASSERT_OK_AND_ASSIGN(core::json::value v, core::ParseJson(r.body));
  EXPECT_EQ(std::string(v.at("detail").as_string()),
            "path `caf\xc3\xa9 0\\x82\\xff\\xc0\\xaf\\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80`");
  EXPECT_EQ(ValidUtf8("plain ascii"), "plain ascii");
}

TEST(ErrorTableTest, HttpServerStatuses) {
  EXPECT_EQ(HttpServerErrorKind(413), ErrorKind::kPayloadTooLarge);
  EXPECT_EQ(HttpServerErrorKind(431), ErrorKind::kHeaderTooLarge);
  EXPECT_EQ(HttpServerErrorKind(400), ErrorKind::kMalformedHttp);
  EXPECT_EQ(HttpServerErrorKind(500), ErrorKind::kInternal);
}

}  // namespace
}  // namespace ccburst::kbs
