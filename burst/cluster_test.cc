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

TEST(OnPremCluster, NodesFromTheClusterNotTheTrace) {
  // Two nodes of different sizes: 4 + 2 pods of 2 vCPU / 6 GiB (memory is the tighter fit).
  OnPremCluster c({{"big", {16, 26, 0}}, {"small", {8, 12.5, 0}}}, {2, 6, 0}, 0);
  EXPECT_EQ(c.capacity_pods(), 6);
  c.SetReplicas(7, 0);
  EXPECT_EQ(c.Counts(1).running, 6);
  EXPECT_EQ(c.Counts(1).unschedulable, 1);
  std::string e = c.Exposition(1);
  EXPECT_NE(e.find(R"(kube_node_status_allocatable{node="small",resource="cpu",unit="core"} 8)"),
            std::string::npos)
      << e;
}

TEST(OnPremCluster, DrainEvictsAndReschedulesAddSchedulesPending) {
  OnPremCluster c(18, {2, 6, 0}, 4, 20);  // node-1..4: 4 pods each, node-5: 2
  c.SetReplicas(14, 0);                   // node-1..3 full, node-4 has 2
  ASSERT_EQ(c.Counts(30).running, 14);

  // Draining node-2 evicts its 4 pods; the ReplicaSet re-creates them: 2 fit on node-4, 2 on
  // node-5, and they pull their images again.
  ASSERT_TRUE(c.DrainNode("node-2", 40).ok());
  EXPECT_EQ(c.capacity_pods(), 14);
  EXPECT_EQ(c.nodes().size(), 4u);
  ClusterCounts n = c.Counts(45);
  EXPECT_EQ(n.running, 10);
  EXPECT_EQ(n.pulling, 4);
  EXPECT_EQ(n.unschedulable, 0);
  std::string e = c.Exposition(45);
  EXPECT_EQ(e.find(R"(node="node-2")"), std::string::npos) << e;
  EXPECT_NE(e.find(R"(pod="on-prem-deployment-00014"} 1)"), std::string::npos) << e;  // re-created

  // Demand grows past the smaller cluster: 2 Pending until a node joins.
  c.SetReplicas(16, 50);
  EXPECT_EQ(c.Counts(50).unschedulable, 2);
  ASSERT_TRUE(c.AddNode({"node-6", {9, 27, 0}}, 60).ok());
  EXPECT_EQ(c.capacity_pods(), 18);
  EXPECT_EQ(c.Counts(60).unschedulable, 0);
  EXPECT_EQ(c.Counts(60).pulling, 2);

  EXPECT_EQ(c.DrainNode("node-2", 70).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.AddNode({"node-6", {9, 27, 0}}, 70).code(), absl::StatusCode::kAlreadyExists);
}

TEST(ClusterSpec, ParsesTheTraceHeader) {
  auto spec = ParseClusterHeader(
      "# a scenario: prose is ignored\n"
      "# node node-1 cpu=9 memory_gib=27\n"
      "#  node node-2 cpu=9 memory_gib=27\n"
      "# at 900 add node-3 cpu=5 memory_gib=15\n"
      "# at 600 drain node-2\n"
      "t_seconds,demand_pods,onprem_capacity_pods\n"
      "0,8,9\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->nodes.size(), 2u);
  EXPECT_EQ(spec->nodes[1].name, "node-2");
  EXPECT_DOUBLE_EQ(spec->nodes[1].allocatable.memory_gib, 27);
  ASSERT_EQ(spec->events.size(), 2u);  // sorted by time
  EXPECT_EQ(spec->events[0].kind, NodeEvent::Kind::kDrain);
  EXPECT_EQ(spec->events[0].node.name, "node-2");
  EXPECT_DOUBLE_EQ(spec->events[0].t, 600);
  EXPECT_EQ(spec->events[1].kind, NodeEvent::Kind::kAdd);
  EXPECT_DOUBLE_EQ(spec->events[1].node.allocatable.cpu, 5);

  auto err = [](std::string_view csv) { return core::Message(ParseClusterHeader(csv).status()); };
  EXPECT_EQ(err("# node n cpu=4\n"),
            "trace line 1: a node needs cpu=CORES and memory_gib=GIB, both positive");
  EXPECT_EQ(err("# node n cpu=4 memory_gib=8 gpus=1\n"), "trace line 1: unexpected `gpus=1`");
  EXPECT_EQ(err("#\n# at soon drain n\n"), "trace line 2: `soon` is not a time in seconds");
  EXPECT_EQ(err("# at 5 drain n\n"), "trace: node `n` drained at 5 s is not there");
  EXPECT_EQ(err("# node n cpu=1 memory_gib=1\n# node n cpu=1 memory_gib=1\n"),
            "trace: node `n` is named twice");
  EXPECT_TRUE(
      ParseClusterHeader("t_seconds,demand_pods,onprem_capacity_pods\n0,1,1\n")->nodes.empty());

  auto node = ParseNodeSpec("node-7:8:30.5");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->name, "node-7");
  EXPECT_DOUBLE_EQ(node->allocatable.memory_gib, 30.5);
  EXPECT_FALSE(ParseNodeSpec("node-7:8").ok());
  EXPECT_FALSE(ParseNodeSpec(":8:30").ok());
  EXPECT_FALSE(ParseNodeSpec("n:0:30").ok());
}

TEST(ClusterSpec, TheCapacityColumnBecomesNodeEvents) {
  std::vector<scaler::TraceRow> trace = {
      {0, 10, 12, {}}, {60, 10, 12, {}}, {120, 10, 8, {}}, {180, 10, 14, {}}};
  ClusterSpec spec = ClusterForTrace(trace, {2, 6, 0});
  ASSERT_EQ(spec.nodes.size(), 3u);  // 4 + 4 + 4
  ASSERT_EQ(spec.events.size(), 3u);
  // 12 -> 8: the newest node is drained; 8 -> 14: a node of 4 and one of 2 join.
  EXPECT_EQ(spec.events[0].kind, NodeEvent::Kind::kDrain);
  EXPECT_EQ(spec.events[0].node.name, "node-3");
  EXPECT_DOUBLE_EQ(spec.events[0].t, 120);
  EXPECT_EQ(spec.events[1].node.name, "node-4");
  EXPECT_EQ(spec.events[2].node.name, "node-5");
  EXPECT_DOUBLE_EQ(spec.events[2].t, 180);

  OnPremCluster c(spec.nodes, {2, 6, 0}, 0);
  EXPECT_EQ(c.capacity_pods(), 12);
  for (const NodeEvent& e : spec.events) ASSERT_TRUE(c.Apply(e, e.t).ok());
  EXPECT_EQ(c.capacity_pods(), 14);
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
