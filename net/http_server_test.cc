// End-to-end tests of HttpServer and HttpClient on 127.0.0.1 (ephemeral ports), plus raw-socket
// tests for what the client never sends (malformed requests, plaintext to a TLS port, slowloris).
#include "net/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/status_matchers.h"
#include "fmt/format.h"
#include "net/http_client.h"
#include "net/testing/test_pki.h"

namespace ccburst::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Echo handler: reports what the server parsed, one field per line.
HttpResponse Echo(const HttpRequest& request) {
  HttpResponse response;
  response.SetHeader("Content-Type", "text/plain");
  response.SetHeader("X-Remote", request.remote);
  response.body =
      fmt::format("method={}\npath={}\nquery={}\ntarget={}\ntls={}\nbody={}", request.method,
                  request.path, request.query, request.target, request.tls, request.body);
  return response;
}

HttpServerOptions PlainOptions() {
  HttpServerOptions options;
  options.sockets = {"127.0.0.1:0"};
  options.threads = 2;
  options.error_response = [](int status, std::string detail) {
    return HttpResponse::Json(status, fmt::format(R"({{"detail":"{}"}})", detail));
  };
  return options;
}

std::unique_ptr<HttpServer> StartServer(HttpServerOptions options, HttpHandler handler) {
  auto server = HttpServer::Start(std::move(options), std::move(handler));
  EXPECT_OK(server);
  return server.ok() ? std::move(*server) : nullptr;
}

std::unique_ptr<HttpClient> MakeClient(const std::string& base_url,
                                       std::optional<std::string> ca_file = std::nullopt) {
  HttpClientOptions options;
  options.base_url = base_url;
  options.ca_certificate_file = std::move(ca_file);
  auto client = HttpClient::Create(std::move(options));
  EXPECT_OK(client);
  return client.ok() ? std::move(*client) : nullptr;
}

std::string Url(const HttpServer& server, std::string_view scheme = "http") {
  return fmt::format("{}://127.0.0.1:{}", scheme, server.ports().at(0));
}

// Writes `data` on a fresh connection, then reads until the server closes it; returns what was
// read.
std::string RawExchange(uint16_t port, std::string_view data) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(data.data(), data.size()), ec);  // the server may hang up first
  std::string out;
  char buf[4096];
  for (;;) {
    size_t n = socket.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string root = ::testing::TempDir() + "/ccb_net_test_pki_" + std::to_string(getpid());
    auto good = testing::CreateTestPki(root + "/good");
    ASSERT_OK(good);
    pki_ = new testing::TestPki(*good);
    auto other = testing::CreateTestPki(root + "/other");
    ASSERT_OK(other);
    other_pki_ = new testing::TestPki(*other);
    auto mismatch = testing::CreateTestPki(root + "/mismatch", "DNS:other.example");
    ASSERT_OK(mismatch);
    mismatch_pki_ = new testing::TestPki(*mismatch);
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete other_pki_;
    delete mismatch_pki_;
  }
  static HttpServerOptions HttpsOptions(const testing::TestPki& pki) {
    HttpServerOptions options = PlainOptions();
    options.tls_certificate_file = pki.certificate_file;
    options.tls_private_key_file = pki.private_key_file;
    return options;
  }
  static testing::TestPki* pki_;
  static testing::TestPki* other_pki_;
  static testing::TestPki* mismatch_pki_;
};
testing::TestPki* TlsTest::pki_ = nullptr;
testing::TestPki* TlsTest::other_pki_ = nullptr;
testing::TestPki* TlsTest::mismatch_pki_ = nullptr;

TEST(HttpServerTest, RoundTripsOverOneKeptAliveConnection) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  ASSERT_NE(client, nullptr);

  std::string first_remote;
  for (int i = 0; i < 5; ++i) {
    auto response = client->Send("POST", fmt::format("/kbs/v0/auth?i={}", i), "payload",
                                 {{"Content-Type", "application/json"}});
    ASSERT_OK(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, fmt::format("method=POST\npath=/kbs/v0/auth\nquery=i={}\n"
                                          "target=/kbs/v0/auth?i={}\ntls=false\nbody=payload",
                                          i, i));
    EXPECT_EQ(response->Header("content-type"), "text/plain");
    std::string remote(response->Header("X-Remote").value_or(""));
    EXPECT_THAT(remote, StartsWith("127.0.0.1:"));
    if (i == 0) first_remote = remote;
    EXPECT_EQ(remote, first_remote);
  }
  EXPECT_EQ(server->accepted_connections(), 1u);
  EXPECT_EQ(client->connections_opened(), 1u);

  auto get = client->Send("GET", "/");
  ASSERT_OK(get);
  EXPECT_EQ(get->body, "method=GET\npath=/\nquery=\ntarget=/\ntls=false\nbody=");
}

