#include "install/install_cli.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

#include "install/doctor.h"
#include "install/locations.h"
#include "install/manifest.h"
#include "install/registration.h"

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#elif defined(__APPLE__)
#include <climits>
#include <cstdlib>

#include <mach-o/dyld.h>
#else
#include <climits>

#include <unistd.h>
#endif

namespace omnibridge::install {
namespace {

constexpr char kRegisterUsage[] =
    "usage: omnibridge-host %s [--user | --system] [--browser chrome,chromium,edge,brave,"
    "vivaldi,opera | all]\n"
    "                          [--user-data-dir DIR] [--root DIR] [--host-path PATH] "
    "[--dry-run]\n";
constexpr char kDoctorUsage[] =
    "usage: omnibridge-host %s [--root DIR] [--json] [--browser LIST] [--user-data-dir DIR]\n";

std::string SelfPath() {
#if defined(_WIN32)
  char buf[MAX_PATH];
  DWORD n = GetModuleFileNameA(nullptr, buf, MAX_PATH);
  return n > 0 && n < MAX_PATH ? std::string(buf, n) : std::string();
#elif defined(__APPLE__)
  char buf[PATH_MAX];
  uint32_t size = sizeof buf;
  if (_NSGetExecutablePath(buf, &size) != 0)
    return {};
  char real[PATH_MAX];
  return realpath(buf, real) ? std::string(real) : std::string(buf);
#else
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
#endif
}

// Takes the value of `--flag VALUE` or `--flag=VALUE` at args[*i]; false if `args[*i]` is not
// that flag. Sets *missing when the value is absent.
bool TakeValue(const std::vector<std::string>& args, size_t* i, std::string_view flag,
               std::string* value, bool* missing) {
  const std::string& a = args[*i];
  if (a == flag) {
    if (*i + 1 >= args.size()) {
      *missing = true;
      return true;
    }
    *value = args[++*i];
    return true;
  }
  if (a.size() > flag.size() && a.starts_with(flag) && a[flag.size()] == '=') {
    *value = a.substr(flag.size() + 1);
    return true;
  }
  return false;
}

int Usage(const char* format, const char* mode, const std::string& problem) {
  std::fprintf(stderr, "omnibridge-host %s: %s\n", mode, problem.c_str());
  std::fprintf(stderr, format, mode);
  return 2;
}

int RunRegister(const std::vector<std::string>& args, bool install) {
  const char* mode = install ? "install" : "uninstall";
  RegisterOptions options;
  std::string root;
  bool dry_run = false, user = false, system = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    bool missing = false;
    const std::string& a = args[i];
    if (a == "--user") {
      user = true;
    } else if (a == "--system") {
      system = true;
    } else if (a == "--dry-run") {
      dry_run = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(kRegisterUsage, mode);
      return 0;
    } else if (TakeValue(args, &i, "--browser", &value, &missing)) {
      if (missing)
        return Usage(kRegisterUsage, mode, "--browser needs a list");
      auto browsers = ParseBrowserList(value);
      if (!browsers.ok())
        return Usage(kRegisterUsage, mode, std::string(browsers.status().message()));
      options.browsers = *browsers;
    } else if (TakeValue(args, &i, "--user-data-dir", &value, &missing)) {
      if (missing || value.empty())
        return Usage(kRegisterUsage, mode, "--user-data-dir needs a directory");
      options.user_data_dir = value;
    } else if (TakeValue(args, &i, "--root", &value, &missing)) {
      if (missing || value.empty())
        return Usage(kRegisterUsage, mode, "--root needs a directory");
      root = value;
    } else if (TakeValue(args, &i, "--host-path", &value, &missing)) {
      if (missing || value.empty())
        return Usage(kRegisterUsage, mode, "--host-path needs a path");
      options.host_path = value;
    } else {
      return Usage(kRegisterUsage, mode, absl::StrCat("unknown argument \"", a, "\""));
    }
  }
  if (user && system)
    return Usage(kRegisterUsage, mode, "choose one of --user and --system");
  options.scope = system ? Scope::kSystem : Scope::kUser;
  if (options.host_path.empty())
    options.host_path = SelfPath();
  options.extension_ids = ShippedExtensionIds();
  Env env = Env::FromProcess(root);

  auto plan = install ? PlanInstall(options, env) : PlanUninstall(options, env);
  if (!plan.ok()) {
    std::fprintf(stderr, "omnibridge-host %s: %s\n", mode,
                 std::string(plan.status().message()).c_str());
    return absl::IsInvalidArgument(plan.status()) ? 2 : 1;
  }
  if (dry_run) {
    for (const std::string& line : DescribePlan(*plan, install, true))
      std::printf("%s\n", line.c_str());
    if (install && !plan->files.empty())
      std::printf("manifest:\n%s", plan->files.front().contents.c_str());
    return 0;
  }
  std::unique_ptr<Registry> registry = NativeRegistry();
  std::vector<std::string> log;
  absl::Status applied = install ? ApplyInstall(*plan, registry.get(), &log)
                                 : ApplyUninstall(*plan, registry.get(), &log);
  for (const std::string& line : log)
    std::printf("%s\n", line.c_str());
  for (const std::string& note : plan->notes)
    std::printf("%s\n", note.c_str());
  if (!install && plan->files.empty() && plan->registry.empty())
    std::printf("nothing to remove: no registration made by omnibridge-host install here\n");
  if (!applied.ok()) {
    std::fprintf(stderr, "omnibridge-host %s: %s%s\n", mode, std::string(applied.message()).c_str(),
                 options.scope == Scope::kSystem ? " (system-wide needs root: sudo)" : "");
    return 1;
  }
  return 0;
}

}  // namespace

int RunInstall(const std::vector<std::string>& args) { return RunRegister(args, true); }

int RunUninstall(const std::vector<std::string>& args) { return RunRegister(args, false); }

int RunDoctor(const std::vector<std::string>& args) {
  DoctorOptions options;
  std::string root;
  bool as_json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    bool missing = false;
    const std::string& a = args[i];
    if (a == "--json") {
      as_json = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(kDoctorUsage, "doctor");
      return 0;
    } else if (TakeValue(args, &i, "--root", &value, &missing)) {
      if (missing || value.empty())
        return Usage(kDoctorUsage, "doctor", "--root needs a directory");
      root = value;
    } else if (TakeValue(args, &i, "--browser", &value, &missing)) {
      auto browsers = ParseBrowserList(missing ? "" : value);
      if (!browsers.ok())
        return Usage(kDoctorUsage, "doctor", std::string(browsers.status().message()));
      options.browsers = *browsers;
    } else if (TakeValue(args, &i, "--user-data-dir", &value, &missing)) {
      if (missing || value.empty())
        return Usage(kDoctorUsage, "doctor", "--user-data-dir needs a directory");
      options.user_data_dirs.push_back(value);
    } else {
      return Usage(kDoctorUsage, "doctor", absl::StrCat("unknown argument \"", a, "\""));
    }
  }
  options.scan_running_browsers = root.empty();
  Env env = Env::FromProcess(root);
  Report report = RunDoctor(options, env);
  std::string out = as_json ? FormatJson(report) : FormatText(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return report.AllWell() ? 0 : 1;
}

}  // namespace omnibridge::install
