#include "scaler/scaler_service.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <vector>

#include "core/file.h"
#include "core/json.h"

namespace ccburst::scaler {
namespace {

const std::set<std::string_view>& KedaKeys() {
  static const std::set<std::string_view> k = {"scalerAddress", "tlsCertFile", "tlsClientCert",
                                               "tlsClientKey",  "caCert",      "enableTLS",
                                               "unsafeSsl",     "metricType"};
  return k;
}

}  // namespace

struct ScalerService::Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Gauge>& wanted =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_wanted_replicas")
          .Help("Cloud replicas wanted, by ScaledObject")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& demand =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_demand_replicas")
          .Help("Replicas the pending pods pack onto, before caps and gates")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& pending =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_pending_pods")
          .Help("Unschedulable (or, in pending mode, Pending) pods of the on-prem workload")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& free =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_onprem_free_pods")
          .Help("On-prem free capacity in pods of the workload's size (-1 unknown)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& gate =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_gate_open")
          .Help("1 when the attestation gate lets the ScaledObject burst (or is disabled)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& decisions =
      prometheus::BuildCounter()
          .Name("ccburst_scaler_decisions_total")
          .Help("Decisions by workload and reason code")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& errors =
      prometheus::BuildCounter()
          .Name("ccburst_scaler_signal_errors_total")
          .Help("Signal faults (the replicas were held), by workload and source")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram()
          .Name("ccburst_scaler_decision_duration_seconds")
          .Help("Time to decide on a request, from the last signal snapshot")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& refresh =
      prometheus::BuildHistogram()
          .Name("ccburst_scaler_refresh_duration_seconds")
          .Help("Time to read one workload's signals and gates in the background")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& placed =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_placement_replicas")
          .Help("Replicas the placement puts on each profile of a placed workload")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& placements =
      prometheus::BuildCounter()
          .Name("ccburst_scaler_placements_total")
          .Help("Placements by workload and outcome reason")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& age =
      prometheus::BuildGauge()
          .Name("ccburst_scaler_signal_age_seconds")
          .Help("Age of the signal snapshot the last decision used (-1 none)")
          .Register(*registry);
};

struct ScalerService::Feed {
  struct Gate {
    GateState state = GateState::kDisabled;
    std::string why;
  };
  const WorkloadConfig* workload = nullptr;
  SignalMode mode = SignalMode::kCcburst;
  std::thread thread;
  std::mutex refresh_mu;  // one refresh at a time
  std::mutex mu;          // guards the snapshot below
  bool refreshed = false;
  std::optional<Signals> signals;     // the last good signals
  core::TimePoint taken{};            // when they were read
  std::string error;                  // the last refresh's error; empty when it succeeded
  std::map<std::string, Gate> gates;  // by profile name
};

struct ScalerService::ObjectState {
  std::mutex mu;
  std::string workload;
  std::unique_ptr<Decider> decider;
  std::optional<Decision> last;
  std::optional<Placement> placement;  // a placed workload's last placement
};

ScalerService::ScalerService(ScalerConfig config, const core::Clock& clock)
    : config_(std::move(config)), clock_(clock), metrics_(std::make_unique<Metrics>()) {}

ScalerService::~ScalerService() { Stop(); }

void ScalerService::Start() {
  for (const auto& [_, w] : config_.workloads) GetFeed(w, w.mode);
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  for (auto& [_, f] : feeds_) {
    Feed* feed = f.get();
    feed->thread = std::thread([this, feed] { RefreshLoop(*feed); });
  }
}

void ScalerService::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [_, f] : feeds_) {
      if (f->thread.joinable()) threads.push_back(std::move(f->thread));
    }
  }
  stop_cv_.notify_all();
  for (auto& t : threads) t.join();
}

ScalerService::Feed& ScalerService::GetFeed(const WorkloadConfig& w, SignalMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot =
      feeds_[fmt::format("{}/{}", w.name, mode == SignalMode::kPending ? "pending" : "ccburst")];
  if (!slot) {
    slot = std::make_unique<Feed>();
    slot->workload = &w;
    slot->mode = mode;
    Feed* feed = slot.get();
    if (started_ && !stopping_) feed->thread = std::thread([this, feed] { RefreshLoop(*feed); });
  }
  return *slot;
}

