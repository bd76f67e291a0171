// The agent and interaction model: logic without I/O.
//
// It takes normalised CTI events (cti/cti_link.h) and a clock, and returns effects as values:
// frames for the extension (boost::json objects, docs/protocol.md) and CTI commands to issue.
// Contracts it implements are DESIGN.md "Contracts": agent.state from the ACD's own events, one
// QueuePause per interface, frames only when a snapshot changed, wrap-up as a pause with reason
// ACW, re-applying a not-ready state an Asterisk restart forgot, matching by member interface /
// name and Linkedid (never by parsing channel names).
//
// Not thread-safe; lives on the event-loop thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json/object.hpp"

#include "base/clock.h"
#include "cti/cti_link.h"

namespace omnibridge::agent {

// Mirrors config keys `agent.*`.
struct AgentConfig {
  std::string agent_id;                   // agent.id, e.g. "1001"
  std::vector<std::string> interfaces;    // agent.interfaces: the agent's queue member interfaces
  std::vector<std::string> queues;        // agent.queues (informational; pauses span all queues)
  std::vector<std::string> reason_codes;  // agent.reasonCodes; empty = any reason accepted
  std::string wrapup_reason = "ACW";      // pause reason that means wrap-up
  std::string driver = "ami";             // cti.driver, echoed in cti.status
  std::string dial_endpoint;              // where call.dial rings first; default: interfaces[0]
};

// What the model asks its owner to do, in order.
struct Effects {
  std::vector<boost::json::object> frames;  // host → extension, each with its "type"
  std::vector<cti::Command> commands;       // to issue on the CTI link
};

enum class AgentState { kLoggedOut, kReady, kNotReady, kBusy, kWrapup };
std::string_view AgentStateName(AgentState state);

enum class InteractionState { kOffered, kConnected, kHeld, kEnded, kWrapup };
std::string_view InteractionStateName(InteractionState state);

class AgentModel {
 public:
  // `clock` is not owned and must outlive the model.
  AgentModel(AgentConfig config, const base::Clock* clock);
  ~AgentModel();
  AgentModel(const AgentModel&) = delete;
  AgentModel& operator=(const AgentModel&) = delete;

  void OnLinkStatus(const cti::LinkStatus& status, Effects& out);
  void OnEvent(const cti::CtiEvent& event, Effects& out);
  // A command the model asked for failed (e.g. the wrap-up pause): the model stops waiting for its
  // echo so no state gets stuck.
  void OnCommandFailed(const cti::Command& command, const absl::Status& status, Effects& out);

  // Extension requests, planned into commands. Errors: kInvalidArgument (bad request),
  // kNotFound (no such interaction), kFailedPrecondition (not in a state that allows it).
  // `state`: "ready" | "notReady".
  absl::StatusOr<std::vector<cti::Command>> PlanSetState(std::string_view state,
                                                         std::string_view reason) const;
  // `type`: call.answer|hangup|hold|resume|transfer|dial, routing.accept|decline|complete;
  // `request` is the extension's frame.
  absl::StatusOr<cti::Command> PlanInteractionCommand(std::string_view type,
                                                      const boost::json::object& request) const;

  // Frames that describe the present (cti.status, agent.state, one interaction.update per live
  // interaction), for an extension that just said hello.
  std::vector<boost::json::object> CurrentFrames() const;

  // Introspection (tests, doctor).
  AgentState state() const;
  std::string reason() const;
  size_t interaction_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding of the routing variables that Originate would otherwise split at commas
// (OB_CRM_URL, OB_SUBJECT, OB_CUSTOMER). Malformed escapes are kept as they are.
std::string PercentDecode(std::string_view encoded);

}  // namespace omnibridge::agent
