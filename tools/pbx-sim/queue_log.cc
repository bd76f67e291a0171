#include "queue_log.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace omnibridge::pbxsim {

QueueLog::~QueueLog() {
  if (file_ != nullptr)
    std::fclose(file_);
}

absl::Status QueueLog::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot open queue_log: ", std::strerror(errno)));
  }
  if (file_ != nullptr)
    std::fclose(file_);
  file_ = f;
  return absl::OkStatus();
}

void QueueLog::Write(absl::Time when, absl::string_view callid, absl::string_view queue,
                     absl::string_view agent, absl::string_view event,
                     const std::vector<std::string>& data) {
  std::string line =
      absl::StrCat(absl::ToUnixSeconds(when), "|", callid, "|", queue, "|", agent, "|", event);
  // Asterisk writes the data fields joined by '|', and an empty data list as one empty field
  // ("...|ADDMEMBER|").
  absl::StrAppend(&line, "|", absl::StrJoin(data, "|"));
  if (file_ != nullptr) {
    std::fputs(line.c_str(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);  // tests and reports read the file while the simulator runs
  }
  if (lines_.size() >= kMaxLinesInMemory)
    lines_.erase(lines_.begin());
  lines_.push_back(std::move(line));
}

}  // namespace omnibridge::pbxsim
