#include "scaler/config.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::scaler {
namespace {

using ::ccburst::core::testing::StatusIs;

constexpr char kBase[] = R"(
[server]
grpc_address = "127.0.0.1:0"
stream_interval_seconds = 2
[prometheus]
address = "http://127.0.0.1:9090"
timeout_ms = 500
[kbs]
url = "http://127.0.0.1:8080"
max_failure_ratio = 0.25
[profiles.tdx]
vcpu = 4
memory_gib = 16.0
price_per_hour = 0.83
tee = "tdx"
region = "westeurope"
[workloads.web]
profile = "tdx"
namespace = "shop"
pod_regex = "web-.*"
max_replicas = 6
budget_per_hour = 4.0
allowed_regions = ["westeurope"]
windows = ["Mon-Fri 06:00-22:00"]
scale_in_cooldown_seconds = 120
)";

TEST(ConfigTest, ParsesAndSubstitutesQueries) {
  auto c = ParseScalerConfig(kBase, "/etc/ccburst");
  ASSERT_OK(c);
  EXPECT_EQ(c->grpc_address, "127.0.0.1:0");
  EXPECT_EQ(c->stream_interval.count(), 2);
  EXPECT_EQ(c->prometheus.timeout.count(), 500);
  EXPECT_EQ(c->kbs.max_failure_ratio, 0.25);
  const InstanceProfile& p = c->profiles.at("tdx");
  EXPECT_EQ(p.capacity.cpu, 4);
  EXPECT_EQ(p.tee, "tdx");
  const WorkloadConfig& w = c->workloads.at("web");
  EXPECT_EQ(w.policy.max_replicas, 6);
  EXPECT_EQ(w.policy.budget_per_hour, 4.0);
  EXPECT_EQ(w.policy.scale_in_cooldown.count(), 120);
  ASSERT_EQ(w.policy.windows.size(), 1u);
  EXPECT_EQ(w.queries.unschedulable_pods,
            R"(sum(kube_pod_status_unschedulable{namespace="shop",pod=~"web-.*"}) or vector(0))");
  EXPECT_EQ(w.mode, SignalMode::kCcburst);
  // Rule 7's defaults, and the keys that change them.
  EXPECT_EQ(w.policy.trend_window.count(), 60);
  EXPECT_EQ(w.policy.trend_gain, 2);
  auto t =
      ParseScalerConfig(std::string(kBase) + "trend_window_seconds = 0\ntrend_gain = 1.5\n", "");
  ASSERT_OK(t);
  EXPECT_EQ(t->workloads.at("web").policy.trend_window.count(), 0);
  EXPECT_EQ(t->workloads.at("web").policy.trend_gain, 1.5);
  // The learned ski rental's defaults and keys.
  EXPECT_EQ(w.policy.learn_min_gaps, 3);
  EXPECT_EQ(w.policy.flap_price, 0.2);
  auto l = ParseScalerConfig(std::string(kBase) + "learned_hold = false\nflap_price = 1.5\n", "");
  ASSERT_OK(l);
  EXPECT_EQ(l->workloads.at("web").policy.learn_min_gaps, 0);
  EXPECT_EQ(l->workloads.at("web").policy.flap_price, 1.5);
}

TEST(ConfigTest, SignalRefreshAndStalenessBound) {
  auto c = ParseScalerConfig(kBase, "/etc/ccburst");
  ASSERT_OK(c);
  EXPECT_EQ(c->signal_refresh.count(), 5);  // below KEDA's 30 s poll
  EXPECT_EQ(c->signal_max_age.count(), 60);
  std::string text = kBase;
  text.replace(text.find("stream_interval_seconds = 2\n"), 28,
               "stream_interval_seconds = 2\nsignal_refresh_seconds = 2\n"
               "signal_max_age_seconds = 9\n");
  c = ParseScalerConfig(text, ".");
  ASSERT_OK(c);
  EXPECT_EQ(c->signal_refresh.count(), 2);
  EXPECT_EQ(c->signal_max_age.count(), 9);
  text.replace(text.find("signal_max_age_seconds = 9"), 26, "signal_max_age_seconds = 2");
  EXPECT_THAT(ParseScalerConfig(text, "."),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "config: `server.signal_max_age_seconds` (2) must exceed "
                       "`server.signal_refresh_seconds` (2)"));
}

