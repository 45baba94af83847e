#include "scaler/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>

#include "core/file.h"
#include "core/toml_config.h"
#include "scaler/tee_names.h"

namespace ccburst::scaler {
namespace {

using core::config::CheckKeys;
using core::config::GetInt;
using core::config::GetNumber;
using core::config::GetOptString;
using core::config::GetString;
using core::config::GetStringArray;
using core::config::KeyPath;
using core::config::ResolvePath;
using core::config::SubTable;
using core::config::TypeError;

void ReplaceAll(std::string& s, std::string_view from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

absl::Status ParseServer(const toml::table& t, const std::string& base, ScalerConfig& c) {
  constexpr std::string_view w = "server";
  CCB_RETURN_IF_ERROR(CheckKeys(
      t, w,
      {"grpc_address", "http_address", "stream_interval_seconds", "tls_cert_file", "tls_key_file",
       "tls_client_ca_file", "signal_refresh_seconds", "signal_max_age_seconds"}));
  CCB_RETURN_IF_ERROR(GetString(t, w, "grpc_address", c.grpc_address));
  CCB_RETURN_IF_ERROR(GetString(t, w, "http_address", c.http_address));
  int64_t s = c.stream_interval.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "stream_interval_seconds", 1, 3600, s));
  c.stream_interval = std::chrono::seconds(s);
  int64_t refresh = c.signal_refresh.count(), max_age = c.signal_max_age.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "signal_refresh_seconds", 1, 3600, refresh));
  CCB_RETURN_IF_ERROR(GetInt(t, w, "signal_max_age_seconds", 1, 86400, max_age));
  if (max_age <= refresh) {
    return absl::InvalidArgumentError(fmt::format(
        "config: `server.signal_max_age_seconds` ({}) must exceed `server.signal_refresh_seconds` "
        "({})",
        max_age, refresh));
  }
  c.signal_refresh = std::chrono::seconds(refresh);
  c.signal_max_age = std::chrono::seconds(max_age);
  GrpcTlsConfig& tls = c.grpc_tls;
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "tls_cert_file", tls.cert_file));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "tls_key_file", tls.key_file));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "tls_client_ca_file", tls.client_ca_file));
  if (tls.cert_file.has_value() != tls.key_file.has_value()) {
    return absl::InvalidArgumentError(
        "config: `server.tls_cert_file` and `server.tls_key_file` go together");
  }
  if (tls.client_ca_file && !tls.cert_file) {
    return absl::InvalidArgumentError(
        "config: `server.tls_client_ca_file` (mutual TLS) needs `server.tls_cert_file` and "
        "`server.tls_key_file`");
  }
  for (std::optional<std::string>* f : {&tls.cert_file, &tls.key_file, &tls.client_ca_file}) {
    if (*f) *f = ResolvePath(base, **f);
  }
  return absl::OkStatus();
}

absl::Status ParsePrometheus(const toml::table& t, const std::string& base, ScalerConfig& c) {
  constexpr std::string_view w = "prometheus";
  CCB_RETURN_IF_ERROR(CheckKeys(t, w, {"address", "timeout_ms", "bearer_token_file", "ca_file"}));
  auto& p = c.prometheus;
  CCB_RETURN_IF_ERROR(GetString(t, w, "address", p.address));
  int64_t ms = p.timeout.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "timeout_ms", 10, 60000, ms));
  p.timeout = std::chrono::milliseconds(ms);
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "bearer_token_file", p.bearer_token_file));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "ca_file", p.ca_file));
  if (p.bearer_token_file) p.bearer_token_file = ResolvePath(base, *p.bearer_token_file);
  if (p.ca_file) p.ca_file = ResolvePath(base, *p.ca_file);
  return absl::OkStatus();
}

