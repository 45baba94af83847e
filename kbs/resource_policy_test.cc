#include "kbs/resource_policy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/testing/status_matchers.h"
#include "store/testing/forwarding_store.h"

namespace ccburst::kbs {
namespace {

// A store whose Put yields mid-way, to widen the window between storing and swapping.
class SlowPutStore final : public store::testing::ForwardingStore {
 public:
  absl::Status Put(std::string_view ns, std::string_view key, std::string_view value) override {
    std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    return ForwardingStore::Put(ns, key, value);
  }
};

// Issue 16 item 13: after concurrent Sets, the stored policy is the served one.
TEST(ResourcePolicyTest, ConcurrentSetsLeaveStoredAndServedEqual) {
  SlowPutStore kv;
  ResourcePolicy policy(kv);
  ASSERT_OK(policy.Init(std::nullopt));
  for (int round = 0; round < 50; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        std::string rego = "package policy\ndefault allow := false\n# round " +
                           std::to_string(round) + " writer " + std::to_string(i) + "\n";
        EXPECT_OK(policy.Set(rego));
      });
    }
    for (auto& t : threads) t.join();
    auto stored = kv.Get("kbs", "resource-policy");
    ASSERT_TRUE(stored.ok() && stored->has_value());
    ASSERT_EQ(**stored, policy.Text()) << "round " << round;
  }
}

}  // namespace
}  // namespace ccburst::kbs
