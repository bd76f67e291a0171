// AgentSession: the agent side of the host session. It owns the agent model, listens to a CtiLink
// (as its CtiEventSink), issues the model's commands on that link, sends the model's frames to the
// extension, and serves the extension's agent/call/routing requests. It has no sockets of its own.
//
// Wiring (app/):
//   AgentSession session(config, link.get(), &clock, send_frame);
//   link->Start(&session);
//   ... for a request whose type AgentSession::Handles(): session.HandleRequest(request, reply);
//   ... after the extension's hello: for (auto& f : session.CurrentFrames()) send_frame(f);
//
// Threading: everything on the event-loop thread. The session must outlive nothing: completions
// that arrive after its destruction are dropped.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "boost/json/object.hpp"

#include "agent/agent_model.h"
#include "base/clock.h"
#include "cti/cti_link.h"

namespace omnibridge::agent {

class AgentSession final : public cti::CtiEventSink {
 public:
  // Gets every unsolicited frame: cti.status, agent.state, interaction.update, interaction.ended,
  // routing.offer, routing.offerWithdrawn, popflow.run (the default pop).
  using FrameFn = std::function<void(boost::json::object frame)>;
  // Gets the one reply to a request: {"type":"ack","re":id} or {"type":"error","re":id,...}.
  using ReplyFn = std::function<void(boost::json::object reply)>;

  // `link` and `clock` are not owned and must outlive the session.
  AgentSession(AgentConfig config, cti::CtiLink* link, const base::Clock* clock,
               FrameFn send_frame);
  ~AgentSession() override;

  // The request types HandleRequest serves: agent.setState, call.answer|hangup|hold|resume|
  // transfer|dial, routing.accept|decline|complete.
  static bool Handles(std::string_view type);
  // Capabilities for the host's hello: "agent", "calls", "routing".
  static std::vector<std::string> HelloCapabilities();

  // Serves one extension request (an object with "type" and "id"). `reply` is called exactly once,
  // possibly later (when the ACD answers). Never throws.
  void HandleRequest(const boost::json::object& request, ReplyFn reply);

  // The present state as frames, for an extension that just said hello.
  std::vector<boost::json::object> CurrentFrames() const { return model_.CurrentFrames(); }

  // cti::CtiEventSink
  void OnLinkStatus(const cti::LinkStatus& status) override;
  void OnEvent(const cti::CtiEvent& event) override;

  const AgentModel& model() const { return model_; }

  // The stable error code (docs/protocol.md) for a status.
  static std::string_view ErrorCode(const absl::Status& status);

 private:
  void Apply(Effects effects);
  void Execute(std::vector<cti::Command> commands, std::function<void(absl::Status)> done);

  AgentModel model_;
  cti::CtiLink* link_;
  FrameFn send_frame_;
  std::shared_ptr<AgentSession*> self_;  // completions hold a weak_ptr: late ones are dropped
};

}  // namespace omnibridge::agent
