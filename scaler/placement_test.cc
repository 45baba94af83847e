#include "scaler/placement.h"

#include <gtest/gtest.h>

namespace ccburst::scaler {
namespace {

InstanceProfile Profile(std::string name, double cpu, double mem, double gpus, double price,
                        std::string tee = "tdx", std::string region = "westeurope",
                        std::string cloud = "azure", std::string sovereignty = "eu") {
  InstanceProfile p;
  p.name = std::move(name);
  p.capacity = {cpu, mem, gpus};
  p.price_per_hour = price;
  p.tee = std::move(tee);
  p.region = std::move(region);
  p.cloud = std::move(cloud);
  p.sovereignty = std::move(sovereignty);
  return p;
}

const Resources kPod{1, 4, 0};     // 4 per small, 8 per large
const Resources kGpuPod{1, 4, 1};  // one per GPU

std::vector<PlacementCandidate> Mix() {
  return {{Profile("small", 4, 16, 0, 0.83)},  // 0.2075 per pod
          {Profile("large", 8, 32, 0, 1.50)},  // 0.1875 per pod
          {Profile("gpu", 16, 64, 1, 4.00)}};  // one GPU pod, or 4 plain pods
}

PlacementRules Rules(int max_replicas = 10, double budget = 0) {
  PlacementRules r;
  r.max_replicas = max_replicas;
  r.budget_per_hour = budget;
  return r;
}

// Hand-solved: the cheapest mix that holds every pod.
TEST(PlacementTest, CheapestMixPacksThePods) {
  struct Case {
    double pods;
    int small, large;
    double price;
  } cases[] = {
      {0, 0, 0, 0},     {3, 1, 0, 0.83},   // one small holds 3
      {4, 1, 0, 0.83},                     // 0.83 < 1.50
      {5, 0, 1, 1.50},                     // 2 small = 1.66 > 1 large
      {8, 0, 1, 1.50},  {10, 1, 1, 2.33},  // < 2 large (3.00) < 3 small (2.49)
      {12, 1, 1, 2.33}, {16, 0, 2, 3.00},  // < large + 2 small (3.16)
      {17, 1, 2, 3.83},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pods);
    Placement p = Place(c.pods, kPod, Mix(), Rules());
    EXPECT_EQ(p.ReplicasOf("small"), c.small);
    EXPECT_EQ(p.ReplicasOf("large"), c.large);
    EXPECT_EQ(p.ReplicasOf("gpu"), 0);  // 4.00 for 4 plain pods is never the cheapest
    EXPECT_NEAR(p.price_per_hour, c.price, 1e-9);
    EXPECT_EQ(p.reason, PlacementReason::kPlaced);
    EXPECT_EQ(p.pods_placed, static_cast<int>(c.pods));
  }
  Placement p = Place(10, kPod, Mix(), Rules());
  EXPECT_EQ(p.Summary(), "small:1 large:1");
  EXPECT_EQ(p.profiles[2].reason, ProfileReason::kNotNeeded);
  EXPECT_EQ(p.profiles[0].reason, ProfileReason::kPlaced);
  EXPECT_EQ(p.replicas, 2);
}

TEST(PlacementTest, GpuPodsOnlyOnGpuProfiles) {
  Placement p = Place(3, kGpuPod, Mix(), Rules());
  EXPECT_EQ(p.Summary(), "gpu:3");
  EXPECT_EQ(p.profiles[0].reason, ProfileReason::kNoGpu);
  EXPECT_EQ(p.profiles[1].reason, ProfileReason::kNoGpu);
  EXPECT_EQ(p.profiles[2].pods_per_instance, 1);
  EXPECT_NEAR(p.price_per_hour, 12.0, 1e-9);
  // No GPU profile at all: nothing bursts.
  std::vector<PlacementCandidate> cpu_only = {Mix()[0], Mix()[1]};
  p = Place(3, kGpuPod, cpu_only, Rules());
  EXPECT_EQ(p.replicas, 0);
  EXPECT_EQ(p.reason, PlacementReason::kNoProfile);
  // A pod larger than every profile's vCPU is `pod_too_large`, not `no_gpu`.
  p = Place(1, Resources{32, 4, 0}, Mix(), Rules());
  EXPECT_EQ(p.profiles[0].reason, ProfileReason::kPodTooLarge);
  EXPECT_EQ(p.reason, PlacementReason::kNoProfile);
}

TEST(PlacementTest, BudgetCapsTheMix) {
  // 10 pods want small + large (2.33/h); within 2.00/h the most pods are 8, cheapest on one large.
  Placement p = Place(10, kPod, Mix(), Rules(10, 2.0));
  EXPECT_EQ(p.Summary(), "large:1");
  EXPECT_EQ(p.pods_placed, 8);
  EXPECT_EQ(p.reason, PlacementReason::kCappedBudget);
  // Within 0.80/h not even one small VM.
  p = Place(2, kPod, Mix(), Rules(10, 0.80));
  EXPECT_EQ(p.replicas, 0);
  EXPECT_EQ(p.reason, PlacementReason::kCappedBudget);
  // A budget that the cheapest mix fits changes nothing.
  p = Place(10, kPod, Mix(), Rules(10, 2.33));
  EXPECT_EQ(p.Summary(), "small:1 large:1");
  EXPECT_EQ(p.reason, PlacementReason::kPlaced);
}

TEST(PlacementTest, MaxReplicasCountsEveryProfile) {
  const std::vector<PlacementCandidate> cpu = {Mix()[0], Mix()[1]};
  Placement p = Place(10, kPod, cpu, Rules(1));
  EXPECT_EQ(p.Summary(), "large:1");
  EXPECT_EQ(p.reason, PlacementReason::kCappedMaxReplicas);
  // 12 pods in 2 replicas: small + large (2.33) holds them; 2 replicas is enough.
  p = Place(12, kPod, cpu, Rules(2));
  EXPECT_EQ(p.Summary(), "small:1 large:1");
  EXPECT_EQ(p.reason, PlacementReason::kPlaced);
  // 20 pods in 2 replicas: two large (16 pods) is the most, then the cheapest.
  p = Place(20, kPod, cpu, Rules(2));
  EXPECT_EQ(p.Summary(), "large:2");
  EXPECT_EQ(p.pods_placed, 16);
  EXPECT_EQ(p.reason, PlacementReason::kCappedMaxReplicas);
  // With the GPU profile (16 plain pods for 4.00/h) one replica holds all 10.
  p = Place(10, kPod, Mix(), Rules(1));
  EXPECT_EQ(p.Summary(), "gpu:1");
  EXPECT_EQ(p.reason, PlacementReason::kPlaced);
}

TEST(PlacementTest, SovereigntyAndRegionRulesExcludeProfiles) {
  std::vector<PlacementCandidate> c = Mix();
  c.push_back({Profile("us-snp", 4, 16, 0, 0.50, "snp", "eastus", "aws", "us")});
  // Without rules the cheap US profile wins.
  EXPECT_EQ(Place(4, kPod, c, Rules()).Summary(), "us-snp:1");
  PlacementRules eu = Rules();
  eu.allowed_sovereignty = {"eu"};
  Placement p = Place(4, kPod, c, eu);
  EXPECT_EQ(p.Summary(), "small:1");
  EXPECT_EQ(p.profiles[3].reason, ProfileReason::kSovereigntyNotAllowed);
  PlacementRules region = Rules();
  region.allowed_regions = {"westeurope"};
  EXPECT_EQ(Place(4, kPod, c, region).profiles[3].reason, ProfileReason::kRegionNotAllowed);
  PlacementRules tee = Rules();
  tee.allowed_tees = {"tdx"};
  EXPECT_EQ(Place(4, kPod, c, tee).profiles[3].reason, ProfileReason::kTeeNotAllowed);
  PlacementRules cloud = Rules();
  cloud.allowed_clouds = {"azure"};
  EXPECT_EQ(Place(4, kPod, c, cloud).profiles[3].reason, ProfileReason::kCloudNotAllowed);
  // A profile without a tag does not pass a sovereignty list.
  c[0].profile.sovereignty.clear();
  EXPECT_EQ(Place(4, kPod, c, eu).profiles[0].reason, ProfileReason::kSovereigntyNotAllowed);
}

TEST(PlacementTest, TiesGoToFewerReplicasThenToTheFirstListed) {
  std::vector<PlacementCandidate> c = {{Profile("a", 4, 16, 0, 1.0)},
                                       {Profile("b", 4, 16, 0, 1.0)}};
  EXPECT_EQ(Place(8, kPod, c, Rules()).Summary(), "a:2");
  std::swap(c[0], c[1]);
  EXPECT_EQ(Place(8, kPod, c, Rules()).Summary(), "b:2");
  // Same price for 8 pods: one double-size VM beats two small ones.
  std::vector<PlacementCandidate> d = {{Profile("x4", 4, 16, 0, 1.0)},
                                       {Profile("x8", 8, 32, 0, 2.0)}};
  EXPECT_EQ(Place(8, kPod, d, Rules()).Summary(), "x8:1");
}

TEST(PlacementTest, ClosedGateHoldsItsReplicasAndStartsNothingThere) {
  std::vector<PlacementCandidate> c = Mix();
  c[0].gate_open = false;  // small's TEE attestations are failing
  c[0].current = 1;
  // 4 pods: keeping the running small VM (0.83) is still cheapest.
  Placement p = Place(4, kPod, c, Rules());
  EXPECT_EQ(p.Summary(), "small:1");
  // 12 pods: at most the one small, the rest elsewhere.
  p = Place(12, kPod, c, Rules());
  EXPECT_EQ(p.Summary(), "small:1 large:1");
  // 3 small would have been cheapest for 11 pods without the gate; not now.
  c[0].current = 0;
  p = Place(4, kPod, c, Rules());
  EXPECT_EQ(p.Summary(), "large:1");
  EXPECT_EQ(p.profiles[0].reason, ProfileReason::kGateClosed);
  // GPU pods whose only GPU profile is gated: nothing bursts.
  c[2].gate_open = false;
  p = Place(2, kGpuPod, c, Rules());
  EXPECT_EQ(p.replicas, 0);
  EXPECT_EQ(p.reason, PlacementReason::kNoProfile);
  EXPECT_EQ(p.profiles[2].reason, ProfileReason::kGateClosed);
}

TEST(PlacementTest, LargeSearchesStayBounded) {
  std::vector<PlacementCandidate> c = Mix();
  Placement p = Place(5000, kPod, c, Rules(10000));  // greedy: large VMs, cheapest per pod
  EXPECT_EQ(p.ReplicasOf("large"), 625);
  EXPECT_EQ(p.pods_placed, 5000);
}

}  // namespace
}  // namespace ccburst::scaler