void ScalerService::RefreshLoop(Feed& feed) {
  while (true) {
    Refresh(feed);
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_cv_.wait_for(lock, config_.signal_refresh, [&] { return stopping_; })) return;
  }
}

void ScalerService::Refresh(Feed& f) {
  std::lock_guard<std::mutex> once(f.refresh_mu);
  const WorkloadConfig& w = *f.workload;
  auto started = std::chrono::steady_clock::now();
  core::TimePoint now = clock_.Now();
  std::map<std::string, Feed::Gate> gates;
  const std::string& kbs_url = w.kbs_url ? *w.kbs_url : config_.kbs.url;
  const std::vector<std::string> profiles =
      w.profiles.empty() ? std::vector<std::string>{w.profile} : w.profiles;
  for (const std::string& name : profiles) {
    Feed::Gate g;
    if (!kbs_url.empty()) {
      // A profile with GPUs bursts only while its devices attest too (issue 19): its gate also
      // reads the KBS's device outcome, and closes for this profile only.
      const InstanceProfile& p = config_.profiles.at(name);
      KbsGate& kbs = *gates_.at(kbs_url);
      g.state = kbs.Check(p.tee, now, &g.why);
      if (g.state == GateState::kOpen && p.capacity.gpus > 0) {
        g.state = kbs.CheckDevices(p.gpu_arch, p.tee, now, &g.why);
      }
    }
    gates.emplace(name, std::move(g));
  }
  auto signals = ReadSignals(w, f.mode);
  metrics_->refresh
      .Add({{"workload", w.name}},
           prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25, 0.5, 1, 2.5, 5, 10})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!signals.ok()) {
    metrics_->errors.Add({{"workload", w.name}, {"source", "prometheus"}}).Increment();
    spdlog::debug("refresh workload={} failed: {}", w.name, core::Message(signals.status()));
  }
  std::lock_guard<std::mutex> lock(f.mu);
  f.refreshed = true;
  f.gates = std::move(gates);
  if (signals.ok()) {
    f.signals = *signals;
    f.taken = now;
    f.error.clear();
  } else {
    f.error = core::Message(signals.status());
  }
}

absl::StatusOr<std::unique_ptr<ScalerService>> ScalerService::Create(ScalerConfig config,
                                                                     const core::Clock& clock) {
  std::unique_ptr<ScalerService> s(new ScalerService(std::move(config), clock));
  auto add_prometheus = [&](const std::string& address) -> absl::Status {
    if (s->prometheus_.count(address)) return absl::OkStatus();
    CCB_ASSIGN_OR_RETURN(auto c, PrometheusClient::Create(s->config_.prometheus, address));
    s->prometheus_.emplace(address, std::move(c));
    return absl::OkStatus();
  };
  auto add_gate = [&](const std::string& url) -> absl::Status {
    if (url.empty() || s->gates_.count(url)) return absl::OkStatus();
    CCB_ASSIGN_OR_RETURN(auto g, KbsGate::Create(s->config_.kbs, url));
    s->gates_.emplace(url, std::move(g));
    return absl::OkStatus();
  };
  CCB_RETURN_IF_ERROR(add_prometheus(s->config_.prometheus.address));
  CCB_RETURN_IF_ERROR(add_gate(s->config_.kbs.url));
  for (const auto& [_, w] : s->config_.workloads) {
    if (w.prometheus_address) CCB_RETURN_IF_ERROR(add_prometheus(*w.prometheus_address));
    if (w.kbs_url) CCB_RETURN_IF_ERROR(add_gate(*w.kbs_url));
  }
  if (s->config_.audit.enabled) {
    const AuditSinkConfig& a = s->config_.audit;
    CCB_ASSIGN_OR_RETURN(std::string token, core::ReadFile(a.token_file), "audit.token_file");
    while (!token.empty() &&
           (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    s->audit_token_ = std::move(token);
    net::HttpClientOptions o;
    o.base_url = a.kbs_url;
    o.ca_certificate_file = a.ca_file;
    o.timeout = a.timeout;
    CCB_ASSIGN_OR_RETURN(s->audit_http_, net::HttpClient::Create(std::move(o)), "audit.kbs_url");
  }
  return s;
}

absl::StatusOr<const WorkloadConfig*> ScalerService::Resolve(const ObjectRef& ref, SignalMode& mode,
                                                             std::string& profile) const {
  const std::string who = fmt::format("scaledobject {}/{}", ref.ns, ref.name);
  for (const auto& [k, v] : ref.metadata) {
    if (k != "workload" && k != "mode" && k != "profile" && !KedaKeys().count(k)) {
      return absl::InvalidArgumentError(fmt::format("{}: unknown metadata key `{}`", who, k));
    }
  }
  auto it = ref.metadata.find("workload");
  if (it == ref.metadata.end() || it->second.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: metadata lacks `workload`", who));
  }
  auto w = config_.workloads.find(it->second);
  if (w == config_.workloads.end()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: metadata `workload` = `{}` is not configured", who, it->second));
  }
  mode = w->second.mode;
  if (auto m = ref.metadata.find("mode"); m != ref.metadata.end()) {
    if (m->second == "ccburst") {
      mode = SignalMode::kCcburst;
    } else if (m->second == "pending") {
      mode = SignalMode::kPending;
    } else {
      return absl::InvalidArgumentError(
          fmt::format("{}: metadata `mode` = `{}`: want `ccburst` or `pending`", who, m->second));
    }
  }
  const WorkloadConfig& wl = w->second;
  profile.clear();
  auto p = ref.metadata.find("profile");
  if (wl.profiles.empty()) {
    if (p != ref.metadata.end()) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: metadata `profile`: workload `{}` has one profile (no `profiles` to place across)",
          who, wl.name));
    }
    return &wl;
  }
  if (p == ref.metadata.end() || p->second.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: metadata lacks `profile` (workload `{}` is placed across profiles: one ScaledObject "
        "per profile)",
        who, wl.name));
  }
  if (std::find(wl.profiles.begin(), wl.profiles.end(), p->second) == wl.profiles.end()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: metadata `profile` = `{}` is not one of workload `{}`'s profiles", who,
                    p->second, wl.name));
  }
  profile = p->second;
  return &wl;
}