TEST(HttpServerTest, BasePathPrefixIsPrepended) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server) + "/api/");
  ASSERT_NE(client, nullptr);
  auto response = client->Send("GET", "/x?y=1");
  ASSERT_OK(response);
  EXPECT_THAT(response->body, HasSubstr("target=/api/x?y=1\n"));
}

TEST(HttpServerTest, HeaderLookupInHandlerIsCaseInsensitive) {
  auto server = StartServer(PlainOptions(), [](const HttpRequest& request) {
    HttpResponse response;
    response.body = fmt::format("{}|{}", request.Header("x-mixed-case").value_or("<none>"),
                                request.Header("X-ABSENT").value_or("<none>"));
    return response;
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  auto response = client->Send("GET", "/", {}, {{"X-Mixed-CASE", "v1"}});
  ASSERT_OK(response);
  EXPECT_EQ(response->body, "v1|<none>");
}

TEST(HttpServerTest, CookiesTravelBothWays) {
  auto server = StartServer(PlainOptions(), [](const HttpRequest& request) {
    HttpResponse response;
    if (request.path == "/login") {
      response.headers.emplace_back(
          "Set-Cookie", "kbs-session-id=0123456789abcdef; Expires=Thu, 01 Jan 2099 00:00:00 GMT");
      response.headers.emplace_back("Set-Cookie", "other=1; Path=/");
    } else if (request.path == "/logout") {
      response.headers.emplace_back("Set-Cookie", "kbs-session-id=; Max-Age=0");
    }
    response.body = std::string(request.Cookie("kbs-session-id").value_or("<none>"));
    return response;
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));

  auto login = client->Send("POST", "/login");
  ASSERT_OK(login);
  EXPECT_EQ(login->body, "<none>");
  EXPECT_EQ(client->GetCookie("kbs-session-id"), "0123456789abcdef");
  EXPECT_EQ(client->GetCookie("other"), "1");

  auto next = client->Send("GET", "/resource");
  ASSERT_OK(next);
  EXPECT_EQ(next->body, "0123456789abcdef");

  // An explicit Cookie header replaces the jar for that request.
  auto explicit_cookie = client->Send("GET", "/resource", {}, {{"Cookie", "kbs-session-id=ff"}});
  ASSERT_OK(explicit_cookie);
  EXPECT_EQ(explicit_cookie->body, "ff");

  auto logout = client->Send("POST", "/logout");
  ASSERT_OK(logout);
  EXPECT_EQ(client->GetCookie("kbs-session-id"), std::nullopt);
  EXPECT_EQ(client->GetCookie("other"), "1");

  client->SetCookie("kbs-session-id", "abc");
  auto set = client->Send("GET", "/resource");
  ASSERT_OK(set);
  EXPECT_EQ(set->body, "abc");

  client->ClearCookies();
  EXPECT_EQ(client->GetCookie("other"), std::nullopt);
  auto cleared = client->Send("GET", "/resource");
  ASSERT_OK(cleared);
  EXPECT_EQ(cleared->body, "<none>");
}

TEST(HttpServerTest, OversizedBodyIsRejectedAndServerKeepsServing) {
  HttpServerOptions options = PlainOptions();
  options.max_body_bytes = 1024;
  std::atomic<int> handled{0};
  auto server = StartServer(std::move(options), [&](const HttpRequest& request) {
    ++handled;
    return Echo(request);
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));

  auto small = client->Send("POST", "/a", std::string(1024, 'x'));
  ASSERT_OK(small);
  EXPECT_EQ(small->status, 200);

  // Big enough that the client cannot finish writing unless the server drains the body.
  auto big = client->Send("POST", "/a", std::string(4 * 1024 * 1024, 'x'));
  ASSERT_OK(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->Header("Content-Type"), "application/json");
  EXPECT_EQ(big->body,
            R"({"detail":"request body of 4194304 bytes exceeds the limit of 1024 bytes"})");
  EXPECT_EQ(handled.load(), 1);

  auto after = client->Send("POST", "/a", "ok");
  ASSERT_OK(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_THAT(after->body, HasSubstr("body=ok"));
  EXPECT_EQ(handled.load(), 2);
}

TEST(HttpServerTest, OversizedChunkedBodyIsRejected) {
  HttpServerOptions options = PlainOptions();
  options.max_body_bytes = 16;
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  std::string reply =
      RawExchange(server->ports()[0],
                  "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(reply, HasSubstr("request body exceeds the limit of 16 bytes"));

  // Within the limit, a chunked body arrives whole.
  std::string ok = RawExchange(server->ports()[0],
                               "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                               "Connection: close\r\n\r\n"
                               "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n");
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(ok, HasSubstr("body=0123456789abcdef"));
}

TEST(HttpServerTest, ExpectContinueIsHonoured) {
  HttpServerOptions options = PlainOptions();
  options.max_body_bytes = 16;
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->ports()[0]));
  std::string head =
      "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n"
      "Connection: close\r\n\r\n";
  asio::write(socket, asio::buffer(head));
  std::string interim(25, '\0');
  asio::read(socket, asio::buffer(interim));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  asio::write(socket, asio::buffer(std::string("abcd")));
  std::string out;
  boost::system::error_code ec;
  char buf[1024];
  for (;;) {
    size_t n = socket.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(out, HasSubstr("body=abcd"));
}

TEST(HttpServerTest, MalformedRequestLineIs400) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  std::string reply = RawExchange(server->ports()[0], "GET /\r\nHost: a\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(reply, HasSubstr(R"({"detail":"malformed request: )"));
  reply = RawExchange(server->ports()[0], "G(T / HTTP/1.1\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 400 "));

  auto client = MakeClient(Url(*server));
  auto response = client->Send("GET", "/still-up");
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServerTest, OversizedHeaderIs431) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  auto response = client->Send("GET", "/", {}, {{"X-Big", std::string(20000, 'h')}});
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, R"({"detail":"request header exceeds the limit of 16384 bytes"})");
  auto after = client->Send("GET", "/");
  ASSERT_OK(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerTest, Http10ClosesAfterResponse) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  std::string reply = RawExchange(server->ports()[0], "GET /old HTTP/1.0\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.0 200 "));
  EXPECT_THAT(reply, HasSubstr("path=/old\n"));
}

