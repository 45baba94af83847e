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

// Rules 1-5 alone (no warm reserve, the fixed 300 s cool-down): what most tests here pin.
PlacementPolicy Classic() {
  PlacementPolicy p;
  p.warm_pods = 0;
  p.ski_rental = false;
  p.trend_window = seconds(0);
  return p;
}

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
  Decider d(Profile(), Classic(), {1, 4, 0});
  Decision r = d.Decide(Pending(5), GateState::kOpen, At(0));
  EXPECT_EQ(r.pods_per_instance, 4);
  EXPECT_EQ(r.demand_replicas, 2);
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kScaleUp);
}

TEST(DecisionTest, MeasuredRequestsOverrideConfiguredPodSize) {
  Decider d(Profile(), Classic(), {1, 4, 0});
  Signals s = Pending(4);
  s.pending_requests = Resources{8, 24, 0};  // 2 vCPU / 6 GiB each: 2 per instance
  Decision r = d.Decide(s, GateState::kOpen, At(0));
  EXPECT_EQ(r.pods_per_instance, 2);
  EXPECT_EQ(r.wanted, 2);
}

TEST(DecisionTest, PodLargerThanProfileNeverBursts) {
  Decider d(Profile(), Classic(), {8, 4, 0});
  Decision r = d.Decide(Pending(3), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kPodTooLarge);
}

TEST(DecisionTest, MaxReplicasCap) {
  PlacementPolicy p = Classic();
  p.max_replicas = 3;
  Decider d(Profile(), p, {1, 4, 0});
  Decision r = d.Decide(Pending(40), GateState::kOpen, At(0));
  EXPECT_EQ(r.demand_replicas, 10);
  EXPECT_EQ(r.wanted, 3);
  EXPECT_EQ(r.reason, Reason::kCappedMaxReplicas);
}

TEST(DecisionTest, BudgetCap) {
  PlacementPolicy p = Classic();
  p.max_replicas = 10;
  p.budget_per_hour = 2.0;  // 2.0 / 0.8 = 2 replicas
  Decider d(Profile(), p, {1, 4, 0});
  EXPECT_EQ(d.Cap(), 2);
  Decision r = d.Decide(Pending(40), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kCappedBudget);
}

TEST(DecisionTest, DisallowedRegionOrTeeMeansZero) {
  PlacementPolicy p = Classic();
  p.allowed_regions = {"germanywestcentral"};
  Decider d(Profile(), p, {1, 4, 0});
  Decision r = d.Decide(Pending(8), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kRegionNotAllowed);

  PlacementPolicy q = Classic();
  q.allowed_tees = {"snp"};
  Decider e(Profile(), q, {1, 4, 0});
  r = e.Decide(Pending(8), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kTeeNotAllowed);
}

TEST(DecisionTest, GateBlocksScaleUpAndHolds) {
  Decider d(Profile(), Classic(), {1, 4, 0});
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
  Decider d(Profile(), Classic(), {1, 4, 0});
  d.Decide(Pending(8), GateState::kOpen, At(0));
  Decision r = d.Hold("prometheus: down", GateState::kOpen, At(5));
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kSignalError);
  EXPECT_EQ(r.detail, "prometheus: down");
}

