// The TDX and SNP attesters over configfs-tsm, against the stand-in (tsm_stub.h) fed by test
// hierarchies; the KBS verifiers' evidence parsers read what they produce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/attesters.h"
#include "agent/testing/tsm_stub.h"
#include "agent/tsm.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/testing/status_matchers.h"
#include "evidence/snp/evidence.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/evidence.h"
#include "evidence/tdx/quote.h"
#include "evidence/tdx/testing/quote_generator.h"

namespace ccburst::agent {
namespace {

namespace fs = std::filesystem;
using core::testing::StatusIs;
using ::testing::HasSubstr;

class TeeAttestersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("ccb-tsm-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "h");
    options_.configfs_root = (dir_ / "tsm").string();
    options_.ccel_path = (dir_ / "CCEL").string();
    options_.tdx_guest_device = (dir_ / "no-tdx-guest").string();
    options_.sev_guest_device = (dir_ / "no-sev-guest").string();
  }
  void TearDown() override {
    stub_.reset();
    fs::remove_all(dir_);
  }

  void StartStub(std::string_view tee, std::string_view config_hex) {
    if (tee == "tdx") {
      ASSERT_OK(evidence::tdx::testing::TdxTestHierarchy::Create()->Save((dir_ / "h").string()));
    } else {
      ASSERT_OK(evidence::snp::testing::TestHierarchy::Create()->Save((dir_ / "h").string()));
    }
    ASSERT_OK_AND_ASSIGN(testing::TsmStubOptions o,
                         testing::HierarchyStubOptions(tee, (dir_ / "h").string(), config_hex, ""));
    o.root = options_.configfs_root;
    ASSERT_OK_AND_ASSIGN(stub_, testing::TsmStub::Start(std::move(o)));
  }

  fs::path dir_;
  AttesterOptions options_;
  std::unique_ptr<testing::TsmStub> stub_;
};

TEST_F(TeeAttestersTest, TdxQuoteCarriesTheReportDataAndTheEventLog) {
  std::string digest(48, '\x42');
  ASSERT_NO_FATAL_FAILURE(StartStub("tdx", core::HexEncode(digest)));
  ASSERT_OK(core::WriteFile(options_.ccel_path, "ccel bytes"));
  ASSERT_OK_AND_ASSIGN(auto attester, MakeAttester("auto", options_));
  EXPECT_EQ(attester->tee(), "tdx");
  std::string rd(48, '\x07');
  ASSERT_OK_AND_ASSIGN(core::json::value ev, attester->Evidence(rd));
  ASSERT_OK_AND_ASSIGN(auto parsed, evidence::tdx::ParseEvidenceJson(ev));
  ASSERT_OK_AND_ASSIGN(auto quote, evidence::tdx::ParseQuote(parsed.quote));
  EXPECT_EQ(quote.body.report_data.substr(0, 48), rd);
  EXPECT_EQ(quote.body.report_data.substr(48), std::string(16, '\0'));
  EXPECT_EQ(parsed.cc_eventlog, "ccel bytes");

  EXPECT_OK(attester->CheckInitData(digest));
  EXPECT_THAT(attester->CheckInitData(std::string(48, 'x')),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("tdx: mr_config_id 4242")));
}

TEST_F(TeeAttestersTest, SnpReportAndCertificateTable) {
  std::string digest(32, '\x24');
  ASSERT_NO_FATAL_FAILURE(StartStub("snp", core::HexEncode(digest)));
  ASSERT_OK_AND_ASSIGN(auto attester, MakeAttester("snp", options_));
  std::string rd(48, '\x09');
  ASSERT_OK_AND_ASSIGN(core::json::value ev, attester->Evidence(rd));
  ASSERT_OK_AND_ASSIGN(auto parsed, evidence::snp::ParseEvidenceJson(ev));
  EXPECT_EQ(parsed.report.report_data.substr(0, 48), rd);
  EXPECT_FALSE(parsed.certs.empty());
  EXPECT_OK(attester->CheckInitData(std::string(48, '\x24')));  // SHA-384 truncated to 32
  EXPECT_THAT(attester->CheckInitData(std::string(32, '\x25')),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("snp: host_data")));
}

TEST_F(TeeAttestersTest, GenerationRaceIsRetriedThenRefused) {
  ASSERT_NO_FATAL_FAILURE(StartStub("tdx", ""));
  ASSERT_OK_AND_ASSIGN(auto attester, MakeAttester("tdx", options_));
  stub_->set_race(true);
  EXPECT_THAT(attester->Evidence(std::string(48, '\x01')),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("another writer); refused after 3 attempts")));
  // The stand-in counts a report once it has written it, which may be just after the attester
  // gave up on it: wait (bounded) for the count to settle before checking it.
  for (int i = 0; i < 200 && stub_->reports() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(stub_->reports(), 3);
  stub_->set_race(false);
  EXPECT_OK(attester->Evidence(std::string(48, '\x01')).status());
}

TEST_F(TeeAttestersTest, WrongProviderAndMissingHardware) {
  ASSERT_NO_FATAL_FAILURE(StartStub("snp", ""));
  ASSERT_OK_AND_ASSIGN(auto attester, MakeAttester("tdx", options_));
  EXPECT_THAT(attester->Evidence(std::string(48, '\x01')),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is `sev_guest`, want `tdx_guest`")));
  options_.configfs_root = (dir_ / "absent").string();
  EXPECT_THAT(MakeAttester("tdx", options_), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(MakeAttester("auto", options_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(MakeAttester("sgx", options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown tee `sgx`")));
  ASSERT_OK_AND_ASSIGN(auto sample, MakeAttester("sample", options_));
  EXPECT_EQ(sample->tee(), "sample");
}

}  // namespace
}  // namespace ccburst::agent
