#include "scaler/decision.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::scaler {
namespace {

using ::ccburst::core::testing::IsOk;
using ::testing::Not;

using std::chrono::seconds;

core::TimePoint At(int64_t s) { return core::FromUnixSeconds(1'700'000'000 + s); }

InstanceProfile Profile() { return {"tdx-4x16", {4, 16, 0}, 0.8, "tdx", "westeurope"}; }

Signals Pending(double pods, double free_pods = 0) {
  Signals s;
  s.pending_pods = pods;
  s.onprem_free = Resources{free_pods, free_pods * 4, 0};
  return s;
}

TEST(PackingTest, PodsPerInstanceUsesTightestResource) {
  EXPECT_EQ(PodsPerInstance({1, 4, 0}, {4, 16, 0}), 4);
  EXPECT_EQ(PodsPerInstance({1, 6, 0}, {4, 16, 0}), 2);  // memory-bound
  EXPECT_EQ(PodsPerInstance({3, 1, 0}, {4, 16, 0}), 1);  // cpu-bound
  EXPECT_EQ(PodsPerInstance({1, 1, 1}, {8, 64, 2}), 2);  // gpu-bound
  EXPECT_EQ(PodsPerInstance({1, 1, 1}, {8, 64, 0}), 0);  // needs a GPU the profile lacks
  EXPECT_EQ(PodsPerInstance({8, 4, 0}, {4, 16, 0}), 0);  // larger than the VM
}

TEST(DecisionTest, PacksPendingPodsOntoInstances) {
  Decider d(Profile(), {}, {1, 4, 0});
  Decision r = d.Decide(Pending(5), GateState::kOpen, At(0));
  EXPECT_EQ(r.pods_per_instance, 4);
  EXPECT_EQ(r.demand_replicas, 2);
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kScaleUp);
}

TEST(DecisionTest, MeasuredRequestsOverrideConfiguredPodSize) {
  Decider d(Profile(), {}, {1, 4, 0});
  Signals s = Pending(4);
  s.pending_requests = Resources{8, 24, 0};  // 2 vCPU / 6 GiB each: 2 per instance
  Decision r = d.Decide(s, GateState::kOpen, At(0));
  EXPECT_EQ(r.pods_per_instance, 2);
  EXPECT_EQ(r.wanted, 2);
}

TEST(DecisionTest, PodLargerThanProfileNeverBursts) {
  Decider d(Profile(), {}, {8, 4, 0});
  Decision r = d.Decide(Pending(3), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kPodTooLarge);
}

TEST(DecisionTest, MaxReplicasCap) {
  PlacementPolicy p;
  p.max_replicas = 3;
  Decider d(Profile(), p, {1, 4, 0});
  Decision r = d.Decide(Pending(40), GateState::kOpen, At(0));
  EXPECT_EQ(r.demand_replicas, 10);
  EXPECT_EQ(r.wanted, 3);
  EXPECT_EQ(r.reason, Reason::kCappedMaxReplicas);
}

TEST(DecisionTest, BudgetCap) {
  PlacementPolicy p;
  p.max_replicas = 10;
  p.budget_per_hour = 2.0;  // 2.0 / 0.8 = 2 replicas
  Decider d(Profile(), p, {1, 4, 0});
  EXPECT_EQ(d.Cap(), 2);
  Decision r = d.Decide(Pending(40), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kCappedBudget);
}

TEST(DecisionTest, DisallowedRegionOrTeeMeansZero) {
  PlacementPolicy p;
  p.allowed_regions = {"germanywestcentral"};
  Decider d(Profile(), p, {1, 4, 0});
  Decision r = d.Decide(Pending(8), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kRegionNotAllowed);

  PlacementPolicy q;
  q.allowed_tees = {"snp"};
  Decider e(Profile(), q, {1, 4, 0});
  r = e.Decide(Pending(8), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kTeeNotAllowed);
}

TEST(DecisionTest, GateBlocksScaleUpAndHolds) {
  Decider d(Profile(), {}, {1, 4, 0});
  EXPECT_EQ(d.Decide(Pending(4), GateState::kOpen, At(0)).wanted, 1);
  Decision r = d.Decide(Pending(12), GateState::kKbsUnreachable, At(10));
  EXPECT_EQ(r.wanted, 1);
  EXPECT_EQ(r.reason, Reason::kGateKbsUnreachable);
  r = d.Decide(Pending(12), GateState::kAttestationFailing, At(20));
  EXPECT_EQ(r.wanted, 1);
  EXPECT_EQ(r.reason, Reason::kGateAttestationFailing);
  r = d.Decide(Pending(12), GateState::kOpen, At(30));
  EXPECT_EQ(r.wanted, 3);
}

TEST(DecisionTest, SignalErrorHoldsCurrentReplicas) {
  Decider d(Profile(), {}, {1, 4, 0});
  d.Decide(Pending(8), GateState::kOpen, At(0));
  Decision r = d.Hold("prometheus: down", GateState::kOpen, At(5));
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kSignalError);
  EXPECT_EQ(r.detail, "prometheus: down");
}

TEST(DecisionTest, ScaleInOnlyAfterCooldown) {
  PlacementPolicy p;
  p.scale_in_cooldown = seconds(300);
  Decider d(Profile(), p, {1, 4, 0});
  EXPECT_EQ(d.Decide(Pending(12), GateState::kOpen, At(0)).wanted, 3);
  // Demand drops to one instance's worth; on-prem has room.
  Decision r = d.Decide(Pending(3, 2), GateState::kOpen, At(30));
  EXPECT_EQ(r.wanted, 3);
  EXPECT_EQ(r.reason, Reason::kScaleInCooldown);
  r = d.Decide(Pending(3, 2), GateState::kOpen, At(329));
  EXPECT_EQ(r.wanted, 3);
  r = d.Decide(Pending(3, 2), GateState::kOpen, At(330));
  EXPECT_EQ(r.wanted, 1);
  EXPECT_EQ(r.reason, Reason::kScaleIn);
}

TEST(DecisionTest, HysteresisUsesHighestDemandInCooldown) {
  PlacementPolicy p;
  p.scale_in_cooldown = seconds(300);
  Decider d(Profile(), p, {1, 4, 0});
  d.Decide(Pending(16), GateState::kOpen, At(0));  // 4
  d.Decide(Pending(4, 2), GateState::kOpen, At(10));
  d.Decide(Pending(11, 0), GateState::kOpen, At(200));  // a blip to 3 within the cool-down
  Decision r = d.Decide(Pending(4, 2), GateState::kOpen, At(310));
  EXPECT_EQ(r.wanted, 3);
  EXPECT_EQ(r.reason, Reason::kScaleIn);
  // A bounce back to 4 scales up at once.
  r = d.Decide(Pending(16), GateState::kOpen, At(320));
  EXPECT_EQ(r.wanted, 4);
  EXPECT_EQ(r.reason, Reason::kScaleUp);
}

TEST(DecisionTest, ScaleToZeroNeedsOnPremHeadroom) {
  PlacementPolicy p;
  p.scale_in_cooldown = seconds(300);
  p.headroom_pods = 2;
  Decider d(Profile(), p, {1, 4, 0});
  d.Decide(Pending(8), GateState::kOpen, At(0));  // 2
  d.Decide(Pending(0, 1), GateState::kOpen, At(10));
  Decision r = d.Decide(Pending(0, 1), GateState::kOpen, At(400));
  EXPECT_EQ(r.wanted, 1);  // keeps one replica: on-prem has only 1 pod of room
  EXPECT_EQ(r.reason, Reason::kScaleIn);
  // Still no headroom: the last replica stays.
  r = d.Decide(Pending(0, 1), GateState::kOpen, At(800));
  EXPECT_EQ(r.wanted, 1);
  EXPECT_EQ(r.reason, Reason::kScaleInCooldown);
  r = d.Decide(Pending(0, 1), GateState::kOpen, At(1200));
  EXPECT_EQ(r.wanted, 1);
  EXPECT_EQ(r.reason, Reason::kScaleInHeadroom);
  // On-prem gains room; after a full cool-down with room the last replica goes.
  d.Decide(Pending(0, 3), GateState::kOpen, At(1300));
  r = d.Decide(Pending(0, 3), GateState::kOpen, At(1500));
  EXPECT_EQ(r.wanted, 1);
  r = d.Decide(Pending(0, 3), GateState::kOpen, At(1601));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kScaleIn);
}

