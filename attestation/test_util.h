// Test helpers shared by the attestation tests and benchmark.
#pragma once

#include "core/clock.h"

namespace ccburst::attestation {

// A clock that stands still until a test moves it.
class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(core::TimePoint now) : now_(now) {}
  core::TimePoint Now() const override { return now_; }
  void Set(core::TimePoint now) { now_ = now; }
  void Advance(core::TimePoint::duration d) { now_ += d; }

 private:
  core::TimePoint now_;
};

}  // namespace ccburst::attestation
