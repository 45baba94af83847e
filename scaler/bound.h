// The clairvoyant bound: what the best possible burst schedule achieves on a trace, computed
// offline with the whole future known, so that a policy's figures have a yardstick ("how good is
// good"). Same world as the simulator (simulator.h): unschedulable pods beyond on-prem capacity,
// cloud replicas of one profile that serve `pods per instance` pods from `vm_startup +
// attestation` after their start and cost from start to removal, at most the replica cap, no
// replica running when the trace starts.
//
// The problem splits exactly by replica "levels": level j (1..cap) serves the pods between
// (j-1)*k and j*k of the unschedulable count U(t), w_j(t) = clamp(U(t) - (j-1)*k, 0, k). Every
// schedule's cost is the sum over levels of (seconds a replica is up at that level) and its
// pending pod-seconds the sum of w_j over the seconds level j is not ready (plus the pods beyond
// cap*k, which nobody can serve), and replicas are interchangeable, so the levels are optimized
// independently. Per level a dynamic program over 1 s steps with the states off, booting (age
// 1..startup) and ready finds the schedule of least  price * hours + lambda * pending; lambda =
// +infinity gives the cheapest schedule among those with the fewest pending pod-seconds.
// O(seconds * startup * cap).
#pragma once

#include <limits>
#include <vector>

#include "core/status.h"
#include "scaler/simulator.h"

namespace ccburst::scaler {

struct BoundResult {
  double pending_pod_seconds = 0;
  double cloud_instance_hours = 0;
  double cost = 0;
  int peak_replicas = 0;
  // cost + pending_price_per_pod_second * pending_pod_seconds (lambda finite), else cost.
  double objective = 0;
};

// The clairvoyant schedule for `trace` in `params`' world (profile, pod size, cap =
// params.policy.max_replicas, vm_startup + attestation). `pending_price_per_pod_second` is lambda;
// infinity = fewest pending pod-seconds first, then least cost. An empty trace is
// kInvalidArgument.
absl::StatusOr<BoundResult> ClairvoyantBound(
    const std::vector<TraceRow>& trace, const SimParams& params,
    double pending_price_per_pod_second = std::numeric_limits<double>::infinity());

// The policy's figures against the bound: cost / min-pending bound's cost, pending / min-pending
// bound's pending (+infinity when the bound's pending is 0 and the policy's is not; 1 when both
// are 0),
// and (cost + lambda * pending) / the bound at lambda (lambda from params.cost_model).
struct BoundRatios {
  double cost = 1;
  double pending = 1;
  double objective = 1;
};
BoundRatios RatiosTo(const SimResult& r, const BoundResult& min_pending, const BoundResult& priced,
                     const SimParams& params);

// lambda of params.cost_model in price units per pod-second.
double PendingPricePerPodSecond(const SimParams& params);

}  // namespace ccburst::scaler