absl::Status ParseKbs(const toml::table& t, const std::string& base, ScalerConfig& c) {
  constexpr std::string_view w = "kbs";
  CCB_RETURN_IF_ERROR(CheckKeys(t, w,
                                {"url", "timeout_ms", "max_failure_ratio", "min_attestations",
                                 "window_seconds", "refresh_seconds", "ca_file", "metrics"}));
  auto& k = c.kbs;
  CCB_RETURN_IF_ERROR(GetString(t, w, "url", k.url));
  int64_t ms = k.timeout.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "timeout_ms", 10, 60000, ms));
  k.timeout = std::chrono::milliseconds(ms);
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "max_failure_ratio", 0, 1, k.max_failure_ratio));
  int64_t n = k.min_attestations;
  CCB_RETURN_IF_ERROR(GetInt(t, w, "min_attestations", 1, 1000000, n));
  k.min_attestations = static_cast<int>(n);
  int64_t win = k.window.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "window_seconds", 1, 86400, win));
  k.window = std::chrono::seconds(win);
  int64_t refresh = k.refresh.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "refresh_seconds", 1, 3600, refresh));
  k.refresh = std::chrono::seconds(refresh);
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "ca_file", k.ca_file));
  if (k.ca_file) k.ca_file = ResolvePath(base, *k.ca_file);
  std::string metrics = "auto";
  CCB_RETURN_IF_ERROR(GetString(t, w, "metrics", metrics));
  if (metrics == "auto") {
    k.metric_names = KbsMetricNames::kAuto;
  } else if (metrics == "ccburst") {
    k.metric_names = KbsMetricNames::kCcburst;
  } else if (metrics == "reference") {
    k.metric_names = KbsMetricNames::kReference;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("config: `kbs.metrics` `{}` is not one of auto, ccburst, reference", metrics));
  }
  return absl::OkStatus();
}

absl::StatusOr<InstanceProfile> ParseProfile(const toml::table& t, const std::string& name) {
  std::string w = KeyPath("profiles", name);
  CCB_RETURN_IF_ERROR(CheckKeys(t, w,
                                {"vcpu", "memory_gib", "gpus", "price_per_hour", "tee", "region",
                                 "cloud", "sovereignty", "gpu_arch"}));
  InstanceProfile p;
  p.name = name;
  p.capacity = {0, 0, 0};
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "vcpu", 0.001, 1e6, p.capacity.cpu));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "memory_gib", 0.001, 1e9, p.capacity.memory_gib));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "gpus", 0, 1e4, p.capacity.gpus));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "price_per_hour", 0, 1e6, p.price_per_hour));
  CCB_RETURN_IF_ERROR(GetString(t, w, "tee", p.tee));
  CCB_RETURN_IF_ERROR(GetString(t, w, "region", p.region));
  CCB_RETURN_IF_ERROR(GetString(t, w, "cloud", p.cloud));
  CCB_RETURN_IF_ERROR(GetString(t, w, "sovereignty", p.sovereignty));
  CCB_RETURN_IF_ERROR(GetString(t, w, "gpu_arch", p.gpu_arch));
  for (std::string_view k : {"vcpu", "memory_gib", "tee", "region"}) {
    if (!t.get(k)) {
      return absl::InvalidArgumentError(fmt::format("config: `{}` is required", KeyPath(w, k)));
    }
  }
  CCB_RETURN_IF_ERROR(CheckTeeName(p.tee, KeyPath(w, "tee")));
  return p;
}

absl::Status ParseQueries(const toml::table& t, std::string_view w, Queries& q) {
  CCB_RETURN_IF_ERROR(
      CheckKeys(t, w,
                {"unschedulable_pods", "pending_pods", "pending_cpu", "pending_memory_gib",
                 "pending_gpus", "onprem_free_cpu", "onprem_free_memory_gib", "cloud_replicas"}));
  CCB_RETURN_IF_ERROR(GetString(t, w, "unschedulable_pods", q.unschedulable_pods));
  CCB_RETURN_IF_ERROR(GetString(t, w, "pending_pods", q.pending_pods));
  CCB_RETURN_IF_ERROR(GetString(t, w, "pending_cpu", q.pending_cpu));
  CCB_RETURN_IF_ERROR(GetString(t, w, "pending_memory_gib", q.pending_memory_gib));
  CCB_RETURN_IF_ERROR(GetString(t, w, "pending_gpus", q.pending_gpus));
  CCB_RETURN_IF_ERROR(GetString(t, w, "onprem_free_cpu", q.onprem_free_cpu));
  CCB_RETURN_IF_ERROR(GetString(t, w, "onprem_free_memory_gib", q.onprem_free_memory_gib));
  CCB_RETURN_IF_ERROR(GetString(t, w, "cloud_replicas", q.cloud_replicas));
  return absl::OkStatus();
}

