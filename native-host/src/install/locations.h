// Where each browser looks for native-messaging host manifests and enterprise policy, per OS:
// the one table `install` writes from and `doctor` reads from
// (shared/research/native-messaging.md §4, §5). The OS is a value, not an #ifdef, so the macOS and
// Windows rows are unit-tested on Linux.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace omnibridge::install {

inline constexpr char kHostName[] = "org.omnibridge.host";

enum class Os { kLinux, kMac, kWindows };
enum class Scope { kUser, kSystem };

// The OS this binary was built for.
Os HostOs();

// The user and machine being registered or diagnosed. Tests fill it by hand; the CLI uses
// FromProcess(). Paths are absolute, without a trailing separator.
struct Env {
  Os os = HostOs();
  std::string home;            // $HOME (%USERPROFILE% on Windows)
  std::string config_home;     // Linux: $XDG_CONFIG_HOME, else home/.config
  std::string root;            // prefix of every system-wide path; "" = the machine's own
  std::string local_app_data;  // Windows: %LOCALAPPDATA%
  std::string program_data;    // Windows: %ProgramData%

  static Env FromProcess(std::string root);
};

// One row of the table. Directory lists are in the browser's search order; "" = none known.
struct BrowserInfo {
  std::string_view id;       // command-line name: chrome, chromium, edge, brave, vivaldi, opera
  std::string_view display;  // for people: "Google Chrome"
  // Linux. User dirs are user-data-dirs relative to $XDG_CONFIG_HOME (one per channel).
  std::vector<std::string_view> linux_user_data_dirs;
  std::string_view linux_system_dir;
  std::string_view linux_policy_dir;
  std::vector<std::string_view> linux_executables;  // any of them present = installed
  std::string_view snap_name;
  std::string_view flatpak_id;
  // macOS. User dirs relative to ~/Library/Application Support.
  std::vector<std::string_view> mac_user_data_dirs;
  std::string_view mac_system_dir;
  // Windows: the key under HKCU (per user) or HKLM (system) whose default value names the
  // manifest file, without the host name.
  std::string_view windows_key;
};

// Every supported browser, in a stable order (the order `all` expands to).
const std::vector<BrowserInfo>& Browsers();
const BrowserInfo* FindBrowser(std::string_view id);
// "chrome,edge" or "all" (also inside a list) → rows; unknown names → InvalidArgument.
absl::StatusOr<std::vector<const BrowserInfo*>> ParseBrowserList(std::string_view list);

// `a` joined with `b` with the OS's separator.
std::string JoinPath(Os os, std::string_view a, std::string_view b);
// A system-wide path under env.root.
std::string UnderRoot(const Env& env, std::string_view absolute);

// The browser's default user-data-dirs (absolute), stable channel first. Empty on Windows
// (registry instead).
std::vector<std::string> DefaultUserDataDirs(const BrowserInfo& browser, const Env& env);
// <user-data-dir>/NativeMessagingHosts
std::string UserManifestDir(const Env& env, std::string_view user_data_dir);
// The system-wide manifest directory under env.root; "" when none is known (or on Windows).
std::string SystemManifestDir(const BrowserInfo& browser, const Env& env);
// The managed-policy directory under env.root (Linux only; "" elsewhere or unknown).
std::string PolicyDir(const BrowserInfo& browser, const Env& env);
// <dir>/org.omnibridge.host.json
std::string ManifestFile(const Env& env, std::string_view dir);

// Windows: where the one manifest file lives that every registry key names.
std::string WindowsManifestPath(Scope scope, const Env& env);
// Windows: "HKEY_CURRENT_USER" or "HKEY_LOCAL_MACHINE".
std::string_view WindowsHive(Scope scope);
// Windows: the full key, e.g. SOFTWARE\Google\Chrome\NativeMessagingHosts\org.omnibridge.host.
std::string WindowsHostKey(const BrowserInfo& browser);

// Omnibridge's own directory for what it keeps (the registration record): per user, or
// system-wide (under env.root).
std::string OmnibridgeDir(Scope scope, const Env& env);
// The system-wide config file under env.root (DESIGN.md "Files").
std::string SystemConfigFile(const Env& env);

}  // namespace omnibridge::install
