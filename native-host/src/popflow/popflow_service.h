// PopflowService: the glue between the host session and PopFlow, without sockets. It serves the
// extension's popflow.list|get|deploy|test requests and the `crm.event` popflow.result, turns
// interaction/agent/routing/Connect API events into triggers, and returns replies and effects as
// values for the host to send or perform.
//
// Wiring (app/), all on the event loop:
//   PopflowService svc(clock, store.get(), options);
//   request of type popflow.*        → auto out = svc.HandleRequest(req); reply(out.reply);
//                                      perform(out.effects)
//   crm.event with event popflow.result → perform(svc.OnCrmEvent(req)); reply ack
//   every interaction.update frame    → perform(svc.OnInteractionUpdate(frame["interaction"],
//   agent)) interaction.ended                 → perform(svc.OnInteractionEnded(id, agent))
//   agent.state frame                 → perform(svc.OnAgentState(frame))
//   routing.accept / routing.decline  → perform(svc.OnRoutingDecision(accepted, offer, agent))
//   Connect API POST /v1/events body  → perform(svc.OnConnectEvent(body, agent))
//   perform: ExtensionFrame → send; HttpRequest → HttpExecutor, then svc.engine().OnHttpResult;
//   AppLaunch → AppLauncher, then OnLaunchResult; AgentStateCommand → agent.setState path;
//   TimerRequest → a loop timer, then svc.engine().OnTimer (and perform its effects too).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "boost/json.hpp"

#include "base/clock.h"
#include "popflow/flow_store.h"
#include "popflow/popflow.h"

namespace omnibridge::popflow {

struct ServiceOptions {
  EngineOptions engine;
  FlowLimits limits;
  // Send the protocol's default pop (search by caller number on a voice offer) when no deployed
  // flow is bound to interaction.offered. Off by default: agent::AgentSession sends it today.
  bool default_pop = false;
};

class PopflowService {
 public:
  // `clock` and `store` are not owned and must outlive the service.
  PopflowService(const base::Clock& clock, FlowStore* store, ServiceOptions options = {});

  // popflow.list | popflow.get | popflow.deploy | popflow.test.
  static bool Handles(std::string_view type);

  struct Output {
    boost::json::object reply;  // typed reply or {"type":"error","code","message",...}; no "re"
    Effects effects;
  };

  // Never throws; bad requests get an `invalid_request` / `not_found` / `failed_precondition`
  // error reply.
  Output HandleRequest(const boost::json::object& request);

  // `crm.event` frames: "popflow.result" (an action's result) and "popflow.button" ({"flow",
  // "interactionId"?, "data"?}: the agent clicked a flow button). Others are ignored.
  Effects OnCrmEvent(const boost::json::object& event);

  // Derives triggers from successive interaction snapshots (interaction.update's "interaction"):
  // first seen offered → offered; → connected (from offered) → connected; → held; held →
  // connected → resumed; → wrapup → wrapupStarted; → ended → ended (+ missed when never
  // connected, for inbound). A "transferred": true field that newly appears → transferred.
  Effects OnInteractionUpdate(const boost::json::object& interaction,
                              const boost::json::object& agent);
  // interaction.ended (gone from the host's model): wrapupEnded if it was in wrap-up, ended/missed
  // if no ended snapshot came first. Forgets the interaction.
  Effects OnInteractionEnded(std::string_view interaction_id, const boost::json::object& agent);
  // agent.state frames → agent.stateChanged when the state or reason changes.
  Effects OnAgentState(const boost::json::object& state);
  // The agent accepted or declined a routing offer (routing.offer's "offer" object).
  Effects OnRoutingDecision(bool accepted, const boost::json::object& offer,
                            const boost::json::object& agent);
  // A Connect API event body {"event": "offered|…|custom", "name"?, "interaction": {…},
  // "data"?: {…}}: runs the flows bound to the matching trigger (custom → connect.event with
  // that name). InvalidArgument for a malformed body (the Connect API answers 400).
  absl::StatusOr<Effects> OnConnectEvent(const boost::json::object& body,
                                         const boost::json::object& agent);
  // The agent clicked a flow button (button.clicked flows) for an interaction.
  Effects OnButton(std::string_view flow_name, const boost::json::object& interaction,
                   const boost::json::object& agent, const boost::json::object& data);

  // Re-reads the store's active flows into the engine (after deploys, or enterprise changes).
  void Reload();

  Engine& engine() { return engine_; }

 private:
  Output List();
  Output Get(const boost::json::object& request);
  Output Deploy(const boost::json::object& request);
  Output Test(const boost::json::object& request);
  Effects Fire(std::string event, const boost::json::object& interaction,
               const boost::json::object& agent, std::string source = "cti",
               boost::json::object data = {}, std::string name = "");

  struct Seen {
    std::string state;
    bool connected = false;
    bool transferred = false;
    bool inbound = true;
    boost::json::object last;  // the latest snapshot, for triggers after the model forgot it
  };

  const base::Clock& clock_;
  FlowStore* store_;
  ServiceOptions options_;
  Engine engine_;
  absl::flat_hash_map<std::string, Seen> interactions_;
  boost::json::object agent_;  // the latest agent.state, for triggers that come without one
  std::string agent_state_;
  std::string agent_reason_;
};

}  // namespace omnibridge::popflow
