#include "collateral/nvidia/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <mutex>

#include "core/encoding.h"
#include "core/json.h"
#include "core/log_safe.h"
#include "net/http_client.h"

namespace ccburst::collateral::nvidia {
namespace {

bool ValidId(const std::string& id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
  });
}

// The RIM document of a service answer: JSON {"rim": base64} or the XML itself.
absl::StatusOr<std::string> RimFromBody(const std::string& body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && body[first] == '<') return body;
  CCB_ASSIGN_OR_RETURN(core::json::value v, core::ParseJson(body), "not JSON");
  const core::json::value* rim = v.is_object() ? v.as_object().if_contains("rim") : nullptr;
  if (rim == nullptr || !rim->is_string()) {
    return absl::InvalidArgumentError("no `rim` string in the answer");
  }
  CCB_ASSIGN_OR_RETURN(std::string xml, core::Base64Decode(rim->get_string()), "`rim`");
  return xml;
}

class RimServiceSource final : public evidence::nvidia::RimSource {
 public:
  RimServiceSource(RimServiceOptions options, net::HttpClientOptions http)
      : options_(std::move(options)),
        http_(std::move(http)),
        gate_("nvidia rim service", GateOptions(options_)) {}

  absl::StatusOr<std::string> FetchRim(const std::string& id) const override {
    if (!ValidId(id)) {
      return absl::InvalidArgumentError(fmt::format(
          "nvidia rim service: RIM ID `{}` is not [A-Za-z0-9._-]{{1,128}}", core::LogSafe(id, 64)));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = cache_.find(id); it != cache_.end()) return it->second;
    }
    return gate_.Fetch(id, [this, id] {
      net::FetchOutcome out = Get(RimServicePath(id));
      if (out.body.ok()) Keep(id, *out.body);
      return out;
    });
  }

 private:
  static net::FetchGateOptions GateOptions(const RimServiceOptions& o) {
    net::FetchGateOptions g = o.limits;
    if (g.clock == nullptr) g.clock = o.clock;
    return g;
  }

  // One GET on a gate thread: 200 with a RIM is the RIM, 404 NotFound, anything else Unavailable
  // (with the server's Retry-After, which the gate caps).
  net::FetchOutcome Get(const std::string& path) const {
    auto client = net::HttpClient::Create(http_);
    if (!client.ok()) {
      return {absl::UnavailableError(
                  fmt::format("nvidia rim service: {}", core::Message(client.status()))),
              std::nullopt};
    }
    auto resp = (*client)->Send("GET", path);
    if (!resp.ok()) {
      return {absl::UnavailableError(fmt::format("nvidia rim service: GET {}: {}", path,
                                                 core::Message(resp.status()))),
              std::nullopt};
    }
    if (resp->status == 200) {
      auto rim = RimFromBody(resp->body);
      if (!rim.ok()) {
        return {absl::UnavailableError(fmt::format("nvidia rim service: GET {}: {}", path,
                                                   core::Message(rim.status()))),
                std::nullopt};
      }
      return {*std::move(rim), std::nullopt};
    }
    if (resp->status == 404) {
      return {absl::NotFoundError(fmt::format("nvidia rim service: GET {}: 404 not found", path)),
              std::nullopt};
    }
    std::optional<std::chrono::seconds> retry;
    if (auto ra = resp->Header("Retry-After")) retry = net::ParseRetryAfter(*ra);
    return {absl::UnavailableError(fmt::format("nvidia rim service: GET {}: HTTP {}{}", path,
                                               resp->status,
                                               resp->status == 429 ? " (rate limited)" : "")),
            retry};
  }

  void Keep(const std::string& id, const std::string& rim) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.contains(id)) return;
    while (!order_.empty() && order_.size() >= options_.max_cached) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
    cache_[id] = rim;
    order_.push_back(id);
  }

  RimServiceOptions options_;
  net::HttpClientOptions http_;
  // Guards the cache; never held while the service is asked.
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> cache_;
  mutable std::deque<std::string> order_;
  // Last: destroyed first, so no fetch runs while the members above go away.
  mutable net::FetchGate gate_;
};

}  // namespace

std::string RimServicePath(const std::string& id) { return "/v1/rim/" + id; }

absl::StatusOr<std::shared_ptr<const evidence::nvidia::RimSource>> NewRimServiceSource(
    RimServiceOptions options) {
  net::HttpClientOptions http;
  http.base_url = options.base_url;
  http.ca_certificate_file = options.ca_certificate_file;
  http.timeout = options.timeout;
  // A base64 RIM in JSON: a third more than the RIM itself.
  http.max_response_bytes = evidence::nvidia::kMaxRimBytes * 3 / 2;
  CCB_RETURN_IF_ERROR(net::HttpClient::Create(http).status());  // checks the URL and CA file
  if (options.max_cached == 0) options.max_cached = 1;
  return std::shared_ptr<const evidence::nvidia::RimSource>(
      std::make_shared<RimServiceSource>(std::move(options), std::move(http)));
}

}  // namespace ccburst::collateral::nvidia
