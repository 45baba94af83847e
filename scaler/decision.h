// The burst decision: how many confidential cloud replicas a workload should run. Pure logic, no
// I/O: signals (unschedulable pods and their requests, on-prem free capacity), the attestation
// gate state and "now" go in; a replica count with a reason code comes out. The same code drives
// the gRPC scaler and the simulator, so the simulator's figures are the scaler's behaviour.
//
// Rules, in order:
//  1. Placement policy: the instance profile's region and TEE type must be allowed for the
//     workload (data sovereignty), otherwise 0 replicas.
//  2. Packing: the pending pods' requests are packed whole onto instances of the profile (pods
//     per instance = the tightest of vCPU, memory and GPUs); a pod larger than the profile cannot
//     burst at all.
//  3. Caps: max replicas and the hourly budget (budget / price per hour).
//  4. Scale-up happens at once, unless the attestation gate is closed or a time window forbids
//     it (then the current replicas are held).
//  5. Scale-in happens only after the lower target has held for the whole cool-down (the target
//     is the highest demand seen in the cool-down, which is the hysteresis), and scaling to zero
//     additionally needs on-prem free capacity of `headroom_pods` pods throughout the cool-down,
//     i.e. on-prem has covered the cloud pods' work with room to spare. The cool-down is the
//     ski-rental break-even time, shortened once the workload's own idle gaps show that demand
//     seldom comes back within it (learned ski rental, PlacementPolicy::learn_min_gaps).
//  6. Warm pool and trend (issue 17): a cloud VM takes minutes to boot and attest, and the
//     signals are up to a scrape interval old, so a policy that waits for pods to go Pending makes
//     every shortage wait that long. The demand packed onto replicas is therefore the pending pods
//     plus a reserve: the pods by which on-prem free capacity falls short of `warm_pods`, or the
//     trend (rule 7), whichever is larger (reasons `warm_pool` and `trend` when the reserve is
//     what scales up). The reserve
//     joins the demand that the cool-down's hysteresis holds, so an idle warm VM is kept for the
//     cool-down: the ski-rental rule (keep it while re-booting it soon is the dearer outcome).
//     A scale-up for the reserve alone waits `reserve_flap_guard` after a scale-in
//     (`reserve_deferred`); pending pods are never made to wait for it.
//  7. Trend (issue 17): the shortage (pending minus free) is compared with what was seen one and
//     two `trend_window`s ago. Only growth in both windows counts (a ramp; a step is all there
//     once seen): the reserve is `trend_gain` times the smaller rise, less on-prem's free room,
//     for profiles of at least `warm_min_pods_per_instance` pods. A shortage that fell in both
//     windows is draining, and the warm reserve is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace ccburst::scaler {

// Resource requests of one pod (or a sum of pods).
struct Resources {
  double cpu = 0;         // cores
  double memory_gib = 0;  // GiB
  double gpus = 0;
};

// The cloud VM a confidential peer pod runs in.
struct InstanceProfile {
  std::string name;
  Resources capacity;  // vCPU, memory and GPUs usable by pods
  double price_per_hour = 0;
  std::string tee;     // the KBS TEE name: "tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm", ...
  std::string region;  // "westeurope", ...
  // Placement across profiles (placement.h): the provider, a data-sovereignty tag ("eu", ...)
  // and, with GPUs, their architecture as the KBS labels device attestations ("" = any).
  std::string cloud;
  std::string sovereignty;
  std::string gpu_arch;
};

// A weekly time window in UTC during which bursting may start ("Mon-Fri 06:00-22:00").
struct TimeWindow {
  uint8_t days = 0x7f;       // bit 0 = Monday ... bit 6 = Sunday
  int start_minute = 0;      // minutes after midnight, inclusive
  int end_minute = 24 * 60;  // exclusive; start > end wraps past midnight (into the next day)
};

// Parses "Mon-Fri 06:00-22:00", "Sat,Sun 00:00-24:00", "22:00-06:00" (every day). Bad syntax is
// kInvalidArgument naming the window.
absl::StatusOr<TimeWindow> ParseTimeWindow(std::string_view text);
// True when `t` falls into `w`.
bool InWindow(const TimeWindow& w, core::TimePoint t);

struct PlacementPolicy {
  int max_replicas = 4;
  double budget_per_hour = 0;                // 0 = no budget cap
  std::vector<std::string> allowed_regions;  // empty = any
  std::vector<std::string> allowed_tees;     // empty = any
  std::vector<TimeWindow> windows;           // empty = always
  std::chrono::seconds scale_in_cooldown{300};
  double headroom_pods = 1;  // on-prem free capacity (in pods) required before scaling to zero
  // Rule 6. warm_pods is rounded up to whole VMs and applies only to profiles that hold at least
  // warm_min_pods_per_instance pods (a warm VM for one pod costs what that pod's own VM costs).
  double warm_pods = 1;
  int warm_min_pods_per_instance = 2;
  // Rule 7: the trend reserve over two windows of trend_window (0 = off), trend_gain windows'
  // worth of sustained growth; a shortage falling over both windows drops the warm reserve.
  std::chrono::seconds trend_window{60};
  double trend_gain = 2;
  // A scale-up for the reserve alone (no pod pending beyond the replicas) is deferred this long
  // after a scale-in, so the reserve never turns on-prem noise into flaps.
  std::chrono::seconds reserve_flap_guard{600};
  // Ski-rental scale-in: when set, the cool-down is the break-even time of keeping an idle VM
  // against re-booting it: startup_seconds * pods per instance * the price of a pending
  // pod-second / the VM's price per second, clamped to [60 s, 1 h]. scale_in_cooldown is then
  // unused. A configured scale_in_cooldown_seconds turns this off.
  bool ski_rental = true;
  double startup_seconds = 95;    // VM boot + attestation, as the ski-rental rule prices it
  double pending_pod_hour = 1.0;  // price of one pod pending for one hour
  // Learned ski rental (with ski_rental): once `learn_min_gaps` idle gaps of this workload are
  // known, the cool-down is the one of at most the break-even time that would have cost least
  // over the last 16 (an idle VM's price for min(gap, hold); for a gap longer than the hold, a
  // reboot: its start-up's pending pod-seconds plus `flap_price`). It only shortens the hold.
  int learn_min_gaps = 3;  // 0 = off
  double flap_price = 0.2;
};

