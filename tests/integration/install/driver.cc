// Test driver: the install, uninstall and doctor modes exactly as omnibridge-host dispatches them
// (RunInstall/RunUninstall/RunDoctor), so the CLI is tested as a process whatever main.cc wires.
#include <cstdio>
#include <string>
#include <vector>

#include "install/install_cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fprintf(stderr, "usage: omni_install_driver install|uninstall|doctor ...\n");
    return 2;
  }
  std::string mode = args.front();
  args.erase(args.begin());
  if (mode == "install")
    return omnibridge::install::RunInstall(args);
  if (mode == "uninstall")
    return omnibridge::install::RunUninstall(args);
  if (mode == "doctor")
    return omnibridge::install::RunDoctor(args);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