TEST(ConfigTest, WorkloadPlacedAcrossProfiles) {
  std::string text = std::string(kBase) + R"(
[profiles.gpu]
vcpu = 16
memory_gib = 64
gpus = 1
gpu_arch = "hopper"
price_per_hour = 4.0
tee = "tdx"
region = "westeurope"
cloud = "azure"
sovereignty = "eu"
[profiles.us]
vcpu = 4
memory_gib = 16
price_per_hour = 0.5
tee = "snp"
region = "eastus"
sovereignty = "us"
[workloads.ml]
profiles = ["gpu", "tdx", "us"]
allowed_sovereignty = ["eu"]
allowed_clouds = ["azure"]
budget_per_hour = 9
)";
  auto c = ParseScalerConfig(text, ".");
  ASSERT_OK(c);
  const WorkloadConfig& w = c->workloads.at("ml");
  EXPECT_EQ(w.profile, "gpu");  // the first listed is the count decision's unit
  EXPECT_EQ(w.profiles, (std::vector<std::string>{"gpu", "tdx", "us"}));
  EXPECT_EQ(w.placement.allowed_sovereignty, std::vector<std::string>{"eu"});
  EXPECT_EQ(w.placement.budget_per_hour, 9);
  EXPECT_EQ(c->profiles.at("gpu").gpu_arch, "hopper");
  EXPECT_EQ(c->profiles.at("gpu").sovereignty, "eu");
  EXPECT_TRUE(c->workloads.at("web").profiles.empty());

  auto bad = [&](std::string_view from, std::string_view to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return ParseScalerConfig(t, ".");
  };
  EXPECT_THAT(bad(R"(profiles = ["gpu", "tdx", "us"])", R"(profiles = ["gpu", "nope"])"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "config: `workloads.ml.profiles` names unknown profile `nope`"));
  EXPECT_THAT(bad(R"(profiles = ["gpu", "tdx", "us"])",
                  "profile = \"us\"\nprofiles = [\"gpu\", \"tdx\", \"us\"]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "config: `workloads.ml.profile` `us` is excluded by the workload's rules "
                       "(cloud_not_allowed)"));
  EXPECT_THAT(
      bad(R"(profiles = ["gpu", "tdx", "us"])", "profile = \"gpu\"\nprofiles = [\"tdx\", \"us\"]"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "config: `workloads.ml.profile` `gpu` is not one of `workloads.ml.profiles`"));
}