absl::StatusOr<std::string> ScalerService::MetricName(const ObjectRef& ref) const {
  SignalMode mode;
  std::string profile;
  CCB_ASSIGN_OR_RETURN(const WorkloadConfig* w, Resolve(ref, mode, profile));
  if (!profile.empty()) return fmt::format("ccburst-{}-{}", w->name, profile);
  return fmt::format("ccburst-{}", w->name);
}

absl::StatusOr<Signals> ScalerService::ReadSignals(const WorkloadConfig& w, SignalMode mode) {
  PrometheusClient& prom =
      *prometheus_.at(w.prometheus_address.value_or(config_.prometheus.address));
  Signals s;
  const Queries& q = w.queries;
  if (mode == SignalMode::kPending) {
    CCB_ASSIGN_OR_RETURN(s.pending_pods, prom.Query(q.pending_pods));
    return s;
  }
  CCB_ASSIGN_OR_RETURN(s.pending_pods, prom.Query(q.unschedulable_pods));
  if (!q.pending_cpu.empty() && !q.pending_memory_gib.empty()) {
    Resources r;
    CCB_ASSIGN_OR_RETURN(r.cpu, prom.Query(q.pending_cpu));
    CCB_ASSIGN_OR_RETURN(r.memory_gib, prom.Query(q.pending_memory_gib));
    if (!q.pending_gpus.empty()) {
      CCB_ASSIGN_OR_RETURN(r.gpus, prom.Query(q.pending_gpus));
    }
    // Requests of pods that left the unschedulable state between the queries are not trusted.
    if (s.pending_pods > 0 && r.cpu > 0) s.pending_requests = r;
  }
  if (!q.onprem_free_cpu.empty() && !q.onprem_free_memory_gib.empty()) {
    Resources f;
    CCB_ASSIGN_OR_RETURN(f.cpu, prom.Query(q.onprem_free_cpu));
    CCB_ASSIGN_OR_RETURN(f.memory_gib, prom.Query(q.onprem_free_memory_gib));
    f.gpus = 0;
    s.onprem_free = f;
  }
  if (!q.cloud_replicas.empty()) {
    CCB_ASSIGN_OR_RETURN(double c, prom.Query(q.cloud_replicas));
    s.cloud_replicas = c;
  }
  return s;
}