TEST(HttpServerTest, HeadResponseHasLengthButNoBody) {
  auto server = StartServer(PlainOptions(), [](const HttpRequest&) {
    HttpResponse response;
    response.body = "0123456789";
    response.SetHeader("Connection", "close");
    return response;
  });
  ASSERT_NE(server, nullptr);
  std::string reply = RawExchange(server->ports()[0], "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(reply, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_EQ(reply.substr(reply.size() - 4), "\r\n\r\n");

  auto client = MakeClient(Url(*server));
  auto head = client->Send("HEAD", "/");
  ASSERT_OK(head);
  EXPECT_EQ(head->body, "");
}

TEST(HttpServerTest, BodylessStatusesDropTheBody) {
  auto server = StartServer(PlainOptions(), [](const HttpRequest& request) {
    HttpResponse response;
    response.status = request.path == "/204" ? 204 : 304;
    response.body = "ignored";
    return response;
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  for (int status : {204, 304, 204}) {
    auto response = client->Send("GET", fmt::format("/{}", status));
    ASSERT_OK(response);
    EXPECT_EQ(response->status, status);
    EXPECT_EQ(response->body, "");
  }
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST(HttpServerTest, HandlerExceptionIs500AndServerStaysUp) {
  auto server = StartServer(PlainOptions(), [](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/throw") throw std::runtime_error("secret detail");
    if (request.path == "/throw-int") throw 42;
    return HttpResponse::Json(200, "{}");
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  for (const char* path : {"/throw", "/throw-int"}) {
    auto response = client->Send("GET", path);
    ASSERT_OK(response);
    EXPECT_EQ(response->status, 500);
    EXPECT_EQ(response->body, R"({"detail":"request handler failed"})");
  }
  auto ok = client->Send("GET", "/fine");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "{}");
}

TEST(HttpServerTest, DefaultErrorResponseIsPlainText) {
  HttpServerOptions options = PlainOptions();
  options.error_response = nullptr;
  options.max_body_bytes = 1;
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  auto response = client->Send("POST", "/", "xy");
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, "request body of 2 bytes exceeds the limit of 1 bytes\n");
}

TEST(HttpServerTest, ConnectionCloseFromHandlerMakesClientReconnect) {
  auto server = StartServer(PlainOptions(), [](const HttpRequest& request) {
    HttpResponse response = Echo(request);
    if (request.path == "/close") response.SetHeader("Connection", "close");
    return response;
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  ASSERT_OK(client->Send("GET", "/close"));
  auto second = client->Send("GET", "/again");
  ASSERT_OK(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(client->connections_opened(), 2u);
  EXPECT_EQ(server->accepted_connections(), 2u);
}

TEST(HttpServerTest, ClientRetriesOnceWhenKeptAliveConnectionWasDropped) {
  HttpServerOptions options = PlainOptions();
  options.idle_timeout = std::chrono::seconds(1);
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  ASSERT_OK(client->Send("GET", "/one"));
  // Wait until the server has idled the connection out (it closes; the client has not noticed).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto response = client->Send("POST", "/two", "b");
  ASSERT_OK(response);
  EXPECT_THAT(response->body, HasSubstr("path=/two\n"));
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST(HttpServerTest, SlowlorisClientIsDroppedWithoutAffectingOthers) {
  HttpServerOptions options = PlainOptions();
  options.idle_timeout = std::chrono::seconds(1);
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  auto slow = std::async(std::launch::async, [port = server->ports()[0]] {
    return RawExchange(port, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
  });
  auto client = MakeClient(Url(*server));
  for (int i = 0; i < 3; ++i) {
    auto response = client->Send("GET", "/");
    ASSERT_OK(response);
    EXPECT_EQ(response->status, 200);
  }
  // The server closes the half-sent request without answering.
  EXPECT_EQ(slow.get(), "");
}

TEST(HttpServerTest, ClientTimesOut) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto server = StartServer(PlainOptions(), [released](const HttpRequest& request) {
    if (request.path == "/slow") released.wait();
    return HttpResponse{};
  });
  ASSERT_NE(server, nullptr);
  HttpClientOptions options;
  options.base_url = Url(*server);
  options.timeout = std::chrono::milliseconds(200);
  auto client = HttpClient::Create(options);
  ASSERT_OK(client);
  auto response = (*client)->Send("GET", "/slow");
  release.set_value();
  ASSERT_THAT(response, StatusIs(absl::StatusCode::kUnavailable,
                                 AllOf(HasSubstr("timed out after 200 ms"),
                                       HasSubstr("GET " + Url(*server) + "/slow"))));
  auto after = (*client)->Send("GET", "/fast");
  ASSERT_OK(after);
}

// HttpResponse::hold: the handler returns at once and the response goes out when another thread
// releases it, as built or replaced; the I/O thread serves other requests meanwhile; a release
// after Stop does nothing.
TEST(HttpServerTest, HeldResponsesAreSentWhenReleasedFromAnotherThread) {
  std::mutex mu;
  std::vector<HttpRelease> releases;
  HttpServerOptions options = PlainOptions();
  options.threads = 1;  // the held request must not occupy the only I/O thread
  auto server = StartServer(options, [&](const HttpRequest& request) {
    HttpResponse r = HttpResponse::Json(200, fmt::format(R"({{"path":"{}"}})", request.path));
    if (request.path == "/inline") {
      // Released while `hold` runs, on the I/O thread: sent without a trip through the queue.
      r.hold = [](HttpRelease release) { release(std::nullopt); };
    } else if (request.path == "/inline-throw") {
      r.hold = [](HttpRelease release) {
        release(std::nullopt);
        throw std::runtime_error("after the release");
      };
    } else if (request.path == "/throw") {
      r.hold = [](HttpRelease) { throw std::runtime_error("never released"); };
    } else if (request.path != "/now") {
      r.hold = [&](HttpRelease release) {
        std::lock_guard lock(mu);
        releases.push_back(std::move(release));
      };
    }
    return r;
  });
  ASSERT_NE(server, nullptr);
  auto held = MakeClient(Url(*server));
  auto replaced = MakeClient(Url(*server));
  auto other = MakeClient(Url(*server));
  auto first = std::async(std::launch::async, [&] { return held->Send("GET", "/held"); });
  auto second = std::async(std::launch::async, [&] { return replaced->Send("GET", "/replaced"); });
  // Waits (at most 5 s) until `n` responses are held.
  auto held_count = [&](size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu);
        if (releases.size() >= n) return releases.size();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::lock_guard lock(mu);
    return releases.size();
  };
  ASSERT_EQ(held_count(2), 2u);
  // Both are held; the one I/O thread still answers a third client.
  auto now = other->Send("GET", "/now");
  ASSERT_OK(now);
  EXPECT_EQ(now->body, R"({"path":"/now"})");
  auto inline_release = other->Send("GET", "/inline");
  ASSERT_OK(inline_release);
  EXPECT_EQ(inline_release->body, R"({"path":"/inline"})");
  // A hold that throws: after releasing, the released answer goes; before, a 500.
  auto released_then_threw = other->Send("GET", "/inline-throw");
  ASSERT_OK(released_then_threw);
  EXPECT_EQ(released_then_threw->body, R"({"path":"/inline-throw"})");
  auto threw = other->Send("GET", "/throw");
  ASSERT_OK(threw);
  EXPECT_EQ(threw->status, 500);
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);

  std::vector<HttpRelease> got;
  {
    std::lock_guard lock(mu);
    got = releases;
  }
  // Whichever request arrived first: find each by the order the handler saw them.
  std::thread([&] {
    for (HttpRelease& release : got) {
      release(std::nullopt);
      release(HttpResponse::Json(500, "{}"));  // a second call does nothing
    }
  }).join();
  auto a = first.get();
  auto b = second.get();
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, R"({"path":"/held"})");
  EXPECT_EQ(b->body, R"({"path":"/replaced"})");

  // A replacement instead of the built response; the connection stays usable.
  {
    std::lock_guard lock(mu);
    releases.clear();
  }
  auto third = std::async(std::launch::async, [&] { return replaced->Send("GET", "/again"); });
  ASSERT_EQ(held_count(1), 1u);
  releases[0](HttpResponse::Json(503, R"({"detail":"withheld"})"));
  auto c = third.get();
  ASSERT_OK(c);
  EXPECT_EQ(c->status, 503);
  EXPECT_EQ(c->body, R"({"detail":"withheld"})");
  EXPECT_EQ(replaced->connections_opened(), 1u);

  // Held when the server stops: the client sees the connection close; a late release is a no-op.
  {
    std::lock_guard lock(mu);
    releases.clear();
  }
  auto last = std::async(std::launch::async, [&] { return held->Send("GET", "/stopped"); });
  ASSERT_EQ(held_count(1), 1u);
  server->Stop();
  EXPECT_THAT(last.get(), Not(IsOk()));
  releases[0](std::nullopt);
}

TEST(HttpServerTest, ConcurrentClientsAreServedAndStopClosesTheirConnections) {
  std::atomic<int> handled{0};
  auto server = StartServer(PlainOptions(), [&](const HttpRequest& request) {
    ++handled;
    return HttpResponse::Json(200, request.body);
  });
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 16;
  constexpr int kRequests = 50;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(MakeClient(Url(*server)));
  std::vector<std::future<int>> results;
  for (int c = 0; c < kClients; ++c) {
    results.push_back(std::async(std::launch::async, [&client = *clients[c], c] {
      int ok = 0;
      for (int i = 0; i < kRequests; ++i) {
        std::string body = fmt::format("{}-{}", c, i);
        auto response = client.Send("POST", "/", body);
        if (response.ok() && response->status == 200 && response->body == body) ++ok;
      }
      return ok;
    }));
  }
  for (auto& result : results) EXPECT_EQ(result.get(), kRequests);
  EXPECT_EQ(handled.load(), kClients * kRequests);
  EXPECT_EQ(server->accepted_connections(), static_cast<uint64_t>(kClients));

  server->Stop();  // every client still holds an idle kept-alive connection
  for (auto& client : clients) {
    auto response = client->Send("GET", "/");
    EXPECT_THAT(response, Not(IsOk()));
  }
}

TEST(HttpServerTest, StopIsIdempotentAndClosesListener) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server));
  ASSERT_OK(client->Send("GET", "/"));
  server->Stop();
  server->Stop();
  auto response = client->Send("GET", "/");
  ASSERT_THAT(response, StatusIs(absl::StatusCode::kUnavailable,
                                 HasSubstr("connect failed: connection refused")));
  server.reset();  // destructor after Stop
}

TEST(HttpServerTest, OccupiedPortIsReportedWithTheSocket) {
  auto first = StartServer(PlainOptions(), Echo);
  ASSERT_NE(first, nullptr);
  HttpServerOptions options = PlainOptions();
  const std::string busy = fmt::format("127.0.0.1:{}", first->ports()[0]);
  options.sockets = {"127.0.0.1:0", busy};
  auto second = HttpServer::Start(std::move(options), Echo);
  ASSERT_THAT(second, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("`" + busy + "`"), HasSubstr("in use"))));
}

