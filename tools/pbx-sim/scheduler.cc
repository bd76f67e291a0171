#include "scheduler.h"

#include <chrono>

namespace omnibridge::pbxsim {

Scheduler::TimerId AsioScheduler::After(absl::Duration delay, std::function<void()> fn) {
  TimerId id = next_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(absl::ToChronoMilliseconds(delay));
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (ec)
      return;  // cancelled: the timer may already be destroyed, touch nothing
    timers_.erase(id);
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void AsioScheduler::Cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end())
    return;
  it->second->cancel();
  timers_.erase(it);
}

void AsioScheduler::CancelAll() {
  for (auto& [id, timer] : timers_)
    timer->cancel();
  timers_.clear();
}

}  // namespace omnibridge::pbxsim
