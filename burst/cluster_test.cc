#include "burst/cluster.h"

#include <gtest/gtest.h>

#include "burst/cloud.h"

namespace ccburst::burst {
namespace {

TEST(OnPremCluster, FirstFitLeavesTheRestUnschedulable) {
  OnPremCluster c(18, {2, 6, 0}, 4, 20);
  ASSERT_EQ(c.nodes().size(), 5u);  // 4+4+4+4+2
  c.SetReplicas(14, 0);
  EXPECT_EQ(c.Counts(0).pulling, 14);
  EXPECT_EQ(c.Counts(30).running, 14);
  c.SetReplicas(24, 40);
  ClusterCounts n = c.Counts(45);
  EXPECT_EQ(n.running, 14);
  EXPECT_EQ(n.pulling, 4);
  EXPECT_EQ(n.unschedulable, 6);
  // Scale-in removes the unschedulable pods first.
  c.SetReplicas(19, 100);
  EXPECT_EQ(c.Counts(100).unschedulable, 1);
  EXPECT_EQ(c.Counts(100).running, 18);
}

TEST(OnPremCluster, ExportsKubeStateMetricsSeries) {
  OnPremCluster c(4, {2, 6, 0}, 4, 0);
  c.SetReplicas(5, 0);
  c.SetCloudReplicas(1, 0);
  std::string e = c.Exposition(10);
  EXPECT_NE(
      e.find(
          R"(kube_node_status_allocatable{node="node-1",resource="memory",unit="byte"} 28991029248)"),
      std::string::npos)
      << e;
  EXPECT_NE(
      e.find(
          R"(kube_pod_status_unschedulable{namespace="default",pod="on-prem-deployment-00004"} 1)"),
      std::string::npos);
  EXPECT_NE(
      e.find(
          R"(kube_pod_status_phase{namespace="default",phase="Pending",pod="on-prem-deployment-00004"} 1)"),
      std::string::npos);
  EXPECT_NE(
      e.find(R"(node="",pod="on-prem-deployment-00004",resource="memory",unit="byte"} 6442450944)"),
      std::string::npos);
  EXPECT_NE(
      e.find(
          R"(kube_deployment_status_replicas{deployment="cloud-deployment",namespace="default"} 1)"),
      std::string::npos);
}

TEST(Model, SealOpenRoundTripAndWrongKey) {
  std::string key(32, 'k');
  auto sealed = SealModel(key, "weights");
  ASSERT_TRUE(sealed.ok());
  auto plain = OpenModel(key, *sealed);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "weights");
  auto wrong = OpenModel(std::string(32, 'x'), *sealed);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace ccburst::burst
