// pbx-sim: an Asterisk ACD simulator that speaks AMI, for the Omnibridge demo and tests.
//   pbx-sim [--ami-port N] [--control-port N] [--bind ADDR] [--config FILE] [--scenario FILE]
//           [--queue-log FILE] [--boot-delay-ms N] [--banner-version V] [--log-level L]
//           [--auth-fail-delay-ms N] [--write-timeout-ms N] [--max-backlog-bytes N]
//   pbx-sim ctl --control-port N '<json request>'
// On start it prints one line, {"ami":<port>,"control":<port>}, then stdout stays quiet.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/streambuf.hpp"
#include "boost/asio/write.hpp"
#include "boost/json.hpp"

#include "action_log.h"
#include "ami_server.h"
#include "base/clock.h"
#include "base/log.h"
#include "config.h"
#include "control_server.h"
#include "pbx.h"
#include "queue_log.h"
#include "scenario.h"
#include "scheduler.h"

namespace omnibridge::pbxsim {
namespace {

namespace asio = boost::asio;

constexpr absl::string_view kUsage =
    "usage: pbx-sim [--ami-port N] [--control-port N] [--bind 127.0.0.1] [--config FILE]\n"
    "               [--scenario FILE] [--queue-log FILE] [--boot-delay-ms N]\n"
    "               [--banner-version 11.0.0] [--log-level debug|info|warning|error]\n"
    "               [--auth-fail-delay-ms N] [--write-timeout-ms N] [--max-backlog-bytes N]\n"
    "       pbx-sim ctl --control-port N '<json request>'\n";

struct Options {
  int ami_port = 0;  // ephemeral: tests and the e2e harness read the port from stdout
  int control_port = 0;
  std::string bind = "127.0.0.1";
  std::string config;
  std::string scenario;
  std::string queue_log;
  int boot_delay_ms = 0;
  AmiServerOptions ami;
};

bool ParseInt(const std::string& text, int64_t max, int64_t* out) {
  return absl::SimpleAtoi(text, out) && *out >= 0 && *out <= max;
}

int Fail(absl::string_view message) {
  std::cerr << "pbx-sim: " << message << "\n";
  return 2;
}

int RunCtl(const std::vector<std::string>& args) {
  int64_t port = 0;
  std::string request;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--control-port" && i + 1 < args.size()) {
      if (!ParseInt(args[++i], 65535, &port))
        return Fail("bad --control-port");
    } else if (request.empty()) {
      request = args[i];
    } else {
      return Fail(kUsage);
    }
  }
  if (port == 0 || request.empty())
    return Fail(kUsage);
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  if (ec)
    return Fail(absl::StrCat("cannot connect to control port ", port, ": ", ec.message()));
  asio::write(socket, asio::buffer(request + "\n"), ec);
  asio::streambuf buf;
  size_t n = asio::read_until(socket, buf, '\n', ec);
  if (ec)
    return Fail(absl::StrCat("no reply: ", ec.message()));
  std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
  std::cout << line << std::flush;
  boost::system::error_code jec;
  boost::json::value v = boost::json::parse(line, jec);
  if (jec || !v.is_object())
    return 1;
  const boost::json::value* ok = v.as_object().if_contains("ok");
  return ok != nullptr && ok->is_bool() && ok->as_bool() ? 0 : 1;
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "ctl" || args[0] == "pbx-sim-ctl")) {
    return RunCtl(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  Options opt;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cerr << kUsage;
      return 0;
    }
    if (i + 1 >= args.size())
      return Fail(absl::StrCat("missing value for ", a, "\n", kUsage));
    const std::string& v = args[++i];
    int64_t n = 0;
    if (a == "--ami-port") {
      if (!ParseInt(v, 65535, &n))
        return Fail("bad --ami-port");
      opt.ami_port = static_cast<int>(n);
    } else if (a == "--control-port") {
      if (!ParseInt(v, 65535, &n))
        return Fail("bad --control-port");
      opt.control_port = static_cast<int>(n);
    } else if (a == "--bind") {
      opt.bind = v;
    } else if (a == "--config") {
      opt.config = v;
    } else if (a == "--scenario") {
      opt.scenario = v;
    } else if (a == "--queue-log") {
      opt.queue_log = v;
    } else if (a == "--boot-delay-ms") {
      if (!ParseInt(v, 3'600'000, &n))
        return Fail("bad --boot-delay-ms");
      opt.boot_delay_ms = static_cast<int>(n);
    } else if (a == "--banner-version") {
      opt.ami.banner_version = v;
    } else if (a == "--auth-fail-delay-ms") {
      if (!ParseInt(v, 60'000, &n))
        return Fail("bad --auth-fail-delay-ms");
      opt.ami.auth_fail_delay = absl::Milliseconds(n);
    } else if (a == "--write-timeout-ms") {
      if (!ParseInt(v, 3'600'000, &n) || n == 0)
        return Fail("bad --write-timeout-ms");
      opt.ami.write_timeout = absl::Milliseconds(n);
    } else if (a == "--max-backlog-bytes") {
      if (!ParseInt(v, int64_t{1} << 32, &n) || n < 4096)
        return Fail("bad --max-backlog-bytes");
      opt.ami.max_backlog_bytes = static_cast<size_t>(n);
    } else if (a == "--log-level") {
      base::LogLevel level;
      if (!base::ParseLogLevel(v, &level))
        return Fail("bad --log-level");
      base::SetLogLevel(level);
    } else {
      return Fail(absl::StrCat("unknown option ", a, "\n", kUsage));
    }
  }

  SimConfig config = DefaultConfig();
  if (!opt.config.empty()) {
    auto loaded = LoadConfigFile(opt.config);
    if (!loaded.ok())
      return Fail(loaded.status().message());
    config = *std::move(loaded);
  }
  Scenario scenario;
  if (!opt.scenario.empty()) {
    auto loaded = LoadScenarioFile(opt.scenario);
    if (!loaded.ok())
      return Fail(loaded.status().message());
    scenario = *std::move(loaded);
  }

  asio::io_context io;
  base::SystemClock clock;
  AsioScheduler scheduler(io);
  QueueLog queue_log;
  if (!opt.queue_log.empty()) {
    if (absl::Status s = queue_log.Open(opt.queue_log); !s.ok())
      return Fail(s.message());
  }
  ActionLog actions;
  AmiServer ami(io, config, &clock, &actions, opt.ami);
  Pbx pbx(config, &clock, &scheduler, &ami, &queue_log);
  ami.set_pbx(&pbx);
  ControlServer control(io, &pbx, &ami, &actions, &queue_log);

  auto ami_port = ami.Listen(opt.bind, static_cast<uint16_t>(opt.ami_port));
  if (!ami_port.ok())
    return Fail(ami_port.status().message());
  std::string control_bind = opt.bind;
  {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(opt.bind, ec);
    if (ec || !addr.is_loopback())
      control_bind = "127.0.0.1";
  }
  auto control_port = control.Listen(control_bind, static_cast<uint16_t>(opt.control_port));
  if (!control_port.ok())
    return Fail(control_port.status().message());

  if (opt.boot_delay_ms > 0) {
    ami.SetBooted(false);
    scheduler.After(absl::Milliseconds(opt.boot_delay_ms), [&ami] {
      OMNI_LOG(kInfo, "main", "fully booted");
      ami.SetBooted(true);
    });
  }
  RunScenario(scenario, &scheduler, &pbx);

  std::printf("{\"ami\":%u,\"control\":%u}\n", static_cast<unsigned>(*ami_port),
              static_cast<unsigned>(*control_port));
  std::fflush(stdout);
  OMNI_LOG(kInfo, "main", "AMI on ", opt.bind, ":", *ami_port, ", control on ", control_bind, ":",
           *control_port);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    OMNI_LOG(kInfo, "main", "signal ", signo, ": shutting down");
    control.Stop();
    ami.Stop();
    scheduler.CancelAll();
    io.stop();
  });
  ::signal(SIGPIPE, SIG_IGN);
  io.run();
  return 0;
}

}  // namespace
}  // namespace omnibridge::pbxsim

int main(int argc, char** argv) { return omnibridge::pbxsim::Run(argc, argv); }
