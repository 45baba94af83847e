#include "core/testing/fake_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccburst::core::testing {
namespace {

TEST(FakeClock, StandsStillUntilMoved) {
  FakeClock clock(FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 1'800'000'000);
  EXPECT_EQ(clock.Now(), clock.Now());
  clock.Advance(std::chrono::seconds(301));
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 1'800'000'301);
  clock.Set(FromUnixSeconds(5));
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 5);
}

TEST(FakeClock, UsableThroughTheInterface) {
  FakeClock fake(FromUnixSeconds(100));
  const Clock& clock = fake;
  fake.Advance(std::chrono::hours(1));
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 3700);
}

TEST(FakeClock, ReadersAndWritersOnSeveralThreads) {
  FakeClock clock(FromUnixSeconds(0));
  std::thread writer([&] {
    for (int i = 0; i < 1000; ++i) clock.Advance(std::chrono::seconds(1));
  });
  TimePoint last = clock.Now();
  for (int i = 0; i < 1000; ++i) {
    TimePoint now = clock.Now();
    EXPECT_GE(now, last);
    last = now;
  }
  writer.join();
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 1000);
}

}  // namespace
}  // namespace ccburst::core::testing
