#include "install/locations.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace omnibridge::install {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::move(fallback);
}

std::string TrimSlash(std::string path) {
  while (path.size() > 1 && (path.back() == '/' || path.back() == '\\'))
    path.pop_back();
  return path;
}

}  // namespace

Os HostOs() {
#if defined(_WIN32)
  return Os::kWindows;
#elif defined(__APPLE__)
  return Os::kMac;
#else
  return Os::kLinux;
#endif
}

Env Env::FromProcess(std::string root) {
  Env env;
  env.os = HostOs();
  env.home = TrimSlash(EnvOr(env.os == Os::kWindows ? "USERPROFILE" : "HOME", "/"));
  env.config_home = TrimSlash(EnvOr("XDG_CONFIG_HOME", JoinPath(env.os, env.home, ".config")));
  env.root = TrimSlash(std::move(root));
  if (env.root == "/")
    env.root.clear();
  env.local_app_data = TrimSlash(EnvOr("LOCALAPPDATA", env.home + "\\AppData\\Local"));
  env.program_data = TrimSlash(EnvOr("ProgramData", "C:\\ProgramData"));
  return env;
}

// Sources: research/native-messaging.md §4.1–§4.3 and §5.1. Rows marked there as unverified
// (Brave/Vivaldi system dirs, Opera everywhere) follow what other installers use.
const std::vector<BrowserInfo>& Browsers() {
  static const std::vector<BrowserInfo> kBrowsers = {
      {.id = "chrome",
       .display = "Google Chrome",
       .linux_user_data_dirs = {"google-chrome", "google-chrome-beta", "google-chrome-unstable"},
       .linux_system_dir = "/etc/opt/chrome/native-messaging-hosts",
       .linux_policy_dir = "/etc/opt/chrome/policies/managed",
       .linux_executables = {"/opt/google/chrome/chrome", "/usr/bin/google-chrome",
                             "/usr/bin/google-chrome-stable"},
       .snap_name = "",
       .flatpak_id = "com.google.Chrome",
       .mac_user_data_dirs = {"Google/Chrome", "Google/Chrome Beta", "Google/Chrome Canary"},
       .mac_system_dir = "/Library/Google/Chrome/NativeMessagingHosts",
       .windows_key = "SOFTWARE\\Google\\Chrome\\NativeMessagingHosts"},
      {.id = "chromium",
       .display = "Chromium",
       .linux_user_data_dirs = {"chromium"},
       .linux_system_dir = "/etc/chromium/native-messaging-hosts",
       .linux_policy_dir = "/etc/chromium/policies/managed",
       .linux_executables = {"/usr/lib/chromium/chromium", "/usr/bin/chromium",
                             "/usr/bin/chromium-browser"},
       .snap_name = "chromium",
       .flatpak_id = "org.chromium.Chromium",
       .mac_user_data_dirs = {"Chromium"},
       .mac_system_dir = "/Library/Application Support/Chromium/NativeMessagingHosts",
       .windows_key = "SOFTWARE\\Chromium\\NativeMessagingHosts"},
      {.id = "edge",
       .display = "Microsoft Edge",
       .linux_user_data_dirs = {"microsoft-edge", "microsoft-edge-beta", "microsoft-edge-dev"},
       .linux_system_dir = "/etc/opt/edge/native-messaging-hosts",
       .linux_policy_dir = "/etc/opt/edge/policies/managed",
       .linux_executables = {"/opt/microsoft/msedge/msedge", "/usr/bin/microsoft-edge",
                             "/usr/bin/microsoft-edge-stable"},
       .snap_name = "",
       .flatpak_id = "com.microsoft.Edge",
       .mac_user_data_dirs = {"Microsoft Edge", "Microsoft Edge Beta", "Microsoft Edge Dev"},
       .mac_system_dir = "/Library/Microsoft/Edge/NativeMessagingHosts",
       .windows_key = "SOFTWARE\\Microsoft\\Edge\\NativeMessagingHosts"},
      {.id = "brave",
       .display = "Brave",
       .linux_user_data_dirs = {"BraveSoftware/Brave-Browser", "BraveSoftware/Brave-Browser-Beta",
                                "BraveSoftware/Brave-Browser-Nightly"},
       .linux_system_dir = "/etc/opt/brave.com/brave/native-messaging-hosts",
       .linux_policy_dir = "/etc/brave/policies/managed",
       .linux_executables = {"/opt/brave.com/brave/brave", "/usr/bin/brave-browser"},
       .snap_name = "brave",
       .flatpak_id = "com.brave.Browser",
       .mac_user_data_dirs = {"BraveSoftware/Brave-Browser"},
       .mac_system_dir = "/Library/Application Support/BraveSoftware/Brave-Browser/"
                         "NativeMessagingHosts",
       .windows_key = "SOFTWARE\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts"},
      {.id = "vivaldi",
       .display = "Vivaldi",
       .linux_user_data_dirs = {"vivaldi", "vivaldi-snapshot"},
       .linux_system_dir = "/etc/opt/vivaldi/native-messaging-hosts",
       .linux_policy_dir = "",
       .linux_executables = {"/opt/vivaldi/vivaldi", "/usr/bin/vivaldi", "/usr/bin/vivaldi-stable"},
       .snap_name = "",
       .flatpak_id = "com.vivaldi.Vivaldi",
       .mac_user_data_dirs = {"Vivaldi"},
       .mac_system_dir = "/Library/Application Support/Vivaldi/NativeMessagingHosts",
       .windows_key = "SOFTWARE\\Vivaldi\\NativeMessagingHosts"},
      {.id = "opera",
       .display = "Opera",
       .linux_user_data_dirs = {"opera"},
       .linux_system_dir = "",
       .linux_policy_dir = "",
       .linux_executables = {"/usr/bin/opera", "/usr/lib/x86_64-linux-gnu/opera/opera"},
       .snap_name = "opera",
       .flatpak_id = "com.opera.Opera",
       .mac_user_data_dirs = {"com.operasoftware.Opera"},
       .mac_system_dir = "",
       .windows_key = "SOFTWARE\\Opera Software\\Opera Stable\\NativeMessagingHosts"},
  };
  return kBrowsers;
}

