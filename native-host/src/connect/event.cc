// POST /v1/events bodies: parsing and validation (no I/O; fuzzed by tests/fuzz/connect_events).
#include <array>
#include <utility>

#include "boost/json.hpp"

#include "base/log.h"
#include "connect/connect.h"

namespace omnibridge::connect {

namespace {

struct KindName {
  EventKind kind;
  std::string_view name;
};

constexpr std::array<KindName, 10> kKinds = {{
    {EventKind::kOffered, "offered"},
    {EventKind::kConnected, "connected"},
    {EventKind::kHeld, "held"},
    {EventKind::kResumed, "resumed"},
    {EventKind::kTransferred, "transferred"},
    {EventKind::kEnded, "ended"},
    {EventKind::kMissed, "missed"},
    {EventKind::kWrapupStarted, "wrapupStarted"},
    {EventKind::kWrapupEnded, "wrapupEnded"},
    {EventKind::kCustom, "custom"},
}};

// interaction.update string fields (DESIGN.md "Frames"), besides interactionId.
constexpr std::string_view kStringFields[] = {"channel",    "direction", "state", "ani",
                                              "callerName", "dnis",      "queue", "since"};
constexpr std::string_view kStates[] = {"offered", "connected", "held", "ended", "wrapup"};

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

std::string_view View(const boost::json::string& s) { return {s.data(), s.size()}; }

}  // namespace

std::string_view EventKindName(EventKind kind) {
  for (const KindName& k : kKinds) {
    if (k.kind == kind) {
      return k.name;
    }
  }
  return "custom";
}

std::optional<EventKind> ParseEventKind(std::string_view name) {
  for (const KindName& k : kKinds) {
    if (k.name == name) {
      return k.kind;
    }
  }
  return std::nullopt;
}

boost::json::object ConnectEvent::ToJson() const {
  boost::json::object out;
  out["event"] = EventKindName(kind);
  if (kind == EventKind::kCustom) {
    out["name"] = name;
  }
  out["interaction"] = interaction;
  if (!data.empty()) {
    out["data"] = data;
  }
  return out;
}

absl::StatusOr<ConnectEvent> ParseEventBody(std::string_view body, const EventLimits& limits) {
  boost::json::parse_options options;
  options.max_depth = static_cast<std::size_t>(limits.max_depth);
  boost::system::error_code ec;
  boost::json::value root;
  try {
    // Boost.JSON reports syntax errors through `ec`; allocation failure still throws.
    root = boost::json::parse(boost::json::string_view(body.data(), body.size()), ec,
                              boost::json::storage_ptr(), options);
  } catch (const std::exception& e) {
    return Invalid("body is not valid JSON");
  }
  if (ec) {
    return Invalid(base::Cat("body is not valid JSON: ", ec.message()));
  }
  const boost::json::object* object = root.if_object();
  if (object == nullptr) {
    return Invalid("body must be a JSON object");
  }

  ConnectEvent event;
  const boost::json::value* event_field = object->if_contains("event");
  if (event_field == nullptr || !event_field->is_string()) {
    return Invalid(
        "\"event\" must be one of offered, connected, held, resumed, transferred, "
        "ended, missed, wrapupStarted, wrapupEnded, custom");
  }
  std::optional<EventKind> kind = ParseEventKind(View(event_field->get_string()));
  if (!kind) {
    return Invalid("unknown \"event\"");
  }
  event.kind = *kind;

  if (const boost::json::value* name = object->if_contains("name")) {
    if (!name->is_string()) {
      return Invalid("\"name\" must be a string");
    }
    if (event.kind == EventKind::kCustom) {
      event.name = std::string(View(name->get_string()));
    }
  }
  if (event.kind == EventKind::kCustom &&
      (event.name.empty() || event.name.size() > limits.max_name)) {
    return Invalid(
        base::Cat("a custom event needs a \"name\" of 1 to ", limits.max_name, " characters"));
  }

  const boost::json::value* interaction_field = object->if_contains("interaction");
  if (interaction_field == nullptr) {
    return Invalid("\"interaction\" is missing");
  }
  const boost::json::object* interaction = interaction_field->if_object();
  if (interaction == nullptr) {
    return Invalid("\"interaction\" must be an object");
  }

  const boost::json::value* id = interaction->if_contains("interactionId");
  if (id == nullptr || !id->is_string() || id->get_string().empty() ||
      id->get_string().size() > limits.max_id) {
    return Invalid(base::Cat("\"interaction.interactionId\" must be a string of 1 to ",
                             limits.max_id, " characters"));
  }
  event.interaction["interactionId"] = id->get_string();
  for (std::string_view field : kStringFields) {
    const boost::json::value* v =
        interaction->if_contains(boost::json::string_view(field.data(), field.size()));
    if (v == nullptr || v->is_null()) {
      continue;
    }
    if (!v->is_string() || v->get_string().size() > limits.max_string) {
      return Invalid(base::Cat("\"interaction.", field, "\" must be a string of at most ",
                               limits.max_string, " characters"));
    }
    if (field == "state") {
      bool known = false;
      for (std::string_view s : kStates) {
        known = known || s == View(v->get_string());
      }
      if (!known) {
        return Invalid("\"interaction.state\" must be offered, connected, held, ended or wrapup");
      }
    }
    event.interaction[boost::json::string_view(field.data(), field.size())] = v->get_string();
  }
  if (const boost::json::value* data = interaction->if_contains("data")) {
    if (!data->is_null()) {
      if (!data->is_object()) {
        return Invalid("\"interaction.data\" must be an object");
      }
      if (boost::json::serialize(*data).size() > limits.max_data_bytes) {
        return Invalid("\"interaction.data\" is too large");
      }
      event.interaction["data"] = *data;
    }
  }
  if (const boost::json::value* data = object->if_contains("data")) {
    if (!data->is_null()) {
      if (!data->is_object()) {
        return Invalid("\"data\" must be an object");
      }
      if (boost::json::serialize(*data).size() > limits.max_data_bytes) {
        return Invalid("\"data\" is too large");
      }
      event.data = data->get_object();
    }
  }
  return event;
}

namespace {

boost::json::object Message(std::string_view event, const boost::json::object& interaction) {
  boost::json::object out;
  out["event"] = boost::json::string_view(event.data(), event.size());
  out["interaction"] = interaction;
  return out;
}

std::string StringField(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v != nullptr && v->is_string() ? std::string(View(v->get_string())) : std::string();
}

}  // namespace

std::vector<boost::json::object> InteractionEventStream::OnFrame(const boost::json::object& frame) {
  std::vector<boost::json::object> out;
  std::string type = StringField(frame, "type");
  if (type == "interaction.ended") {
    auto it = seen_.find(StringField(frame, "interactionId"));
    if (it == seen_.end()) {
      return out;
    }
    if (it->second.state == "wrapup") {
      out.push_back(Message("wrapupEnded", it->second.interaction));
    } else if (it->second.state != "ended") {
      out.push_back(Message("ended", it->second.interaction));
    }
    seen_.erase(it);
    return out;
  }
  if (type != "interaction.update") {
    return out;
  }
  const boost::json::value* value = frame.if_contains("interaction");
  if (value == nullptr || !value->is_object()) {
    return out;
  }
  const boost::json::object& interaction = value->get_object();
  std::string id = StringField(interaction, "interactionId");
  std::string state = StringField(interaction, "state");
  if (id.empty() || state.empty()) {
    return out;
  }

  auto it = seen_.find(id);
  if (it == seen_.end()) {
    if (seen_.size() >= max_tracked_ && !seen_.empty()) {
      auto oldest = seen_.begin();
      for (auto i = seen_.begin(); i != seen_.end(); ++i) {
        if (i->second.order < oldest->second.order) {
          oldest = i;
        }
      }
      seen_.erase(oldest);
    }
    it = seen_.emplace(id, Seen{}).first;
    it->second.order = next_order_++;
  }
  Seen& seen = it->second;
  const boost::json::value* transferred = interaction.if_contains("transferred");
  bool now_transferred =
      transferred != nullptr && transferred->is_bool() && transferred->get_bool();
  std::string previous = seen.state;
  seen.interaction = interaction;
  if (now_transferred && !seen.transferred) {
    out.push_back(Message("transferred", interaction));
  }
  seen.transferred = now_transferred;
  if (state == previous) {
    return out;
  }
  seen.state = state;
  if (state == "connected" && previous == "held") {
    out.push_back(Message("resumed", interaction));
  } else if (state == "wrapup") {
    out.push_back(Message("wrapupStarted", interaction));
  } else if (state == "offered" || state == "connected" || state == "held" || state == "ended") {
    out.push_back(Message(state, interaction));
  }
  return out;
}

}  // namespace omnibridge::connect
