#include "net/http.h"

#include <gtest/gtest.h>

namespace ccburst::net {
namespace {

TEST(HttpRequestTest, HeaderLookupIsCaseInsensitiveAndReturnsFirstMatch) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Dup", "one"}, {"x-dup", "two"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(request.Header("X-DUP"), "one");
  EXPECT_EQ(request.Header("Content-Length"), std::nullopt);
}

TEST(HttpRequestTest, CookieParsesPairsAcrossHeaders) {
  HttpRequest request;
  request.headers = {{"Cookie", "a=1; kbs-session-id=0123abcd ;b=  x"}, {"cookie", "c=3"}};
  EXPECT_EQ(request.Cookie("kbs-session-id"), "0123abcd");
  EXPECT_EQ(request.Cookie("a"), "1");
  EXPECT_EQ(request.Cookie("b"), "x");
  EXPECT_EQ(request.Cookie("c"), "3");
  EXPECT_EQ(request.Cookie("A"), std::nullopt);  // cookie names are case-sensitive
  EXPECT_EQ(request.Cookie("kbs"), std::nullopt);
}

TEST(HttpRequestTest, CookieWithoutHeaderOrMalformedPairs) {
  HttpRequest request;
  EXPECT_EQ(request.Cookie("a"), std::nullopt);
  request.headers = {{"Cookie", "novalue; ; =x; a="}};
  EXPECT_EQ(request.Cookie("novalue"), std::nullopt);
  EXPECT_EQ(request.Cookie("a"), "");
}

TEST(HttpResponseTest, SetHeaderReplacesCaseInsensitively) {
  HttpResponse response;
  response.headers = {{"x-a", "1"}, {"Other", "o"}, {"X-A", "2"}};
  response.SetHeader("X-A", "3");
  ASSERT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>("Other", "o")));
  EXPECT_EQ(response.headers[1], (std::pair<std::string, std::string>("X-A", "3")));
  EXPECT_EQ(response.Header("x-a"), "3");
}

TEST(HttpResponseTest, JsonSetsContentType) {
  HttpResponse response = HttpResponse::Json(401, R"({"type":"x"})");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"type":"x"})");
}

TEST(HttpTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Set-Cookie", "set-cookie"));
  EXPECT_FALSE(EqualsIgnoreCase("Set-Cookie", "set-cookies"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
}

}  // namespace
}  // namespace ccburst::net
