// Test support: a core::Clock that stands still until the test moves it, so expiry (sessions,
// tokens, collateral) is tested at exact instants and never against the wall clock.
#pragma once

#include <mutex>

#include "core/clock.h"

namespace ccburst::core::testing {

// Thread-safe: a server thread may read Now() while the test thread moves the clock.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint now) : now_(now) {}

  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  // Moves the clock to `now` (backwards too).
  void Set(TimePoint now) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = now;
  }
  void Advance(TimePoint::duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

}  // namespace ccburst::core::testing