// kube-state-metrics defaults. Absence of a series is a fault (see docs/bursting.md), so queries
// whose zero is legitimate end in `or vector(0)`.
Queries DefaultQueries() {
  Queries q;
  q.unschedulable_pods =
      R"(sum(kube_pod_status_unschedulable{namespace="$namespace",pod=~"$pod_regex"}) or vector(0))";
  q.pending_pods =
      R"(sum(kube_pod_status_phase{phase="Pending",namespace="$namespace",pod=~"$pod_regex"}) or vector(0))";
  q.pending_cpu =
      R"(sum(kube_pod_container_resource_requests{resource="cpu",namespace="$namespace",pod=~"$pod_regex"} and on(namespace,pod) (kube_pod_status_unschedulable == 1)) or vector(0))";
  q.pending_memory_gib =
      R"((sum(kube_pod_container_resource_requests{resource="memory",namespace="$namespace",pod=~"$pod_regex"} and on(namespace,pod) (kube_pod_status_unschedulable == 1)) or vector(0)) / 1073741824)";
  q.onprem_free_cpu =
      R"(sum(kube_node_status_allocatable{resource="cpu",node=~"$node_regex"}) - (sum(kube_pod_container_resource_requests{resource="cpu",node=~"$node_regex"}) or vector(0)))";
  q.onprem_free_memory_gib =
      R"((sum(kube_node_status_allocatable{resource="memory",node=~"$node_regex"}) - (sum(kube_pod_container_resource_requests{resource="memory",node=~"$node_regex"}) or vector(0))) / 1073741824)";
  return q;
}

