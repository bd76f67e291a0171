// omnibridge-host: the native-messaging host (browser mode) and its admin modes.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/match.h"

#include "app/host_mode.h"
#include "base/log.h"
#include "install/install_cli.h"
#include "routing/route_mode.h"

#ifndef OMNI_VERSION
#define OMNI_VERSION "0.0.0"
#endif

namespace {

constexpr char kHelp[] =
    "omnibridge-host " OMNI_VERSION
    " - Omnibridge CTI host\n"
    "\n"
    "Usage:\n"
    "  omnibridge-host chrome-extension://<id>/   agent session; started by the browser through\n"
    "                                             native messaging (stdin/stdout frames)\n"
    "  omnibridge-host route --config FILE        routing server: CRM webhooks -> ACD\n"
    "  omnibridge-host install [--user|--system] [--browser LIST|all] [--user-data-dir DIR]\n"
    "                          [--root DIR] [--host-path PATH] [--dry-run]\n"
    "  omnibridge-host uninstall [same options]   register / unregister with the browsers\n"
    "  omnibridge-host doctor [--browser LIST] [--user-data-dir DIR] [--root DIR] [--json]\n"
    "                                             explain what is registered and what is wrong\n"
    "  omnibridge-host --version | --help\n"
    "\n"
    "Configuration: /etc/omnibridge/config.json, then $XDG_CONFIG_HOME/omnibridge/config.json\n"
    "(or the file named by $OMNIBRIDGE_CONFIG). Logs: $XDG_STATE_HOME/omnibridge/host.log.\n";

int Run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(kHelp, stderr);
    return 2;
  }
  const std::string& first = args.front();
  if (first == "--version" || first == "-V") {
    std::printf("omnibridge-host %s\n", OMNI_VERSION);
    return 0;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (absl::StartsWith(first, "chrome-extension://")) {
    return omnibridge::app::RunHost(args);
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (first == "route")
    return omnibridge::routing::RunRoute(rest);
  if (first == "install")
    return omnibridge::install::RunInstall(rest);
  if (first == "uninstall")
    return omnibridge::install::RunUninstall(rest);
  if (first == "doctor")
    return omnibridge::install::RunDoctor(rest);
  std::fprintf(stderr,
               "omnibridge-host: unknown mode or origin \"%s\"; see omnibridge-host --help\n",
               first.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // The browser passes the origin first; Windows adds --parent-window=N, which is ignored.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (absl::StartsWith(arg, "--parent-window="))
      continue;
    args.push_back(std::move(arg));
  }
  try {
    return Run(args);
  } catch (const std::exception& e) {
    OMNI_LOG(kError, "host", "fatal: ", e.what());
  } catch (...) {
    OMNI_LOG(kError, "host", "fatal: unknown exception");
  }
  return 70;  // EX_SOFTWARE
}
