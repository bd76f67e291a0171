// Asterisk's queue_log: "<epoch>|<callid>|<queue>|<agent>|<EVENT>|data1|data2|...", one line per
// event, appended to a file (when configured) and kept in memory for the control port.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace omnibridge::pbxsim {

class QueueLog {
 public:
  QueueLog() = default;
  ~QueueLog();
  QueueLog(const QueueLog&) = delete;
  QueueLog& operator=(const QueueLog&) = delete;

  // Appends to `path` from now on.
  absl::Status Open(const std::string& path);

  void Write(absl::Time when, absl::string_view callid, absl::string_view queue,
             absl::string_view agent, absl::string_view event,
             const std::vector<std::string>& data);

  const std::vector<std::string>& lines() const { return lines_; }

  void ClearMemory() { lines_.clear(); }

 private:
  static constexpr size_t kMaxLinesInMemory = 100'000;
  std::FILE* file_ = nullptr;
  std::vector<std::string> lines_;
};

}  // namespace omnibridge::pbxsim
