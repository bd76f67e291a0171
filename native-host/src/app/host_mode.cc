#include "app/host_mode.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value_from.hpp"

#include "app/agent_host.h"
#include "app/host_session.h"
#include "base/log.h"
#include "config/config.h"
#include "nm/frame_codec.h"
#include "nm/protocol.h"
#include "nm/stdio_channel.h"
#include "nm/wire_error.h"
#include <signal.h>
#include <unistd.h>

#ifndef OMNI_VERSION
#define OMNI_VERSION "0.0.0"
#endif
#ifndef OMNI_EXTENSION_IDS
#define OMNI_EXTENSION_IDS ""
#endif

namespace omnibridge::app {
namespace json = boost::json;

std::vector<std::string> BuiltInAllowedOrigins() {
  std::vector<std::string> origins;
  for (absl::string_view id : absl::StrSplit(OMNI_EXTENSION_IDS, ',', absl::SkipEmpty())) {
    origins.push_back(absl::StrCat("chrome-extension://", id, "/"));
  }
  return origins;
}

namespace {

// Writes one frame synchronously: used before the event loop runs (refusals at launch).
void WriteFrameNow(const json::value& message) {
  auto frame = nm::EncodeFrame(json::serialize(message));
  if (!frame.ok())
    return;
  std::string_view data = *frame;
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n <= 0)
      return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

config::Layers DefaultLayers() {
  config::Layers layers;
  layers.system_file = config::DefaultSystemConfigPath();
  layers.user_file = config::DefaultUserConfigPath();
  layers.default_allowed_origins = BuiltInAllowedOrigins();
  return layers;
}

// The extension's settings in config terms: `cti` as is (never secrets: Load drops them),
// `reasonCodes` as agent.reasonCodes, `popflow.flows` as enterprise flows. `crm` and `hostName`
// are the extension's own.
json::object ManagedLayer(const json::object& settings) {
  json::object layer;
  if (const json::value* cti = settings.if_contains("cti"); cti && cti->is_object())
    layer["cti"] = *cti;
  if (const json::value* codes = settings.if_contains("reasonCodes"); codes && codes->is_array())
    layer["agent"] = json::object{{"reasonCodes", *codes}};
  // Enterprise flows pushed by policy (read-only for the agent).
  if (const json::value* popflow = settings.if_contains("popflow");
      popflow && popflow->is_object()) {
    if (const json::value* flows = popflow->get_object().if_contains("flows");
        flows && flows->is_array())
      layer["popflow"] = json::object{{"flows", *flows}};
  }
  return layer;
}

}  // namespace

int RunHost(const std::vector<std::string>& args) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is EPIPE on write, handled as shutdown
  const std::string origin = args.empty() ? "" : args.front();

  config::Layers layers = DefaultLayers();
  // Lenient: a bad key is dropped and reported to the extension, so the admin sees what is wrong
  // while the rest of the configuration (allowed origins included) still applies.
  auto loaded = config::Load(layers, config::LoadMode::kLenient);
  config::LoadResult result;
  if (loaded.ok()) {
    result = std::move(*loaded);
  } else {
    result.errors.push_back(std::string(loaded.status().message()));
    result.config.allowed_origins = layers.default_allowed_origins;
  }
  const config::Config& config = result.config;

  base::LogLevel level = base::LogLevel::kInfo;
  base::ParseLogLevel(config.log_level, &level);
  base::SetLogLevel(level);
  if (absl::Status s = base::OpenLogFile(config::UserLogDir() + "/host.log"); !s.ok()) {
    OMNI_LOG(kWarning, "host", s.message());
  }
  OMNI_LOG(kInfo, "host", "omnibridge-host ", OMNI_VERSION, " started for ", origin);
  for (const std::string& file : result.files_read)
    OMNI_LOG(kInfo, "config", "read ", file);
  for (const config::Warning& w : result.warnings) {
    OMNI_LOG(kWarning, "config", w.file, ": ", w.key, ": ", w.message);
  }
  for (const std::string& error : result.errors)
    OMNI_LOG(kError, "config", error);