TEST(HttpServerTest, InvalidOptionsAreRejected) {
  for (const char* socket :
       {"127.0.0.1", "[::1", "::1:80", "127.0.0.1:99999", "1.2.3.4:x", ":80"}) {
    HttpServerOptions options = PlainOptions();
    options.sockets = {socket};
    auto server = HttpServer::Start(std::move(options), Echo);
    ASSERT_THAT(server, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(socket))) << socket;
  }
  HttpServerOptions no_sockets = PlainOptions();
  no_sockets.sockets.clear();
  EXPECT_THAT(HttpServer::Start(no_sockets, Echo), StatusIs(absl::StatusCode::kInvalidArgument));
  HttpServerOptions half_tls = PlainOptions();
  half_tls.tls_certificate_file = "/nonexistent.pem";
  EXPECT_THAT(HttpServer::Start(half_tls, Echo), StatusIs(absl::StatusCode::kInvalidArgument));
  half_tls.tls_private_key_file = "/nonexistent.key";
  auto missing = HttpServer::Start(half_tls, Echo);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(core::Message(missing.status()), HasSubstr("`/nonexistent.pem`"));
}

TEST(HttpServerTest, ListensOnSeveralSocketsInOrder) {
  HttpServerOptions options = PlainOptions();
  options.sockets = {"127.0.0.1:0", "localhost:0"};
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->ports().size(), 2u);
  EXPECT_NE(server->ports()[0], 0);
  EXPECT_NE(server->ports()[1], 0);
  EXPECT_NE(server->ports()[0], server->ports()[1]);
  for (uint16_t port : server->ports()) {
    auto client = MakeClient(fmt::format("http://localhost:{}", port));
    auto response = client->Send("GET", "/");
    ASSERT_OK(response);
    EXPECT_EQ(response->status, 200);
  }
}

