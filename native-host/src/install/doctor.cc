#include "install/doctor.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"

#include "config/config.h"
#include "install/manifest.h"
#include "install/probe.h"

#if !defined(_WIN32)
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace omnibridge::install {
namespace json = boost::json;

namespace {

constexpr size_t kMaxFileBytes = 1024 * 1024;

std::string Sv(std::string_view s) { return std::string(s); }

bool Exists(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::exists(std::filesystem::path(path), ec);
}

// What a browser's launcher needs: a regular file it may execute.
bool IsExecutableFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path(path), ec))
    return false;
#if defined(_WIN32)
  return true;
#else
  return ::access(path.c_str(), X_OK) == 0;
#endif
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  out->clear();
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out->append(buf, static_cast<size_t>(in.gcount()));
    if (out->size() > kMaxFileBytes)
      return false;
  }
  return true;
}

// A home-relative path for messages (~/.config/…) when it is under $HOME.
std::string Pretty(const Env& env, const std::string& path) {
  if (!env.home.empty() && env.home != "/" && path.starts_with(env.home + "/"))
    return "~" + path.substr(env.home.size());
  return path;
}

// Effective managed policy of one browser (Linux: every *.json of the directory, in name order,
// later files winning; Chromium accepts comments and trailing commas there).
struct Policy {
  std::vector<std::string> files;
  std::vector<std::string> bad_files;
  std::map<std::string, std::pair<json::value, std::string>> values;  // name → (value, file)
  json::object third_party;  // 3rdparty.extensions.<our id>, merged

  const json::value* Get(const std::string& name, std::string* file = nullptr) const {
    auto it = values.find(name);
    if (it == values.end())
      return nullptr;
    if (file)
      *file = it->second.second;
    return &it->second.first;
  }
};

Policy ReadPolicy(const std::string& dir, const std::vector<std::string>& ids) {
  Policy policy;
#if !defined(_WIN32)
  if (dir.empty())
    return policy;
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return policy;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.ends_with(".json"))
      names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    std::string text;
    json::parse_options options;
    options.max_depth = 32;
    options.allow_comments = true;
    options.allow_trailing_commas = true;
    boost::system::error_code ec;
    json::value v;
    if (ReadFile(path, &text))
      v = json::parse(text, ec, {}, options);
    if (ec || !v.is_object()) {
      policy.bad_files.push_back(path);
      continue;
    }
    policy.files.push_back(path);
    for (const auto& [key, value] : v.get_object()) {
      if (key == "3rdparty") {
        const json::value* exts =
            value.is_object() ? value.get_object().if_contains("extensions") : nullptr;
        for (const std::string& id : ids) {
          const json::value* mine =
              exts && exts->is_object() ? exts->get_object().if_contains(id) : nullptr;
          if (mine && mine->is_object()) {
            for (const auto& [k, val] : mine->get_object())
              policy.third_party[k] = val;
          }
        }
        continue;
      }
      policy.values[std::string(key)] = {value, path};
    }
  }
#endif
  return policy;
}

bool ListHas(const json::value* list, std::string_view item) {
  if (!list || !list->is_array())
    return false;
  for (const json::value& v : list->get_array()) {
    if (v.is_string() && v.get_string() == item)
      return true;
  }
  return false;
}

class Doctor {
 public:
  Doctor(const DoctorOptions& options, const Env& env) : options_(options), env_(env) {
    ids_ = options.extension_ids.empty() ? ShippedExtensionIds() : options.extension_ids;
    origins_ = OriginsFor(ids_);
  }

  Report Run() {
    std::vector<const BrowserInfo*> browsers = options_.browsers;
    const bool explicit_browsers = !browsers.empty();
    if (!explicit_browsers) {
      for (const BrowserInfo& b : Browsers())
        browsers.push_back(&b);
    }
    std::map<std::string, std::vector<std::string>> running = RunningProfiles();
    int examined = 0;
    for (const BrowserInfo* b : browsers) {
      if (CheckBrowser(*b, explicit_browsers, running[Sv(b->id)]))
        ++examined;
    }
    if (examined == 0) {
      Add(Severity::kWarning, "no_browser", "", "",
          "No supported browser (Chrome, Chromium, Edge, Brave, Vivaldi, Opera) or browser "
          "profile was found; install one, or name a profile with doctor --user-data-dir DIR.");
    }
    CheckConfig();
    return std::move(report_);
  }

