#include "app/agent_host.h"

#include <utility>

#include "boost/json/value_from.hpp"

#include "base/log.h"
#include "cti/ami/ami_link.h"
#include "nm/protocol.h"
#include "nm/wire_error.h"

namespace omnibridge::app {
namespace json = boost::json;

namespace {

std::string StringOf(const json::object& o, std::string_view key) {
  if (const json::value* v = o.if_contains(key); v && v->is_string())
    return std::string(v->get_string());
  return "";
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

}  // namespace

AgentHost::AgentHost(boost::asio::io_context& loop, const base::Clock& clock, HostSession& session,
                     const config::Config& config, const config::Config& admin)
    : loop_(loop), clock_(clock), session_(session), driver_(config.cti.driver) {
  // PopFlow first: the agent model's first frames already go through it.
  StartPopflow(config, admin);
  StartCti(config);
  StartConnect(config);
  RegisterHandlers();
}

std::vector<std::string> AgentHost::Capabilities(const config::Config& config) {
  std::vector<std::string> capabilities;
  if (!config.agent.id.empty() && !config.agent.interfaces.empty())
    capabilities = agent::AgentSession::HelloCapabilities();
  capabilities.push_back("popflow");
  return capabilities;
}

AgentHost::~AgentHost() {
  *alive_ = false;
  // The link first: its completions may still reach the agent session until it stops.
  if (link_)
    link_->Stop();
  connect_.reset();
  agent_.reset();
  link_.reset();
}

void AgentHost::Problem(nm::WireCode code, const std::string& message) {
  OMNI_LOG(kWarning, "host", message);
  session_.Publish(nm::MakeErrorFrame(nullptr, nm::WireError(code, message)));
}

void AgentHost::StartCti(const config::Config& config) {
  auto down = [&](const std::string& detail) {
    OMNI_LOG(kWarning, "host", "CTI not started: ", detail);
    session_.Publish(json::value_from(nm::CtiStatus{"down", config.cti.driver, detail}));
  };
  if (config.agent.id.empty() || config.agent.interfaces.empty()) {
    down("no agent configured: set agent.id and agent.interfaces in the host configuration");
    return;
  }
  auto ami = cti::ami::AmiLink::Create(loop_, AmiOptions(config.cti.ami));
  if (!ami.ok()) {
    down(std::string(ami.status().message()));
    return;
  }
  link_ = std::move(*ami);
  agent::AgentConfig agent_config;
  agent_config.agent_id = config.agent.id;
  agent_config.interfaces = config.agent.interfaces;
  agent_config.queues = config.agent.queues;
  agent_config.reason_codes = config.agent.reason_codes;
  agent_config.driver = config.cti.driver;
  agent_ = std::make_unique<agent::AgentSession>(
      std::move(agent_config), link_.get(), &clock_,
      [this](json::object frame) { OnAgentFrame(std::move(frame)); });
  if (absl::Status started = link_->Start(agent_.get()); !started.ok())
    down(std::string(started.message()));
}

void AgentHost::StartPopflow(const config::Config& config, const config::Config& admin) {
  auto parsed = popflow::ParsePopflowConfig(admin.popflow, config.popflow);
  popflow::PopflowConfig popflow_config;
  if (parsed.ok()) {
    popflow_config = std::move(*parsed);
  } else {
    Problem(nm::WireCode::kConfigInvalid, base::Cat("popflow: ", parsed.status().message()));
  }
  auto storage = popflow::DirectoryFlowStorage::Create(config::UserConfigDir() + "/popflow");
  if (!storage.ok()) {
    Problem(nm::WireCode::kInternal, base::Cat("PopFlow is off: cannot use the flow directory: ",
                                               storage.status().message()));
    return;
  }
  flow_storage_ = std::move(*storage);
  auto store = popflow::FlowStore::Open(flow_storage_.get(), &clock_);
  if (!store.ok()) {
    Problem(nm::WireCode::kInternal, base::Cat("PopFlow is off: ", store.status().message()));
    return;
  }
  flow_store_ = std::move(*store);
  for (const std::string& error : flow_store_->load_errors())
    OMNI_LOG(kWarning, "popflow", "flow skipped: ", error);
  std::vector<std::string> errors;
  flow_store_->SetEnterpriseFlows(popflow_config.enterprise_flows, &errors);
  for (const std::string& error : errors)
    Problem(nm::WireCode::kConfigInvalid, base::Cat("enterprise flow skipped: ", error));

  launcher_ = std::make_unique<popflow::AppLauncher>(popflow_config.apps);
  http_ = std::make_unique<popflow::HttpExecutor>(loop_, popflow_config.credentials);
  popflow::ServiceOptions options;
  for (const std::string& name : launcher_->Names())
    options.engine.allowed_apps.insert(name);
  // The search-by-caller pop runs when no deployed flow handles interaction.offered.
  options.default_pop = true;
  popflow_ = std::make_unique<popflow::PopflowService>(clock_, flow_store_.get(), options);
}

void AgentHost::StartConnect(const config::Config& config) {
  auto server = connect::ConnectServer::Create(loop_, connect::OptionsFromConfig(config), this);
  if (!server.ok()) {
    // Another agent session of this user may own the port; this one works without it.
    OMNI_LOG(kWarning, "connect", "Connect API not started: ", server.status().message());
    return;
  }
  connect_ = std::move(*server);
  OMNI_LOG(kInfo, "connect", "Connect API on 127.0.0.1:", connect_->port());
}

void AgentHost::RegisterHandlers() {
  for (const nm::MessageTypeInfo& info : nm::AllMessageTypes()) {
    if (info.direction != nm::Direction::kToHost)
      continue;
    std::string type(info.type);
    if (agent_ && agent::AgentSession::Handles(type)) {
      session_.RegisterHandler(
          type, [this, type](const json::object& request, HostSession::Reply reply) {
            if (popflow_ && (type == "routing.accept" || type == "routing.decline")) {
              auto offer = offers_.find(StringOf(request, "interactionId"));
              if (offer != offers_.end()) {
                Perform(popflow_->OnRoutingDecision(type == "routing.accept", offer->second,
                                                    agent_state_));
              }
            }
            agent_->HandleRequest(request, std::move(reply));
          });
    } else if (popflow_ && popflow::PopflowService::Handles(type)) {
      session_.RegisterHandler(type, [this](const json::object& request, HostSession::Reply reply) {
        popflow::PopflowService::Output out = popflow_->HandleRequest(request);
        reply(std::move(out.reply));
        Perform(std::move(out.effects));
      });
    } else if (popflow_ && type == "crm.event") {
      session_.RegisterHandler(type, [this](const json::object& request, HostSession::Reply reply) {
        reply(json::object{{"type", "ack"}});
        Perform(popflow_->OnCrmEvent(request));
      });
    }
  }
}

void AgentHost::OnAgentFrame(json::object frame) {
  std::string type = StringOf(frame, "type");
  // The model's built-in search pop gives way to PopFlow, which pops the same way when no
  // deployed flow handles the offer.
  if (popflow_ && type == "popflow.run" && StringOf(frame, "flow") == "default")
    return;
  session_.Publish(frame);
  popflow::Effects effects;
  if (type == "interaction.update") {
    const json::value* interaction = frame.if_contains("interaction");
    if (interaction == nullptr || !interaction->is_object())
      return;
    interactions_[StringOf(interaction->get_object(), "interactionId")] = interaction->get_object();
    if (popflow_)
      effects = popflow_->OnInteractionUpdate(interaction->get_object(), agent_state_);
    if (connect_)
      connect_->Broadcast(frame);
  } else if (type == "interaction.ended") {
    std::string id = StringOf(frame, "interactionId");
    interactions_.erase(id);
    offers_.erase(id);
    if (popflow_)
      effects = popflow_->OnInteractionEnded(id, agent_state_);
    if (connect_)
      connect_->Broadcast(frame);
  } else if (type == "agent.state") {
    agent_state_ = frame;
    if (popflow_)
      effects = popflow_->OnAgentState(frame);
  } else if (type == "routing.offer") {
    if (const json::value* offer = frame.if_contains("offer"); offer && offer->is_object())
      offers_[StringOf(offer->get_object(), "interactionId")] = offer->get_object();
  } else if (type == "routing.offerWithdrawn") {
    offers_.erase(StringOf(frame, "interactionId"));
  }
  Perform(std::move(effects));
}

void AgentHost::Perform(popflow::Effects effects) {
  for (popflow::Effect& effect : effects) {
    if (auto* frame = std::get_if<popflow::ExtensionFrame>(&effect)) {
      session_.Publish(std::move(frame->frame));
    } else if (auto* request = std::get_if<popflow::HttpRequest>(&effect)) {
      http_->Execute(*request, [this, alive = alive_](uint64_t id, popflow::HttpResult result) {
        if (*alive)
          Perform(popflow_->engine().OnHttpResult(id, result));
      });
    } else if (auto* command = std::get_if<popflow::AgentStateCommand>(&effect)) {
      if (!agent_) {
        OMNI_LOG(kWarning, "popflow", "setAgentState in run ", command->run_id,
                 ": no CTI link in this session");
        continue;
      }
      json::object request{{"type", "agent.setState"},
                           {"id", "popflow-" + command->run_id},
                           {"state", command->state}};
      if (!command->reason.empty())
        request["reason"] = command->reason;
      agent_->HandleRequest(request, [run = command->run_id](json::object reply) {
        if (StringOf(reply, "type") == "error")
          OMNI_LOG(kWarning, "popflow", "setAgentState in run ", run, ": ",
                   StringOf(reply, "message"));
      });
    } else if (auto* launch = std::get_if<popflow::AppLaunch>(&effect)) {
      absl::Status launched = launcher_->Launch(*launch);
      Perform(popflow_->engine().OnLaunchResult(launch->id, launched));
    } else if (auto* timer = std::get_if<popflow::TimerRequest>(&effect)) {
      // The handler owns its timer, so a pending one lives until it fires.
      auto steady = std::make_shared<boost::asio::steady_timer>(loop_);
      absl::Duration wait = std::max(absl::ZeroDuration(), timer->deadline - clock_.Now());
      steady->expires_after(absl::ToChronoMilliseconds(wait));
      steady->async_wait(
          [this, steady, id = timer->id, alive = alive_](const boost::system::error_code& ec) {
            if (ec || !*alive)
              return;
            Perform(popflow_->engine().OnTimer(id));
          });
    }
  }
}

absl::Status AgentHost::OnEvent(const connect::ConnectEvent& event) {
  if (!popflow_)
    return absl::UnavailableError("PopFlow is not running in this session");
  json::object body = event.ToJson();
  auto effects = popflow_->OnConnectEvent(body, agent_state_);
  if (!effects.ok())
    return effects.status();
  if (connect_)
    connect_->Broadcast(body);
  Perform(std::move(*effects));
  return absl::OkStatus();
}

json::array AgentHost::Interactions() const {
  json::array out;
  for (const auto& [id, interaction] : interactions_)
    out.push_back(interaction);
  return out;
}

}  // namespace omnibridge::app
