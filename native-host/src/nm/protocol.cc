#include "nm/protocol.h"

#include "boost/json/value_from.hpp"
#include "boost/json/value_to.hpp"

#include "base/log.h"

namespace omnibridge::nm {
namespace json = boost::json;

const std::vector<MessageTypeInfo>& AllMessageTypes() {
  static const std::vector<MessageTypeInfo> kTypes = {
      // extension → host
      {"hello", Direction::kToHost, true},
      {"ping", Direction::kToHost, true},
      {"agent.setState", Direction::kToHost, true},
      {"call.answer", Direction::kToHost, true},
      {"call.hangup", Direction::kToHost, true},
      {"call.hold", Direction::kToHost, true},
      {"call.resume", Direction::kToHost, true},
      {"call.transfer", Direction::kToHost, true},
      {"call.dial", Direction::kToHost, true},
      {"routing.accept", Direction::kToHost, true},
      {"routing.decline", Direction::kToHost, true},
      {"routing.complete", Direction::kToHost, true},
      {"crm.event", Direction::kToHost, true},
      {"popflow.list", Direction::kToHost, true},
      {"popflow.get", Direction::kToHost, true},
      {"popflow.deploy", Direction::kToHost, true},
      {"popflow.test", Direction::kToHost, true},
      {"doctor", Direction::kToHost, true},
      // host → extension
      {"hello", Direction::kToExtension, false},
      {"pong", Direction::kToExtension, false},
      {"ack", Direction::kToExtension, false},
      {"error", Direction::kToExtension, false},
      {"cti.status", Direction::kToExtension, false},
      {"agent.state", Direction::kToExtension, false},
      {"interaction.update", Direction::kToExtension, false},
      {"interaction.ended", Direction::kToExtension, false},
      {"routing.offer", Direction::kToExtension, false},
      {"routing.offerWithdrawn", Direction::kToExtension, false},
      {"popflow.run", Direction::kToExtension, false},
  };
  return kTypes;
}

const MessageTypeInfo* FindMessageType(std::string_view type) {
  for (const MessageTypeInfo& info : AllMessageTypes()) {
    if (info.direction == Direction::kToHost && info.type == type)
      return &info;
  }
  return nullptr;
}

namespace {

enum class Kind { kString, kInteger, kObject, kAny };

struct FieldRule {
  std::string_view field;
  Kind kind;
  bool required;
};

// Strings from the browser are bounded so one field cannot carry the whole frame into logs or CTI
// commands; ids and codes are short.
constexpr size_t kMaxShortString = 256;

std::vector<FieldRule> RulesFor(std::string_view type) {
  if (type == "hello") {
    return {{"protocol", Kind::kInteger, true},
            {"extensionVersion", Kind::kString, false},
            {"settings", Kind::kObject, false}};
  }
  if (type == "ping")
    return {{"payload", Kind::kAny, false}};
  if (type == "agent.setState") {
    return {{"state", Kind::kString, true}, {"reason", Kind::kString, false}};
  }
  if (type == "call.dial")
    return {{"number", Kind::kString, true}};
  if (type == "call.transfer") {
    return {{"interactionId", Kind::kString, true},
            {"target", Kind::kString, true},
            {"mode", Kind::kString, false}};
  }
  if (type.starts_with("call.") || type.starts_with("routing.")) {
    return {{"interactionId", Kind::kString, true}};
  }
  return {};
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kInteger:
      return "an integer";
    case Kind::kObject:
      return "an object";
    case Kind::kAny:
      return "a value";
  }
  return "a value";
}

bool Matches(const json::value& value, Kind kind) {
  switch (kind) {
    case Kind::kString:
      return value.is_string() && value.get_string().size() <= kMaxShortString;
    case Kind::kInteger:
      return value.is_int64() || value.is_uint64();
    case Kind::kObject:
      return value.is_object();
    case Kind::kAny:
      return true;
  }
  return false;
}

std::string StringField(const json::object& o, std::string_view key) {
  if (const json::value* v = o.if_contains(key)) {
    if (const json::string* s = v->if_string())
      return std::string(s->data(), s->size());
  }
  return "";
}

json::value IdOf(const json::object& o) {
  if (const json::value* v = o.if_contains("id"))
    return *v;
  return nullptr;
}

template <typename T>
json::result<T> FromObject(const json::value& jv, T (*convert)(const json::object&)) {
  const json::object* o = jv.if_object();
  if (o == nullptr)
    return make_error_code(json::error::not_object);
  return convert(*o);
}

void PutIfNotEmpty(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty())
    o[key] = value;
}

json::array ToArray(const std::vector<std::string>& items) {
  json::array array;
  array.reserve(items.size());
  for (const std::string& item : items)
    array.emplace_back(item);
  return array;
}

}  // namespace

absl::Status CheckRequestFields(const json::object& message) {
  std::string_view type = message.at("type").get_string();
  const json::value* id = message.if_contains("id");
  if (id == nullptr || !(id->is_string() || id->is_int64() || id->is_uint64()) ||
      (id->is_string() && (id->get_string().empty() || id->get_string().size() > 128))) {
    return WireError(WireCode::kInvalidRequest,
                     base::Cat(type, ": field \"id\" must be a non-empty string (or number)"));
  }
  for (const FieldRule& rule : RulesFor(type)) {
    const json::value* value = message.if_contains(rule.field);
    if (value == nullptr) {
      if (rule.required) {
        return WireError(WireCode::kInvalidRequest,
                         base::Cat(type, ": field \"", rule.field, "\" is required"));
      }
      continue;
    }
    if (!Matches(*value, rule.kind)) {
      return WireError(WireCode::kInvalidRequest,
                       base::Cat(type, ": field \"", rule.field, "\" must be ", KindName(rule.kind),
                                 rule.kind == Kind::kString ? " of at most 256 bytes" : ""));
    }
  }
  return absl::OkStatus();
}

