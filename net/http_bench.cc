// Requests per second of a trivial handler through HttpServer + HttpClient over one kept-alive
// connection per benchmark thread, HTTP and HTTPS. Run: build-*/net/http_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "fmt/format.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/testing/test_pki.h"

namespace ccburst::net {
namespace {

HttpResponse Trivial(const HttpRequest& request) {
  return HttpResponse::Json(200, R"({"ok":true})");
}

struct Fixture {
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<HttpServer> https;
  testing::TestPki pki;
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    auto pki = testing::CreateTestPki(fmt::format("/tmp/ccb_http_bench_{}", getpid()));
    if (!pki.ok()) std::abort();
    f->pki = *pki;
    HttpServerOptions options;
    options.sockets = {"127.0.0.1:0"};
    auto http = HttpServer::Start(options, Trivial);
    options.tls_certificate_file = f->pki.certificate_file;
    options.tls_private_key_file = f->pki.private_key_file;
    auto https = HttpServer::Start(options, Trivial);
    if (!http.ok() || !https.ok()) std::abort();
    f->http = std::move(*http);
    f->https = std::move(*https);
    return f;
  }();
  return *fixture;
}

void Run(benchmark::State& state, bool tls, size_t body_size) {
  Fixture& f = GetFixture();
  HttpClientOptions options;
  options.base_url = fmt::format("{}://127.0.0.1:{}", tls ? "https" : "http",
                                 (tls ? f.https : f.http)->ports()[0]);
  if (tls) options.ca_certificate_file = f.pki.ca_file;
  auto client = HttpClient::Create(options);
  if (!client.ok()) {
    state.SkipWithError("client");
    return;
  }
  std::string body(body_size, 'x');
  for (auto _ : state) {
    auto response =
        (*client)->Send("POST", "/kbs/v0/auth", body, {{"Content-Type", "application/json"}});
    if (!response.ok() || response->status != 200) {
      state.SkipWithError("request failed");
      return;
    }
    benchmark::DoNotOptimize(response->body.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_HttpKeepAlive(benchmark::State& state) { Run(state, false, state.range(0)); }
void BM_HttpsKeepAlive(benchmark::State& state) { Run(state, true, state.range(0)); }

BENCHMARK(BM_HttpKeepAlive)->Arg(64)->Arg(16 * 1024)->UseRealTime()->ThreadRange(1, 32);
BENCHMARK(BM_HttpsKeepAlive)->Arg(64)->Arg(16 * 1024)->UseRealTime()->ThreadRange(1, 32);

}  // namespace
}  // namespace ccburst::net

BENCHMARK_MAIN();