TEST(DecisionTest, ScaleInOnlyAfterCooldown) {
  PlacementPolicy p = Classic();
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
  PlacementPolicy p = Classic();
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
  PlacementPolicy p = Classic();
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
  PlacementPolicy p = Classic();
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

// Rule 6: with on-prem full (no free room), one warm VM's worth of pods joins the demand.
TEST(DecisionTest, WarmPoolKeepsOneVmAheadWhenOnPremIsFull) {
  PlacementPolicy p;  // the default: warm_pods 1, ski-rental cool-down
  Decider d(Profile(), p, {1, 4, 0});
  Decision r = d.Decide(Pending(0, 6), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);  // 6 pods of room: nothing
  EXPECT_EQ(r.reason, Reason::kIdle);
  r = d.Decide(Pending(0, 1), GateState::kOpen, At(30));
  EXPECT_EQ(r.wanted, 1);  // room for 1 < one VM's 4 pods: 3 pods of reserve
  EXPECT_EQ(r.reason, Reason::kWarmPool);
  EXPECT_EQ(r.reserve_pods, 3);
  r = d.Decide(Pending(4, 0), GateState::kOpen, At(60));
  EXPECT_EQ(r.wanted, 2);  // 4 pending + 4 reserve
  EXPECT_EQ(r.reason, Reason::kWarmPool);
  // Pods of a profile that holds one pod get no warm VM.
  Decider big(Profile(), p, {4, 16, 0});
  r = big.Decide(Pending(0, 0), GateState::kOpen, At(0));
  EXPECT_EQ(r.wanted, 0);
}

// Ski rental: keep an idle VM while re-booting it would cost more in pending pods than keeping
// it: 95 s x 4 pods x 1.0 per pod-hour / 0.8 per hour = 475 s; 1 pod per VM: 118 s.
TEST(DecisionTest, SkiRentalCooldownFromPrices) {
  PlacementPolicy p;
  Decider d(Profile(), p, {1, 4, 0});
  EXPECT_EQ(d.ScaleInCooldown(4).count(), 475);
  EXPECT_EQ(d.ScaleInCooldown(1).count(), 118);
  p.pending_pod_hour = 0;
  EXPECT_EQ(Decider(Profile(), p, {1, 4, 0}).ScaleInCooldown(4).count(), 60);  // the floor
  p.ski_rental = false;
  EXPECT_EQ(Decider(Profile(), p, {1, 4, 0}).ScaleInCooldown(4).count(), 300);
  // Scale-in waits the 475 s.
  PlacementPolicy q;
  q.warm_pods = 0;
  Decider e(Profile(), q, {1, 4, 0});
  e.Decide(Pending(4, 0), GateState::kOpen, At(0));
  EXPECT_EQ(e.Decide(Pending(0, 8), GateState::kOpen, At(10)).reason, Reason::kScaleInCooldown);
  EXPECT_EQ(e.Decide(Pending(0, 8), GateState::kOpen, At(480)).wanted, 1);
  Decision r = e.Decide(Pending(0, 8), GateState::kOpen, At(490));
  EXPECT_EQ(r.wanted, 0);
  EXPECT_EQ(r.reason, Reason::kScaleIn);
}

// Learned ski rental (rule 5): bursts 30 minutes apart teach the decider that an idle VM held
// the break-even 475 s is paid for nothing (demand does not come back within it), so once three
// such gaps are known it scales in after 60 s; bursts 200 s apart (back within the hold) keep the
// 475 s; with learned_hold off nothing is learned.
TEST(DecisionTest, LearnedHoldShortensOnlyWhenDemandStaysAway) {
  PlacementPolicy p;
  p.warm_pods = 0;
  p.trend_window = seconds(0);
  // A burst of one VM for 60 s, then `away` seconds without demand (a decision every 10 s).
  auto cycle = [](Decider& d, int64_t& t, int64_t away) {
    EXPECT_EQ(d.Decide(Pending(4, 0), GateState::kOpen, At(t)).wanted, 1);
    t += 60;
    for (const int64_t end = t + away; t < end; t += 10) {
      d.Decide(Pending(0, 8), GateState::kOpen, At(t));
    }
  };
  Decider away(Profile(), p, {1, 4, 0});
  int64_t t = 0;
  // A gap is known when the next burst comes: after the fourth burst, three.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(away.ScaleInCooldown(4).count(), 475) << "burst " << i;
    cycle(away, t, 1800);
  }
  EXPECT_EQ(away.Decide(Pending(4, 0), GateState::kOpen, At(t)).wanted, 1);
  EXPECT_EQ(away.ScaleInCooldown(4).count(), 60);
  t += 60;
  EXPECT_EQ(away.Decide(Pending(0, 8), GateState::kOpen, At(t)).reason, Reason::kScaleInCooldown);
  Decision in = away.Decide(Pending(0, 8), GateState::kOpen, At(t + 61));
  EXPECT_EQ(in.wanted, 0);
  EXPECT_EQ(in.reason, Reason::kScaleIn);

  Decider back(Profile(), p, {1, 4, 0});
  t = 0;
  for (int i = 0; i < 6; ++i) cycle(back, t, 200);
  EXPECT_EQ(back.ScaleInCooldown(4).count(), 475);

  p.learn_min_gaps = 0;
  Decider off(Profile(), p, {1, 4, 0});
  t = 0;
  for (int i = 0; i < 5; ++i) cycle(off, t, 1800);
  EXPECT_EQ(off.ScaleInCooldown(4).count(), 475);
}

