// Every AMI action pbx-sim received, so that tests can assert "pbx-sim saw QueuePause with
// Reason X" through the control port.
#pragma once

#include <cstdint>
#include <deque>

#include "absl/strings/match.h"
#include "absl/time/time.h"

#include "ami_message.h"

namespace omnibridge::pbxsim {

class ActionLog {
 public:
  struct Entry {
    uint64_t index = 0;
    uint64_t session = 0;
    absl::Time time;
    AmiMessage action;
  };

  void Record(uint64_t session, absl::Time time, const AmiMessage& action) {
    AmiMessage copy = action;
    // Secrets stay out of the log; Key (an MD5 digest) is harmless and kept.
    for (auto& [k, v] : copy.mutable_headers()) {
      if (absl::EqualsIgnoreCase(k, "Secret"))
        v = "********";
    }
    entries_.push_back(Entry{next_index_++, session, time, std::move(copy)});
    if (entries_.size() > kMax)
      entries_.pop_front();
  }

  const std::deque<Entry>& entries() const { return entries_; }

  void Clear() { entries_.clear(); }

 private:
  static constexpr size_t kMax = 100'000;
  uint64_t next_index_ = 0;
  std::deque<Entry> entries_;
};

}  // namespace omnibridge::pbxsim
