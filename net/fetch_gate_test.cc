#include "net/fetch_gate.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"

namespace ccburst::net {
namespace {

using core::testing::FakeClock;
using core::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A fetch that blocks until released, counting how many run at once.
class Blocker {
 public:
  FetchGate::FetchFn Fn(std::string body = "ok") {
    return [this, body] {
      int now = ++running_;
      int seen = max_running_.load();
      while (now > seen && !max_running_.compare_exchange_weak(seen, now)) {
      }
      ++calls_;
      released_.wait();
      --running_;
      return FetchOutcome{body, std::nullopt};
    };
  }
  void Release() { release_.set_value(); }
  int calls() const { return calls_; }
  int max_running() const { return max_running_; }
  int running() const { return running_; }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
  std::atomic<int> calls_{0};
};

FetchGateOptions Fast(const core::Clock* clock) {
  FetchGateOptions o;
  o.clock = clock;
  o.wait = 2s;
  o.max_waiting = 64;
  return o;
}

TEST(FetchGateTest, ConcurrentRequestsForOneKeyShareOneFetch) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGate gate("test", Fast(&clock));
  Blocker b;
  std::vector<std::future<absl::StatusOr<std::string>>> got;
  for (int i = 0; i < 8; ++i) {
    got.push_back(std::async(std::launch::async, [&] { return gate.Fetch("chip", b.Fn()); }));
  }
  std::this_thread::sleep_for(100ms);
  b.Release();
  for (auto& g : got) {
    auto r = g.get();
    ASSERT_OK(r);
    EXPECT_EQ(*r, "ok");
  }
  EXPECT_EQ(b.calls(), 1);
  EXPECT_EQ(gate.fetches_started(), 1u);
}

TEST(FetchGateTest, AtMostMaxInFlightFetchesRunAndTheQueueIsBounded) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGateOptions o = Fast(&clock);
  o.max_in_flight = 2;
  o.max_queued = 3;
  o.burst = 100;
  o.wait = 20s;
  FetchGate gate("test", o);
  Blocker b;
  std::vector<std::future<absl::StatusOr<std::string>>> got;
  auto until = [](auto done) {
    for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);
  };
  for (int i = 0; i < 5; ++i) {
    got.push_back(std::async(std::launch::async,
                             [&, i] { return gate.Fetch(fmt::format("k{}", i), b.Fn()); }));
    // The first two start running before the others are queued.
    if (i == 1) until([&] { return b.running() == 2; });
  }
  until([&] { return gate.fetches_started() == 5; });
  // 2 running + 3 queued: the sixth key is refused at once.
  EXPECT_THAT(gate.Fetch("k5", b.Fn()), StatusIs(absl::StatusCode::kUnavailable,
                                                 HasSubstr("test: too many fetches pending")));
  b.Release();
  for (auto& g : got) EXPECT_OK(g.get());
  EXPECT_EQ(b.calls(), 5);
  EXPECT_EQ(b.max_running(), 2);
}

TEST(FetchGateTest, NewKeysComeFromATokenBucket) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGateOptions o = Fast(&clock);
  o.burst = 3;
  o.fetches_per_minute = 6;  // one every 10 s
  FetchGate gate("test", o);
  int calls = 0;
  auto fn = [&] {
    ++calls;
    return FetchOutcome{absl::NotFoundError("test: 404"), std::nullopt};
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(gate.Fetch(fmt::format("chip{}", i), fn), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_THAT(gate.Fetch("chip3", fn),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("test: rate limited")));
  EXPECT_EQ(calls, 3);
  clock.Advance(10s);
  EXPECT_THAT(gate.Fetch("chip3", fn), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(calls, 4);
}

TEST(FetchGateTest, NotFoundIsRememberedForTheNegativeTtl) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGateOptions o = Fast(&clock);
  o.negative_ttl = 600s;
  FetchGate gate("test", o);
  int calls = 0;
  auto fn = [&] {
    ++calls;
    return FetchOutcome{absl::NotFoundError("test: GET /x: 404 not found"), std::nullopt};
  };
  EXPECT_THAT(gate.Fetch("x", fn), StatusIs(absl::StatusCode::kNotFound));
  clock.Advance(599s);
  EXPECT_THAT(gate.Fetch("x", fn),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("404 not found (remembered until")));
  EXPECT_EQ(calls, 1);
  clock.Advance(2s);
  EXPECT_THAT(gate.Fetch("x", fn), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(calls, 2);
}

TEST(FetchGateTest, RetryAfterIsCappedAndAppliesOnlyToItsKey) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGateOptions o = Fast(&clock);
  o.max_retry_after = 300s;
  FetchGate gate("test", o);
  int calls = 0;
  auto limited = [&] {
    ++calls;
    return FetchOutcome{absl::UnavailableError("test: HTTP 429"), 86400s};
  };
  auto ok = [&] {
    ++calls;
    return FetchOutcome{std::string("vcek"), std::nullopt};
  };
  EXPECT_THAT(gate.Fetch("a", limited), StatusIs(absl::StatusCode::kUnavailable));
  // Another key is not affected.
  EXPECT_OK(gate.Fetch("b", ok));
  clock.Advance(299s);
  EXPECT_THAT(gate.Fetch("a", ok),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("test: backing off a until")));
  EXPECT_EQ(calls, 2);
  clock.Advance(2s);  // the cap, not a day
  EXPECT_OK(gate.Fetch("a", ok));
  EXPECT_EQ(calls, 3);
}

TEST(FetchGateTest, BackOffIsTimedFromTheAnswer) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGateOptions o = Fast(&clock);
  o.initial_backoff = 5s;
  FetchGate gate("test", o);
  auto slow_failure = [&] {
    clock.Advance(10s);  // the source took 10 s to fail
    return FetchOutcome{absl::UnavailableError("test: timed out"), std::nullopt};
  };
  EXPECT_THAT(gate.Fetch("a", slow_failure), StatusIs(absl::StatusCode::kUnavailable));
  clock.Advance(4s);
  EXPECT_THAT(gate.Fetch("a", slow_failure),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("backing off")));
  clock.Advance(2s);
  EXPECT_THAT(gate.Fetch("a", slow_failure),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("test: timed out")));
  // The second failure doubles the key's back-off.
  clock.Advance(9s);
  EXPECT_THAT(gate.Fetch("a", slow_failure),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("backing off")));
}

TEST(FetchGateTest, AHangingFetchCostsARequestAtMostTheWaitAndFewRequestsWait) {
  FakeClock clock{core::FromUnixSeconds(1767225600)};
  FetchGateOptions o = Fast(&clock);
  o.wait = 200ms;
  o.max_waiting = 1;
  FetchGate gate("test", o);
  Blocker b;
  auto waiter = std::async(std::launch::async, [&] { return gate.Fetch("a", b.Fn()); });
  std::this_thread::sleep_for(50ms);
  // A second request does not queue behind the first: it fails at once.
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(gate.Fetch("b", b.Fn()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("too many requests waiting")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_THAT(waiter.get(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("test: a still fetching after")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  b.Release();
}

TEST(FetchGateTest, ParsesRetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfter("86400"), 86400s);
  EXPECT_EQ(ParseRetryAfter("0"), 0s);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999"), std::nullopt);
}

}  // namespace
}  // namespace ccburst::net