 private:
  void Add(Severity severity, std::string check, std::string_view browser, std::string location,
           std::string message) {
    report_.findings.push_back(
        {severity, std::move(check), Sv(browser), std::move(location), std::move(message)});
  }

  // Running browsers' --user-data-dir, by browser id (§4.1: those profiles read
  // <dir>/NativeMessagingHosts, not the default one).
  std::map<std::string, std::vector<std::string>> RunningProfiles() {
    std::map<std::string, std::vector<std::string>> out;
#if defined(__linux__)
    if (!options_.scan_running_browsers)
      return out;
    DIR* proc = ::opendir("/proc");
    if (!proc)
      return out;
    while (dirent* e = ::readdir(proc)) {
      std::string pid = e->d_name;
      if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit))
        continue;
      std::string cmdline;
      if (!ReadFile("/proc/" + pid + "/cmdline", &cmdline) || cmdline.empty())
        continue;
      std::vector<std::string> argv;
      for (size_t start = 0; start < cmdline.size();) {
        size_t end = cmdline.find('\0', start);
        if (end == std::string::npos)
          end = cmdline.size();
        argv.push_back(cmdline.substr(start, end - start));
        start = end + 1;
      }
      if (argv.empty() || std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
            return a.starts_with("--type=");  // renderer/GPU helpers: the browser process only
          })) {
        continue;
      }
      for (const BrowserInfo& b : Browsers()) {
        bool match = false;
        for (std::string_view exe : b.linux_executables)
          match = match || argv[0] == exe;
        if (!match)
          continue;
        for (const std::string& a : argv) {
          if (a.starts_with("--user-data-dir=")) {
            std::string dir = a.substr(16);
            auto& list = out[Sv(b.id)];
            if (std::find(list.begin(), list.end(), dir) == list.end())
              list.push_back(dir);
          }
        }
      }
    }
    ::closedir(proc);