// What the sources measured for one decision. Optional fields fall back as documented.
struct Signals {
  // Pods of the on-prem workload that cannot be scheduled.
  double pending_pods = 0;
  // Summed requests of those pods; absent = pending_pods * the configured pod size.
  std::optional<Resources> pending_requests;
  // On-prem allocatable minus requested; absent = unknown (scale to zero then only needs the
  // cool-down).
  std::optional<Resources> onprem_free;
  // Cloud replicas running now as observed (for logs and metrics; the decider tracks its own).
  std::optional<double> cloud_replicas;
};

enum class GateState { kOpen, kKbsUnreachable, kAttestationFailing, kDisabled };
std::string_view GateStateName(GateState s);

// Why the answer is what it is. Stable strings (logs, metrics, docs/bursting.md).
enum class Reason {
  kIdle,                    // no demand, nothing running
  kScaleUp,                 // demand above the current replicas: scaled up at once
  kSteady,                  // demand matches the current replicas
  kScaleIn,                 // lower demand held for the cool-down: scaled in
  kScaleInCooldown,         // lower demand, waiting for the cool-down (holding)
  kScaleInHeadroom,         // no demand, but on-prem lacks headroom (holding)
  kCappedMaxReplicas,       // demand above max_replicas
  kCappedBudget,            // demand above the hourly budget
  kWindowClosed,            // outside every time window: no scale-up (holding)
  kRegionNotAllowed,        // profile region not allowed for the workload: 0
  kTeeNotAllowed,           // profile TEE not allowed for the workload: 0
  kPodTooLarge,             // a pending pod does not fit the instance profile: no scale-up
  kGateKbsUnreachable,      // KBS down: no scale-up (holding)
  kGateAttestationFailing,  // cloud TEE attestations failing: no scale-up (holding)
  kSignalError,             // a signal could not be read: holding the last answer
  kWarmPool,         // scaled up for the warm reserve (on-prem nearly full), not pending pods
  kTrend,            // scaled up for the shortage's recent growth, not pending pods
  kReserveDeferred,  // the reserve wants more, but a scale-in was recent (holding)
  kSignalsStale,     // the last good signals are older than the staleness bound (holding)
};
std::string_view ReasonName(Reason r);

struct Decision {
  int wanted = 0;           // the answer: cloud replicas wanted
  int previous = 0;         // the decider's replicas before this decision
  int demand_replicas = 0;  // packed demand (pending pods + reserve) before caps and gates
  double reserve_pods = 0;  // the warm/trend reserve included in demand_replicas
  int pods_per_instance = 0;
  double pending_pods = 0;
  double onprem_free_pods = -1;         // -1 = unknown
  int cap = 0;                          // min(max_replicas, budget cap)
  double observed_cloud_replicas = -1;  // from the cloud_replicas query; -1 not queried
  GateState gate = GateState::kDisabled;
  Reason reason = Reason::kIdle;
  std::string detail;  // for kSignalError: the error message
};

// How many pods of `pod` size fit one instance of `capacity` (0 when one does not fit; resources
// the pod does not request do not limit).
int PodsPerInstance(const Resources& pod, const Resources& capacity);

// Stateful decider for one workload (one ScaledObject). Not thread-safe: callers serialize.
class Decider {
 public:
  // `pod_size` is the per-pod request used when signals carry no request sums.
  Decider(InstanceProfile profile, PlacementPolicy policy, Resources pod_size);

  // Decides from fresh signals at `now` (monotonic across calls).
  Decision Decide(const Signals& signals, GateState gate, core::TimePoint now);
  // A fault: holds the current replicas and records `detail` (never bursts blindly), with
  // `reason` kSignalError or kSignalsStale.
  Decision Hold(std::string detail, GateState gate, core::TimePoint now,
                Reason reason = Reason::kSignalError);

  int replicas() const { return replicas_; }
  const InstanceProfile& profile() const { return profile_; }
  const PlacementPolicy& policy() const { return policy_; }
  // The replica cap from max_replicas and the budget.
  int Cap() const;
  // The scale-in cool-down for pods `pods_per_instance` to an instance (rule 5 / ski rental).
  std::chrono::seconds ScaleInCooldown(int pods_per_instance) const;

 private:
  struct Sample {
    core::TimePoint t;
    int demand;        // packed demand (after caps)
    double free_pods;  // -1 unknown
  };

  InstanceProfile profile_;
  PlacementPolicy policy_;
  Resources pod_size_;
  int replicas_ = 0;
  std::deque<Sample> history_;                               // samples within the cool-down window
  std::deque<std::pair<core::TimePoint, double>> shortage_;  // (t, pending - free) in the window
  std::optional<core::TimePoint> low_since_;  // first time demand fell below replicas_
  // Learned ski rental: the last idle gaps in seconds (demand below the replicas until it came
  // back; +inf when it did not within an hour), and the start of the last scale-in's gap while
  // its end is unknown.
  std::deque<double> gaps_;
  std::optional<core::TimePoint> open_gap_;
  void NoteGaps(int demand, core::TimePoint now);
  std::optional<core::TimePoint> last_scale_in_;
};

}  // namespace ccburst::scaler
