// The agent's side of a browser session, composed: the CTI link and agent model (agent/), the
// PopFlow engine (popflow/) and the loopback Connect API (connect/). Every frame of the agent
// model passes through here before reaching the extension, so flows see interaction and agent
// changes, and Connect API subscribers see interaction events.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/json/object.hpp"

#include "agent/agent_session.h"
#include "app/host_session.h"
#include "base/clock.h"
#include "config/config.h"
#include "connect/connect.h"
#include "cti/cti_link.h"
#include "popflow/io/popflow_io.h"
#include "popflow/popflow_service.h"

namespace omnibridge::app {

// Lives on the loop's thread; `loop`, `clock` and `session` must outlive it.
class AgentHost final : public connect::ConnectBackend {
 public:
  // Starts what the configuration allows: without an agent (agent.id, agent.interfaces) there
  // is no CTI link, and the extension is told why in a cti.status frame. `admin` is the
  // configuration from the administrator's layers only (system file, managed settings): PopFlow
  // takes allowed programs and enterprise flows from there, never from the user's file.
  AgentHost(boost::asio::io_context& loop, const base::Clock& clock, HostSession& session,
            const config::Config& config, const config::Config& admin);
  ~AgentHost() override;
  AgentHost(const AgentHost&) = delete;
  AgentHost& operator=(const AgentHost&) = delete;

  // What the hello reply announces for a session with this configuration.
  static std::vector<std::string> Capabilities(const config::Config& config);

  // connect::ConnectBackend
  absl::Status OnEvent(const connect::ConnectEvent& event) override;
  boost::json::array Interactions() const override;

 private:
  void StartCti(const config::Config& config);
  void StartPopflow(const config::Config& config, const config::Config& admin);
  void StartConnect(const config::Config& config);
  void RegisterHandlers();
  void Problem(nm::WireCode code, const std::string& message);

  // A frame from the agent model, on its way to the extension.
  void OnAgentFrame(boost::json::object frame);
  void Perform(popflow::Effects effects);

  boost::asio::io_context& loop_;
  const base::Clock& clock_;
  HostSession& session_;
  std::string driver_;

  std::unique_ptr<cti::CtiLink> link_;
  std::unique_ptr<agent::AgentSession> agent_;

  std::unique_ptr<popflow::DirectoryFlowStorage> flow_storage_;
  std::unique_ptr<popflow::FlowStore> flow_store_;
  std::unique_ptr<popflow::PopflowService> popflow_;
  std::unique_ptr<popflow::AppLauncher> launcher_;
  std::unique_ptr<popflow::HttpExecutor> http_;

  std::unique_ptr<connect::ConnectServer> connect_;

  boost::json::object agent_state_;  // the latest agent.state frame
  // Live interactions by id (latest snapshot) and the offers shown, for triggers and Connect.
  absl::flat_hash_map<std::string, boost::json::object> interactions_;
  absl::flat_hash_map<std::string, boost::json::object> offers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace omnibridge::app