absl::StatusOr<Answer> ScalerService::Evaluate(const ObjectRef& ref) {
  SignalMode mode;
  std::string asked_profile;
  auto resolved = Resolve(ref, mode, asked_profile);
  if (!resolved.ok()) {
    metrics_->errors.Add({{"workload", ""}, {"source", "metadata"}}).Increment();
    spdlog::warn("decision refused: {}", core::Message(resolved.status()));
    return resolved.status();
  }
  const WorkloadConfig& w = **resolved;
  const bool placed = !w.profiles.empty();
  // A placed workload's ScaledObjects (one per profile) share its count decision and placement.
  const std::string key = placed ? fmt::format("{}/workload:{}", ref.ns, w.name)
                                 : fmt::format("{}/{}", ref.ns, ref.name);
  ObjectState* state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = objects_[key];
    if (!slot || slot->workload != w.name) {
      slot = std::make_unique<ObjectState>();
      slot->workload = w.name;
      slot->decider =
          std::make_unique<Decider>(config_.profiles.at(w.profile), w.policy, w.pod_size);
    }
    state = slot.get();
  }

  Feed& feed = GetFeed(w, mode);
  bool refreshed;
  {
    std::lock_guard<std::mutex> lock(feed.mu);
    refreshed = feed.refreshed;
  }
  if (!refreshed) Refresh(feed);  // the first request for a feed reads the signals itself
  std::optional<Signals> signals;
  core::TimePoint taken;
  std::string error;
  std::map<std::string, Feed::Gate> gates;
  {
    std::lock_guard<std::mutex> lock(feed.mu);
    signals = feed.signals;
    taken = feed.taken;
    error = feed.error;
    gates = feed.gates;
  }
  auto open = [](GateState g) { return g == GateState::kOpen || g == GateState::kDisabled; };
  // The count decision's gate: a placed workload can grow while any of its profiles is open
  // (placement then keeps the closed ones where they are).
  Feed::Gate gate_of_count = gates[w.profile];
  if (placed) {
    for (const auto& [name, g] : gates) {
      if (open(g.state)) gate_of_count = g;
    }
  }

  std::lock_guard<std::mutex> lock(state->mu);
  auto started = std::chrono::steady_clock::now();
  core::TimePoint now = clock_.Now();
  const InstanceProfile& profile = state->decider->profile();
  const GateState gate = gate_of_count.state;
  const double age = signals ? std::chrono::duration<double>(now - taken).count() : -1;

  Answer a;
  Decision& d = a.decision;
  if (!signals) {
    d = state->decider->Hold(error.empty() ? "no signals read yet" : error, gate, now);
  } else if (now - taken > config_.signal_max_age) {
    d = state->decider->Hold(
        fmt::format("signals are {:.0f}s old (limit {}s): {}", age, config_.signal_max_age.count(),
                    error.empty() ? "no refresh since" : error),
        gate, now, Reason::kSignalsStale);
  } else {
    d = state->decider->Decide(*signals, gate, now);
    if (d.reason == Reason::kGateKbsUnreachable || d.reason == Reason::kGateAttestationFailing) {
      d.detail = gate_of_count.why;
    }
  }
  a.replicas = d.wanted;

  if (placed) {
    // Placement, a separate step after the count: the capacity the decision wants, in pods of the
    // pending pods' size, onto the cheapest allowed mix of the workload's profiles.
    const bool held = d.reason == Reason::kSignalError || d.reason == Reason::kSignalsStale;
    if (!held || !state->placement) {
      Resources pod = w.pod_size;
      if (signals && signals->pending_requests && signals->pending_pods > 0) {
        pod.cpu = signals->pending_requests->cpu / signals->pending_pods;
        pod.memory_gib = signals->pending_requests->memory_gib / signals->pending_pods;
        pod.gpus = signals->pending_requests->gpus / signals->pending_pods;
      }
      const int per =
          d.pods_per_instance > 0 ? d.pods_per_instance : PodsPerInstance(pod, profile.capacity);
      std::vector<PlacementCandidate> candidates;
      for (const std::string& name : w.profiles) {
        PlacementCandidate c{config_.profiles.at(name)};
        c.gate_open = open(gates[name].state);
        c.current = state->placement ? state->placement->ReplicasOf(name) : 0;
        candidates.push_back(std::move(c));
      }
      state->placement = Place(static_cast<double>(d.wanted) * per, pod, candidates, w.placement);
      metrics_->placements
          .Add({{"workload", w.name},
                {"reason", std::string(PlacementReasonName(state->placement->reason))}})
          .Increment();
      for (const ProfilePlacement& pp : state->placement->profiles) {
        metrics_->placed.Add({{"workload", w.name}, {"profile", pp.profile}}).Set(pp.replicas);
      }
    }
    a.placement = state->placement;
    a.profile = asked_profile;
    a.replicas = a.placement->ReplicasOf(asked_profile);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  prometheus::Labels labels = {{"scaledobject", fmt::format("{}/{}", ref.ns, ref.name)},
                               {"workload", w.name}};
  metrics_->wanted.Add(labels).Set(a.replicas);
  metrics_->demand.Add(labels).Set(d.demand_replicas);
  metrics_->pending.Add(labels).Set(d.pending_pods);
  metrics_->free.Add(labels).Set(d.onprem_free_pods);
  metrics_->gate.Add(labels).Set(open(placed ? gates[asked_profile].state : gate) ? 1 : 0);
  metrics_->age.Add(labels).Set(age);
  metrics_->decisions.Add({{"workload", w.name}, {"reason", std::string(ReasonName(d.reason))}})
      .Increment();
  metrics_->latency
      .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})
      .Observe(seconds);

  const std::string placement_text =
      a.placement ? fmt::format(" placement=\"{}\" placement_reason={} profile_replicas={}",
                                a.placement->Summary(), PlacementReasonName(a.placement->reason),
                                a.replicas)
                  : "";
  const bool changed = !state->last || state->last->wanted != d.wanted ||
                       state->last->reason != d.reason || state->last->detail != d.detail;
  auto level = changed ? spdlog::level::info : spdlog::level::debug;
  spdlog::log(level,
              "decision scaledobject={}/{} workload={} wanted={} previous={} reason={} "
              "demand_replicas={} pending_pods={} pods_per_instance={} onprem_free_pods={} "
              "cap={} cloud_replicas={} gate={} profile={} signal_age_s={:.1f}{} detail=\"{}\"",
              ref.ns, ref.name, w.name, d.wanted, d.previous, ReasonName(d.reason),
              d.demand_replicas, d.pending_pods, d.pods_per_instance, d.onprem_free_pods, d.cap,
              d.observed_cloud_replicas, GateStateName(gate), profile.name, age, placement_text,
              d.detail);
  if (audit_http_ && d.wanted != d.previous) {
    RecordDecision(key, w, profile, d, gate, gate_of_count.why);
  }
  state->last = d;
  return a;
}

