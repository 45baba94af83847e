#include "agent/vtpm/imds.h"

#include <chrono>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/certificate.h"
#include "net/http_client.h"

namespace ccburst::agent::vtpm {
namespace {

namespace json = boost::json;

absl::StatusOr<std::string_view> StringMember(std::string_view body, std::string_view member,
                                              json::value* holder) {
  if (body.size() > kMaxImdsResponse) {
    return absl::InvalidArgumentError(
        fmt::format("imds: response is {} bytes, at most {}", body.size(), kMaxImdsResponse));
  }
  CCB_ASSIGN_OR_RETURN(*holder, core::ParseJson(body), "imds");
  CCB_ASSIGN_OR_RETURN(const json::object* o, core::AsObject(*holder, "imds response"), "imds");
  CCB_ASSIGN_OR_RETURN(std::string_view s, core::GetString(*o, member, "imds response"), "imds");
  if (s.empty()) return absl::InvalidArgumentError(fmt::format("imds: `{}` is empty", member));
  return s;
}

absl::StatusOr<net::HttpClientResponse> Call(const std::string& base_url, std::string_view method,
                                             std::string_view path, std::string_view body,
                                             const net::HttpHeaders& headers) {
  net::HttpClientOptions options;
  options.base_url = base_url;
  options.timeout = std::chrono::seconds(10);
  options.max_response_bytes = kMaxImdsResponse;
  CCB_ASSIGN_OR_RETURN(auto http, net::HttpClient::Create(std::move(options)), "imds");
  CCB_ASSIGN_OR_RETURN(net::HttpClientResponse r, http->Send(method, path, body, headers), "imds");
  if (r.status != 200) {
    return absl::UnavailableError(
        fmt::format("imds: {} {} answered HTTP {}", method, path, r.status));
  }
  return r;
}

}  // namespace

absl::StatusOr<std::string> ParseTdQuoteResponse(std::string_view body) {
  json::value holder;
  CCB_ASSIGN_OR_RETURN(std::string_view b64, StringMember(body, "quote", &holder));
  CCB_ASSIGN_OR_RETURN(std::string quote, core::Base64UrlDecode(b64),
                       "imds: `quote` is not base64url");
  if (quote.empty()) return absl::InvalidArgumentError("imds: `quote` is empty");
  return quote;
}

absl::StatusOr<std::string> ParseCertificationResponse(std::string_view body) {
  json::value holder;
  CCB_ASSIGN_OR_RETURN(std::string_view pem, StringMember(body, "vcekCert", &holder));
  CCB_ASSIGN_OR_RETURN(std::vector<std::string> ders,
                       crypto::PemCertificatesToDer(pem, "imds: `vcekCert`", false));
  if (ders.empty()) return absl::InvalidArgumentError("imds: `vcekCert` holds no certificate");
  return std::move(ders.front());
}

absl::StatusOr<std::string> Imds::TdQuote(std::string_view td_report) const {
  std::string body = json::serialize(json::object{{"report", core::Base64UrlEncode(td_report)}});
  CCB_ASSIGN_OR_RETURN(net::HttpClientResponse r, Call(base_url_, "POST", "/acc/tdquote", body,
                                                       {{"Content-Type", "application/json"}}));
  return ParseTdQuoteResponse(r.body);
}

absl::StatusOr<std::string> Imds::VcekDer() const {
  CCB_ASSIGN_OR_RETURN(
      net::HttpClientResponse r,
      Call(base_url_, "GET", "/metadata/THIM/amd/certification", "", {{"Metadata", "true"}}));
  return ParseCertificationResponse(r.body);
}

}  // namespace ccburst::agent::vtpm
