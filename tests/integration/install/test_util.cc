#include "test_util.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace omnibridge::install::testing {

namespace fs = std::filesystem;

Scratch::Scratch() {
  std::string templ = (fs::temp_directory_path() / "omni-install-it-XXXXXX").string();
  path_ = ::mkdtemp(templ.data());
}

Scratch::~Scratch() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string Scratch::Write(const std::string& name, const std::string& contents, int mode) const {
  fs::path p = fs::path(path_) / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << contents;
  ::chmod(p.c_str(), static_cast<mode_t>(mode));
  return p.string();
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

RunResult Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  RunResult result;
  std::vector<std::string> env_strings;
  env_strings.push_back("PATH=/usr/bin:/bin");
  for (const auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  // ASan options of the test itself carry over (leak checks in the children).
  if (const char* asan = std::getenv("ASAN_OPTIONS"))
    env_strings.push_back(std::string("ASAN_OPTIONS=") + asan);
  std::vector<char*> envp, args;
  for (std::string& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (std::string& s : argv_copy)
    args.push_back(s.data());
  args.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0 || ::poll(&p, 1, left) <= 0)
      break;
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0)
      break;
    result.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    // give it the rest of a second, then kill: a test never leaves a process behind
    for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
      ::usleep(10000);
    if (::kill(pid, 0) == 0 && ::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return result;
    }
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace omnibridge::install::testing