TEST(ConfigTest, UnknownKeysAndBadValuesAreNamed) {
  auto err = [](std::string extra) {
    return std::string(ParseScalerConfig(std::string(kBase) + extra, "").status().message());
  };
  EXPECT_EQ(err("max_replica = 3\n"), "config: unknown key `workloads.web.max_replica`");
  EXPECT_EQ(err("[workloads.web.queries]\nunschedulable = \"x\"\n"),
            "config: unknown key `workloads.web.queries.unschedulable`");
  EXPECT_EQ(err("mode = \"fast\"\n"),
            "config: `workloads.web.mode` = `fast`: want `ccburst` or `pending`");
  EXPECT_EQ(err("[workloads.db]\nprofile = \"snp\"\n"),
            "config: `workloads.db.profile` names unknown profile `snp`");
  EXPECT_EQ(err("[profiles.snp]\nvcpu = \"4\"\n"), "config: `profiles.snp.vcpu` must be a number");
  EXPECT_EQ(err("[extra]\n"), "config: unknown key `extra`");
  EXPECT_EQ(err("headroom_pods = -1\n"),
            "config: `workloads.web.headroom_pods` = -1 is outside 0..1000000");
  EXPECT_EQ(err("trend_gain = 101\n"),
            "config: `workloads.web.trend_gain` = 101 is outside 0..100");
  EXPECT_THAT(ParseScalerConfig("[server\n", ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ParseScalerConfig("", "").status().message(),
            "config: at least one `[workloads.<name>]` is required");
}

TEST(ConfigTest, GrpcTlsKeysGoTogetherAndResolveAgainstTheConfigDir) {
  auto with = [](std::string server_keys) {
    std::string text = kBase;
    text.replace(text.find("stream_interval_seconds = 2\n"), 28,
                 "stream_interval_seconds = 2\n" + server_keys);
    return ParseScalerConfig(text, "/etc/ccburst");
  };
  ASSERT_OK_AND_ASSIGN(ScalerConfig plain, with(""));
  EXPECT_FALSE(plain.grpc_tls.cert_file.has_value());
  ASSERT_OK_AND_ASSIGN(ScalerConfig mtls,
                       with("tls_cert_file = \"tls.crt\"\ntls_key_file = \"/k/tls.key\"\n"
                            "tls_client_ca_file = \"ca.crt\"\n"));
  EXPECT_EQ(mtls.grpc_tls.cert_file, "/etc/ccburst/tls.crt");
  EXPECT_EQ(mtls.grpc_tls.key_file, "/k/tls.key");
  EXPECT_EQ(mtls.grpc_tls.client_ca_file, "/etc/ccburst/ca.crt");
  EXPECT_EQ(with("tls_cert_file = \"tls.crt\"\n").status().message(),
            "config: `server.tls_cert_file` and `server.tls_key_file` go together");
  EXPECT_THAT(with("tls_client_ca_file = \"ca.crt\"\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("mutual TLS")));
}

TEST(ConfigTest, TeeNamesAreTheKbsLabels) {
  auto with_tee = [](std::string_view profile_tee, std::string_view allowed) {
    std::string text = kBase;
    text.replace(text.find("tee = \"tdx\""), 11, fmt::format("tee = \"{}\"", profile_tee));
    return ParseScalerConfig(text + std::string(allowed), "");
  };
  auto az = with_tee("az-tdx-vtpm", "allowed_tees = [\"az-tdx-vtpm\", \"az-snp-vtpm\"]\n");
  ASSERT_OK(az);
  EXPECT_EQ(az->profiles.at("tdx").tee, "az-tdx-vtpm");
  EXPECT_EQ(az->workloads.at("web").policy.allowed_tees,
            (std::vector<std::string>{"az-tdx-vtpm", "az-snp-vtpm"}));
  // Trustee's enum spellings never match the KBS's `tee` label: refused with the right name.
  EXPECT_EQ(with_tee("azsnpvtpm", "").status().message(),
            "config: `profiles.tdx.tee` `azsnpvtpm` is not a KBS TEE name (did you mean "
            "`az-snp-vtpm`?)");
  EXPECT_EQ(with_tee("tdx", "allowed_tees = [\"AzTdxVtpm\"]\n").status().message(),
            "config: `workloads.web.allowed_tees` `AzTdxVtpm` is not a KBS TEE name (did you "
            "mean `az-tdx-vtpm`?)");
  EXPECT_THAT(with_tee("azure", ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConfigTest, BadTimeWindowIsNamed) {
  auto c = ParseScalerConfig(std::string(kBase) +
                                 "[workloads.x]\nprofile = \"tdx\"\nwindows = "
                                 "[\"Mon-Fri 6:00-22:00\"]\n",
                             "");
  EXPECT_EQ(c.status().message(),
            "config: `workloads.x.windows`: time window `Mon-Fri 6:00-22:00`: want HH:MM-HH:MM");
}

}  // namespace
}  // namespace ccburst::scaler
