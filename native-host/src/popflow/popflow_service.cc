#include "popflow/popflow_service.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "base/log.h"
#include "popflow/flow.h"

namespace omnibridge::popflow {

namespace json = boost::json;

namespace {

json::object Error(std::string_view code, std::string_view message) {
  return json::object{{"type", "error"}, {"code", code}, {"message", message}};
}

std::string_view CodeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return "failed_precondition";
    case absl::StatusCode::kInvalidArgument:
      return "invalid_request";
    default:
      return "internal";
  }
}

json::array DiagnosticsJson(const std::vector<Diagnostic>& diagnostics) {
  json::array out;
  for (const Diagnostic& d : diagnostics) {
    out.push_back(DiagnosticToJson(d));
  }
  return out;
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object& ObjectOr(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : kEmpty;
}

}  // namespace

PopflowService::PopflowService(const base::Clock& clock, FlowStore* store, ServiceOptions options)
    : clock_(clock), store_(store), options_(std::move(options)), engine_(clock, options_.engine) {
  Reload();
}

bool PopflowService::Handles(std::string_view type) {
  return type == "popflow.list" || type == "popflow.get" || type == "popflow.deploy" ||
         type == "popflow.test";
}

void PopflowService::Reload() { engine_.SetFlows(store_->ActiveFlows()); }

PopflowService::Output PopflowService::HandleRequest(const json::object& request) {
  std::string type = Str(request, "type");
  if (type == "popflow.list") {
    return List();
  }
  if (type == "popflow.get") {
    return Get(request);
  }
  if (type == "popflow.deploy") {
    return Deploy(request);
  }
  if (type == "popflow.test") {
    return Test(request);
  }
  return Output{Error("unknown_type", absl::StrCat("not a popflow request: ", type)), {}};
}

PopflowService::Output PopflowService::List() {
  json::array flows;
  for (const FlowSummary& s : store_->List()) {
    flows.push_back(FlowSummaryToJson(s));
  }
  return Output{json::object{{"type", "popflow.list"}, {"flows", std::move(flows)}}, {}};
}

PopflowService::Output PopflowService::Get(const json::object& request) {
  std::string name = Str(request, "name");
  if (name.empty()) {
    return Output{Error("invalid_request", "popflow.get needs a \"name\""), {}};
  }
  int version = -1;
  if (const json::value* v = request.if_contains("version")) {
    if (v->is_string() && v->get_string() == "draft") {
      version = 0;
    } else if (v->is_int64() && v->get_int64() > 0 && v->get_int64() < 1'000'000) {
      version = static_cast<int>(v->get_int64());
    } else {
      return Output{Error("invalid_request", "\"version\" is a positive integer or \"draft\""), {}};
    }
  }
  auto flow = store_->Get(name, version);
  if (!flow.ok()) {
    return Output{Error(CodeFor(flow.status()), Sv(flow.status().message())), {}};
  }
  json::object reply{{"type", "popflow.get"}, {"name", name}, {"flow", *std::move(flow)}};
  for (const FlowSummary& s : store_->List()) {
    if (s.name != name) {
      continue;
    }
    int shown = version == -1 ? s.active_version : version;
    reply["version"] = shown == 0 ? json::value("draft") : json::value(shown);
    reply["summary"] = FlowSummaryToJson(s);
  }
  return Output{std::move(reply), {}};
}

PopflowService::Output PopflowService::Deploy(const json::object& request) {
  std::vector<Diagnostic> diagnostics;
  auto fail = [&](const absl::Status& s) {
    json::object e = Error(CodeFor(s), Sv(s.message()));
    if (!diagnostics.empty()) {
      e["diagnostics"] = DiagnosticsJson(diagnostics);
    }
    return Output{std::move(e), {}};
  };
  json::object reply{{"type", "popflow.deploy"}};
  if (const json::value* flow = request.if_contains("flow")) {
    const json::value* draft = request.if_contains("draft");
    bool only_draft = draft != nullptr && draft->is_bool() && draft->get_bool();
    std::string name;
    if (const json::object* o = flow->if_object()) {
      name = Str(*o, "name");
    }
    if (only_draft) {
      if (absl::Status s = store_->SaveDraft(*flow, &diagnostics); !s.ok()) {
        return fail(s);
      }
      reply["version"] = "draft";
    } else {
      auto version = store_->Deploy(*flow, &diagnostics);
      if (!version.ok()) {
        return fail(version.status());
      }
      reply["version"] = *version;
    }
    reply["name"] = name;
    reply["diagnostics"] = DiagnosticsJson(diagnostics);  // warnings, e.g. unreachable nodes
  } else {
    std::string name = Str(request, "name");
    if (name.empty()) {
      return Output{Error("invalid_request",
                          "popflow.deploy needs a \"flow\", or a \"name\" with \"rollbackTo\", "
                          "\"disable\" or \"delete\""),
                    {}};
    }
    reply["name"] = name;
    const json::value* rollback = request.if_contains("rollbackTo");
    absl::Status s;
    if (rollback != nullptr && rollback->is_int64()) {
      s = store_->Rollback(name, static_cast<int>(rollback->get_int64()));
      reply["version"] = rollback->get_int64();
    } else if (request.contains("disable")) {
      s = store_->Disable(name);
      reply["version"] = nullptr;
    } else if (request.contains("delete")) {
      s = store_->Delete(name);
      reply["deleted"] = true;
    } else {
      s = absl::InvalidArgumentError("\"rollbackTo\" must be a version number");
    }
    if (!s.ok()) {
      return fail(s);
    }
  }
  Reload();
  return Output{std::move(reply), {}};
}