  if (std::find(config.allowed_origins.begin(), config.allowed_origins.end(), origin) ==
      config.allowed_origins.end()) {
    OMNI_LOG(kError, "host", "refused caller origin \"", origin,
             "\": not in allowedOrigins; add it to the config to allow it");
    WriteFrameNow(nm::MakeErrorFrame(
        nullptr, nm::WireError(nm::WireCode::kOriginRefused,
                               base::Cat("origin \"", origin, "\" is not allowed"))));
    return 2;
  }

  boost::asio::io_context loop(1);
  std::unique_ptr<nm::StdioChannel> channel;
  base::SystemClock clock;
  std::unique_ptr<AgentHost> agent_host;
  HostSession* session_ptr = nullptr;

  HostSession::Options options;
  options.version = OMNI_VERSION;
  options.capabilities = {"ping"};
  options.send_pieces = [&channel](std::initializer_list<std::string_view> pieces) {
    return channel->SendPieces(pieces);
  };
  // The CTI link starts once the extension has said hello: its settings are the enterprise layer
  // of the configuration (CTI address, reason codes), and start-up stays fast.
  config::Config admin_config;
  options.on_hello = [&](const nm::HelloRequest& hello) {
    layers.managed = ManagedLayer(hello.settings);
    auto reloaded = config::Load(layers, config::LoadMode::kLenient);
    if (reloaded.ok()) {
      for (const std::string& error : reloaded->errors) {
        if (std::find(result.errors.begin(), result.errors.end(), error) == result.errors.end()) {
          OMNI_LOG(kError, "config", error);
          session_ptr->Publish(
              nm::MakeErrorFrame(nullptr, nm::WireError(nm::WireCode::kConfigInvalid, error)));
        }
      }
      result = std::move(*reloaded);
    }
    // The administrator's layers alone: PopFlow takes allowed programs and enterprise flows
    // only from there.
    config::Layers admin_layers = layers;
    admin_layers.user_file.clear();
    auto admin = config::Load(admin_layers, config::LoadMode::kLenient);
    admin_config = admin.ok() ? admin->config : config::Config();
    for (const std::string& capability : AgentHost::Capabilities(result.config))
      session_ptr->AddCapability(capability);
  };
  // The CTI link, PopFlow and the Connect API start once the hello reply is out, so the
  // handshake does not wait for them.
  options.after_hello = [&] {
    agent_host =
        std::make_unique<AgentHost>(loop, clock, *session_ptr, result.config, admin_config);
  };
  HostSession session(std::move(options), [&channel](const json::value& message) {
    return channel->Send(message);  // refusals are logged by the channel
  });
  session_ptr = &session;

  bool stopping = false;
  auto shutdown = [&] {
    if (stopping)
      return;
    stopping = true;
    channel->Flush([&loop] { loop.stop(); });
  };
  channel = std::make_unique<nm::StdioChannel>(
      loop, ::dup(STDIN_FILENO), ::dup(STDOUT_FILENO), static_cast<size_t>(config.max_frame_bytes),
      nm::StdioChannel::Callbacks{
          [&session](std::string_view payload) { session.OnPayload(payload); },
          [&session](uint32_t length) { session.OnOversize(length); },
          [&] {
            OMNI_LOG(kInfo, "host", "stdin closed: exiting");
            shutdown();
          }});
  for (const std::string& error : result.errors) {
    session.Publish(
        nm::MakeErrorFrame(nullptr, nm::WireError(nm::WireCode::kConfigInvalid, error)));
  }

  boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec)
      return;
    OMNI_LOG(kInfo, "host", "signal ", signal_number, ": exiting");
    shutdown();
  });

  channel->Start();
  loop.run();
  agent_host.reset();
  return 0;
}

}  // namespace omnibridge::app
