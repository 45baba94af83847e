// The IMDS stand-in quotes the TD that posts its TDREPORT: the quote's TD body is the TDREPORT's
// TDINFO (what the burst's tampered Azure TDX VM relies on) and its report data the REPORTDATA.
#include "agent/vtpm/testing/imds_stub.h"

#include <gtest/gtest.h>

#include "agent/vtpm/imds.h"
#include "evidence/azure/hcl.h"
#include "evidence/azure/testing/generator.h"
#include "evidence/tdx/quote.h"

namespace ccburst::agent::vtpm::testing {
namespace {

namespace az = evidence::azure;

// The TD body of the quote IMDS returns for the TDREPORT in the HCL report made from `spec`.
evidence::tdx::TdReport QuotedBody(const evidence::tdx::testing::TdxTestHierarchy& h,
                                   net::HttpServer& imds, const az::testing::AzSpec& spec) {
  auto bundle = az::testing::TdxHclBundle(h, crypto::PrivateKey::GenerateRsa(2048).Public(), spec);
  EXPECT_TRUE(bundle.ok()) << bundle.status();
  auto hcl = az::ParseHclReport(bundle->hcl_report);
  EXPECT_TRUE(hcl.ok()) << hcl.status();
  std::string td_report = hcl->hw_report.substr(0, az::kTdReportSize);
  auto quote = Imds("http://127.0.0.1:" + std::to_string(imds.ports()[0])).TdQuote(td_report);
  EXPECT_TRUE(quote.ok()) << quote.status();
  auto parsed = evidence::tdx::ParseQuote(*quote);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->body.report_data, td_report.substr(az::kTdReportReportDataOffset, 64));
  // The generator's own TD quote for the same spec has the same body.
  auto own = evidence::tdx::ParseQuote(bundle->td_quote);
  EXPECT_TRUE(own.ok());
  EXPECT_EQ(own->body.mr_td, parsed->body.mr_td);
  EXPECT_EQ(own->body.xfam, parsed->body.xfam);
  return parsed->body;
}

TEST(ImdsStub, QuotesTheTdReportsMeasurements) {
  auto h = evidence::tdx::testing::TdxTestHierarchy::Create();
  auto imds = StartImdsStub(h.get(), nullptr);
  ASSERT_TRUE(imds.ok()) << imds.status();

  az::testing::AzSpec spec;
  evidence::tdx::TdReport body = QuotedBody(*h, **imds, spec);
  EXPECT_EQ(body.mr_td, std::string(48, '\x11'));  // the generator's default, as before
  EXPECT_EQ(body.rtmr[1], std::string(48, '\0'));

  spec.td.mr_td = std::string(48, '\x22');
  spec.td.mr_config_id = std::string(48, '\x33');
  spec.td.rtmr[1] = std::string(48, '\x44');
  spec.td.td_attributes = std::string("\x01\0\0\0\0\0\0\0", 8);
  body = QuotedBody(*h, **imds, spec);
  EXPECT_EQ(body.mr_td, std::string(48, '\x22'));
  EXPECT_EQ(body.mr_config_id, std::string(48, '\x33'));
  EXPECT_EQ(body.rtmr[1], std::string(48, '\x44'));
  EXPECT_EQ(body.td_attributes, spec.td.td_attributes);
  (*imds)->Stop();
}

}  // namespace
}  // namespace ccburst::agent::vtpm::testing
