#include "app/host_mode.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value_from.hpp"

#include "agent/agent_session.h"
#include "app/host_session.h"
#include "base/log.h"
#include "config/config.h"
#include "cti/ami/ami_link.h"
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
// `reasonCodes` as agent.reasonCodes. `crm` and `hostName` are the extension's own.
json::object ManagedLayer(const json::object& settings) {
  json::object layer;
  if (const json::value* cti = settings.if_contains("cti"); cti && cti->is_object())
    layer["cti"] = *cti;
  if (const json::value* codes = settings.if_contains("reasonCodes"); codes && codes->is_array())
    layer["agent"] = json::object{{"reasonCodes", *codes}};
  return layer;
}

cti::ami::AmiLinkOptions AmiOptions(const config::AmiConfig& ami) {
  cti::ami::AmiLinkOptions options;
  options.host = ami.host;
  options.port = static_cast<uint16_t>(ami.port);
  options.tls = ami.tls;
  options.username = ami.username;
  options.secret = ami.secret;
  return options;
}

// Creates the CTI link and the agent session when the configuration names an agent; otherwise
// tells the extension why there is no CTI.
void StartAgent(boost::asio::io_context& loop, const config::Config& config,
                const base::Clock& clock, HostSession& session, std::unique_ptr<cti::CtiLink>& link,
                std::unique_ptr<agent::AgentSession>& agent_session) {
  auto down = [&](const std::string& detail) {
    OMNI_LOG(kWarning, "host", "CTI not started: ", detail);
    session.Publish(json::value_from(nm::CtiStatus{"down", config.cti.driver, detail}));
  };
  if (config.agent.id.empty() || config.agent.interfaces.empty()) {
    down("no agent configured: set agent.id and agent.interfaces in the host configuration");
    return;
  }
  auto ami = cti::ami::AmiLink::Create(loop, AmiOptions(config.cti.ami));
  if (!ami.ok()) {
    down(std::string(ami.status().message()));
    return;
  }
  link = std::move(*ami);
  agent::AgentConfig agent_config;
  agent_config.agent_id = config.agent.id;
  agent_config.interfaces = config.agent.interfaces;
  agent_config.queues = config.agent.queues;
  agent_config.reason_codes = config.agent.reason_codes;
  agent_config.driver = config.cti.driver;
  agent_session = std::make_unique<agent::AgentSession>(
      std::move(agent_config), link.get(), &clock,
      [&session](json::object frame) { session.Publish(std::move(frame)); });
  for (const nm::MessageTypeInfo& info : nm::AllMessageTypes()) {
    if (info.direction != nm::Direction::kToHost || !agent::AgentSession::Handles(info.type))
      continue;
    agent::AgentSession* target = agent_session.get();
    session.RegisterHandler(std::string(info.type),
                            [target](const json::object& request, HostSession::Reply reply) {
                              target->HandleRequest(request, std::move(reply));
                            });
  }
  for (const std::string& capability : agent::AgentSession::HelloCapabilities())
    session.AddCapability(capability);
  if (absl::Status started = link->Start(agent_session.get()); !started.ok())
    down(std::string(started.message()));
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
  std::unique_ptr<cti::CtiLink> link;
  std::unique_ptr<agent::AgentSession> agent_session;
  HostSession* session_ptr = nullptr;

  HostSession::Options options;
  options.version = OMNI_VERSION;
  options.capabilities = {"ping"};
  // The CTI link starts once the extension has said hello: its settings are the enterprise layer
  // of the configuration (CTI address, reason codes), and start-up stays fast.
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
    StartAgent(loop, result.config, clock, *session_ptr, link, agent_session);
  };
  options.after_hello = [&] {
    if (agent_session) {
      for (boost::json::object& frame : agent_session->CurrentFrames())
        session_ptr->Publish(std::move(frame));
    }
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
          [&session](nm::DecodedFrame&& frame) { session.OnFrame(std::move(frame)); },
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
  if (link)
    link->Stop();
  agent_session.reset();
  link.reset();
  return 0;
}

}  // namespace omnibridge::app
