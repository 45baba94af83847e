#include "collateral/nvidia/ocsp_source.h"

#include <fmt/format.h>

#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "net/http_client.h"

namespace ccburst::collateral::nvidia {
namespace {

namespace nv = evidence::nvidia;
using CertPtr = std::shared_ptr<const crypto::Certificate>;

// A DER OCSPResponse is small; NVIDIA's carry the responder certificate.
constexpr size_t kMaxResponseBytes = 64 * 1024;

class OcspResponderSource final : public nv::OcspSource {
 public:
  OcspResponderSource(OcspResponderOptions options, net::HttpClientOptions http, std::string path)
      : options_(std::move(options)),
        http_(std::move(http)),
        path_(std::move(path)),
        gate_("nvidia ocsp", GateOptions(options_)) {}

  absl::StatusOr<nv::OcspStatus> CertStatus(const nv::VerifiedChain& chain, size_t index,
                                            core::TimePoint now) const override {
    if (index == 0 || index + 1 >= chain.certs.size()) {
      return absl::InvalidArgumentError("nvidia ocsp: no issuer for this certificate");
    }
    const CertPtr cert = chain.certs[index];
    std::vector<CertPtr> issuers(chain.certs.begin() + static_cast<long>(index) + 1,
                                 chain.certs.end());
    // The key only: the request with its nonce is built on the gate's thread.
    CCB_ASSIGN_OR_RETURN(nv::OcspRequest probe,
                         nv::MakeOcspRequest(*cert, *issuers.front(), /*nonce=*/false));
    const std::string key = probe.key;
    if (auto cached = Cached(key, now)) return *cached;
    CCB_RETURN_IF_ERROR(
        gate_.Fetch(key, [this, cert, issuers, key, now] { return Ask(*cert, issuers, key, now); })
            .status());
    // A status fetched for an earlier verification time may not fit this one.
    if (auto cached = Cached(key, now)) return *cached;
    return absl::UnavailableError(
        fmt::format("nvidia ocsp: {}: the fetched status does not cover the verification time {}",
                    cert->subject_cn(), core::FormatRfc3339(now)));
  }

 private:
  static net::FetchGateOptions GateOptions(const OcspResponderOptions& o) {
    net::FetchGateOptions g = o.limits;
    if (g.clock == nullptr) g.clock = o.clock;
    return g;
  }

  std::optional<nv::OcspStatus> Cached(const std::string& key, core::TimePoint now) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) return std::nullopt;
    const nv::OcspStatus& s = it->second;
    if (s.this_update > now + nv::kOcspSkew || now > s.next_update) return std::nullopt;
    return s;
  }

  // One POST on a gate thread; a verified answer is kept and the gate gets an empty body.
  net::FetchOutcome Ask(const crypto::Certificate& cert, const std::vector<CertPtr>& issuers,
                        const std::string& key, core::TimePoint now) const {
    auto fail = [&](std::string_view why) {
      return net::FetchOutcome{
          absl::UnavailableError(fmt::format("nvidia ocsp: {}: {}", cert.subject_cn(), why)),
          std::nullopt};
    };
    auto request = nv::MakeOcspRequest(cert, *issuers.front(), options_.nonce);
    if (!request.ok()) return fail(core::Message(request.status()));
    auto client = net::HttpClient::Create(http_);
    if (!client.ok()) return fail(core::Message(client.status()));
    auto resp = (*client)->Send(
        "POST", path_, request->der,
        {{"Content-Type", "application/ocsp-request"}, {"Accept", "application/ocsp-response"}});
    if (!resp.ok()) return fail(fmt::format("POST: {}", core::Message(resp.status())));
    if (resp->status != 200) {
      net::FetchOutcome out = fail(fmt::format("POST: HTTP {}{}", resp->status,
                                               resp->status == 429 ? " (rate limited)" : ""));
      if (auto ra = resp->Header("Retry-After")) out.retry_after = net::ParseRetryAfter(*ra);
      return out;
    }
    auto status = nv::VerifyOcspResponse(resp->body, *request, cert, issuers, now);
    if (!status.ok()) return fail(core::Message(status.status()));
    Keep(key, *status);
    return {std::string(), std::nullopt};
  }

  void Keep(const std::string& key, const nv::OcspStatus& status) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      it->second = status;
      return;
    }
    while (!order_.empty() && order_.size() >= options_.max_cached) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
    cache_[key] = status;
    order_.push_back(key);
  }

  OcspResponderOptions options_;
  net::HttpClientOptions http_;
  std::string path_;
  // Guards the cache; never held while the responder is asked.
  mutable std::mutex mu_;
  mutable std::map<std::string, nv::OcspStatus> cache_;
  mutable std::deque<std::string> order_;
  // Last: destroyed first, so no fetch runs while the members above go away.
  mutable net::FetchGate gate_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const evidence::nvidia::OcspSource>> NewOcspResponderSource(
    OcspResponderOptions options) {
  net::HttpClientOptions http;
  http.base_url = options.url;
  http.ca_certificate_file = options.ca_certificate_file;
  http.timeout = options.timeout;
  http.max_response_bytes = kMaxResponseBytes;
  CCB_RETURN_IF_ERROR(net::HttpClient::Create(http).status());  // checks the URL and CA file
  if (options.max_cached == 0) options.max_cached = 1;
  return std::shared_ptr<const evidence::nvidia::OcspSource>(
      std::make_shared<OcspResponderSource>(std::move(options), std::move(http), "/"));
}

}  // namespace ccburst::collateral::nvidia