// Rule 7, trend: a ramp. The shortage (pending - free) rose by 3 and then by 4 pods over two
// 60 s windows; trend_gain (2) times the smaller rise is reserved.
TEST(DecisionTest, TrendReservesSustainedGrowth) {
  PlacementPolicy p = Classic();
  p.trend_window = seconds(60);
  p.trend_gain = 2;
  Decider d(Profile(), p, {1, 4, 0});
  d.Decide(Pending(0, 2), GateState::kOpen, At(0));                // shortage -2
  Decision r = d.Decide(Pending(1, 0), GateState::kOpen, At(60));  // 1: rose by 3, once
  EXPECT_EQ(r.reserve_pods, 0);
  EXPECT_EQ(r.wanted, 1);
  EXPECT_EQ(r.reason, Reason::kScaleUp);
  r = d.Decide(Pending(5, 0), GateState::kOpen, At(120));  // 5: rose by 4 after 3
  EXPECT_EQ(r.reserve_pods, 6);                            // 2 x min(4, 3)
  EXPECT_EQ(r.wanted, 3);                                  // ceil((5 + 6) / 4)
  EXPECT_EQ(r.reason, Reason::kTrend);
  r = d.Decide(Pending(5, 0), GateState::kOpen, At(180));  // flat: no rise in the last window
  EXPECT_EQ(r.reserve_pods, 0);
  EXPECT_EQ(r.wanted, 3);  // held by the cool-down
}

// A step is all there once it is seen: one window's jump reserves nothing more.
TEST(DecisionTest, TrendIgnoresAStep) {
  PlacementPolicy p = Classic();
  p.trend_window = seconds(60);
  p.trend_gain = 2;
  Decider d(Profile(), p, {1, 4, 0});
  d.Decide(Pending(0, 4), GateState::kOpen, At(0));
  d.Decide(Pending(0, 4), GateState::kOpen, At(60));
  Decision r = d.Decide(Pending(10, 0), GateState::kOpen, At(120));
  EXPECT_EQ(r.reserve_pods, 0);
  EXPECT_EQ(r.wanted, 3);
  EXPECT_EQ(r.reason, Reason::kScaleUp);
}

// Growth that on-prem's free room still absorbs reserves nothing; growth beyond it does.
TEST(DecisionTest, TrendLessTheFreeRoom) {
  PlacementPolicy p = Classic();
  p.trend_window = seconds(60);
  p.trend_gain = 2;
  Decider d(Profile(), p, {1, 4, 0});
  d.Decide(Pending(0, 12), GateState::kOpen, At(0));
  d.Decide(Pending(0, 10), GateState::kOpen, At(60));
  Decision r = d.Decide(Pending(0, 8), GateState::kOpen, At(120));  // 2 x 2 < 8 free
  EXPECT_EQ(r.reserve_pods, 0);
  EXPECT_EQ(r.wanted, 0);
  d.Decide(Pending(0, 5), GateState::kOpen, At(180));
  r = d.Decide(Pending(0, 1), GateState::kOpen, At(240));  // rose by 4 after 3: 2 x 3 - 1
  EXPECT_EQ(r.reserve_pods, 5);
  EXPECT_EQ(r.wanted, 2);
  EXPECT_EQ(r.reason, Reason::kTrend);
  // A profile that holds one pod gets no trend reserve (as no warm VM).
  Decider big(Profile(), p, {4, 16, 0});
  big.Decide(Pending(0, 2), GateState::kOpen, At(0));
  big.Decide(Pending(1, 0), GateState::kOpen, At(60));
  EXPECT_EQ(big.Decide(Pending(3, 0), GateState::kOpen, At(120)).reserve_pods, 0);
}

// A shortage that fell over both windows is draining: the warm VM is not asked for.
TEST(DecisionTest, DrainingShortageDropsTheWarmReserve) {
  PlacementPolicy p;  // the defaults: warm_pods 1, trend over 60 s windows
  Decider d(Profile(), p, {1, 4, 0});
  Decision r = d.Decide(Pending(10, 0), GateState::kOpen, At(0));
  EXPECT_EQ(r.reserve_pods, 4);  // the warm VM
  r = d.Decide(Pending(8, 0), GateState::kOpen, At(60));
  EXPECT_EQ(r.reserve_pods, 4);  // fell once
  r = d.Decide(Pending(6, 0), GateState::kOpen, At(120));
  EXPECT_EQ(r.reserve_pods, 0);  // fell twice
  EXPECT_EQ(r.demand_replicas, 2);
  r = d.Decide(Pending(6, 0), GateState::kOpen, At(180));
  EXPECT_EQ(r.reserve_pods, 4);  // flat again: warm
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
