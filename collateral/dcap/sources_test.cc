#include "collateral/dcap/sources.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/encoding.h"
#include "core/file.h"
#include "core/testing/status_matchers.h"
#include "net/http_server.h"
#include "net/url.h"

namespace ccburst::collateral::dcap {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

std::string CaseDir(const std::string& c) {
  return std::string(CCB_SHARED_DIR) + "/testdata/tdx/" + c;
}
core::TimePoint At(std::string_view t) { return *core::ParseRfc3339(t); }

TEST(OfflineDirTest, LoadsTestdataLayout) {
  auto c = LoadCollateralDir(CaseDir("t1-emr-uptodate") + "/collateral");
  ASSERT_OK(c);
  EXPECT_EQ(c->pck_crl.size(), 2663u);
  EXPECT_EQ(c->tcb_info_json.size(), 3089u);
  auto next = CollateralNextUpdate(*c);
  ASSERT_OK(next);
  EXPECT_EQ(core::FormatRfc3339(*next), "2025-07-19T10:00:35Z");
}

TEST(OfflineDirTest, MissingFileIsNamed) {
  auto c = LoadCollateralDir(CaseDir("t1-emr-uptodate"));
  ASSERT_THAT(c, StatusIs(absl::StatusCode::kNotFound, HasSubstr("tcb_info.json")));
  OfflineDirCollateralSource src(CaseDir("t1-emr-uptodate"));
  auto g = src.Get(std::string(6, '\0'), "platform", At("2025-07-01T00:00:00Z"));
  EXPECT_THAT(g, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(core::Message(g.status()), HasSubstr("no collateral for fmspc 000000000000"));
}

// An inner source that counts calls and can be switched off.
class FakeSource : public CollateralSource {
 public:
  explicit FakeSource(Collateral c) : c_(std::make_shared<const Collateral>(std::move(c))) {}
  absl::StatusOr<std::shared_ptr<const Collateral>> Get(std::string_view, std::string_view,
                                                        core::TimePoint) const override {
    ++calls;
    if (down) return absl::UnavailableError("pcs down");
    return c_;
  }
  mutable std::atomic<int> calls{0};
  std::atomic<bool> down{false};

 private:
  std::shared_ptr<const Collateral> c_;
};

TEST(CachingTest, ServesCachedUntilRefreshAndSurvivesRefreshFailure) {
  auto inner =
      std::make_shared<FakeSource>(*LoadCollateralDir(CaseDir("t1-emr-uptodate") + "/collateral"));
  CachingCollateralSource cache(inner);
  std::string fmspc = "\xb0\xc0\x6f\x00\x00\x00";
  fmspc.resize(6);
  ASSERT_OK(cache.Get(fmspc, "platform", At("2025-07-01T00:00:00Z")));
  ASSERT_OK(cache.Get(fmspc, "platform", At("2025-07-10T00:00:00Z")));
  EXPECT_EQ(inner->calls, 1);
  // Within the refresh margin (nextUpdate 2025-07-19T10:00:35Z - 24 h): refresh attempted.
  inner->down = true;
  auto r = cache.Get(fmspc, "platform", At("2025-07-19T00:00:00Z"));
  ASSERT_OK(r);
  EXPECT_EQ(inner->calls, 2);
  // Expired and the refresh fails: the inner error.
  r = cache.Get(fmspc, "platform", At("2025-07-20T00:00:00Z"));
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
}

TEST(CachingTest, PersistsToDisk) {
  std::string dir = std::string(CCB_BINARY_DIR) + "/collateral_tdx_cache_test";
  std::filesystem::remove_all(dir);
  auto inner =
      std::make_shared<FakeSource>(*LoadCollateralDir(CaseDir("t1-emr-uptodate") + "/collateral"));
  std::string fmspc("\xb0\xc0\x6f\x00\x00\x00", 6);
  {
    CachingCollateralSource cache(inner, CachingOptions{.disk_dir = dir});
    ASSERT_OK(cache.Get(fmspc, "platform", At("2025-07-01T00:00:00Z")));
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/B0C06F000000-platform/tcb_info.json"));
  inner->down = true;
  CachingCollateralSource cache(inner, CachingOptions{.disk_dir = dir});
  auto r = cache.Get(fmspc, "platform", At("2025-07-02T00:00:00Z"));
  ASSERT_OK(r);
  EXPECT_EQ(inner->calls, 1);
  // The persisted directory is itself a valid offline directory.
  OfflineDirCollateralSource offline(dir);
  EXPECT_OK(offline.Get(fmspc, "platform", At("2025-07-02T00:00:00Z")));
}

TEST(PcsTest, UnreachablePcsIsUnavailable) {
  PcsOptions o;
  o.base_url = "http://127.0.0.1:1";
  o.timeout = std::chrono::milliseconds(2000);
  PcsCollateralSource pcs(o);
  auto r = pcs.Get(std::string(6, '\0'), "platform", At("2025-07-01T00:00:00Z"));
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("pcs: tcb info")));
}

// A PCS lookalike on loopback HTTP serving t1's collateral; records every request target.
class FakePcs {
 public:
  FakePcs() {
    collateral_ = *LoadCollateralDir(CaseDir("t1-emr-uptodate/collateral"));
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 1;
    server_ = *net::HttpServer::Start(o, [this](const net::HttpRequest& r) { return Serve(r); });
  }
  std::string base_url() const { return fmt::format("http://127.0.0.1:{}", server_->ports()[0]); }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_;
  }
  const Collateral& collateral() const { return collateral_; }

