// install / uninstall: what to write where (a Plan, a pure value, so tests check every path and
// registry key), and applying it (atomic file writes, a record of what was written so uninstall
// removes exactly that).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "install/locations.h"

namespace omnibridge::install {

struct RegisterOptions {
  Scope scope = Scope::kUser;
  std::vector<const BrowserInfo*> browsers;  // empty = all
  // When set: only <dir>/NativeMessagingHosts (a browser started with --user-data-dir=dir).
  std::string user_data_dir;
  std::string host_path;                   // absolute path of the host executable
  std::vector<std::string> extension_ids;  // allowed_origins
};

struct FileWrite {
  std::string path;
  std::string contents;
  std::string browser;  // which browser(s) read it, for the output
};

// One registry default value (Windows). `value_name` "" = the key's default value.
struct RegistryValue {
  std::string hive;  // HKEY_CURRENT_USER | HKEY_LOCAL_MACHINE
  std::string key;
  std::string value_name;
  std::string data;
  std::string browser;
};

struct Plan {
  Scope scope = Scope::kUser;
  Os os = Os::kLinux;
  std::string host_path;
  std::vector<FileWrite> files;         // install: to write; uninstall: to remove
  std::vector<RegistryValue> registry;  // install: to set; uninstall: keys to delete
  std::vector<std::string> notes;       // browsers skipped, files left alone, and why
  std::string record_path;              // where the record of what was written lives
};

absl::StatusOr<Plan> PlanInstall(const RegisterOptions& options, const Env& env);
// Only what the record says install wrote (and that still names this host); the rest is listed
// in notes and left alone.
absl::StatusOr<Plan> PlanUninstall(const RegisterOptions& options, const Env& env);

// Windows registry access; the Windows build provides the real one (NativeRegistry()).
class Registry {
 public:
  virtual ~Registry() = default;
  virtual absl::Status SetString(const RegistryValue& value) = 0;
  virtual absl::Status DeleteKey(const std::string& hive, const std::string& key) = 0;
};

// The registry of this machine; nullptr when not built for Windows.
std::unique_ptr<Registry> NativeRegistry();

// Human-readable lines, one per path or key: "would write …" (dry run) or "wrote …".
std::vector<std::string> DescribePlan(const Plan& plan, bool install, bool dry_run);

// Applies a plan. `registry` may be null when the plan has no registry values. Each line of
// `log` is one thing done ("wrote /…", "unchanged /…", "removed /…").
absl::Status ApplyInstall(const Plan& plan, Registry* registry, std::vector<std::string>* log);
absl::Status ApplyUninstall(const Plan& plan, Registry* registry, std::vector<std::string>* log);

// Writes `contents` to `path` through a temporary file in the same directory and rename(), mode
// `mode` (never group/world-writable). Exposed for tests.
absl::Status AtomicWriteFile(const std::string& path, const std::string& contents, int mode);

}  // namespace omnibridge::install