absl::StatusOr<WorkloadConfig> ParseWorkload(const toml::table& t, const std::string& name,
                                             const ScalerConfig& c) {
  std::string w = KeyPath("workloads", name);
  CCB_RETURN_IF_ERROR(CheckKeys(t, w,
                                {"profile",
                                 "profiles",
                                 "allowed_clouds",
                                 "allowed_sovereignty",
                                 "mode",
                                 "namespace",
                                 "pod_regex",
                                 "node_regex",
                                 "cloud_deployment",
                                 "max_replicas",
                                 "budget_per_hour",
                                 "allowed_regions",
                                 "allowed_tees",
                                 "windows",
                                 "scale_in_cooldown_seconds",
                                 "headroom_pods",
                                 "warm_pods",
                                 "trend_window_seconds",
                                 "trend_gain",
                                 "vm_startup_seconds",
                                 "pending_pod_hour_price",
                                 "flap_price",
                                 "learned_hold",
                                 "pod_cpu",
                                 "pod_memory_gib",
                                 "pod_gpus",
                                 "prometheus_address",
                                 "kbs_url",
                                 "queries"}));
  WorkloadConfig wl;
  wl.name = name;
  CCB_RETURN_IF_ERROR(GetString(t, w, "profile", wl.profile));
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "profiles", wl.profiles));
  for (const auto& p : wl.profiles) {
    if (!c.profiles.count(p)) {
      return absl::InvalidArgumentError(
          fmt::format("config: `{}.profiles` names unknown profile `{}`", w, p));
    }
    if (std::count(wl.profiles.begin(), wl.profiles.end(), p) > 1) {
      return absl::InvalidArgumentError(
          fmt::format("config: `{}.profiles` lists `{}` twice", w, p));
    }
  }
  if (wl.profile.empty() && !wl.profiles.empty()) wl.profile = wl.profiles.front();
  if (wl.profile.empty()) {
    return absl::InvalidArgumentError(fmt::format("config: `{}.profile` is required", w));
  }
  if (!c.profiles.count(wl.profile)) {
    return absl::InvalidArgumentError(
        fmt::format("config: `{}.profile` names unknown profile `{}`", w, wl.profile));
  }
  if (!wl.profiles.empty() &&
      std::find(wl.profiles.begin(), wl.profiles.end(), wl.profile) == wl.profiles.end()) {
    return absl::InvalidArgumentError(
        fmt::format("config: `{}.profile` `{}` is not one of `{}.profiles`", w, wl.profile, w));
  }
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "allowed_clouds", wl.placement.allowed_clouds));
  CCB_RETURN_IF_ERROR(
      GetStringArray(t, w, "allowed_sovereignty", wl.placement.allowed_sovereignty));
  std::string mode = "ccburst";
  CCB_RETURN_IF_ERROR(GetString(t, w, "mode", mode));
  if (mode == "pending") {
    wl.mode = SignalMode::kPending;
  } else if (mode != "ccburst") {
    return absl::InvalidArgumentError(
        fmt::format("config: `{}.mode` = `{}`: want `ccburst` or `pending`", w, mode));
  }
  std::string ns = "default", pod_regex = "on-prem-deployment.*", node_regex = ".+",
              cloud_deployment = "cloud-deployment";
  CCB_RETURN_IF_ERROR(GetString(t, w, "namespace", ns));
  CCB_RETURN_IF_ERROR(GetString(t, w, "pod_regex", pod_regex));
  CCB_RETURN_IF_ERROR(GetString(t, w, "node_regex", node_regex));
  CCB_RETURN_IF_ERROR(GetString(t, w, "cloud_deployment", cloud_deployment));

  PlacementPolicy& p = wl.policy;
  int64_t max = p.max_replicas;
  CCB_RETURN_IF_ERROR(GetInt(t, w, "max_replicas", 0, 10000, max));
  p.max_replicas = static_cast<int>(max);
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "budget_per_hour", 0, 1e9, p.budget_per_hour));
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "allowed_regions", p.allowed_regions));
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "allowed_tees", p.allowed_tees));
  for (const auto& tee : p.allowed_tees) {
    CCB_RETURN_IF_ERROR(CheckTeeName(tee, KeyPath(w, "allowed_tees")));
  }
  std::vector<std::string> windows;
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "windows", windows));
  for (const auto& text : windows) {
    CCB_ASSIGN_OR_RETURN(TimeWindow tw, ParseTimeWindow(text), "config: `{}.windows`", w);
    p.windows.push_back(tw);
  }
  int64_t cooldown = -1;
  CCB_RETURN_IF_ERROR(GetInt(t, w, "scale_in_cooldown_seconds", 0, 86400, cooldown));
  if (cooldown >= 0) {
    p.scale_in_cooldown = std::chrono::seconds(cooldown);
    p.ski_rental = false;  // an explicit cool-down is the user's choice
  }
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "headroom_pods", 0, 1e6, p.headroom_pods));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "warm_pods", 0, 1e6, p.warm_pods));
  int64_t trend = p.trend_window.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "trend_window_seconds", 0, 86400, trend));
  p.trend_window = std::chrono::seconds(trend);
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "trend_gain", 0, 100, p.trend_gain));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "vm_startup_seconds", 0, 86400, p.startup_seconds));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "pending_pod_hour_price", 0, 1e9, p.pending_pod_hour));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "flap_price", 0, 1e9, p.flap_price));
  bool learned = p.learn_min_gaps > 0;
  CCB_RETURN_IF_ERROR(core::config::GetBool(t, w, "learned_hold", learned));
  if (!learned) p.learn_min_gaps = 0;
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "pod_cpu", 0, 1e6, wl.pod_size.cpu));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "pod_memory_gib", 0, 1e9, wl.pod_size.memory_gib));
  CCB_RETURN_IF_ERROR(GetNumber(t, w, "pod_gpus", 0, 1e4, wl.pod_size.gpus));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "prometheus_address", wl.prometheus_address));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "kbs_url", wl.kbs_url));

  wl.placement.max_replicas = p.max_replicas;
  wl.placement.budget_per_hour = p.budget_per_hour;
  wl.placement.allowed_regions = p.allowed_regions;
  wl.placement.allowed_tees = p.allowed_tees;
  if (!wl.profiles.empty()) {
    // The count decision's unit must itself be a place the workload may burst to.
    std::vector<PlacementCandidate> ref = {{c.profiles.at(wl.profile)}};
    Placement check = Place(0, wl.pod_size, ref, wl.placement);
    if (check.profiles[0].reason != ProfileReason::kNotNeeded &&
        check.profiles[0].reason != ProfileReason::kNoGpu &&
        check.profiles[0].reason != ProfileReason::kPodTooLarge) {
      return absl::InvalidArgumentError(
          fmt::format("config: `{}.profile` `{}` is excluded by the workload's rules ({})", w,
                      wl.profile, ProfileReasonName(check.profiles[0].reason)));
    }
  }

  wl.queries = DefaultQueries();
  CCB_ASSIGN_OR_RETURN(const toml::table* q, SubTable(t, w, "queries"));
  if (q) CCB_RETURN_IF_ERROR(ParseQueries(*q, KeyPath(w, "queries"), wl.queries));
  for (std::string* s :
       {&wl.queries.unschedulable_pods, &wl.queries.pending_pods, &wl.queries.pending_cpu,
        &wl.queries.pending_memory_gib, &wl.queries.pending_gpus, &wl.queries.onprem_free_cpu,
        &wl.queries.onprem_free_memory_gib, &wl.queries.cloud_replicas}) {
    ReplaceAll(*s, "$namespace", ns);
    ReplaceAll(*s, "$pod_regex", pod_regex);
    ReplaceAll(*s, "$node_regex", node_regex);
    ReplaceAll(*s, "$cloud_deployment", cloud_deployment);
  }
  return wl;
}

