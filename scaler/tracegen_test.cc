#include "scaler/tracegen.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::scaler {
namespace {

TEST(TraceGen, EveryFamilyIsDeterministicAndParses) {
  for (auto family : TraceFamilies()) {
    auto a = GenerateTrace(family, 3);
    auto b = GenerateTrace(family, 3);
    auto c = GenerateTrace(family, 4);
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_OK(c);
    std::string csv = TraceToCsv(*a);
    EXPECT_EQ(csv, TraceToCsv(*b)) << family;
    EXPECT_NE(csv, TraceToCsv(*c)) << family;
    auto parsed = ParseTrace(csv);
    ASSERT_OK(parsed);
    EXPECT_EQ(parsed->size(), a->size());
    // Every family has some demand beyond on-prem capacity somewhere across a few seeds.
    bool bursts = false;
    for (uint64_t seed = 1; seed <= 5 && !bursts; ++seed) {
      auto t = GenerateTrace(family, seed);
      ASSERT_OK(t);
      for (const TraceRow& r : *t) bursts |= r.demand_pods > r.onprem_capacity_pods;
    }
    EXPECT_TRUE(bursts) << family;
  }
}

TEST(TraceGen, UnknownFamilyNamesTheKnownOnes) {
  auto t = GenerateTrace("weekly", 1);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("unknown trace family `weekly` (known: diurnal,"),
            std::string::npos);
}

}  // namespace
}  // namespace ccburst::scaler
