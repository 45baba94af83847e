// The IMDS response parsers (outside bytes) and the client against an in-process server.
#include "agent/vtpm/imds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "net/http_server.h"

namespace ccburst::agent::vtpm {
namespace {

using ::ccburst::core::testing::IsOkAndHolds;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ImdsTest, ParsesTdQuoteResponse) {
  EXPECT_THAT(ParseTdQuoteResponse(R"({"quote":")" + core::Base64UrlEncode("quote bytes") + "\"}"),
              IsOkAndHolds(std::string("quote bytes")));
}

TEST(ImdsTest, RefusesBadTdQuoteResponses) {
  for (const char* body : {"", "[]", "{}", R"({"quote":1})", R"({"quote":""})",
                           R"({"quote":"not base64url!"})", "{\"quote\":\"AAAA\"} x"}) {
    EXPECT_THAT(ParseTdQuoteResponse(body),
                StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("imds: ")))
        << body;
  }
  EXPECT_THAT(ParseTdQuoteResponse(std::string(kMaxImdsResponse + 1, ' ')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most")));
}

TEST(ImdsTest, RefusesBadCertificationResponses) {
  for (const char* body :
       {"{}", R"({"vcekCert":""})", R"({"vcekCert":"no pem here"})",
        R"({"vcekCert":"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"})"}) {
    EXPECT_THAT(ParseCertificationResponse(body),
                StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("imds: ")))
        << body;
  }
}

TEST(ImdsTest, ClientSendsWhatImdsExpects) {
  net::HttpServerOptions options;
  options.sockets = {"127.0.0.1:0"};
  options.threads = 1;
  std::string posted;
  auto server = net::HttpServer::Start(options, [&](const net::HttpRequest& req) {
    if (req.path == "/acc/tdquote" && req.method == "POST") {
      posted = req.body;
      return net::HttpResponse::Json(200, R"({"quote":"cXVvdGU"})");
    }
    if (req.path == "/metadata/THIM/amd/certification" && req.Header("Metadata") == "true") {
      return net::HttpResponse::Json(200, R"({"vcekCert":"garbage"})");
    }
    net::HttpResponse r;
    r.status = 404;
    return r;
  });
  ASSERT_TRUE(server.ok());
  Imds imds("http://127.0.0.1:" + std::to_string((*server)->ports()[0]));
  EXPECT_THAT(imds.TdQuote("td report"), IsOkAndHolds(std::string("quote")));
  EXPECT_EQ(posted, R"({"report":")" + core::Base64UrlEncode("td report") + "\"}");
  EXPECT_THAT(imds.VcekDer(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vcekCert")));

  Imds down("http://127.0.0.1:1");
  EXPECT_THAT(down.TdQuote("x"), StatusIs(absl::StatusCode::kUnavailable, StartsWith("imds: ")));
  (*server)->Stop();
}

}  // namespace
}  // namespace ccburst::agent::vtpm