 private:
  static std::string UrlEncode(std::string_view s) { return net::PercentEncode(s); }
  net::HttpResponse Serve(const net::HttpRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      targets_.push_back(r.target);
    }
    net::HttpResponse resp;
    resp.status = 200;
    if (r.path == "/tdx/certification/v4/tcb") {
      resp.body = collateral_.tcb_info_json;
      resp.SetHeader("TCB-Info-Issuer-Chain", UrlEncode(collateral_.tcb_info_issuer_chain));
    } else if (r.path == "/tdx/certification/v4/qe/identity") {
      resp.body = collateral_.qe_identity_json;
      resp.SetHeader("SGX-Enclave-Identity-Issuer-Chain",
                     UrlEncode(collateral_.qe_identity_issuer_chain));
    } else if (r.path == "/sgx/certification/v4/pckcrl") {
      resp.body = collateral_.pck_crl;
      resp.SetHeader("SGX-PCK-CRL-Issuer-Chain", UrlEncode(collateral_.pck_crl_issuer_chain));
    } else if (r.path == "/sgx/certification/v4/rootcacrl") {
      resp.body = core::HexEncode(collateral_.root_ca_crl);  // as a PCCS serves it
    } else {
      resp.status = 404;
    }
    return resp;
  }

  Collateral collateral_;
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::vector<std::string> targets_;
};

TEST(PcsTest, RequestsTheConfiguredTcbUpdateType) {
  FakePcs fake;
  const std::string fmspc = *core::HexDecode("b0c06f000000");
  for (auto [type, name] : {std::pair{TcbUpdateType::kStandard, "standard"},
                            std::pair{TcbUpdateType::kEarly, "early"}}) {
    PcsOptions o;
    o.base_url = fake.base_url();
    o.root_ca_crl_url.clear();  // the PCCS path on base_url
    o.tcb_update_type = type;
    auto size_before = fake.targets().size();
    auto r = PcsCollateralSource(o).Get(fmspc, "platform", At("2025-07-01T00:00:00Z"));
    ASSERT_OK(r);
    EXPECT_EQ((*r)->tcb_info_json, fake.collateral().tcb_info_json);
    EXPECT_EQ((*r)->qe_identity_issuer_chain, fake.collateral().qe_identity_issuer_chain);
    EXPECT_EQ((*r)->root_ca_crl, fake.collateral().root_ca_crl);
    std::vector<std::string> targets = fake.targets();
    targets.erase(targets.begin(), targets.begin() + static_cast<ptrdiff_t>(size_before));
    EXPECT_THAT(targets,
                ::testing::ElementsAre(
                    fmt::format("/tdx/certification/v4/tcb?fmspc=B0C06F000000&update={}", name),
                    fmt::format("/tdx/certification/v4/qe/identity?update={}", name),
                    "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
                    "/sgx/certification/v4/rootcacrl"));
  }
}

TEST(PcsTest, TcbUpdateTypeNames) {
  EXPECT_EQ(*ParseTcbUpdateType("standard"), TcbUpdateType::kStandard);
  EXPECT_EQ(*ParseTcbUpdateType("early"), TcbUpdateType::kEarly);
  EXPECT_EQ(TcbUpdateTypeName(TcbUpdateType::kEarly), "early");
  EXPECT_EQ(core::Message(ParseTcbUpdateType("Early").status()),
            "tcb update type `Early` is not `standard` or `early`");
}

}  // namespace
}  // namespace ccburst::collateral::dcap
