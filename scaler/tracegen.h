// Demand traces by family and seed, so a burst policy is judged over many traces rather than the
// three shipped ones. Each family is a workload shape seen in practice; the seed draws its
// parameters (levels, times, durations, noise). Deterministic: the same (family, seed) gives the
// same trace on every platform (std::mt19937_64 and integer/`std::round` arithmetic only; no
// std:: distributions, whose output is implementation-defined).
//
// Families (on-prem capacity 20 pods of 1 vCPU / 4 GiB = 4 per tdx-4x16 VM unless noted; rows
// every 10 or 30 s, changes at arbitrary seconds relative to any KEDA/HPA/scrape clock):
//   diurnal        24 h office day: night trough, early-afternoon peak above capacity, noise
//   flash-spikes   6 h near capacity with 3-8 sudden spikes of +4..+14 pods for 1-12 min
//   ramps          6 h of slow ramps (20-60 min) above capacity, plateaus, ramps down
//   month-end      12 h quiet, then a batch of +8..+16 pods draining stepwise over 2-4 h
//   trading-day    9 h: opening ramp, peak, lunchtime dip below capacity, afternoon peak, noise
//   noisy          6 h random walk around capacity with jitter
//   gpu-heavy      8 h of large jobs (4 vCPU / 16 GiB: one pod per VM, a GPU node's shape) that
//                  arrive and finish one by one
//   long-quiet     12 h below capacity with one or two short bursts late
//   memory-pending 6 h of memory-bound pods (0.5 vCPU / 8 GiB: 2 per VM) pending for memory,
//                  the reference demo's memory-based workload, on 12 on-prem slots
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scaler/simulator.h"

namespace ccburst::scaler {

// The family names, in the order above.
const std::vector<std::string_view>& TraceFamilies();

// One trace of `family` drawn with `seed`. An unknown family is kInvalidArgument naming it and
// the known ones.
absl::StatusOr<std::vector<TraceRow>> GenerateTrace(std::string_view family, uint64_t seed);

// The trace as CSV (ParseTrace's format, with pod columns).
std::string TraceToCsv(const std::vector<TraceRow>& trace);

}  // namespace ccburst::scaler