TEST(HttpClientTest, BadUrlsAreInvalidArgument) {
  for (const char* url : {"", "ftp://x", "http://", "http://host:port", "http://[::1",
                          "http://a@b:1", "http://h:1/p?q", "127.0.0.1:80", "http://h:0"}) {
    HttpClientOptions options;
    options.base_url = url;
    auto client = HttpClient::Create(options);
    ASSERT_THAT(client, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid base url")))
        << url;
  }
  HttpClientOptions bad_ca;
  bad_ca.base_url = "https://127.0.0.1:1";
  bad_ca.ca_certificate_file = "/nonexistent/ca.pem";
  auto client = HttpClient::Create(bad_ca);
  EXPECT_THAT(client, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(core::Message(client.status()), HasSubstr("`/nonexistent/ca.pem`"));
}

TEST(HttpClientTest, RejectsHeaderInjection) {
  auto client = MakeClient("http://127.0.0.1:1");
  auto response = client->Send("GET", "/", {}, {{"X-A", "1\r\nX-B: 2"}});
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument));
  response = client->Send("GET", "/a b");
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TlsTest, HttpsRoundTripsOverOneKeptAliveConnection) {
  auto server = StartServer(HttpsOptions(*pki_), Echo);
  ASSERT_NE(server, nullptr);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto client = MakeClient(fmt::format("https://{}:{}", host, server->ports()[0]), pki_->ca_file);
    ASSERT_NE(client, nullptr);
    std::string first_remote;
    for (int i = 0; i < 4; ++i) {
      auto response = client->Send("POST", "/kbs/v0/attest", "evidence");
      ASSERT_OK(response);
      EXPECT_EQ(response->status, 200);
      EXPECT_EQ(response->body,
                "method=POST\npath=/kbs/v0/attest\nquery=\ntarget=/kbs/v0/attest\ntls=true\n"
                "body=evidence");
      std::string remote(response->Header("x-remote").value_or(""));
      if (i == 0) first_remote = remote;
      EXPECT_EQ(remote, first_remote);
    }
    EXPECT_EQ(client->connections_opened(), 1u);
  }
  EXPECT_EQ(server->accepted_connections(), 2u);
}

