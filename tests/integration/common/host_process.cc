#include "integration/common/host_process.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/process.hpp"

#include "nm/frame_codec.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace omnibridge::testing {
namespace json = boost::json;
namespace bp = boost::process;

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "omni-test-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  path_ = made != nullptr ? std::string(made) : std::string();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty())
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& contents) const {
  std::filesystem::path file = std::filesystem::path(path_) / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << contents;
  return file.string();
}

std::string FrameBytes(const std::string& payload) {
  std::string out;
  (void)nm::AppendFrame(payload, out);
  return out;
}

HostProcess::HostProcess(Options options) {
  std::string config = options.config_json.empty()
                           ? std::string(R"({"allowedOrigins": [")") + OMNI_TEST_ORIGIN + "\"]}"
                           : options.config_json;
  std::string config_path = dir_.Write("config.json", config);

  bp::environment env = boost::this_process::environment();
  env["HOME"] = dir_.path();
  env["XDG_CONFIG_HOME"] = dir_.path() + "/config";
  env["XDG_STATE_HOME"] = dir_.path() + "/state";
  env["OMNIBRIDGE_CONFIG"] = config_path;
  for (const auto& [k, v] : options.extra_env)
    env[k] = v;
  try {
    if (options.quiet_stderr) {
      child_ = std::make_unique<bp::child>(options.executable, bp::args(options.args),
                                           bp::std_in<stdin_pipe_, bp::std_out> stdout_pipe_,
                                           bp::std_err > bp::null, env);
    } else {
      child_ = std::make_unique<bp::child>(options.executable, bp::args(options.args),
                                           bp::std_in<stdin_pipe_, bp::std_out> stdout_pipe_, env);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "HostProcess: cannot start %s: %s\n", options.executable.c_str(),
                 e.what());
    return;
  }
  pid_ = child_->id();
  // The child has its ends; close ours so EOF propagates.
  ::close(stdin_pipe_.native_source());
  stdin_pipe_.assign_source(-1);
  ::close(stdout_pipe_.native_sink());
  stdout_pipe_.assign_sink(-1);
  stdin_fd_ = stdin_pipe_.native_sink();
  stdout_fd_ = stdout_pipe_.native_source();
}

HostProcess::~HostProcess() {
  CloseStdin();
  if (child_ && !exit_code_) {
    if (WaitExit(absl::Milliseconds(500)) == -1) {
      ::kill(pid_, SIGKILL);
      WaitExit(absl::Seconds(5));
    }
  }
}

bool HostProcess::WriteRaw(const std::string& bytes) {
  ::signal(SIGPIPE, SIG_IGN);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(stdin_fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool HostProcess::Send(const json::value& message) {
  return WriteRaw(FrameBytes(json::serialize(message)));
}

void HostProcess::CloseStdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_pipe_.assign_sink(-1);
  }
  stdin_fd_ = -1;
}

absl::StatusOr<json::object> HostProcess::Read(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (buffer_.size() >= 4) {
      uint32_t length;
      std::memcpy(&length, buffer_.data(), 4);
      if (length > nm::kMaxOutboundFrameBytes) {
        return absl::DataLossError(
            "stdout carries a frame over 1 MiB or bytes that are not a frame");
      }
      if (buffer_.size() >= 4 + length) {
        std::string payload = buffer_.substr(4, length);
        buffer_.erase(0, 4 + length);
        boost::system::error_code ec;
        json::value value = json::parse(payload, ec);
        if (ec || !value.is_object()) {
          return absl::DataLossError("stdout frame is not a JSON object: " + payload);
        }
        return value.as_object();
      }
    }
    if (eof_)
      return absl::OutOfRangeError("stdout closed");
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration())
      return absl::DeadlineExceededError("no frame in time");
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      continue;
    char chunk[65536];
    ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n <= 0) {
      eof_ = true;
    } else {
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
}

absl::StatusOr<json::object> HostProcess::ReadType(const std::string& type, absl::Duration timeout,
                                                   std::vector<json::object>* skipped) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    auto frame = Read(deadline - absl::Now());
    if (!frame.ok())
      return frame.status();
    if (const json::value* t = frame->if_contains("type");
        t && t->is_string() && t->get_string() == type) {
      return frame;
    }
    if (skipped)
      skipped->push_back(std::move(*frame));
  }
}

absl::StatusOr<json::object> HostProcess::ReadReply(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    auto frame = Read(deadline - absl::Now());
    if (!frame.ok())
      return frame.status();
    const json::value* type = frame->if_contains("type");
    if (frame->contains("re") || (type && type->is_string() && type->get_string() == "error")) {
      return frame;
    }
  }
}

bool HostProcess::AtCleanEof(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!eof_ && absl::Now() < deadline) {
    auto frame = Read(deadline - absl::Now());
    if (!frame.ok() && !absl::IsOutOfRange(frame.status()))
      return false;
  }
  return eof_ && buffer_.empty();
}

int HostProcess::WaitExit(absl::Duration timeout) {
  if (exit_code_)
    return *exit_code_;
  absl::Time deadline = absl::Now() + timeout;
  if (!child_)
    return 127;
  while (true) {
    std::error_code ec;
    if (!child_->running(ec)) {
      int status = child_->native_exit_code();
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return *exit_code_;
    }
    if (absl::Now() >= deadline)
      return -1;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

}  // namespace omnibridge::testing
