// Time as an injected dependency, so logic modules (agent, popflow, routing) are testable with a
// FakeClock and never read the wall clock themselves.
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace omnibridge::base {

// Role: tells the current instant. Implementations must be cheap; callers may call Now() per event.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that only moves when told to. Not thread-safe; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'790'000'000)) : now_(start) {}

  absl::Time Now() const override { return now_; }

  void Advance(absl::Duration d) { now_ += d; }

  void Set(absl::Time t) { now_ = t; }

 private:
  absl::Time now_;
};

}  // namespace omnibridge::base