TEST_F(TlsTest, HttpsBodyLimitAndHandlerErrors) {
  HttpServerOptions options = HttpsOptions(*pki_);
  options.max_body_bytes = 100;
  auto server = StartServer(std::move(options), [](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/throw") throw std::runtime_error("x");
    return Echo(request);
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server, "https"), pki_->ca_file);
  auto big = client->Send("POST", "/", std::string(1 << 20, 'b'));
  ASSERT_OK(big);
  EXPECT_EQ(big->status, 413);
  auto thrown = client->Send("GET", "/throw");
  ASSERT_OK(thrown);
  EXPECT_EQ(thrown->status, 500);
  auto ok = client->Send("GET", "/ok");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TlsTest, WrongCaFailsCertificateVerification) {
  auto server = StartServer(HttpsOptions(*pki_), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server, "https"), other_pki_->ca_file);
  auto response = client->Send("GET", "/");
  ASSERT_THAT(response,
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("tls handshake failed: certificate verify failed: "),
                             HasSubstr(Url(*server, "https")))));
  // The failed handshake did not hurt the server.
  auto good = MakeClient(Url(*server, "https"), pki_->ca_file);
  auto ok = good->Send("GET", "/");
  ASSERT_OK(ok);
}

TEST_F(TlsTest, CertificateForAnotherHostIsRejected) {
  auto server = StartServer(HttpsOptions(*mismatch_pki_), Echo);
  ASSERT_NE(server, nullptr);
  auto by_ip = MakeClient(Url(*server, "https"), mismatch_pki_->ca_file);
  auto response = by_ip->Send("GET", "/");
  ASSERT_THAT(response, StatusIs(_, HasSubstr("certificate verify failed: IP address mismatch")));
  auto by_name =
      MakeClient(fmt::format("https://localhost:{}", server->ports()[0]), mismatch_pki_->ca_file);
  response = by_name->Send("GET", "/");
  ASSERT_THAT(response, StatusIs(_, HasSubstr("certificate verify failed: hostname mismatch")));
}

