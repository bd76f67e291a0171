#include "agent/agent_session.h"

#include <utility>

#include "boost/json/value.hpp"

#include "base/log.h"
#include "cti/text_util.h"

namespace omnibridge::agent {
namespace json = boost::json;
using cti::text::Sv;

namespace {

constexpr std::string_view kInteractionRequests[] = {
    "call.answer", "call.hangup",    "call.hold",       "call.resume",      "call.transfer",
    "call.dial",   "routing.accept", "routing.decline", "routing.complete",
};

json::object Ack(const json::value* id) {
  json::object reply;
  reply["type"] = "ack";
  if (id != nullptr)
    reply["re"] = *id;
  return reply;
}

json::object Error(const json::value* id, std::string_view code, std::string_view message) {
  json::object reply;
  reply["type"] = "error";
  if (id != nullptr)
    reply["re"] = *id;
  reply["code"] = code;
  reply["message"] = message;
  return reply;
}

bool Supported(const cti::Capabilities& caps, std::string_view type) {
  if (type == "call.hold" || type == "call.resume")
    return caps.hold;
  if (type == "call.dial")
    return caps.dial;
  if (type == "call.answer")
    return caps.answer;
  if (type == "call.hangup")
    return caps.hangup;
  if (type == "call.transfer")
    return caps.blind_transfer || caps.attended_transfer;
  if (type.substr(0, 8) == "routing.")
    return caps.task_routing;
  if (type == "agent.setState")
    return caps.pause_with_reason;
  return true;
}

}  // namespace

AgentSession::AgentSession(AgentConfig config, cti::CtiLink* link, const base::Clock* clock,
                           FrameFn send_frame)
    : model_(std::move(config), clock),
      link_(link),
      send_frame_(std::move(send_frame)),
      self_(std::make_shared<AgentSession*>(this)) {}

AgentSession::~AgentSession() = default;

bool AgentSession::Handles(std::string_view type) {
  if (type == "agent.setState")
    return true;
  for (std::string_view t : kInteractionRequests) {
    if (t == type)
      return true;
  }
  return false;
}

std::vector<std::string> AgentSession::HelloCapabilities() { return {"agent", "calls", "routing"}; }

std::string_view AgentSession::ErrorCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "invalid_request";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
      return "failed_precondition";
    case absl::StatusCode::kUnimplemented:
      return "not_available";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
      return "cti_down";
    default:
      return "internal";
  }
}

void AgentSession::OnLinkStatus(const cti::LinkStatus& status) {
  Effects effects;
  model_.OnLinkStatus(status, effects);
  Apply(std::move(effects));
}

void AgentSession::OnEvent(const cti::CtiEvent& event) {
  Effects effects;
  model_.OnEvent(event, effects);
  Apply(std::move(effects));
}

void AgentSession::Apply(Effects effects) {
  for (json::object& frame : effects.frames) {
    if (send_frame_)
      send_frame_(std::move(frame));
  }
  for (cti::Command& command : effects.commands) {
    std::weak_ptr<AgentSession*> weak = self_;
    cti::Command copy = command;
    link_->Execute(command, [weak, copy = std::move(copy)](absl::Status status) {
      if (status.ok())
        return;
      OMNI_LOG(kWarning, "agent", cti::CommandName(copy), " failed: ", status.message());
      auto self = weak.lock();
      if (!self)
        return;
      Effects more;
      (*self)->model_.OnCommandFailed(copy, status, more);
      (*self)->Apply(std::move(more));
    });
  }
}

void AgentSession::Execute(std::vector<cti::Command> commands,
                           std::function<void(absl::Status)> done) {
  // One reply for several commands (one QueuePause per interface): the first error wins.
  struct Join {
    size_t left;
    absl::Status first_error;
    std::function<void(absl::Status)> done;
  };

  auto join = std::make_shared<Join>(Join{commands.size(), absl::OkStatus(), std::move(done)});
  if (commands.empty())
    return join->done(absl::OkStatus());
  for (const cti::Command& command : commands) {
    link_->Execute(command, [join](absl::Status status) {
      if (!status.ok() && join->first_error.ok())
        join->first_error = status;
      if (--join->left == 0)
        join->done(join->first_error);
    });
  }
}

void AgentSession::HandleRequest(const json::object& request, ReplyFn reply) {
  const json::value* id = request.if_contains("id");
  const json::value* type_value = request.if_contains("type");
  if (type_value == nullptr || !type_value->is_string()) {
    return reply(Error(id, "missing_type", "request has no \"type\""));
  }
  const std::string_view type(type_value->get_string().data(), type_value->get_string().size());
  if (!Handles(type)) {
    return reply(Error(id, "unknown_type", std::string("unknown type ").append(type)));
  }
  if (!Supported(link_->capabilities(), type)) {
    return reply(Error(id, "not_available",
                       std::string(type).append(" is not supported by the telephony platform")));
  }
  if (link_->status().state != cti::LinkState::kUp) {
    return reply(Error(id, "cti_down", "the telephony link is not up"));
  }
  std::vector<cti::Command> commands;
  if (type == "agent.setState") {
    auto string_field = [&](const char* name) -> std::string {
      const json::value* v = request.if_contains(name);
      if (v == nullptr || !v->is_string())
        return {};
      return std::string(v->get_string().data(), v->get_string().size());
    };
    auto planned = model_.PlanSetState(string_field("state"), string_field("reason"));
    if (!planned.ok()) {
      return reply(Error(id, ErrorCode(planned.status()), Sv(planned.status().message())));
    }
    commands = *std::move(planned);
  } else {
    auto planned = model_.PlanInteractionCommand(type, request);
    if (!planned.ok()) {
      return reply(Error(id, ErrorCode(planned.status()), Sv(planned.status().message())));
    }
    commands.push_back(*std::move(planned));
  }
  std::optional<json::value> id_copy;
  if (id != nullptr)
    id_copy = *id;
  std::weak_ptr<AgentSession*> weak = self_;
  Execute(std::move(commands), [weak, id_copy, reply = std::move(reply)](absl::Status status) {
    if (!weak.lock())
      return;
    const json::value* re = id_copy ? &*id_copy : nullptr;
    if (status.ok())
      return reply(Ack(re));
    reply(Error(re, ErrorCode(status), Sv(status.message())));
  });
}

}  // namespace omnibridge::agent
