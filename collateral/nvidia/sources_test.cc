// The NVIDIA RIM service source against a stand-in service on loopback: a RIM fetched once and
// then served from memory, verified and compared per GPU by the device verifier; 404 negatively
// cached; a 429 Retry-After capped; a hanging service costing a request at most the gate's wait.
#include "collateral/nvidia/sources.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/encoding.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "evidence/nvidia/device_verifier.h"
#include "evidence/nvidia/testing/generator.h"
#include "net/http_server.h"

namespace ccburst::collateral::nvidia {
namespace {

namespace json = boost::json;
namespace nvt = evidence::nvidia::testing;
using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kDriverId[] = "NV_GPU_DRIVER_GH100_550.90.07";

class RimServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rim_ = rim_ca_->MakeRim({});
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 2;
    auto server = net::HttpServer::Start(o, [this](const net::HttpRequest& req) {
      ++requests_;
      if (int ms = hang_ms_.load(); ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      }
      net::HttpResponse resp;
      resp.status = status_.load();
      if (resp.status == 429) resp.SetHeader("Retry-After", "86400");
      if (resp.status == 200) {
        if (req.path != RimServicePath(kDriverId)) {
          resp.status = 404;
          return resp;
        }
        resp.body = core::Serialize(json::object{{"id", kDriverId},
                                                 {"rim", core::Base64Encode(rim_)},
                                                 {"sha256", "x"},
                                                 {"last_updated", "2026-01-01T00:00:00Z"}});
      }
      return resp;
    });
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  RimServiceOptions Options() {
    RimServiceOptions o;
    o.base_url = fmt::format("http://127.0.0.1:{}", server_->ports()[0]);
    o.clock = &clock_;
    return o;
  }

