// The verifier over generated GPUs (testing/generator.h): what the real vectors cannot show
// (expiry, a leaf without FWID, a report FWID other than the leaf's, another GPU's signature).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "evidence/nvidia/device_verifier.h"
#include "evidence/nvidia/testing/generator.h"
#include "evidence/nvidia/verifier.h"

namespace ccburst::evidence::nvidia::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

const core::TimePoint kFrom = core::FromUnixSeconds(1'700'000'000);
const core::TimePoint kUntil = kFrom + std::chrono::hours(24 * 365);
const core::TimePoint kAt = kFrom + std::chrono::hours(24);

ReportSpec Spec(std::string nonce, std::string fwid = "") {
  ReportSpec spec;
  spec.nonce = std::move(nonce);
  spec.fwid = std::move(fwid);
  return spec;
}

class GeneratedGpuTest : public ::testing::Test {
 protected:
  GeneratedGpuTest() {
    NvidiaVerifierOptions o;
    o.trust_anchors.push_back(ca_->root_pem());
    verifier_ = *NvidiaVerifier::Create(o);
  }
  Check Run(const TestGpu& gpu, const std::string& report, core::TimePoint at = kAt,
            std::string* message = nullptr) {
    Check check = Check::kNone;
    auto r = verifier_->VerifyDevice({"HOPPER", std::nullopt, report, gpu.chain_pem}, &nonce_, at,
                                     &check);
    if (message != nullptr) *message = core::Message(r.status());
    return check;
  }

  std::unique_ptr<TestDeviceCa> ca_ = TestDeviceCa::Create(kFrom, kUntil);
  std::unique_ptr<NvidiaVerifier> verifier_;
  std::string nonce_ = std::string(32, '\x5a');
};

TEST_F(GeneratedGpuTest, AGeneratedGpuVerifies) {
  TestGpu gpu = ca_->MakeGpu();
  std::string report = TestDeviceCa::MakeReport(gpu, Spec(nonce_));
  auto v = verifier_->VerifyDevice({"HOPPER", "g0", report, gpu.chain_pem}, &nonce_, kAt);
  ASSERT_OK(v);
  EXPECT_EQ(v->chain.fwid, gpu.fwid);
  EXPECT_EQ(v->claims.at("measurements").at("3"),
            json::value(core::HexEncode(GeneratedMeasurement(3))));
  EXPECT_EQ(v->claims.at("config").at("driver_version"), "550.90.07");
}

TEST_F(GeneratedGpuTest, EachRefusalNamesItsCheck) {
  TestGpu gpu = ca_->MakeGpu();
  std::string report = TestDeviceCa::MakeReport(gpu, Spec(nonce_));
  std::string m;
  EXPECT_EQ(Run(gpu, report, kUntil + std::chrono::seconds(1), &m), Check::kChainExpired);
  EXPECT_THAT(m, HasSubstr("expired at"));
  EXPECT_EQ(Run(gpu, report, kFrom - std::chrono::seconds(1), &m), Check::kChainExpired);
  EXPECT_THAT(m, HasSubstr("is not valid before"));

  TestGpu other = ca_->MakeGpu();
  EXPECT_EQ(Run(other, report, kAt, &m), Check::kReportSignature);  // signed by another GPU

  std::string other_fwid = TestDeviceCa::MakeReport(gpu, Spec(nonce_, std::string(48, '\x01')));
  EXPECT_EQ(Run(gpu, other_fwid, kAt, &m), Check::kFwidMismatch);

  TestGpu no_fwid = ca_->MakeGpu(/*with_fwid=*/false);
  EXPECT_EQ(Run(no_fwid, TestDeviceCa::MakeReport(no_fwid, Spec(nonce_)), kAt, &m),
            Check::kLeafNoFwid);

  EXPECT_EQ(Run(gpu, TestDeviceCa::MakeReport(gpu, Spec(std::string(32, '\x01'))), kAt, &m),
            Check::kNonce);

  // NVIDIA's root does not anchor a test GPU.
  Check check = Check::kNone;
  auto nvidia = *NvidiaVerifier::Create();
  EXPECT_FALSE(
      nvidia->VerifyDevice({"HOPPER", std::nullopt, report, gpu.chain_pem}, &nonce_, kAt, &check)
          .ok());
  EXPECT_EQ(check, Check::kUntrustedRoot);
}

}  // namespace
}  // namespace ccburst::evidence::nvidia::testing