#endif
    return out;
  }

  // Returns false when the browser is neither installed nor has a profile or a manifest.
  bool CheckBrowser(const BrowserInfo& b, bool explicit_browser,
                    const std::vector<std::string>& running_dirs) {
    const std::string name = Sv(b.display);
    bool installed = false;
    for (std::string_view exe : b.linux_executables)
      installed = installed || (env_.os == Os::kLinux && Exists(UnderRoot(env_, exe)));
    std::vector<std::string> profiles;
    const std::vector<std::string> defaults = DefaultUserDataDirs(b, env_);
    for (size_t i = 0; i < defaults.size(); ++i) {
      // Other channels (beta, dev…) count once the browser has used them ("Local State"): `install`
      // creates their NativeMessagingHosts in advance, which alone is no profile.
      if (i == 0 ? Exists(defaults[i]) : Exists(defaults[i] + "/Local State"))
        profiles.push_back(defaults[i]);
    }
    for (const std::string& dir : options_.user_data_dirs)
      profiles.push_back(dir);
    for (const std::string& dir : running_dirs) {
      if (std::find(profiles.begin(), profiles.end(), dir) == profiles.end())
        profiles.push_back(dir);
    }
    const std::string system_dir = SystemManifestDir(b, env_);
    const std::string system_manifest = system_dir.empty() ? "" : ManifestFile(env_, system_dir);
    const bool snap = !b.snap_name.empty() &&
                      (Exists(UnderRoot(env_, absl::StrCat("/snap/bin/", Sv(b.snap_name)))) ||
                       Exists(absl::StrCat(env_.home, "/snap/", Sv(b.snap_name))));
    const std::string flatpak_dir =
        b.flatpak_id.empty() ? "" : absl::StrCat(env_.home, "/.var/app/", Sv(b.flatpak_id));
    const bool flatpak = Exists(flatpak_dir);
    if (!explicit_browser && !installed && profiles.empty() && !Exists(system_manifest) && !snap &&
        !flatpak) {
      return false;
    }
    if (snap) {
      Add(Severity::kWarning, "snap", b.id, Sv(b.snap_name),
          absl::StrCat(name,
                       " is installed as a Snap, which cannot start native-messaging hosts; "
                       "install a .deb build of it (or Google Chrome) instead."));
    }
    if (flatpak) {
      Add(Severity::kWarning, "flatpak", b.id, flatpak_dir,
          absl::StrCat(name, " is installed as a Flatpak (", Pretty(env_, flatpak_dir),
                       "), whose sandbox cannot see the host; use a .deb or .rpm build, or "
                       "register a `flatpak-spawn --host` wrapper (docs/deploy.md), which lets "
                       "the browser run any command on this machine."));
    }
    if (env_.os != Os::kLinux && env_.os != Os::kMac)
      return true;

    const Policy policy = ReadPolicy(PolicyDir(b, env_), ids_);
    for (const std::string& bad : policy.bad_files) {
      Add(Severity::kWarning, "policy_invalid", b.id, bad,
          absl::StrCat(name, " ignores the policy file ", bad,
                       " because it is not a JSON object; fix its syntax."));
    }
    if (policy_settings_.empty() && !policy.third_party.empty()) {
      policy_settings_ = policy.third_party;
      policy_settings_source_ = name;
    }
    std::string block_file;
    const json::value* block = policy.Get("NativeMessagingBlocklist", &block_file);
    const json::value* allow = policy.Get("NativeMessagingAllowlist");
    blocked_ = (ListHas(block, "*") || ListHas(block, kHostName)) && !ListHas(allow, kHostName);
    if (blocked_) {
      Add(Severity::kError, "policy_blocked", b.id, block_file,
          absl::StrCat(name, "'s policy NativeMessagingBlocklist in ", block_file, " blocks ",
                       kHostName, "; add \"", kHostName,
                       "\" to NativeMessagingAllowlist in that directory (installer/policies)."));
    }
    std::string user_level_file;
    const json::value* user_level = policy.Get("NativeMessagingUserLevelHosts", &user_level_file);
    const bool user_level_allowed =
        !(user_level && user_level->is_bool() && !user_level->get_bool());

    if (profiles.empty() && !b.linux_user_data_dirs.empty()) {
      auto defaults = DefaultUserDataDirs(b, env_);
      if (!defaults.empty())
        profiles.push_back(defaults.front());  // where it will look once started
    }
    if (profiles.empty())
      profiles.push_back("");
    for (const std::string& profile : profiles) {
      const std::string user_manifest =
          profile.empty() ? "" : ManifestFile(env_, UserManifestDir(env_, profile));
      const std::string where =
          profile.empty() ? name : absl::StrCat(name, " (profile ", Pretty(env_, profile), ")");
      const bool has_user = Exists(user_manifest);
      const bool has_system = Exists(system_manifest);
      std::string winner;
      if (has_user && user_level_allowed)
        winner = user_manifest;
      else if (has_system)
        winner = system_manifest;
      if (winner.empty()) {
        if (has_user) {
          Add(Severity::kError, "user_level_disabled", b.id, user_manifest,
              absl::StrCat(where, " ignores the per-user manifest ", Pretty(env_, user_manifest),
                           " because policy NativeMessagingUserLevelHosts is false (",
                           user_level_file,
                           "); register system-wide with `sudo omnibridge-host "
                           "install --system` or the package."));
        } else {
          std::string looked =
              absl::StrJoin(std::vector<std::string>{Pretty(env_, user_manifest), system_manifest},
                            " or ", [](std::string* out, const std::string& s) {
                              if (!s.empty())
                                out->append(s);
                            });
          Add(Severity::kError, "manifest_missing", b.id, user_manifest,
              absl::StrCat(where, " finds no host manifest (looked for ", looked,
                           "); run `omnibridge-host install --user --browser ", Sv(b.id),
                           profile.empty() || IsDefault(b, profile)
                               ? std::string()
                               : absl::StrCat(" --user-data-dir ", profile),
                           "`."));
        }
        continue;
      }
      if (winner == user_manifest && has_system)
        CheckShadowing(b, where, user_manifest, system_manifest);
      CheckManifestAt(b, where, winner);
    }
    return true;
  }

  bool IsDefault(const BrowserInfo& b, const std::string& profile) {
    auto defaults = DefaultUserDataDirs(b, env_);
    return std::find(defaults.begin(), defaults.end(), profile) != defaults.end();
  }

  void CheckShadowing(const BrowserInfo& b, const std::string& where, const std::string& user,
                      const std::string& system) {
    std::string u, s;
    ReadFile(user, &u);
    ReadFile(system, &s);
    ManifestCheck cu = CheckManifest(u), cs = CheckManifest(s);
    const bool same = cu.path == cs.path && cu.allowed_origins == cs.allowed_origins;
    Add(same ? Severity::kInfo : Severity::kWarning, "shadowed", b.id, user,
        absl::StrCat(
            where, " uses the per-user manifest ", Pretty(env_, user),
            " and never reads the system-wide ", system,
            same ? " (they agree)" : absl::StrCat(" (they differ: ", cu.path, " vs ", cs.path, ")"),
            "; remove the per-user one with `omnibridge-host uninstall --user --browser ", Sv(b.id),
            "` if the system-wide one should apply."));
  }

  void CheckManifestAt(const BrowserInfo& b, const std::string& where, const std::string& file) {
    const std::string shown = Pretty(env_, file);
    const std::string reinstall =
        absl::StrCat("reinstall with `omnibridge-host install --browser ", Sv(b.id), "`");
    std::string text;
    if (!ReadFile(file, &text)) {
      Add(Severity::kError, "manifest_unreadable", b.id, file,
          absl::StrCat(where, " cannot read ", shown, "; make it readable (mode 644) or ",
                       reinstall, "."));
      return;
    }
    ManifestCheck check = CheckManifest(text);
    if (!check.parsed) {
      Add(Severity::kError, "manifest_invalid", b.id, file,
          absl::StrCat(where, " treats ", shown, " as missing: it is not valid JSON (",
                       check.parse_error, "); ", reinstall, "."));
      return;
    }
    if (!check.field_errors.empty()) {
      Add(Severity::kError, "manifest_invalid", b.id, file,
          absl::StrCat(where, " treats ", shown, " as missing: ",
                       absl::StrJoin(check.field_errors, ", "), "; ", reinstall, "."));
      return;
    }
    if (!check.bad_origins.empty()) {
      Add(Severity::kError, "manifest_invalid", b.id, file,
          absl::StrCat(where, " treats ", shown, " as missing: allowed_origins entry \"",
                       check.bad_origins.front(),
                       "\" is not chrome-extension://<id>/ (the trailing slash is required); ",
                       reinstall, "."));
      return;
    }
    std::vector<std::string> missing;
    for (const std::string& origin : origins_) {
      if (std::find(check.allowed_origins.begin(), check.allowed_origins.end(), origin) ==
              check.allowed_origins.end() &&
          std::find(check.allowed_origins.begin(), check.allowed_origins.end(), origin + "*") ==
              check.allowed_origins.end()) {
        missing.push_back(origin);
      }
    }
    if (!missing.empty() && missing.size() == origins_.size()) {
      Add(Severity::kError, "origin_missing", b.id, file,
          absl::StrCat(where, " forbids Omnibridge's extension: ", shown, " allows ",
                       check.allowed_origins.empty() ? std::string("no extension")
                                                     : absl::StrJoin(check.allowed_origins, ", "),
                       " but not ", absl::StrJoin(missing, ", "), "; ", reinstall, "."));
      return;
    }
    if (!missing.empty()) {
      Add(Severity::kWarning, "origin_missing", b.id, file,
          absl::StrCat(where, ": ", shown, " does not allow ", absl::StrJoin(missing, ", "),
                       " (another store's ID of Omnibridge); ", reinstall, "."));
    }
    if (!CheckHost(b, where, file, check.path) || blocked_)
      return;  // a blocked host has its own finding; "all fine here" would mislead
    Add(Severity::kOk, "ok", b.id, file,
        absl::StrCat(where, " reads ", shown, ", which allows Omnibridge and starts ", check.path,
                     " (answers hello",
                     hello_[check.path].version.empty()
                         ? std::string()
                         : absl::StrCat(", version ", hello_[check.path].version),
                     ")."));
  }

  bool CheckHost(const BrowserInfo& b, const std::string& where, const std::string& file,
                 const std::string& host) {
    const std::string fix_path = absl::StrCat(
        "reinstall from the host's current location (`/path/to/omnibridge-host install "
        "--browser ",
        Sv(b.id), "`)");
    if (!Exists(host)) {
      Add(Severity::kError, "host_missing", b.id, file,
          absl::StrCat(where, " treats the host as missing: ", Pretty(env_, file), " names ", host,
                       ", which does not exist; ", fix_path, "."));
      return false;
    }
    if (!IsExecutableFile(host)) {
      Add(Severity::kError, "host_not_executable", b.id, file,
          absl::StrCat(where, " cannot start ", host,
                       ": it is not an executable file; run "
                       "`chmod 755 ",
                       host, "` or reinstall the package."));
      return false;
    }
    auto it = hello_.find(host);
    if (it == hello_.end()) {
      it = hello_
               .emplace(host, ProbeHost(host, origins_.empty() ? "" : origins_.front(),
                                        options_.hello_timeout))
               .first;
    }
    const HostProbe& probe = it->second;
    if (!probe.started) {
      Add(Severity::kError, "host_not_executable", b.id, file,
          absl::StrCat(where, " cannot start ", host, " (", probe.detail,
                       "); check its permissions and shared libraries (`ldd ", host, "`)."));
      return false;
    }
    if (!probe.answered) {
      Add(Severity::kError, "host_no_hello", b.id, file,
          absl::StrCat(where, " starts ", host, " but it ", probe.detail, "; run it by hand (`",
                       host, " ", origins_.empty() ? "" : origins_.front(),
                       "`) and read its log in ~/.local/state/omnibridge/host.log."));
      return false;
    }
    if (!probe.detail.empty()) {
      Add(Severity::kWarning, "host_lingers", b.id, file,
          absl::StrCat(where, ": ", host, " ", probe.detail,
                       "; the browser kills it 2 s after closing the port, so update the host."));
    }
    return true;
  }

  // The enterprise layer as the host builds it from the extension's managed settings.
  json::object ManagedLayer() const {
    json::object layer;
    if (const json::value* cti = policy_settings_.if_contains("cti"); cti && cti->is_object())
      layer["cti"] = *cti;
    if (const json::value* codes = policy_settings_.if_contains("reasonCodes");
        codes && codes->is_array())
      layer["agent"] = json::object{{"reasonCodes", *codes}};
    return layer;
  }

  void CheckConfig() {
    config::Layers layers;
    layers.system_file = SystemConfigFile(env_);
    layers.user_file =
        options_.user_config.empty() ? config::DefaultUserConfigPath() : options_.user_config;
    layers.managed = ManagedLayer();
    layers.default_allowed_origins = origins_;
    auto loaded = config::Load(layers, config::LoadMode::kStrict);
    if (!loaded.ok()) {
      Add(Severity::kError, "config_invalid", "", layers.user_file,
          absl::StrCat("The configuration does not load: ", loaded.status().message(),
                       "; correct that key (the host drops it and the CTI link may not start)."));
      return;
    }
    for (const config::Warning& w : loaded->warnings) {
      Add(Severity::kWarning, "config_warning", "", w.file,
          absl::StrCat("Configuration ", w.file, ": ", w.key, ": ", w.message,
                       "; remove or correct it."));
    }
    const config::Config& c = loaded->config;
    std::vector<std::string> refused;
    for (const std::string& o : origins_) {
      if (std::find(c.allowed_origins.begin(), c.allowed_origins.end(), o) ==
          c.allowed_origins.end())
        refused.push_back(o);
    }
    if (!refused.empty()) {
      Add(Severity::kError, "origin_refused", "", layers.user_file,
          absl::StrCat("The configuration's allowedOrigins leaves out ",
                       absl::StrJoin(refused, ", "),
                       ", so the host refuses Omnibridge's extension; add it to allowedOrigins "
                       "or remove the key."));
    }
    std::string files = loaded->files_read.empty() ? std::string("built-in defaults only")
                                                   : absl::StrJoin(loaded->files_read, ", ");
    if (!policy_settings_.empty())
      absl::StrAppend(&files, " + ", policy_settings_source_, " policy");
    Add(Severity::kOk, "config_ok", "", layers.user_file,
        absl::StrCat("The configuration loads (", files, ")."));
    if (c.cti.driver != "ami") {
      Add(Severity::kError, "cti_driver", "", layers.user_file,
          absl::StrCat("cti.driver is \"", c.cti.driver,
                       "\", which this build does not have; set "
                       "it to \"ami\"."));
      return;
    }
    if (c.agent.id.empty() || c.agent.interfaces.empty()) {
      Add(Severity::kWarning, "cti_no_agent", "", layers.user_file,
          "No agent is configured, so the host will not start the CTI link; set agent.id and "
          "agent.interfaces in the configuration.");
    }
    const std::string address = absl::StrCat(c.cti.ami.host, ":", c.cti.ami.port);
    CtiProbe probe = ProbeAmi(c.cti.ami.host, c.cti.ami.port, c.cti.ami.tls, options_.cti_timeout);
    if (!probe.connected) {
      Add(Severity::kError, "cti_unreachable", "", address,
          absl::StrCat("The CTI link ", address, " does not answer (", probe.detail,
                       "); check cti.ami.host and cti.ami.port and that Asterisk's manager "
                       "interface is enabled and reachable from this machine."));
    } else if (c.cti.ami.tls) {
      Add(Severity::kOk, "cti_ok", "", address,
          absl::StrCat("The CTI link ", address,
                       " accepts TCP connections (TLS; the banner was not read)."));
    } else if (!probe.banner_ok) {
      Add(Severity::kError, "cti_not_ami", "", address,
          absl::StrCat("The CTI link ", address, " answers but is not Asterisk AMI (", probe.detail,
                       "); point cti.ami.port at the manager port (5038 by "
                       "default)."));
    } else {
      Add(Severity::kOk, "cti_ok", "", address,
          absl::StrCat("The CTI link ", address, " answers: ", probe.banner, "."));
    }
  }

  const DoctorOptions& options_;
  const Env& env_;
  std::vector<std::string> ids_;
  std::vector<std::string> origins_;
  std::map<std::string, HostProbe> hello_;
  bool blocked_ = false;  // the browser being checked blocks our host by policy
  json::object policy_settings_;
  std::string policy_settings_source_;
  Report report_;
};

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kOk:
      return "ok";
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

}  // namespace