TEST_F(TlsTest, PlaintextAndGarbageToTlsPortDoNotKillTheServer) {
  auto server = StartServer(HttpsOptions(*pki_), Echo);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->ports()[0];
  std::string reply = RawExchange(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THAT(reply, ::testing::Not(HasSubstr("200")));
  RawExchange(port, std::string(100000, '\x16'));
  RawExchange(port, std::string("\x16\x03\x01\x00\x05hello", 10));

  auto plain_client = MakeClient(Url(*server, "http"));
  auto plain = plain_client->Send("GET", "/");
  EXPECT_THAT(plain, Not(IsOk()));

  auto client = MakeClient(Url(*server, "https"), pki_->ca_file);
  auto response = client->Send("GET", "/");
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(TlsTest, HttpsClientToPlainPortFails) {
  auto server = StartServer(PlainOptions(), Echo);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server, "https"), pki_->ca_file);
  auto response = client->Send("GET", "/");
  ASSERT_THAT(response,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("tls handshake failed")));
}

TEST_F(TlsTest, ClientResumesSessionAfterServerClosed) {
  auto server = StartServer(HttpsOptions(*pki_), [](const HttpRequest& request) {
    HttpResponse response = Echo(request);
    response.SetHeader("Connection", "close");
    return response;
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(Url(*server, "https"), pki_->ca_file);
  for (int i = 0; i < 3; ++i) {
    auto response = client->Send("GET", "/");
    ASSERT_OK(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(client->connections_opened(), 3u);
}

TEST_F(TlsTest, MismatchedKeyIsRejected) {
  HttpServerOptions options = PlainOptions();
  options.tls_certificate_file = pki_->certificate_file;
  options.tls_private_key_file = other_pki_->private_key_file;
  auto server = HttpServer::Start(std::move(options), Echo);
  ASSERT_THAT(server, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("does not match certificate")));
}

// Handshakes with 127.0.0.1:`port` as a client limited to TLS versions [min, max] and offering
// only `groups` (null: OpenSSL's default); returns the negotiated version ("TLSv1.3") or the
// handshake's error prefixed "error: ".
std::string HandshakeWith(uint16_t port, int min_version, int max_version,
                          const char* groups = nullptr) {
  boost::asio::io_context ioc;
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
  if (groups) SSL_CTX_set1_groups_list(ctx.native_handle(), groups);
  ctx.set_verify_mode(boost::asio::ssl::verify_none);  // the protocol is under test, not trust
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(ioc, ctx);
  stream.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::system::error_code ec;
  stream.handshake(boost::asio::ssl::stream_base::client, ec);
  if (ec) return "error: " + ec.message();
  return SSL_get_version(stream.native_handle());
}

// Trustee's tls_* keys land here (net::TlsOptions): versions and groups are enforced in the
// handshake, not only parsed.
TEST_F(TlsTest, TlsVersionsAndGroupsAreEnforcedInTheHandshake) {
  auto start = [&](net::TlsOptions tls) {
    HttpServerOptions options = HttpsOptions(*pki_);
    options.tls = std::move(tls);
    return StartServer(std::move(options), Echo);
  };
  auto defaults = start({});
  ASSERT_NE(defaults, nullptr);
  EXPECT_EQ(HandshakeWith(defaults->ports()[0], TLS1_2_VERSION, TLS1_3_VERSION), "TLSv1.3");
  EXPECT_EQ(HandshakeWith(defaults->ports()[0], TLS1_2_VERSION, TLS1_2_VERSION), "TLSv1.2");
  EXPECT_THAT(HandshakeWith(defaults->ports()[0], TLS1_VERSION, TLS1_1_VERSION),
              StartsWith("error: "));

  auto tls13_only = start({.min_version = "1.3"});
  ASSERT_NE(tls13_only, nullptr);
  EXPECT_THAT(HandshakeWith(tls13_only->ports()[0], TLS1_2_VERSION, TLS1_2_VERSION),
              StartsWith("error: "));
  EXPECT_EQ(HandshakeWith(tls13_only->ports()[0], TLS1_2_VERSION, TLS1_3_VERSION), "TLSv1.3");

  auto tls12_only = start({.min_version = "1.2", .max_version = "1.2"});
  ASSERT_NE(tls12_only, nullptr);
  EXPECT_THAT(HandshakeWith(tls12_only->ports()[0], TLS1_3_VERSION, TLS1_3_VERSION),
              StartsWith("error: "));

  auto p384 = start({.groups = "secp384r1"});
  ASSERT_NE(p384, nullptr);
  EXPECT_THAT(HandshakeWith(p384->ports()[0], TLS1_3_VERSION, TLS1_3_VERSION, "X25519"),
              StartsWith("error: "));
  EXPECT_EQ(HandshakeWith(p384->ports()[0], TLS1_3_VERSION, TLS1_3_VERSION, "secp384r1"),
            "TLSv1.3");
  EXPECT_EQ(defaults->accepted_connections(), 3u);  // the server stayed up through the failures
}

TEST(HttpServerTest, BadTlsOptionsNameTheSetting) {
  EXPECT_THAT(ValidateTlsOptions({.min_version = "1.1"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls: min_version `1.1`")));
  EXPECT_THAT(ValidateTlsOptions({.min_version = "1.3", .max_version = "1.2"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("min_version (1.3) cannot be greater than max_version (1.2)")));
  EXPECT_THAT(ValidateTlsOptions({.ciphers = "NOT-A-CIPHER"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tls: ciphers: no TLS 1.2 cipher in `NOT-A-CIPHER`")));
  EXPECT_THAT(ValidateTlsOptions({.ciphers = "TLS_NOT_A_SUITE"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tls: ciphers: unknown TLS 1.3 suite")));
  EXPECT_THAT(
      ValidateTlsOptions({.groups = "X25519:nonsense"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls: groups: unknown group")));
  EXPECT_OK(ValidateTlsOptions({.ciphers = "ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384",
                                .groups = "X25519:secp256r1"}));
}

// Issue 16 item 6: a request whose Transfer-Encoding does not end in `chunked` (or holds a coding
// we do not decode, or comes with a Content-Length, or is repeated, or is in HTTP/1.0) is 400 and
// the connection is closed before its body is read, so the body is never parsed as a request.
TEST(HttpServerTest, AmbiguousTransferEncodingIs400AndNothingIsSmuggled) {
  int handled = 0;
  std::mutex mu;
  auto server = StartServer(PlainOptions(), [&](const HttpRequest& r) {
    std::lock_guard lock(mu);
    ++handled;
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::string framing : {
           "Transfer-Encoding: chunked, identity\r\n",
           "Transfer-Encoding: identity\r\n",
           "Transfer-Encoding: gzip\r\n",
           "Transfer-Encoding: gzip, chunked\r\n",
           "Transfer-Encoding: chunked, chunked\r\n",
           "Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
           "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: \r\n",
       }) {
    std::string reply = RawExchange(
        server->ports()[0], "POST /x HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n" + smuggled);
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 400 ")) << framing;
    EXPECT_THAT(reply, HasSubstr("malformed request")) << framing;
    EXPECT_EQ(reply.find("HTTP/1.1", 1), std::string::npos) << framing << reply;
    EXPECT_EQ(reply.find("/smuggled"), std::string::npos) << framing;
  }
  std::string http10 =
      RawExchange(server->ports()[0],
                  "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  EXPECT_THAT(http10, StartsWith("HTTP/1.1 400 "));
  EXPECT_EQ(http10.find("/smuggled"), std::string::npos);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(handled, 0);
  }

  // Plain `chunked` (any case) still works.
  std::string ok = RawExchange(server->ports()[0],
                               "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n"
                               "Connection: close\r\n\r\n4\r\nabcd\r\n0\r\n\r\n");
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(ok, HasSubstr("body=abcd"));
}

// Issue 16 item 12: at the connection limit, connections with no request in flight are closed,
// oldest first, so that a new client is answered at once; a connection that never sends its
// first request is closed after the short first-request timeout.
TEST(HttpServerTest, ConnectionLimitClosesIdleConnectionsOldestFirst) {
  HttpServerOptions options = PlainOptions();
  options.max_connections = 4;
  options.first_request_timeout = std::chrono::seconds(1);
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->max_connections(), 4u);
  asio::io_context ioc;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<tcp::socket>(ioc));
    idle.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->ports()[0]));
  }
  auto t0 = std::chrono::steady_clock::now();
  auto client = MakeClient(Url(*server));
  auto response = client->Send("GET", "/fresh");
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_LE(server->open_connections(), 5u);
  // The oldest idle connection was closed to make room: reading it gives end of stream.
  char c;
  boost::system::error_code ec;
  idle.front()->read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec) << "oldest idle connection still open";
}

TEST(HttpServerTest, SilentConnectionIsClosedAfterFirstRequestTimeout) {
  HttpServerOptions options = PlainOptions();
  options.first_request_timeout = std::chrono::seconds(1);
  auto server = StartServer(std::move(options), Echo);
  ASSERT_NE(server, nullptr);
  auto t0 = std::chrono::steady_clock::now();
  std::string reply = RawExchange(server->ports()[0], "");
  EXPECT_EQ(reply, "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
}

}  // namespace
}  // namespace ccburst::net
