#include "install/probe.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"

#if !defined(_WIN32)
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace omnibridge::install {
namespace json = boost::json;

#if defined(_WIN32)

HostProbe ProbeHost(const std::string&, const std::string&, absl::Duration) {
  return {false, false, "not checked: the Windows build does not start the host yet", ""};
}

CtiProbe ProbeAmi(const std::string&, int, bool, absl::Duration) {
  return {false, false, "", "not checked on Windows yet"};
}

#else

namespace {

// pipe() with close-on-exec on both ends (pipe2 is Linux-only).
bool CloexecPipe(int fds[2]) {
  if (::pipe(fds) != 0)
    return false;
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return true;
}

int RemainingMs(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  return left <= absl::ZeroDuration() ? 0 : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

// Reads into `buffer` until `want` bytes are there, EOF or the deadline.
bool ReadUntil(int fd, std::string* buffer, size_t want, absl::Time deadline) {
  char chunk[4096];
  while (buffer->size() < want) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc <= 0)
      return false;
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    buffer->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Waits for `pid` up to `wait`, then SIGKILLs it. Returns the wait status, or -1.
int Reap(pid_t pid, absl::Duration wait) {
  absl::Time deadline = absl::Now() + wait;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0)
      return -1;
    if (absl::Now() > deadline)
      break;
    ::usleep(10 * 1000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::string DescribeExit(int status) {
  if (status == -1)
    return "kept running and was killed";
  if (WIFEXITED(status))
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return absl::StrCat("was killed by signal ", WTERMSIG(status));
  return "stopped";
}

}  // namespace

HostProbe ProbeHost(const std::string& executable, const std::string& origin,
                    absl::Duration timeout) {
  HostProbe probe;
  int in[2], out[2], err[2];
  if (!CloexecPipe(in) || !CloexecPipe(out) || !CloexecPipe(err)) {
    probe.detail = absl::StrCat("could not create pipes: ", std::strerror(errno));
    return probe;
  }
  std::string dir = executable.substr(0, executable.find_last_of('/'));
  if (dir.empty())
    dir = "/";
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. The browser's set-up: origin argument,
    // cwd = the binary's directory, stdin/stdout pipes.
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0)
      ::dup2(devnull, 2);
    if (::chdir(dir.c_str()) != 0) {
      // keep going: Chrome would fail too, but exec tells more
    }
    ::signal(SIGPIPE, SIG_DFL);
    char* argv[] = {const_cast<char*>(executable.c_str()), const_cast<char*>(origin.c_str()),
                    nullptr};
    ::execv(executable.c_str(), argv);
    int e = errno;
    ssize_t w = ::write(err[1], &e, sizeof e);
    (void)w;
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    probe.detail = absl::StrCat("could not fork: ", std::strerror(errno));
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return probe;
  }
  int exec_errno = 0;
  ssize_t got = ::read(err[0], &exec_errno, sizeof exec_errno);  // EOF once exec succeeded
  ::close(err[0]);
  if (got == sizeof exec_errno) {
    probe.detail = absl::StrCat("could not be started: ", std::strerror(exec_errno));
    ::close(in[1]);
    ::close(out[0]);
    Reap(pid, absl::Seconds(2));
    return probe;
  }
  probe.started = true;
  const std::string hello =
      R"({"type":"hello","id":"1","protocol":1,"extensionVersion":"doctor","settings":{}})";
  std::string frame(4, '\0');
  uint32_t len = static_cast<uint32_t>(hello.size());
  std::memcpy(frame.data(), &len, 4);  // native byte order, as Chrome writes it
  frame += hello;
  void (*old_pipe)(int) = ::signal(SIGPIPE, SIG_IGN);
  bool written = ::write(in[1], frame.data(), frame.size()) == static_cast<ssize_t>(frame.size());
  absl::Time deadline = absl::Now() + timeout;
  std::string buffer;
  std::string last_problem;  // a failed write means it exited: its status tells why
  while (written) {
    if (!ReadUntil(out[0], &buffer, 4, deadline))
      break;
    uint32_t n = 0;
    std::memcpy(&n, buffer.data(), 4);
    if (n == 0 || n > 1024 * 1024) {
      last_problem = absl::StrCat("wrote something that is not a native-messaging frame (length ",
                                  n, ") on stdout");
      break;
    }
    if (!ReadUntil(out[0], &buffer, 4 + n, deadline))
      break;
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(buffer.data() + 4, n), ec);
    buffer.erase(0, 4 + n);
    if (ec || !v.is_object()) {
      last_problem = "sent a frame that is not a JSON object";
      break;
    }
    const json::object& o = v.get_object();
    const json::value* type = o.if_contains("type");
    if (type && type->is_string() && type->get_string() == "hello") {
      probe.answered = true;
      if (const json::value* ver = o.if_contains("version"); ver && ver->is_string())
        probe.version = std::string(ver->get_string());
      break;
    }
    if (type && type->is_string() && type->get_string() == "error") {
      const json::value* message = o.if_contains("message");
      last_problem =
          absl::StrCat("answered with an error: ", message && message->is_string()
                                                       ? std::string(message->get_string())
                                                       : std::string("(no message)"));
      break;
    }
    // other frames (cti.status…) may come first: keep reading
  }
  ::close(in[1]);  // EOF: the host must exit
  ::close(out[0]);
  ::signal(SIGPIPE, old_pipe);
  int status = Reap(pid, absl::Seconds(2));
  if (!probe.answered) {
    if (!last_problem.empty())
      probe.detail = last_problem;
    else if (absl::Now() >= deadline)
      probe.detail = absl::StrCat("did not answer hello within ", absl::FormatDuration(timeout));
    else
      probe.detail = absl::StrCat(DescribeExit(status), " before answering hello");
  } else if (status == -1) {
    probe.detail = "answered hello but did not exit on EOF within 2 s";
  }
  return probe;
}

CtiProbe ProbeAmi(const std::string& host, int port, bool tls, absl::Duration timeout) {
  CtiProbe probe;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    probe.detail = absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc));
    return probe;
  }
  absl::Time deadline = absl::Now() + timeout;
  int fd = -1;
  std::string last = "no address";
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (s < 0)
      continue;
    ::fcntl(s, F_SETFD, FD_CLOEXEC);
    ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK);
    if (::connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      ::close(s);
      continue;
    }
    pollfd p{s, POLLOUT, 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (rc <= 0) {
      last = "timed out";
      ::close(s);
      continue;
    }
    ::getsockopt(s, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      last = std::strerror(so_error);
      ::close(s);
      continue;
    }
    fd = s;
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    probe.detail = absl::StrCat("cannot connect to ", host, ":", port, ": ", last);
    return probe;
  }
  probe.connected = true;
  if (!tls) {
    std::string line;
    char c;
    while (line.size() < 256) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) <= 0)
        break;
      if (::read(fd, &c, 1) != 1)
        break;
      if (c == '\n')
        break;
      if (c != '\r')
        line.push_back(c);
    }
    probe.banner = line;
    probe.banner_ok = line.starts_with("Asterisk Call Manager/");
    if (!probe.banner_ok) {
      probe.detail = line.empty() ? std::string("no banner within the timeout")
                                  : absl::StrCat("unexpected banner \"", line, "\"");
    }
  }
  ::close(fd);
  return probe;
}

#endif

}  // namespace omnibridge::install
