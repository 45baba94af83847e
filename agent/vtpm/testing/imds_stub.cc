#include "agent/vtpm/testing/imds_stub.h"

#include "core/encoding.h"
#include "core/json.h"
#include "evidence/azure/hcl.h"

namespace ccburst::agent::vtpm::testing {
namespace {

namespace json = boost::json;
namespace az = evidence::azure;

net::HttpResponse Error(int status, std::string detail) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(detail);
  return r;
}

std::string DerToPem(std::string_view der) {
  std::string b64 = core::Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

net::HttpResponse TdQuote(const evidence::tdx::testing::TdxTestHierarchy& h,
                          const net::HttpRequest& req) {
  auto body = core::ParseJson(req.body);
  if (!body.ok() || !body->is_object()) return Error(400, "body is not a JSON object");
  const json::value* report = body->as_object().if_contains("report");
  if (report == nullptr || !report->is_string()) return Error(400, "no `report` string");
  auto td_report = core::Base64UrlDecode(report->as_string());
  if (!td_report.ok() || td_report->size() != az::kTdReportSize) {
    return Error(400, "`report` is not a base64url TDREPORT");
  }
  // The quoting enclave signs the TD's own TDINFO: its measurements come from the TDREPORT.
  evidence::tdx::testing::QuoteSpec spec;
  spec.report_data = td_report->substr(az::kTdReportReportDataOffset, 64);
  spec.td_attributes = td_report->substr(az::kTdReportAttributesOffset, 8);
  spec.mr_td = td_report->substr(az::kTdReportMrTdOffset, 48);
  spec.mr_config_id = td_report->substr(az::kTdReportMrConfigIdOffset, 48);
  for (size_t i = 0; i < spec.rtmr.size(); ++i) {
    spec.rtmr[i] = td_report->substr(az::kTdReportRtmrOffset + 48 * i, 48);
  }
  auto quote = h.IssueQuote(spec);
  if (!quote.ok()) return Error(500, core::Message(quote.status()));
  return net::HttpResponse::Json(
      200, json::serialize(json::object{{"quote", core::Base64UrlEncode(*quote)}}));
}

}  // namespace

absl::StatusOr<std::unique_ptr<net::HttpServer>> StartImdsStub(
    const evidence::tdx::testing::TdxTestHierarchy* tdx,
    const evidence::snp::testing::TestHierarchy* snp, const std::string& listen) {
  net::HttpServerOptions options;
  options.sockets = {listen};
  options.threads = 1;
  return net::HttpServer::Start(
      std::move(options), [tdx, snp](const net::HttpRequest& req) -> net::HttpResponse {
        if (req.path == "/acc/tdquote" && req.method == "POST" && tdx != nullptr) {
          return TdQuote(*tdx, req);
        }
        if (req.path == "/metadata/THIM/amd/certification" && req.method == "GET" &&
            snp != nullptr) {
          if (req.Header("Metadata") != "true") return Error(400, "no `Metadata: true` header");
          return net::HttpResponse::Json(
              200, json::serialize(json::object{
                       {"vcekCert", DerToPem(snp->vcek_der())},
                       {"certificateChain", DerToPem(snp->ask_der()) + DerToPem(snp->ark_der())},
                       {"tcbm", "0"}}));
        }
        return Error(404, "not found");
      });
}

}  // namespace ccburst::agent::vtpm::testing
