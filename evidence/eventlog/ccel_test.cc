#include "evidence/eventlog/ccel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::evidence::eventlog {
namespace {

using ::ccburst::core::testing::StatusIs;

std::string Dir(const std::string& c) {
  return std::string(CCB_SHARED_DIR) + "/testdata/eventlog/" + c + "/";
}

class CcelCaseTest : public ::testing::TestWithParam<const char*> {};

TEST_P(CcelCaseTest, MatchesTrusteeOutputAndReplays) {
  std::string dir = Dir(GetParam());
  auto log = ParseCcel(*core::ReadFile(dir + "ccel.bin"));
  ASSERT_OK(log);
  auto expected = core::ParseJson(*core::ReadFile(dir + "expected_out.json"));
  ASSERT_OK(expected);
  const auto& want = expected->at("uefi_event_logs").as_array();
  boost::json::array got = ToJson(*log);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "event " << i << "\n got: " << core::Serialize(got[i])
                               << "\nwant: " << core::Serialize(want[i]);
  }
  auto c = core::ParseJson(*core::ReadFile(dir + "case.json"));
  ASSERT_OK(c);
  const auto& rtmrs = c->at("expected").at("replayed_rtmrs").as_object();
  for (int i = 0; i < 4; ++i) {
    std::string key = "rtmr" + std::to_string(i);
    if (!rtmrs.contains(key)) continue;
    EXPECT_EQ(core::HexEncode(Replay(*log, i + 1, kAlgSha384)),
              std::string(rtmrs.at(key).as_string()))
        << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, CcelCaseTest,
                         ::testing::Values("ccel-data", "ccel-data-ovmf",
                                           "ccel-aael-alibabacloud"));

TEST(CcelTest, CheckRtmrsNamesTheRegister) {
  auto log = ParseCcel(*core::ReadFile(Dir("ccel-data") + "ccel.bin"));
  ASSERT_OK(log);
  std::array<std::string, 4> rtmrs;
  for (int i = 0; i < 4; ++i) rtmrs[i] = Replay(*log, i + 1, kAlgSha384);
  EXPECT_OK(CheckRtmrs(*log, rtmrs));
  rtmrs[1][0] ^= 1;
  auto s = CheckRtmrs(*log, rtmrs);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(s), ::testing::HasSubstr("eventlog: replayed rtmr1"));
}

TEST(CcelTest, TruncationsNeverCrash) {
  std::string bin = *core::ReadFile(Dir("ccel-data-ovmf") + "ccel.bin");
  auto full = ParseCcel(bin);
  ASSERT_OK(full);
  size_t ok = 0;
  for (size_t n = 0; n < 12000 && n < bin.size(); n += 7) {
    auto log = ParseCcel(std::string_view(bin).substr(0, n));
    if (log.ok()) {
      ++ok;
      EXPECT_LE(log->events.size(), full->events.size());
    } else {
      EXPECT_THAT(log, StatusIs(absl::StatusCode::kInvalidArgument));
    }
  }
  EXPECT_GT(ok, 0u);
}

}  // namespace
}  // namespace ccburst::evidence::eventlog