// After [kbs]: the sink defaults to the gate's KBS.
absl::Status ParseAudit(const toml::table& t, const std::string& base, ScalerConfig& c) {
  constexpr std::string_view w = "audit";
  CCB_RETURN_IF_ERROR(
      CheckKeys(t, w, {"enabled", "kbs_url", "ca_file", "token_file", "timeout_ms"}));
  auto& a = c.audit;
  CCB_RETURN_IF_ERROR(core::config::GetBool(t, w, "enabled", a.enabled));
  a.kbs_url = c.kbs.url;
  CCB_RETURN_IF_ERROR(GetString(t, w, "kbs_url", a.kbs_url));
  a.ca_file = c.kbs.ca_file;
  std::optional<std::string> ca;
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "ca_file", ca));
  if (ca) a.ca_file = core::config::ResolvePath(base, *ca);
  std::optional<std::string> token;
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "token_file", token));
  if (token) a.token_file = core::config::ResolvePath(base, *token);
  int64_t ms = a.timeout.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "timeout_ms", 10, 60000, ms));
  a.timeout = std::chrono::milliseconds(ms);
  if (a.enabled && (a.kbs_url.empty() || a.token_file.empty())) {
    return absl::InvalidArgumentError(
        "config: `audit.enabled = true` needs a KBS (`audit.kbs_url` or `kbs.url`) and "
        "`audit.token_file` (an admin JWT allowed POST /kbs/v0/audit/burst-decision)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ScalerConfig> ParseScalerConfig(std::string_view text, const std::string& base_dir) {
  CCB_ASSIGN_OR_RETURN(toml::table root, core::config::ParseToml(text, "config"));
  ScalerConfig c;
  CCB_RETURN_IF_ERROR(
      CheckKeys(root, "", {"server", "prometheus", "kbs", "profiles", "workloads", "audit"}));
  CCB_ASSIGN_OR_RETURN(const toml::table* server, SubTable(root, "", "server"));
  if (server) CCB_RETURN_IF_ERROR(ParseServer(*server, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* prom, SubTable(root, "", "prometheus"));
  if (prom) CCB_RETURN_IF_ERROR(ParsePrometheus(*prom, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* kbs, SubTable(root, "", "kbs"));
  if (kbs) CCB_RETURN_IF_ERROR(ParseKbs(*kbs, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* audit, SubTable(root, "", "audit"));
  if (audit) CCB_RETURN_IF_ERROR(ParseAudit(*audit, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* profiles, SubTable(root, "", "profiles"));
  if (profiles) {
    for (const auto& [k, v] : *profiles) {
      if (!v.is_table()) return TypeError("profiles", k.str(), "a table");
      CCB_ASSIGN_OR_RETURN(InstanceProfile p, ParseProfile(*v.as_table(), std::string(k.str())));
      c.profiles.emplace(p.name, std::move(p));
    }
  }
  CCB_ASSIGN_OR_RETURN(const toml::table* workloads, SubTable(root, "", "workloads"));
  if (workloads) {
    for (const auto& [k, v] : *workloads) {
      if (!v.is_table()) return TypeError("workloads", k.str(), "a table");
      CCB_ASSIGN_OR_RETURN(WorkloadConfig wl,
                           ParseWorkload(*v.as_table(), std::string(k.str()), c));
      c.workloads.emplace(wl.name, std::move(wl));
    }
  }
  if (c.workloads.empty()) {
    return absl::InvalidArgumentError("config: at least one `[workloads.<name>]` is required");
  }
  return c;
}

absl::StatusOr<ScalerConfig> LoadScalerConfig(const std::string& path) {
  CCB_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path), "config");  // NotFound
  std::string base = std::filesystem::path(path).parent_path().string();
  return ParseScalerConfig(text, base);
}

}  // namespace ccburst::scaler
