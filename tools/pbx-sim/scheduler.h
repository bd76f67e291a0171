// Timers for the simulated PBX, behind an interface so that queue logic runs in unit tests on a
// fake clock without sockets or sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"

namespace omnibridge::pbxsim {

// Role: runs callbacks later on the caller's (single) thread. Id 0 never names a timer.
class Scheduler {
 public:
  using TimerId = uint64_t;
  virtual ~Scheduler() = default;
  virtual TimerId After(absl::Duration delay, std::function<void()> fn) = 0;
  // Cancelling an unknown or already fired id is a no-op.
  virtual void Cancel(TimerId id) = 0;
};

// Boost.Asio steady timers on one io_context.
class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(boost::asio::io_context& io) : io_(io) {}

  TimerId After(absl::Duration delay, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  void CancelAll();

 private:
  boost::asio::io_context& io_;
  TimerId next_id_ = 1;
  std::map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
};

}  // namespace omnibridge::pbxsim
