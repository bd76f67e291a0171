// The host⇄extension protocol, declared in one place (docs/protocol.md, DESIGN.md "Contracts").
// Host → extension messages convert to JSON with boost::json::value_from; extension → host
// requests convert from JSON with DecodeRequest<T>(), which validates fields and never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/conversion.hpp"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "boost/json/value_to.hpp"

#include "nm/wire_error.h"

namespace omnibridge::nm {

inline constexpr int kProtocolVersion = 1;

// Who sends a message type, and whether this build answers it yet.
enum class Direction { kToHost, kToExtension };

struct MessageTypeInfo {
  std::string_view type;
  Direction direction;
  bool request;  // carries `id`, expects a reply with `re`
};

// Every message type of the protocol, both directions.
const std::vector<MessageTypeInfo>& AllMessageTypes();
const MessageTypeInfo* FindMessageType(std::string_view type);

// ---- extension → host ----------------------------------------------------------------------

struct HelloRequest {
  boost::json::value id;
  int protocol = 0;
  std::string extension_version;
  boost::json::object settings;  // the enterprise layer (managed storage)
};

struct PingRequest {
  boost::json::value id;
  boost::json::value payload;
};

struct AgentSetStateRequest {
  boost::json::value id;
  std::string state;  // ready | notReady
  std::optional<std::string> reason;
};

// call.answer|hangup|hold|resume|transfer|dial
struct CallRequest {
  boost::json::value id;
  std::string action;  // the part after "call."
  std::string interaction_id;
  std::string target;  // transfer
  std::string mode;    // transfer: blind | attended
  std::string number;  // dial
};

// routing.accept|decline|complete
struct RoutingRequest {
  boost::json::value id;
  std::string action;
  std::string interaction_id;
};

boost::json::result_for<HelloRequest, boost::json::value>::type tag_invoke(
    boost::json::try_value_to_tag<HelloRequest>, const boost::json::value& jv);
boost::json::result_for<PingRequest, boost::json::value>::type tag_invoke(
    boost::json::try_value_to_tag<PingRequest>, const boost::json::value& jv);
boost::json::result_for<AgentSetStateRequest, boost::json::value>::type tag_invoke(
    boost::json::try_value_to_tag<AgentSetStateRequest>, const boost::json::value& jv);
boost::json::result_for<CallRequest, boost::json::value>::type tag_invoke(
    boost::json::try_value_to_tag<CallRequest>, const boost::json::value& jv);
boost::json::result_for<RoutingRequest, boost::json::value>::type tag_invoke(
    boost::json::try_value_to_tag<RoutingRequest>, const boost::json::value& jv);

// Checks a request's fields against the protocol's table (required fields present, each of the
// right JSON kind, strings within bounds): invalid_request naming the field otherwise.
absl::Status CheckRequestFields(const boost::json::object& message);

// Converts a validated message to T after CheckRequestFields().
template <typename T>
absl::StatusOr<T> DecodeRequest(const boost::json::object& message) {
  absl::Status fields = CheckRequestFields(message);
  if (!fields.ok())
    return fields;
  boost::json::value jv(message);
  auto result = boost::json::try_value_to<T>(jv);
  if (!result) {
    return WireError(WireCode::kInvalidRequest,
                     std::string("invalid request: ") + result.error().message());
  }
  return std::move(*result);
}

// ---- host → extension ----------------------------------------------------------------------

struct HelloReply {
  boost::json::value re;
  int protocol = kProtocolVersion;
  std::string version;
  std::vector<std::string> capabilities;
};

struct Pong {
  boost::json::value re;
  boost::json::value payload;
};

struct Ack {
  boost::json::value re;
};

struct ErrorReply {
  boost::json::value re;  // null when not answering a request
  WireCode code = WireCode::kInternal;
  std::string message;
};

struct CtiStatus {
  std::string state;  // connecting | up | down
  std::string driver;
  std::string detail;  // only sent when non-empty
};

struct AgentState {
  std::string agent_id;
  std::string state;   // loggedOut | ready | notReady | busy | wrapup
  std::string reason;  // only sent when non-empty
  std::string since;   // ISO 8601
  std::vector<std::string> paused;
  std::vector<std::string> reason_codes;
};

struct Interaction {
  std::string interaction_id;
  std::string channel;    // voice | chat | email | sms | social
  std::string direction;  // inbound | outbound
  std::string state;      // offered | connected | held | ended | wrapup
  std::string ani;
  std::string caller_name;
  std::string dnis;
  std::string queue;
  boost::json::object data;
  std::string since;
};

struct InteractionUpdate {
  Interaction interaction;
};

struct InteractionEnded {
  std::string interaction_id;
};

struct Offer {
  std::string interaction_id;
  std::string channel;
  std::string queue;
  std::string subject;
  std::string customer;
  std::string url;
  int timeout_seconds = 0;
};

struct RoutingOffer {
  Offer offer;
};

struct RoutingOfferWithdrawn {
  std::string interaction_id;
};

struct PopflowRun {
  std::string run_id;
  std::string interaction_id;
  std::string flow;
  boost::json::array actions;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const HelloReply& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const Pong& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const Ack& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const ErrorReply& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const CtiStatus& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const AgentState& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const Interaction& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const InteractionUpdate& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const InteractionEnded& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const Offer& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const RoutingOffer& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv,
                const RoutingOfferWithdrawn& m);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const PopflowRun& m);

// An error frame for `status` (its wire code and message), answering `re` when not null.
boost::json::object MakeErrorFrame(const boost::json::value& re, const absl::Status& status);

}  // namespace omnibridge::nm
