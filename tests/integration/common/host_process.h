// Starts omnibridge-host exactly as a browser does (origin argument, stdin/stdout pipes) and
// speaks native-messaging frames to it. For integration tests and benchmarks.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "boost/process/child.hpp"
#include "boost/process/pipe.hpp"

#include <sys/types.h>

namespace omnibridge::testing {

// A scratch directory removed on destruction; the host's HOME, XDG dirs and config live there.
class TempDir {
 public:
  TempDir();
  ~TempDir();

  const std::string& path() const { return path_; }

  std::string Write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

class HostProcess {
 public:
  struct Options {
    std::string executable = OMNI_HOST_PATH;
    std::vector<std::string> args = {OMNI_TEST_ORIGIN};
    // Written to <dir>/config.json and named by OMNIBRIDGE_CONFIG. Default allows OMNI_TEST_ORIGIN.
    std::string config_json;
    std::map<std::string, std::string> extra_env;
    bool quiet_stderr = true;
  };

  explicit HostProcess(Options options);

  HostProcess() : HostProcess(Options{}) {}

  ~HostProcess();  // kills the process if still running

  pid_t pid() const { return pid_; }

  // Raw pipe ends, for benchmarks that stream bytes without parsing them.
  int stdin_fd() const { return stdin_fd_; }

  int stdout_fd() const { return stdout_fd_; }

  const TempDir& dir() const { return dir_; }

  // Writes raw bytes to the host's stdin (one write() call each chunk).
  bool WriteRaw(const std::string& bytes);
  bool Send(const boost::json::value& message);
  // Closes the host's stdin (the browser closing the port).
  void CloseStdin();

  // Next complete frame from stdout, or an error after `timeout` (DeadlineExceeded) or at EOF
  // (OutOfRange). Fails (DataLoss) if stdout carries bytes that are not a frame.
  absl::StatusOr<boost::json::object> Read(absl::Duration timeout = absl::Seconds(10));
  // Next frame that is a reply or an error: skips the host's unsolicited state frames
  // (cti.status, agent.state, interaction.*, routing.*, popflow.run).
  absl::StatusOr<boost::json::object> ReadReply(absl::Duration timeout = absl::Seconds(10));
  // Reads frames until one of `type` arrives (others are returned through `skipped`).
  absl::StatusOr<boost::json::object> ReadType(const std::string& type,
                                               absl::Duration timeout = absl::Seconds(10),
                                               std::vector<boost::json::object>* skipped = nullptr);
  // True when stdout reached EOF with no partial frame left over.
  bool AtCleanEof(absl::Duration timeout);

  // Waits for exit; the exit code, or -1 on timeout (process left running), or 128+signal.
  int WaitExit(absl::Duration timeout);

 private:
  TempDir dir_;
  boost::process::pipe stdin_pipe_;
  boost::process::pipe stdout_pipe_;
  std::unique_ptr<boost::process::child> child_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
  std::optional<int> exit_code_;
};

// Frames a JSON payload (little helper for raw writes).
std::string FrameBytes(const std::string& payload);

}  // namespace omnibridge::testing
