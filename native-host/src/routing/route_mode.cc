#include "routing/route_mode.h"

#include <cstdio>
#include <memory>

#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/json/serialize.hpp"

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "cti/ami/ami_link.h"
#include "routing/route_service.h"
#include <signal.h>

namespace omnibridge::routing {
namespace {

constexpr char kUsage[] =
    "usage: omnibridge-host route --config FILE [--log-level debug|info|warning|error]\n";

int Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "omnibridge-host route: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return code;
}

}  // namespace

int RunRoute(const std::vector<std::string>& args) {
  std::string config_file, log_level;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--config" || args[i] == "--log-level") && i + 1 < args.size()) {
      (args[i] == "--config" ? config_file : log_level) = args[i + 1];
      ++i;
    } else if (args[i].starts_with("--config=")) {
      config_file = args[i].substr(9);
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fputs(kUsage, stderr);
      return Fail(2, base::Cat("unknown argument \"", args[i], "\""));
    }
  }
  if (config_file.empty()) {
    std::fputs(kUsage, stderr);
    return Fail(2, "--config FILE is required");
  }
  ::signal(SIGPIPE, SIG_IGN);

  // The route mode's configuration is FILE alone: a server has no per-user layer.
  config::Layers layers;
  layers.user_file = config_file;
  auto loaded = config::Load(layers, config::LoadMode::kStrict);
  if (!loaded.ok())
    return Fail(2, loaded.status().message());
  if (loaded->files_read.empty())
    return Fail(2, base::Cat(config_file, ": cannot be read"));
  const config::Config& config = loaded->config;
  for (const config::Warning& w : loaded->warnings)
    OMNI_LOG(kWarning, "routing", w.file, ": ", w.key, ": ", w.message);

  base::LogLevel level = base::LogLevel::kInfo;
  base::ParseLogLevel(log_level.empty() ? config.log_level : log_level, &level);
  base::SetLogLevel(level);

  auto settings = SettingsFromConfig(config.route);
  if (!settings.ok())
    return Fail(2, base::Cat(config_file, ": ", settings.status().message()));
  if (config.cti.driver != "ami")
    return Fail(2, base::Cat(config_file, ": cti.driver: only \"ami\" is supported"));

  boost::asio::io_context loop(1);
  cti::ami::AmiLinkOptions ami;
  ami.host = config.cti.ami.host;
  ami.port = static_cast<uint16_t>(config.cti.ami.port);
  ami.tls = config.cti.ami.tls;
  ami.username = config.cti.ami.username;
  ami.secret = config.cti.ami.secret;
  ami.secret_file = config.cti.ami.secret_file;
  auto link = cti::ami::AmiLink::Create(loop, ami);
  if (!link.ok())
    return Fail(2, base::Cat(config_file, ": ", link.status().message()));

  base::SystemClock clock;
  const std::string host = settings->listen_host;
  auto service = RouteService::Create(loop, std::move(*settings), link->get(), &clock);
  if (!service.ok())
    return Fail(1, service.status().message());
  if (absl::Status s = (*service)->Start(); !s.ok())
    return Fail(1, s.message());

  std::printf("{\"listen\":\"%s:%u\"}\n", host.c_str(), static_cast<unsigned>((*service)->port()));
  std::fflush(stdout);

  boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec)
      return;
    OMNI_LOG(kInfo, "routing", "signal ", signal_number, ": stopping");
    (*service)->Stop();
    loop.stop();
  });
  loop.run();
  service->reset();
  return 0;
}

}  // namespace omnibridge::routing