void ScalerService::RecordDecision(const std::string& key, const WorkloadConfig& w,
                                   const InstanceProfile& profile, const Decision& d,
                                   GateState gate, const std::string& gate_why) {
  namespace json = core::json;
  json::object signals{{"pending_pods", d.pending_pods},
                       {"onprem_free_pods", d.onprem_free_pods},
                       {"demand_replicas", d.demand_replicas},
                       {"reserve_pods", d.reserve_pods},
                       {"pods_per_instance", d.pods_per_instance},
                       {"cap", d.cap},
                       {"observed_cloud_replicas", d.observed_cloud_replicas}};
  json::object f{{"workload", w.name},
                 {"scaledobject", key},
                 {"from_replicas", d.previous},
                 {"to_replicas", d.wanted},
                 {"direction", d.wanted > d.previous ? "out" : "in"},
                 {"reason", ReasonName(d.reason)},
                 {"detail", d.detail},
                 {"signals", std::move(signals)},
                 {"profile", profile.name},
                 {"region", profile.region},
                 {"tee", profile.tee},
                 {"gate", GateStateName(gate)},
                 {"gate_detail", gate_why}};
  net::HttpHeaders headers{{"Content-Type", "application/json"},
                           {"Authorization", "Bearer " + audit_token_}};
  std::lock_guard<std::mutex> lock(audit_mu_);
  auto r = audit_http_->Send("POST", "/kbs/v0/audit/burst-decision", json::serialize(f), headers);
  if (!r.ok() || r->status != 200) {
    metrics_->errors.Add({{"workload", w.name}, {"source", "audit"}}).Increment();
    spdlog::error(
        "audit: burst decision for {} ({} -> {}) not recorded: {}", key, d.previous, d.wanted,
        r.ok() ? fmt::format("HTTP {}: {}", r->status, r->body) : core::Message(r.status()));
  }
}

std::string ScalerService::RenderMetrics() const {
  return prometheus::TextSerializer().Serialize(metrics_->registry->Collect());
}

}  // namespace ccburst::scaler
