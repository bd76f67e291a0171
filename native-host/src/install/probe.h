// Live checks for doctor: start a host executable as the browser does and exchange hello; open
// the CTI link's TCP connection and read the AMI banner. POSIX only (the Windows build reports
// these checks as not run).
#pragma once

#include <string>

#include "absl/time/time.h"

namespace omnibridge::install {

struct HostProbe {
  bool started = false;   // exec succeeded
  bool answered = false;  // a hello reply came back
  std::string detail;     // why not, for people: "exited with status 2 before answering"
  std::string version;    // from the hello reply
};

// Runs `executable origin` with cwd = its directory, stdin/stdout pipes and stderr discarded,
// sends {"type":"hello","id":"1","protocol":1,…} and waits up to `timeout` for the reply. The
// process is gone when this returns (EOF, then SIGKILL after 2 s, as Chrome does).
HostProbe ProbeHost(const std::string& executable, const std::string& origin,
                    absl::Duration timeout);

struct CtiProbe {
  bool connected = false;
  bool banner_ok = false;  // "Asterisk Call Manager/…"
  std::string banner;
  std::string detail;
};

// TCP connect to host:port and, unless `tls`, read the first line within `timeout`.
CtiProbe ProbeAmi(const std::string& host, int port, bool tls, absl::Duration timeout);

}  // namespace omnibridge::install