PopflowService::Output PopflowService::Test(const json::object& request) {
  const json::value* flow_json = request.if_contains("flow");
  if (flow_json == nullptr) {
    return Output{Error("invalid_request", "popflow.test needs a \"flow\""), {}};
  }
  std::vector<Diagnostic> diagnostics;
  auto flow = LoadFlow(*flow_json, options_.limits, &diagnostics);
  json::object reply{{"type", "popflow.test"}};
  reply["diagnostics"] = DiagnosticsJson(diagnostics);
  if (!flow.ok()) {
    reply["ok"] = false;
    reply["error"] = Sv(flow.status().message());
    return Output{std::move(reply), {}};
  }
  Trigger trigger;
  const json::object& t = ObjectOr(request, "trigger");
  trigger.event = Str(t, "event");
  if (trigger.event.empty()) {
    trigger.event = (*flow)->trigger_event();
  }
  trigger.name = Str(t, "name");
  if (trigger.name.empty()) {
    trigger.name = trigger.event == "button.clicked" ? (*flow)->name() : (*flow)->trigger_name();
  }
  trigger.source = "test";
  trigger.data = ObjectOr(t, "data");
  trigger.interaction = ObjectOr(request, "interaction");
  trigger.agent = ObjectOr(request, "agent");
  DryRunScript script;
  script.results = ObjectOr(request, "results");
  Trace trace = DryRun(*flow, trigger, script, options_.engine, clock_.Now());
  reply["ok"] = true;
  reply["trace"] = TraceToJson(trace);
  return Output{std::move(reply), {}};
}

Effects PopflowService::OnCrmEvent(const json::object& event) {
  if (Str(event, "event") == "popflow.button") {
    // A flow button in the CRM tab: the host knows the interaction better than the page does.
    std::string id = Str(event, "interactionId");
    auto it = interactions_.find(id);
    json::object interaction = it != interactions_.end() ? it->second.last : json::object{};
    if (interaction.empty() && !id.empty()) {
      interaction["interactionId"] = id;
    }
    return OnButton(Str(event, "flow"), interaction, agent_, ObjectOr(event, "data"));
  }
  if (Str(event, "event") != "popflow.result") {
    return {};
  }
  const json::value* index = event.if_contains("actionIndex");
  const json::value* ok = event.if_contains("ok");
  if (index == nullptr || !index->is_int64() || index->get_int64() < 0 ||
      index->get_int64() > 100000) {
    return {};
  }
  static const json::value kNull;
  const json::value* data = event.if_contains("data");
  return engine_.OnActionResult(Str(event, "runId"), static_cast<int>(index->get_int64()),
                                ok != nullptr && ok->is_bool() && ok->get_bool(),
                                data != nullptr ? *data : kNull, Str(event, "error"));
}

Effects PopflowService::Fire(std::string event, const json::object& interaction,
                             const json::object& agent, std::string source, json::object data,
                             std::string name) {
  Trigger t;
  t.event = std::move(event);
  t.name = std::move(name);
  t.source = std::move(source);
  t.interaction = interaction;
  t.agent = agent;
  t.data = std::move(data);
  return engine_.OnTrigger(t);
}

