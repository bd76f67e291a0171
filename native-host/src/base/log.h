// Logging: stderr plus an optional per-user log file; never stdout (stdout is the protocol).
// Thread-safe. Caller numbers and names are redacted at INFO and above with Redact().
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace omnibridge::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Process-wide logger configuration. Defaults: level INFO, stderr only.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Opens (appends to) `path`, creating its directory with mode 0700. Errors leave stderr logging on.
absl::Status OpenLogFile(const std::string& path);
// Turns stderr output on or off (tests and the benchmark keep stderr quiet).
void SetLogToStderr(bool enabled);
// Parses "debug|info|warning|error".
bool ParseLogLevel(std::string_view text, LogLevel* level);

void LogLine(LogLevel level, std::string_view module, std::string_view message);

// Personal data (caller number, names) as logged: kept at DEBUG, else reduced to its last 2
// characters so support can still tell two calls apart.
std::string Redact(std::string_view personal);

// Debian's Abseil has its own absl::string_view (not std::string_view); these let OMNI_LOG take
// either, plus anything absl::StrCat takes.
inline absl::string_view LogPiece(std::string_view s) { return {s.data(), s.size()}; }

template <typename T>
const T& LogPiece(const T& value) {
  return value;
}

template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(LogPiece(args)...);
}

}  // namespace omnibridge::base

#define OMNI_LOG(level, module, ...)                                                \
  do {                                                                              \
    if (::omnibridge::base::LogLevel::level >= ::omnibridge::base::GetLogLevel()) { \
      ::omnibridge::base::LogLine(::omnibridge::base::LogLevel::level, module,      \
                                  ::omnibridge::base::Cat(__VA_ARGS__));            \
    }                                                                               \
  } while (false)