const BrowserInfo* FindBrowser(std::string_view id) {
  for (const BrowserInfo& b : Browsers()) {
    if (b.id == id)
      return &b;
  }
  return nullptr;
}

absl::StatusOr<std::vector<const BrowserInfo*>> ParseBrowserList(std::string_view list) {
  std::vector<const BrowserInfo*> out;
  auto add = [&out](const BrowserInfo* b) {
    for (const BrowserInfo* have : out) {
      if (have == b)
        return;
    }
    out.push_back(b);
  };
  for (absl::string_view name :
       absl::StrSplit(absl::string_view(list.data(), list.size()), ',', absl::SkipWhitespace())) {
    name = absl::StripAsciiWhitespace(name);
    std::string_view n(name.data(), name.size());
    if (n == "all") {
      for (const BrowserInfo& b : Browsers())
        add(&b);
      continue;
    }
    const BrowserInfo* b = FindBrowser(n);
    if (!b) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown browser \"", name,
                       "\": use chrome, chromium, edge, brave, vivaldi, opera or all"));
    }
    add(b);
  }
  if (out.empty())
    return absl::InvalidArgumentError("--browser needs a list of browsers or all");
  return out;
}

std::string JoinPath(Os os, std::string_view a, std::string_view b) {
  const char sep = os == Os::kWindows ? '\\' : '/';
  std::string out(a);
  if (!out.empty() && out.back() != sep)
    out.push_back(sep);
  if (!b.empty() && b.front() == sep)
    b.remove_prefix(1);
  out.append(b);
  return out;
}

std::string UnderRoot(const Env& env, std::string_view absolute) {
  return env.root.empty() ? std::string(absolute) : env.root + std::string(absolute);
}

std::vector<std::string> DefaultUserDataDirs(const BrowserInfo& browser, const Env& env) {
  std::vector<std::string> dirs;
  switch (env.os) {
    case Os::kLinux:
      for (std::string_view d : browser.linux_user_data_dirs)
        dirs.push_back(JoinPath(env.os, env.config_home, d));
      break;
    case Os::kMac:
      for (std::string_view d : browser.mac_user_data_dirs)
        dirs.push_back(JoinPath(env.os, env.home + "/Library/Application Support", d));
      break;
    case Os::kWindows:
      break;
  }
  return dirs;
}

std::string UserManifestDir(const Env& env, std::string_view user_data_dir) {
  return JoinPath(env.os, user_data_dir, "NativeMessagingHosts");
}

std::string SystemManifestDir(const BrowserInfo& browser, const Env& env) {
  std::string_view dir = env.os == Os::kLinux ? browser.linux_system_dir
                         : env.os == Os::kMac ? browser.mac_system_dir
                                              : std::string_view();
  return dir.empty() ? std::string() : UnderRoot(env, dir);
}

std::string PolicyDir(const BrowserInfo& browser, const Env& env) {
  if (env.os != Os::kLinux || browser.linux_policy_dir.empty())
    return {};
  return UnderRoot(env, browser.linux_policy_dir);
}

std::string ManifestFile(const Env& env, std::string_view dir) {
  return JoinPath(env.os, dir, std::string(kHostName) + ".json");
}

std::string WindowsManifestPath(Scope scope, const Env& env) {
  const std::string& base = scope == Scope::kUser ? env.local_app_data : env.program_data;
  return base + "\\Omnibridge\\NativeMessagingHosts\\" + kHostName + ".json";
}

std::string_view WindowsHive(Scope scope) {
  return scope == Scope::kUser ? "HKEY_CURRENT_USER" : "HKEY_LOCAL_MACHINE";
}

std::string WindowsHostKey(const BrowserInfo& browser) {
  return absl::StrCat(absl::string_view(browser.windows_key.data(), browser.windows_key.size()),
                      "\\", kHostName);
}

std::string OmnibridgeDir(Scope scope, const Env& env) {
  switch (env.os) {
    case Os::kLinux:
      return scope == Scope::kUser ? env.config_home + "/omnibridge"
                                   : UnderRoot(env, "/etc/omnibridge");
    case Os::kMac:
      return scope == Scope::kUser ? env.home + "/Library/Application Support/Omnibridge"
                                   : UnderRoot(env, "/Library/Application Support/Omnibridge");
    case Os::kWindows:
      return (scope == Scope::kUser ? env.local_app_data : env.program_data) + "\\Omnibridge";
  }
  return {};
}

std::string SystemConfigFile(const Env& env) {
  return JoinPath(env.os, OmnibridgeDir(Scope::kSystem, env), "config.json");
}

}  // namespace omnibridge::install