Effects PopflowService::OnInteractionUpdate(const json::object& interaction,
                                            const json::object& agent) {
  std::string id = Str(interaction, "interactionId");
  if (id.empty()) {
    return {};
  }
  std::string state = Str(interaction, "state");
  Effects out;
  auto append = [&out](Effects e) {
    out.insert(out.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  };
  bool is_new = !interactions_.contains(id);
  if (is_new && interactions_.size() >= 1024) {
    interactions_.clear();  // bound: a leak guard only
  }
  Seen& seen = interactions_[id];
  std::string before = seen.state;
  if (is_new) {
    seen.inbound = Str(interaction, "direction") != "outbound";
  }
  if (state == before && !is_new) {
    // Same state; only a transfer flag can be news.
  } else if (state == "offered") {
    if (is_new) {
      append(Fire("interaction.offered", interaction, agent));
      if (options_.default_pop) {
        bool bound = false;
        for (const auto& f : store_->ActiveFlows()) {
          bound = bound || f->trigger_event() == "interaction.offered";
        }
        std::string ani = Str(interaction, "ani");
        if (!bound && Str(interaction, "channel") == "voice" && !ani.empty()) {
          json::object frame{
              {"type", "popflow.run"},
              {"runId", absl::StrCat("default-", id)},
              {"interactionId", id},
              {"flow", "default"},
              {"actions", json::array{json::object{
                              {"kind", "screenPop"}, {"target", "search"}, {"query", ani}}}}};
          out.push_back(ExtensionFrame{std::move(frame)});
        }
      }
    }
  } else if (state == "connected") {
    if (before == "held") {
      append(Fire("interaction.resumed", interaction, agent));
    } else if (!seen.connected) {
      append(Fire("interaction.connected", interaction, agent));
    }
    seen.connected = true;
  } else if (state == "held") {
    seen.connected = true;
    append(Fire("interaction.held", interaction, agent));
  } else if (state == "wrapup") {
    if (before != "ended") {
      append(Fire("interaction.ended", interaction, agent));
    }
    append(Fire("interaction.wrapupStarted", interaction, agent));
  } else if (state == "ended") {
    if (before != "wrapup") {
      append(Fire("interaction.ended", interaction, agent));
      if (!seen.connected && seen.inbound) {
        append(Fire("interaction.missed", interaction, agent));
      }
    }
  }
  const json::value* transferred = interaction.if_contains("transferred");
  if (transferred != nullptr && transferred->is_bool() && transferred->get_bool() &&
      !seen.transferred) {
    seen.transferred = true;
    append(Fire("interaction.transferred", interaction, agent));
  }
  seen.state = state;
  seen.last = interaction;
  return out;
}

Effects PopflowService::OnInteractionEnded(std::string_view interaction_id,
                                           const json::object& agent) {
  auto it = interactions_.find(std::string(interaction_id));
  if (it == interactions_.end()) {
    return {};
  }
  Seen seen = it->second;
  interactions_.erase(it);
  json::object interaction = seen.last;
  interaction["state"] = "ended";
  Effects out;
  auto append = [&out](Effects e) {
    out.insert(out.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  };
  if (seen.state == "wrapup") {
    append(Fire("interaction.wrapupEnded", interaction, agent));
  } else if (seen.state != "ended") {
    append(Fire("interaction.ended", interaction, agent));
    if (!seen.connected && seen.inbound) {
      append(Fire("interaction.missed", interaction, agent));
    }
  }
  return out;
}

Effects PopflowService::OnAgentState(const json::object& state) {
  std::string s = Str(state, "state");
  std::string reason = Str(state, "reason");
  if (s.empty() || (s == agent_state_ && reason == agent_reason_)) {
    return {};
  }
  json::object data{{"previous", agent_state_}, {"previousReason", agent_reason_}};
  agent_state_ = s;
  agent_reason_ = reason;
  agent_ = state;
  return Fire("agent.stateChanged", {}, state, "cti", std::move(data));
}

Effects PopflowService::OnRoutingDecision(bool accepted, const json::object& offer,
                                          const json::object& agent) {
  // The offer is what flows see as "interaction" (same id, channel, queue, ...).
  return Fire(accepted ? "routing.offerAccepted" : "routing.offerDeclined", offer, agent, "cti",
              json::object{{"offer", offer}});
}

absl::StatusOr<Effects> PopflowService::OnConnectEvent(const json::object& body,
                                                       const json::object& agent) {
  static constexpr std::pair<std::string_view, std::string_view> kEvents[] = {
      {"offered", "interaction.offered"},
      {"connected", "interaction.connected"},
      {"held", "interaction.held"},
      {"resumed", "interaction.resumed"},
      {"transferred", "interaction.transferred"},
      {"ended", "interaction.ended"},
      {"missed", "interaction.missed"},
      {"wrapupStarted", "interaction.wrapupStarted"},
      {"wrapupEnded", "interaction.wrapupEnded"},
      {"custom", "connect.event"},
  };
  std::string event = Str(body, "event");
  const json::value* interaction = body.if_contains("interaction");
  if (interaction == nullptr || !interaction->is_object()) {
    return absl::InvalidArgumentError("\"interaction\" must be an object");
  }
  for (const auto& [wire, trigger] : kEvents) {
    if (event != wire) {
      continue;
    }
    std::string name = Str(body, "name");
    if (event == "custom" && name.empty()) {
      return absl::InvalidArgumentError("a custom event needs a \"name\"");
    }
    return Fire(std::string(trigger), interaction->get_object(), agent, "connect",
                ObjectOr(body, "data"), name);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown event \"", event, "\""));
}

Effects PopflowService::OnButton(std::string_view flow_name, const json::object& interaction,
                                 const json::object& agent, const json::object& data) {
  return Fire("button.clicked", interaction, agent, "extension", data, std::string(flow_name));
}

}  // namespace omnibridge::popflow
