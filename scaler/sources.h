// Signal sources of the scaler: instant queries against the Prometheus HTTP API, and the KBS
// attestation gate (its /healthz and the attestation counters of its /metrics, ours or the
// reference KBS's). Every call is bounded by the configured timeout and every failure names its
// cause; the caller turns a failure into "hold the current replicas".
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "net/http_client.h"
#include "scaler/config.h"
#include "scaler/decision.h"

namespace ccburst::scaler {

// Parses a Prometheus instant-query response that must hold exactly one finite sample. Errors:
// kInvalidArgument for non-JSON or a non-success status ("prometheus: query `q`: bad_data: ..."),
// several series or a NaN/Inf/garbage value; kNotFound for no series.
absl::StatusOr<double> ParseInstantQuery(std::string_view query, int http_status,
                                         std::string_view body);

class PrometheusClient {
 public:
  // Reads the bearer token file if configured; a bad address or unreadable file is
  // kInvalidArgument. Does not connect.
  static absl::StatusOr<std::unique_ptr<PrometheusClient>> Create(const PrometheusConfig& config,
                                                                  std::string address);

  // Runs one instant query. Transport failures and timeouts are kUnavailable ("prometheus:
  // <address>: ..."); response errors as ParseInstantQuery. Thread-safe (one request at a time).
  absl::StatusOr<double> Query(std::string_view query);

  const std::string& address() const { return address_; }

 private:
  PrometheusClient(std::string address, std::unique_ptr<net::HttpClient> http,
                   std::optional<std::string> token)
      : address_(std::move(address)), http_(std::move(http)), token_(std::move(token)) {}

  std::string address_;
  std::mutex mu_;
  std::unique_ptr<net::HttpClient> http_;
  std::optional<std::string> token_;
};

// Counters of kbs_attestations_total for one TEE type: successes and everything else (failure,
// error).
struct AttestationCounts {
  double ok = 0;
  double failed = 0;
};

// The attestation counts of `tee` from a KBS's Prometheus text exposition: ours
// (`kbs_attestations_total{tee,outcome}`: success vs failure and error) or the reference KBS's
// (`kbs_attestation_successes_total{tee_type}`, `kbs_attestation_failures_total{tee_type}`).
// kAuto reads ours when the text has any sample of it (our KBS exports both families), the
// reference's otherwise. Malformed sample lines are kInvalidArgument naming the line.
absl::StatusOr<AttestationCounts> ParseKbsAttestations(
    std::string_view text, std::string_view tee, KbsMetricNames names = KbsMetricNames::kAuto);

// The device (GPU) attestation counts of `arch` ("" = every architecture, compared without case)
// from `kbs_device_attestations_total{arch,outcome}` (outcome `success` vs anything else);
// nullopt when the exposition has no sample of that family (a KBS that does not export it).
// Malformed sample lines of the family are kInvalidArgument naming the line.
absl::StatusOr<std::optional<AttestationCounts>> ParseKbsDeviceAttestations(std::string_view text,
                                                                            std::string_view arch);

class KbsGate {
 public:
  static absl::StatusOr<std::unique_ptr<KbsGate>> Create(const KbsGateConfig& config,
                                                         std::string url);

  // The gate for attestations of `tee` at `now`: reads the KBS at most once per refresh interval.
  // kKbsUnreachable when /healthz or /metrics cannot be read or /healthz is not 200;
  // kAttestationFailing when, over the window, at least min_attestations of `tee` ran and the
  // failed share exceeds max_failure_ratio. `why` receives the cause when the gate is closed.
  // Thread-safe.
  // Each TEE type (and each device architecture) has its own window, so profiles of several
  // TEEs can share one KBS.
  GateState Check(std::string_view tee, core::TimePoint now, std::string* why);

  // The device gate of a profile with GPUs (issue 19): as Check, over the KBS's device
  // attestations of `arch` (`kbs_device_attestations_total{arch,outcome}`, "" = every
  // architecture) when the KBS exports them; otherwise over the attestations of `tee`, the CPU TEE
  // the GPUs are attached to (a KBS without device counters refuses the whole attestation when a
  // device fails). kAttestationFailing names the architecture in `why`.
  GateState CheckDevices(std::string_view arch, std::string_view tee, core::TimePoint now,
                         std::string* why);

 private:
  struct Sample {
    core::TimePoint t;
    AttestationCounts counts;
  };
  struct Window {
    std::deque<Sample> samples;
    uint64_t generation = 0;  // the fetch its last sample came from
    GateState state = GateState::kOpen;
    std::string why;
  };
  KbsGate(KbsGateConfig config, std::string url, std::unique_ptr<net::HttpClient> http)
      : config_(std::move(config)), url_(std::move(url)), http_(std::move(http)) {}
  // Reads /healthz and /metrics when the refresh interval has passed. Needs mu_.
  void Fetch(core::TimePoint now);
  // Adds the counts of the current fetch to `w` and judges its window. Needs mu_.
  void Judge(Window& w, const AttestationCounts& counts, std::string_view what,
             core::TimePoint now);

  KbsGateConfig config_;
  std::string url_;
  std::mutex mu_;
  std::unique_ptr<net::HttpClient> http_;
  std::optional<core::TimePoint> last_fetch_;
  uint64_t generation_ = 0;
  bool reachable_ = false;
  std::string unreachable_why_;
  std::string body_;                       // the last /metrics read
  std::map<std::string, Window> windows_;  // "tee:<name>", "device:<arch>"
};

}  // namespace ccburst::scaler
