// Helpers for the install integration tests: scratch directories and running a command with a
// chosen environment, capturing stdout.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace omnibridge::install::testing {

class Scratch {
 public:
  Scratch();
  ~Scratch();

  const std::string& path() const { return path_; }

  // Writes `contents` to path()/name (parents created), returns the full path.
  std::string Write(const std::string& name, const std::string& contents, int mode = 0644) const;

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
};

// Runs `argv` with exactly `env` (plus PATH) and stderr discarded; waits up to 60 s.
RunResult Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);

std::string Slurp(const std::string& path);

}  // namespace omnibridge::install::testing