TEST(DecisionTest, WindowClosedBlocksScaleUp) {
  PlacementPolicy p;
  auto w = ParseTimeWindow("Mon-Fri 08:00-18:00");
  ASSERT_OK(w);
  p.windows = {*w};
  Decider d(Profile(), p, {1, 4, 0});
  // 2023-11-18 (Saturday) 12:00 UTC
  core::TimePoint sat = core::FromUnixSeconds(1700308800);
  Decision r = d.Decide(Pending(8), GateState::kOpen, sat);
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kWindowClosed);
  // 2023-11-20 (Monday) 12:00 UTC
  r = d.Decide(Pending(8), GateState::kOpen, core::FromUnixSeconds(1700481600));
  EXPECT_EQ(r.wanted, 2);
}

TEST(TimeWindowTest, ParsesAndMatches) {
  auto w = ParseTimeWindow("22:00-06:00");
  ASSERT_OK(w);
  EXPECT_EQ(w->days, 0x7f);
  EXPECT_TRUE(InWindow(*w, core::FromUnixSeconds(1700481600 - 12 * 3600 + 23 * 3600)));
  EXPECT_FALSE(InWindow(*w, core::FromUnixSeconds(1700481600)));
  auto sat = ParseTimeWindow("Sat,Sun 00:00-24:00");
  ASSERT_OK(sat);
  EXPECT_EQ(sat->days, 0x60);
  EXPECT_TRUE(InWindow(*sat, core::FromUnixSeconds(1700308800)));
  EXPECT_THAT(ParseTimeWindow("Mon-Fry 08:00-18:00"), Not(IsOk()));
  EXPECT_THAT(ParseTimeWindow("08:00"), Not(IsOk()));
  EXPECT_EQ(ParseTimeWindow("25:00-26:00").status().message(),
            "time window `25:00-26:00`: want HH:MM-HH:MM");
}

}  // namespace
}  // namespace ccburst::scaler