bool Report::AllWell() const {
  return std::none_of(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::kWarning || f.severity == Severity::kError;
  });
}

Report RunDoctor(const DoctorOptions& options, const Env& env) {
  return Doctor(options, env).Run();
}

std::string FormatText(const Report& report) {
  std::string out;
  int problems = 0;
  for (const Finding& f : report.findings) {
    const char* tag = f.severity == Severity::kOk        ? "ok   "
                      : f.severity == Severity::kInfo    ? "info "
                      : f.severity == Severity::kWarning ? "WARN "
                                                         : "ERROR";
    if (f.severity == Severity::kWarning || f.severity == Severity::kError)
      ++problems;
    absl::StrAppend(&out, tag, " ", f.message, "\n");
  }
  absl::StrAppend(&out,
                  problems == 0
                      ? std::string("All is well.")
                      : absl::StrCat(problems, problems == 1 ? " problem" : " problems", " found."),
                  "\n");
  return out;
}

std::string FormatJson(const Report& report) {
  json::array findings;
  for (const Finding& f : report.findings) {
    findings.emplace_back(json::object{{"severity", SeverityName(f.severity)},
                                       {"check", f.check},
                                       {"browser", f.browser},
                                       {"location", f.location},
                                       {"message", f.message}});
  }
  return json::serialize(json::object{{"ok", report.AllWell()}, {"findings", findings}}) + "\n";
}

}  // namespace omnibridge::install
