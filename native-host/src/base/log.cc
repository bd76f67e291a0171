#include "base/log.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace omnibridge::base {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_stderr{true};
std::mutex g_file_mu;
int g_file_fd = -1;  // guarded by g_file_mu

constexpr std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

void SetLogToStderr(bool enabled) { g_stderr.store(enabled); }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
  if (lower == "debug") {
    *level = LogLevel::kDebug;
  } else if (lower == "info") {
    *level = LogLevel::kInfo;
  } else if (lower == "warning" || lower == "warn") {
    *level = LogLevel::kWarning;
  } else if (lower == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

absl::Status OpenLogFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create log directory ", dir.string(), ": ", ec.message()));
    }
    ::chmod(dir.c_str(), 0700);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open log file ", path, ": ", std::strerror(errno)));
  }
  std::lock_guard<std::mutex> lock(g_file_mu);
  if (g_file_fd >= 0)
    ::close(g_file_fd);
  g_file_fd = fd;
  return absl::OkStatus();
}

void LogLine(LogLevel level, std::string_view module, std::string_view message) {
  std::string line = Cat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                         " ", LevelName(level), " [", module, "] ", message, "\n");
  if (g_stderr.load(std::memory_order_relaxed))
    WriteAll(STDERR_FILENO, line);
  std::lock_guard<std::mutex> lock(g_file_mu);
  if (g_file_fd >= 0)
    WriteAll(g_file_fd, line);
}

std::string Redact(std::string_view personal) {
  if (GetLogLevel() == LogLevel::kDebug)
    return std::string(personal);
  if (personal.size() <= 2)
    return "**";
  return Cat(std::string(personal.size() - 2, '*'), personal.substr(personal.size() - 2));
}

}  // namespace omnibridge::base