json::result_for<HelloRequest, json::value>::type tag_invoke(json::try_value_to_tag<HelloRequest>,
                                                             const json::value& jv) {
  return FromObject<HelloRequest>(jv, [](const json::object& o) {
    HelloRequest r;
    r.id = IdOf(o);
    if (const json::value* p = o.if_contains("protocol"); p && p->is_int64()) {
      r.protocol = static_cast<int>(p->get_int64());
    }
    r.extension_version = StringField(o, "extensionVersion");
    if (const json::value* s = o.if_contains("settings"); s && s->is_object()) {
      r.settings = s->get_object();
    }
    return r;
  });
}

json::result_for<PingRequest, json::value>::type tag_invoke(json::try_value_to_tag<PingRequest>,
                                                            const json::value& jv) {
  return FromObject<PingRequest>(jv, [](const json::object& o) {
    PingRequest r;
    r.id = IdOf(o);
    if (const json::value* p = o.if_contains("payload"))
      r.payload = *p;
    return r;
  });
}

json::result_for<AgentSetStateRequest, json::value>::type tag_invoke(
    json::try_value_to_tag<AgentSetStateRequest>, const json::value& jv) {
  return FromObject<AgentSetStateRequest>(jv, [](const json::object& o) {
    AgentSetStateRequest r;
    r.id = IdOf(o);
    r.state = StringField(o, "state");
    if (o.contains("reason"))
      r.reason = StringField(o, "reason");
    return r;
  });
}

json::result_for<CallRequest, json::value>::type tag_invoke(json::try_value_to_tag<CallRequest>,
                                                            const json::value& jv) {
  return FromObject<CallRequest>(jv, [](const json::object& o) {
    CallRequest r;
    r.id = IdOf(o);
    std::string type = StringField(o, "type");
    r.action = type.starts_with("call.") ? type.substr(5) : type;
    r.interaction_id = StringField(o, "interactionId");
    r.target = StringField(o, "target");
    r.mode = StringField(o, "mode");
    r.number = StringField(o, "number");
    return r;
  });
}

json::result_for<RoutingRequest, json::value>::type tag_invoke(
    json::try_value_to_tag<RoutingRequest>, const json::value& jv) {
  return FromObject<RoutingRequest>(jv, [](const json::object& o) {
    RoutingRequest r;
    r.id = IdOf(o);
    std::string type = StringField(o, "type");
    r.action = type.starts_with("routing.") ? type.substr(8) : type;
    r.interaction_id = StringField(o, "interactionId");
    return r;
  });
}

void tag_invoke(json::value_from_tag, json::value& jv, const HelloReply& m) {
  jv = {{"type", "hello"},
        {"re", m.re},
        {"protocol", m.protocol},
        {"version", m.version},
        {"capabilities", ToArray(m.capabilities)}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const Pong& m) {
  jv = {{"type", "pong"}, {"re", m.re}, {"payload", m.payload}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const Ack& m) {
  jv = {{"type", "ack"}, {"re", m.re}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const ErrorReply& m) {
  json::object o;
  o["type"] = "error";
  if (!m.re.is_null())
    o["re"] = m.re;
  o["code"] = WireCodeName(m.code);
  o["message"] = m.message;
  jv = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& jv, const CtiStatus& m) {
  json::object o{{"type", "cti.status"}, {"state", m.state}, {"driver", m.driver}};
  PutIfNotEmpty(o, "detail", m.detail);
  jv = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& jv, const AgentState& m) {
  json::object o{{"type", "agent.state"}, {"agentId", m.agent_id}, {"state", m.state}};
  PutIfNotEmpty(o, "reason", m.reason);
  o["since"] = m.since;
  o["paused"] = ToArray(m.paused);
  o["reasonCodes"] = ToArray(m.reason_codes);
  jv = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& jv, const Interaction& m) {
  jv = {{"interactionId", m.interaction_id},
        {"channel", m.channel},
        {"direction", m.direction},
        {"state", m.state},
        {"ani", m.ani},
        {"callerName", m.caller_name},
        {"dnis", m.dnis},
        {"queue", m.queue},
        {"data", m.data},
        {"since", m.since}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const InteractionUpdate& m) {
  jv = {{"type", "interaction.update"}, {"interaction", json::value_from(m.interaction)}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const InteractionEnded& m) {
  jv = {{"type", "interaction.ended"}, {"interactionId", m.interaction_id}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const Offer& m) {
  jv = {{"interactionId", m.interaction_id},
        {"channel", m.channel},
        {"queue", m.queue},
        {"subject", m.subject},
        {"customer", m.customer},
        {"url", m.url},
        {"timeoutSeconds", m.timeout_seconds}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const RoutingOffer& m) {
  jv = {{"type", "routing.offer"}, {"offer", json::value_from(m.offer)}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const RoutingOfferWithdrawn& m) {
  jv = {{"type", "routing.offerWithdrawn"}, {"interactionId", m.interaction_id}};
}

void tag_invoke(json::value_from_tag, json::value& jv, const PopflowRun& m) {
  jv = {{"type", "popflow.run"},
        {"runId", m.run_id},
        {"interactionId", m.interaction_id},
        {"flow", m.flow},
        {"actions", m.actions}};
}

json::object MakeErrorFrame(const json::value& re, const absl::Status& status) {
  ErrorReply reply{re, WireCodeOf(status), std::string(status.message())};
  return json::value_from(reply).as_object();
}

}  // namespace omnibridge::nm
