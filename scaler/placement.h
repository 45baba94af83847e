// Placement across instance profiles (issue 17): on which of a workload's instance profiles its
// cloud replicas run. The count decision (decision.h) says how much cloud capacity the workload
// wants; placement packs that many pods onto the cheapest allowed mix of profiles. Pure: the pods,
// the candidate profiles (with their attestation gate and current replicas) and the workload's
// rules in; replicas per profile, each with a reason code, out. No I/O, no clock.
//
// Rules:
//  1. A profile is a candidate only if its region, TEE type, cloud and sovereignty tag are allowed
//     by the workload (empty list = any), and one pod fits it; a pod that asks for GPUs fits only a
//     profile with at least that many GPUs (`no_gpu` otherwise).
//  2. A profile whose attestation gate is closed (its TEE's attestations failing, or, with GPUs,
//     its devices' attestations failing) keeps at most the replicas it runs now (`gate_closed`):
//     running replicas have attested; nothing new starts there.
//  3. Among the mixes within `max_replicas` (in total) and the hourly budget, the one that hosts
//     all pods at the lowest price per hour wins; ties go to fewer replicas, then to the profiles
//     listed first. When no mix hosts them all, the mix that hosts the most pods wins, at the
//     lowest price (`capped_budget` / `capped_max_replicas` / `no_profile`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scaler/decision.h"

namespace ccburst::scaler {

// A workload's placement rules (data sovereignty and caps).
struct PlacementRules {
  int max_replicas = 4;                          // over all profiles
  double budget_per_hour = 0;                    // 0 = no budget cap
  std::vector<std::string> allowed_regions;      // empty = any
  std::vector<std::string> allowed_tees;         // empty = any
  std::vector<std::string> allowed_clouds;       // empty = any
  std::vector<std::string> allowed_sovereignty;  // empty = any; else the profile needs a listed tag
};

// One of the workload's profiles, in the workload's order of preference.
struct PlacementCandidate {
  InstanceProfile profile;
  bool gate_open = true;  // false: at most `current` replicas (rule 2)
  int current = 0;        // replicas on this profile now
};

// Why a profile got its replicas. Stable strings (logs, metrics, docs/bursting.md).
enum class ProfileReason {
  kPlaced,                 // part of the cheapest mix
  kNotNeeded,              // allowed and fits, but a cheaper mix does without it
  kRegionNotAllowed,       // rule 1
  kTeeNotAllowed,          // rule 1
  kCloudNotAllowed,        // rule 1
  kSovereigntyNotAllowed,  // rule 1
  kNoGpu,                  // the pods ask for GPUs, the profile has none (or too few)
  kPodTooLarge,            // a pod does not fit the profile's vCPU or memory
  kGateClosed,             // rule 2: held at most at its current replicas
};
std::string_view ProfileReasonName(ProfileReason r);

// The outcome over all profiles.
enum class PlacementReason {
  kPlaced,             // every pod placed (or no pods)
  kCappedBudget,       // the budget stopped a mix that hosts every pod
  kCappedMaxReplicas,  // max_replicas stopped it
  kNoProfile,          // no allowed profile fits a pod (or all that do are gated)
};
std::string_view PlacementReasonName(PlacementReason r);

struct ProfilePlacement {
  std::string profile;
  int replicas = 0;
  int pods_per_instance = 0;  // 0 = a pod does not fit
  ProfileReason reason = ProfileReason::kNotNeeded;
};

struct Placement {
  std::vector<ProfilePlacement> profiles;  // one per candidate, in the candidates' order
  int replicas = 0;                        // total
  int pods = 0;                            // pods to place (whole)
  int pods_placed = 0;                     // capacity of the mix in pods, at most `pods`
  double price_per_hour = 0;               // of the mix
  PlacementReason reason = PlacementReason::kPlaced;

  // Replicas on `profile` (0 when it is not a candidate).
  int ReplicasOf(std::string_view profile) const;
  // "tdx-4x16:2 gpu-h100:1" (profiles with replicas only; "none" when there are none).
  std::string Summary() const;
};

// Places `pods` pods of size `pod` (rules above). `pods` is rounded up to whole pods. The search
// is exact (a dynamic program over profiles, replicas and pods); beyond 20 million steps it packs
// greedily by price per pod instead, which a few hundred pods on a handful of profiles never
// reach.
Placement Place(double pods, const Resources& pod,
                const std::vector<PlacementCandidate>& candidates, const PlacementRules& rules);

}  // namespace ccburst::scaler
