// doctor: what is registered where for each browser and profile found, what stops the browser
// from starting the host, whether the configuration loads and the CTI link answers. Each finding
// is one sentence that ends with its fix (research/native-messaging.md §7).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

#include "install/locations.h"

namespace omnibridge::install {

enum class Severity { kOk, kInfo, kWarning, kError };

struct Finding {
  Severity severity = Severity::kOk;
  // Stable identifier for support tools: manifest_missing, manifest_invalid, host_missing,
  // host_not_executable, host_no_hello, origin_missing, policy_blocked, user_level_disabled,
  // shadowed, snap, flatpak, config_invalid, origin_refused, cti_unreachable, cti_not_ami,
  // no_browser, ok, …
  std::string check;
  std::string browser;   // "chromium", or "" for global checks
  std::string location;  // the file, directory or address concerned
  std::string message;   // one sentence with its fix
};

struct DoctorOptions {
  std::vector<const BrowserInfo*> browsers;  // empty = every browser found
  // Profiles started with --user-data-dir: checked for each browser examined.
  std::vector<std::string> user_data_dirs;
  // Also look at running browsers' --user-data-dir (/proc/*/cmdline). Off when --root is given:
  // the processes belong to the real machine, not the tree under the root.
  bool scan_running_browsers = true;
  std::vector<std::string> extension_ids;  // default: ShippedExtensionIds()
  std::string user_config;                 // default: config::DefaultUserConfigPath()
  absl::Duration hello_timeout = absl::Seconds(5);
  absl::Duration cti_timeout = absl::Seconds(3);
};

struct Report {
  std::vector<Finding> findings;
  bool AllWell() const;  // no warning and no error
};

Report RunDoctor(const DoctorOptions& options, const Env& env);

std::string FormatText(const Report& report);
std::string FormatJson(const Report& report);

}  // namespace omnibridge::install
