// libFuzzer target: arbitrary bytes as the body of /auth and /attest (with a live session) and
// as resource paths, through KbsService::Handle. Any crash, leak or sanitizer report is a bug;
// every input must produce a well-formed KBS response.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/json.h"
#include "kbs/kbs_service.h"

namespace {

ccburst::kbs::KbsService& Service() {
  static auto* service = [] {
    // Every refusal is logged at info: at fuzzing speed that is gigabytes of log and most of the
    // time; the responses are what the target checks.
    spdlog::set_level(spdlog::level::off);
    ccburst::kbs::KbsConfig c;
    c.http_server.insecure_http = true;
    c.storage.type = "Memory";
    c.admin.mode = ccburst::kbs::AdminMode::kInsecureAllowAll;
    return ccburst::kbs::KbsService::Create(c)->release();
  }();
  return *service;
}

ccburst::net::HttpRequest Request(std::string method, std::string path, std::string body,
                                  std::string cookie = "") {
  ccburst::net::HttpRequest r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  r.body = std::move(body);
  if (!cookie.empty()) r.headers.emplace_back("Cookie", cookie);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  auto& kbs = Service();
  auto check = [](const ccburst::net::HttpResponse& r) {
    if (r.status != 200 && !ccburst::core::ParseJson(r.body).ok()) {
      fprintf(stderr, "HTTP %d with a body that is not JSON: %s\n", r.status, r.body.c_str());
      __builtin_trap();
    }
  };
  check(kbs.Handle(Request("POST", "/kbs/v0/auth", input)));
  auto auth = kbs.Handle(
      Request("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"sample","extra-params":{}})"));
  std::string cookie;
  for (auto& [k, v] : auth.headers) {
    if (k == "Set-Cookie") cookie = v.substr(0, v.find(';'));
  }
  check(kbs.Handle(Request("POST", "/kbs/v0/attest", input, cookie)));
  check(kbs.Handle(Request("GET", "/kbs/v0/resource/" + input, "", cookie)));
  check(kbs.Handle(
      Request("GET", "/kbs/v0/resource/a/b/c", "", "kbs-session-id=" + input.substr(0, 64))));
  return 0;
}