  const core::TimePoint kFrom = core::FromUnixSeconds(1'700'000'000);
  std::unique_ptr<nvt::TestRimCa> rim_ca_ =
      nvt::TestRimCa::Create(kFrom, kFrom + std::chrono::hours(24 * 365));
  std::string rim_;
  std::atomic<int> status_{200};
  std::atomic<int> hang_ms_{0};
  std::atomic<int> requests_{0};
  FakeClock clock_{core::FromUnixSeconds(1'700'086'400)};
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(RimServiceTest, FetchesARimOnceThenServesItFromMemory) {
  auto src = NewRimServiceSource(Options());
  ASSERT_OK(src);
  auto got = (*src)->FetchRim(kDriverId);
  ASSERT_OK(got);
  EXPECT_EQ(*got, rim_);
  ASSERT_OK((*src)->FetchRim(kDriverId));
  EXPECT_EQ(requests_.load(), 1);
  EXPECT_THAT((*src)->FetchRim("../etc/passwd"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not [A-Za-z0-9._-]")));
  EXPECT_EQ(requests_.load(), 1);
}

TEST_F(RimServiceTest, TheDeviceVerifierComparesEachGpuWithItsFetchedRim) {
  auto src = NewRimServiceSource(Options());
  ASSERT_OK(src);
  auto device_ca = nvt::TestDeviceCa::Create(kFrom, kFrom + std::chrono::hours(24 * 365));
  evidence::nvidia::NvidiaDeviceVerifierOptions o;
  o.verifier.trust_anchors.push_back(device_ca->root_pem());
  o.rim_source = *src;
  o.rim_trust_anchors.push_back(rim_ca_->root_pem());
  auto verifier = evidence::nvidia::NvidiaDeviceVerifier::Create(o);
  ASSERT_OK(verifier);
  std::string binding(48, '\x07');
  json::array list;
  for (bool other : {false, true}) {
    nvt::TestGpu gpu = device_ca->MakeGpu();
    nvt::ReportSpec spec;
    spec.nonce = evidence::nvidia::ExpectedNonce(binding);
    spec.other_firmware = other;
    list.push_back(nvt::TestDeviceCa::EvidenceEntry(gpu, nvt::TestDeviceCa::MakeReport(gpu, spec),
                                                    other ? "gpu-1" : "gpu-0"));
  }
  auto claims =
      (*verifier)->Verify(json::object{{"device_evidence_list", list}}, binding, clock_.Now());
  ASSERT_OK(claims);
  ASSERT_EQ(claims->size(), 2u);
  const json::object& rim0 = (*claims)[0].at("rim").as_object();
  EXPECT_EQ(rim0.at("ids"), json::array{kDriverId});
  EXPECT_EQ(rim0.at("measurements_match"), json::value(true));
  const json::object& rim1 = (*claims)[1].at("rim").as_object();
  EXPECT_EQ(rim1.at("measurements_match"), json::value(false));
  EXPECT_EQ(rim1.at("mismatched_indices").as_array().size(), 8u);
  EXPECT_EQ(requests_.load(), 1);  // one fetch for both GPUs

  // A RIM the anchors do not trust: no golden values, the device itself still verifies.
  evidence::nvidia::NvidiaDeviceVerifierOptions untrusted = o;
  untrusted.rim_trust_anchors = {device_ca->root_pem()};
  auto v2 = evidence::nvidia::NvidiaDeviceVerifier::Create(untrusted);
  ASSERT_OK(v2);
  auto claims2 = (*v2)->Verify(json::object{{"device_evidence_list", list}}, binding, clock_.Now());
  ASSERT_OK(claims2);
  const json::object& rim = (*claims2)[0].at("rim").as_object();
  EXPECT_FALSE(rim.contains("measurements_match"));
  EXPECT_THAT(std::string(rim.at("error").as_string()),
              HasSubstr("NV_GPU_DRIVER_GH100_550.90.07: nvidia rim: signing chain ends in"));
}

TEST_F(RimServiceTest, AnUnknownRimIsNotFoundAndNotAskedAgain) {
  auto src = NewRimServiceSource(Options());
  ASSERT_OK(src);
  EXPECT_THAT((*src)->FetchRim("NV_GPU_DRIVER_GH100_1.2.3"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("404 not found")));
  EXPECT_THAT((*src)->FetchRim("NV_GPU_DRIVER_GH100_1.2.3"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(requests_.load(), 1);
}

TEST_F(RimServiceTest, ARetryAfterIsCappedAndBlocksOnlyItsRim) {
  RimServiceOptions o = Options();
  o.limits.max_retry_after = std::chrono::seconds(300);
  auto src = NewRimServiceSource(o);
  ASSERT_OK(src);
  status_ = 429;  // Retry-After: 86400
  EXPECT_THAT((*src)->FetchRim(kDriverId),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 429 (rate limited)")));
  EXPECT_EQ(requests_.load(), 1);
  status_ = 200;
  // Another RIM ID is asked at once (404 here).
  EXPECT_THAT((*src)->FetchRim("NV_GPU_DRIVER_GH100_1.0"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(requests_.load(), 2);
  clock_.Advance(std::chrono::seconds(299));
  EXPECT_THAT((*src)->FetchRim(kDriverId), StatusIs(absl::StatusCode::kUnavailable,
                                                    HasSubstr("nvidia rim service: backing off")));
  EXPECT_EQ(requests_.load(), 2);
  clock_.Advance(std::chrono::seconds(2));  // 301 s: past the cap, not the 86400 asked for
  EXPECT_OK((*src)->FetchRim(kDriverId));
  EXPECT_EQ(requests_.load(), 3);
}

TEST_F(RimServiceTest, AHangingServiceCostsARequestAtMostTheWait) {
  RimServiceOptions o = Options();
  o.limits.wait = std::chrono::milliseconds(300);
  o.timeout = std::chrono::milliseconds(3000);
  auto src = NewRimServiceSource(o);
  ASSERT_OK(src);
  ASSERT_OK((*src)->FetchRim(kDriverId));
  hang_ms_ = 2000;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT((*src)->FetchRim("NV_GPU_DRIVER_GH100_9.9"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("still fetching after 300 ms")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  start = std::chrono::steady_clock::now();
  EXPECT_OK((*src)->FetchRim(kDriverId));  // in memory: no wait at all
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  hang_ms_ = 0;
}

TEST(RimServicePathTest, IsNvidiasLayoutAndVbiosIdsFollowTheReference) {
  EXPECT_EQ(RimServicePath(kDriverId), "/v1/rim/NV_GPU_DRIVER_GH100_550.90.07");
  json::object config{{"driver_version", "550.90.07"},
                      {"vbios_version", "96.00.9f.00.01"},
                      {"project", "2330"},
                      {"project_sku", "0200"},
                      {"chip_sku", "882"}};
  EXPECT_THAT(evidence::nvidia::DeviceRimIds(config),
              ::testing::ElementsAre("NV_GPU_DRIVER_GH100_550.90.07",
                                     "NV_GPU_VBIOS_2330_0200_882_96009F0001"));
  config.erase("project");
  EXPECT_THAT(evidence::nvidia::DeviceRimIds(config),
              ::testing::ElementsAre("NV_GPU_DRIVER_GH100_550.90.07"));
}

}  // namespace
}  // namespace ccburst::collateral::nvidia
