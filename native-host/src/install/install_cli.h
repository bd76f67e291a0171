// The install, uninstall and doctor modes of omnibridge-host (DESIGN.md "Registration"):
//   install|uninstall [--user | --system] [--browser LIST | all] [--user-data-dir DIR]
//                     [--root DIR] [--host-path PATH] [--dry-run]
//   doctor [--root DIR] [--json] [--browser LIST] [--user-data-dir DIR]...
// `args` are the arguments after the mode name. They print to stdout (their own output, not a
// native-messaging channel) and return the process exit status: 0 success / all well,
// 1 failure / problems found, 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace omnibridge::install {

int RunInstall(const std::vector<std::string>& args);
int RunUninstall(const std::vector<std::string>& args);
int RunDoctor(const std::vector<std::string>& args);

}  // namespace omnibridge::install
