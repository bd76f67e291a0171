// The run machinery: one Run per (flow, trigger). A run executes nodes until it must wait for
// the outside world (a CRM result, an HTTP response, a launch, a delay), returns the effects so
// far, and continues when the result or its timer arrives. DryRun drives the same machinery with
// scripted results, so what the designer shows is what the host would do.
#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "base/log.h"
#include "popflow/flow.h"
#include "popflow/popflow.h"
#include "popflow/run.h"

namespace omnibridge::popflow {

namespace json = boost::json;

namespace {

bool IsOnceEvent(std::string_view event) {
  return event == "interaction.offered" || event == "interaction.connected" ||
         event == "interaction.ended" || event == "interaction.missed" ||
         event == "interaction.wrapupStarted" || event == "interaction.wrapupEnded";
}

bool IsHttpUrl(std::string_view url) {
  if (!absl::StartsWithIgnoreCase(Av(url), "http://") &&
      !absl::StartsWithIgnoreCase(Av(url), "https://")) {
    return false;
  }
  std::string_view rest = url.substr(url.find("//") + 2);
  if (rest.empty() || rest[0] == '/') {
    return false;
  }
  return std::none_of(url.begin(), url.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F;
  });
}

bool HasNewline(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Whole numbers go on the wire as integers (30, not 3E1).
json::value JsonNumber(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 1e15)
    return json::value(static_cast<int64_t>(d));
  return json::value(d);
}

std::string StringOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Outcome of executing one node.
struct Step {
  enum Kind { kNext, kWait, kError } kind = kNext;

  std::string outcome;  // selects a branch (kNext)
  std::string field;    // kError: the field at fault
  ExprError expr;       // kError: expression error, column > 0 when set
  std::string message;  // kError
  bool has_expr = false;
};

Step ErrorStep(std::string field, std::string message) {
  Step s;
  s.kind = Step::kError;
  s.field = std::move(field);
  s.message = std::move(message);
  return s;
}

Step ExprStep(std::string field, const ExprError& e) {
  Step s = ErrorStep(std::move(field), e.message);
  s.expr = e;
  s.has_expr = true;
  return s;
}

}  // namespace

// The node executor: turns one node into effects and an outcome. Lives in a class so the helpers
// share the run and engine state without long parameter lists.
class NodeRunner {
 public:
  NodeRunner(Run& run, const EngineOptions& options, absl::Time now)
      : run_(run), options_(options) {
    scope_.roots = &run.roots;
    scope_.now = now;
  }

  // Evaluated inputs are recorded into the trace step as the node reads them.
  bool Eval(const Node& node, std::string_view field, json::value* out, Step* err) {
    const Expression* e = node.Expr(field);
    if (e == nullptr) {
      *out = nullptr;
      return true;
    }
    ExprError error;
    if (!e->Evaluate(scope_, options_.expr, out, &error)) {
      *err = ExprStep(std::string(field), error);
      return false;
    }
    Record(field, *out);
    return true;
  }

  bool Render(const Node& node, std::string_view field, bool encode, std::string* out, Step* err) {
    const Template* t = node.Tpl(field);
    if (t == nullptr) {
      out->clear();
      return true;
    }
    return RenderTemplate(*t, std::string(field), encode, out, err);
  }

  bool RenderTemplate(const Template& t, const std::string& field, bool encode, std::string* out,
                      Step* err) {
    ExprError error;
    if (!t.Render(scope_, options_.expr, encode, out, &error)) {
      *err = ExprStep(field, error);
      return false;
    }
    Record(field, json::string(*out));
    return true;
  }

  // A URL template: one whole-field {{ }} renders the value as is (a URL held in data); mixed
  // templates percent-encode each substitution so data cannot change the URL's structure.
  bool RenderUrl(const Node& node, std::string_view field, std::string* out, Step* err) {
    const Template* t = node.Tpl(field);
    if (t == nullptr) {
      out->clear();
      return true;
    }
    if (!RenderTemplate(*t, std::string(field), !t->IsSingleExpression(), out, err)) {
      return false;
    }
    if (!IsHttpUrl(*out)) {
      *err = ErrorStep(std::string(field), "must be an http:// or https:// URL");
      return false;
    }
    return true;
  }

  void Record(std::string_view field, const json::value& v) {
    if (TraceStep* s = run_.step()) {
      s->inputs[field] = v;
    }
  }

  const Scope& scope() const { return scope_; }

 private:
  Run& run_;
  const EngineOptions& options_;
  Scope scope_;
};

Engine::Engine(const base::Clock& clock, EngineOptions options)
    : clock_(clock), options_(std::move(options)) {
  // Run ids stay unique across host restarts (a late result for an old run must not match a
  // new one), so they start with the start time in base 36.
  int64_t ms = absl::ToUnixMillis(clock_.Now());
  std::string b36;
  uint64_t v = static_cast<uint64_t>(ms < 0 ? -ms : ms);
  do {
    b36.insert(b36.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
    v /= 36;
  } while (v != 0);
  id_prefix_ = absl::StrCat("r", b36, "-");
}

Engine::~Engine() = default;

void Engine::SetFlows(std::vector<std::shared_ptr<const Flow>> flows) { flows_ = std::move(flows); }

Effects Engine::OnTrigger(const Trigger& trigger) {
  Effects out;
  std::string interaction_id = StringOf(trigger.interaction, "interactionId");
  if (IsOnceEvent(trigger.event) && !interaction_id.empty()) {
    std::string key = absl::StrCat(trigger.event, "|", interaction_id);
    if (seen_.contains(key)) {
      OMNI_LOG(kDebug, "popflow", "ignoring repeated ", trigger.event, " for ", interaction_id);
      return out;
    }
    seen_.insert(key);
    seen_order_.push_back(key);
    if (seen_order_.size() > 4096) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
  }
  for (const auto& flow : flows_) {
    if (flow->trigger_event() != trigger.event) {
      continue;
    }
    if (trigger.event == "connect.event" && flow->trigger_name() != trigger.name) {
      continue;
    }
    if (trigger.event == "button.clicked" && flow->name() != trigger.name) {
      continue;
    }
    Effects e = StartRun(flow, trigger, nullptr);
    out.insert(out.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  }
  return out;
}

Effects Engine::Start(const std::shared_ptr<const Flow>& flow, const Trigger& trigger) {
  return StartRun(flow, trigger, nullptr);
}

namespace {

json::object TriggerObject(const Trigger& t) {
  json::object o;
  o["event"] = t.event;
  if (!t.name.empty()) {
    o["name"] = t.name;
  }
  o["source"] = t.source;
  o["data"] = t.data;
  return o;
}

// Whether the trigger's filter accepts; false with `error` set when it fails to evaluate.
bool FilterAccepts(const Flow& flow, const json::object& roots, const EngineOptions& options,
                   absl::Time now, ExprError* error) {
  if (flow.trigger_filter().empty()) {
    return true;
  }
  Scope scope{&roots, now};
  json::value v;
  if (!flow.trigger_filter().Evaluate(scope, options.expr, &v, error)) {
    return false;
  }
  return Truthy(v);
}

}  // namespace

Effects Engine::StartRun(const std::shared_ptr<const Flow>& flow, const Trigger& trigger,
                         Trace* trace) {
  Effects out;
  absl::Time now = clock_.Now();
  json::object roots;
  roots["interaction"] = trigger.interaction;
  roots["agent"] = trigger.agent;
  roots["trigger"] = TriggerObject(trigger);
  json::object flow_info;
  flow_info["name"] = flow->name();
  flow_info["version"] = flow->version();
  roots["flow"] = std::move(flow_info);
  roots["vars"] = json::object();
  roots["nodes"] = json::object();

  ExprError filter_error;
  if (!FilterAccepts(*flow, roots, options_, now, &filter_error)) {
    if (!filter_error.message.empty()) {
      std::string msg = FormatDiagnostic(
          flow->name(),
          Diagnostic{"", "trigger.filter", filter_error.column, filter_error.message});
      OMNI_LOG(kWarning, "popflow", msg);
      if (trace != nullptr) {
        trace->error = msg;
      }
    }
    if (trace != nullptr) {
      trace->triggered = false;
    }
    return out;
  }
  if (runs_.size() >= options_.max_runs) {
    OMNI_LOG(kWarning, "popflow", "flow '", flow->name(), "' not started: ", runs_.size(),
             " runs already active");
    if (trace != nullptr) {
      trace->error = "too many active runs";
    }
    return out;
  }
  auto run = std::make_unique<Run>();
  run->id = absl::StrCat(id_prefix_, next_id_++);
  run->flow = flow;
  run->interaction_id = StringOf(trigger.interaction, "interactionId");
  run->roots = std::move(roots);
  run->current = flow->start();
  run->started = now;
  run->deadline = now + options_.max_run_time;
  run->trace = trace;
  ++runs_started_;
  OMNI_LOG(kInfo, "popflow", "run ", run->id, " of flow '", flow->name(), "' v", flow->version(),
           " on ", trigger.event,
           run->interaction_id.empty() ? "" : absl::StrCat(" for ", run->interaction_id));
  Run& ref = *run;
  runs_[run->id] = std::move(run);
  Advance(ref, out);
  if (ref.done) {
    runs_.erase(ref.id);
  }
  return out;
}

void Engine::Flush(Run& run, Effects& out) {
  if (run.batch.empty()) {
    return;
  }
  std::string frame_id = absl::StrCat(run.id, ".", ++run.frame_seq);
  json::object frame;
  frame["type"] = "popflow.run";
  frame["runId"] = frame_id;
  if (!run.interaction_id.empty()) {
    frame["interactionId"] = run.interaction_id;
  }
  frame["flow"] = run.flow->name();
  frame["actions"] = std::move(run.batch);
  run.batch = json::array();
  run.batch_bytes = 0;
  run.frames.push_back(frame_id);
  frame_to_run_[frame_id] = run.id;
  out.push_back(ExtensionFrame{std::move(frame)});
}

namespace {

// Appends an extension action to the run's batch (flushing first when the frame would grow past
// its cap). Returns the action's index in the batch, or -1 with `error` set.
int AddAction(Run& run, json::object action, const EngineOptions& options, Effects& out,
              Engine* engine_flush_owner, void (*flush)(Engine*, Run&, Effects&),
              std::string* error) {
  size_t bytes = json::serialize(action).size();
  if (bytes > options.max_action_bytes) {
    *error = absl::StrCat("action larger than ", options.max_action_bytes, " bytes");
    return -1;
  }
  if (run.actions >= options.max_actions_per_run) {
    *error = absl::StrCat("more than ", options.max_actions_per_run, " actions in one run");
    return -1;
  }
  if (run.batch_bytes + bytes > options.max_frame_bytes) {
    flush(engine_flush_owner, run, out);
  }
  if (run.trace != nullptr) {
    run.trace->actions.push_back(action);
    if (TraceStep* s = run.step()) {
      s->effect = action;
    }
  }
  run.batch.push_back(std::move(action));
  run.batch_bytes += bytes;
  ++run.actions;
  return static_cast<int>(run.batch.size()) - 1;
}

}  // namespace

void Engine::Advance(Run& run, Effects& out) {
  auto flush = [](Engine* e, Run& r, Effects& o) { e->Flush(r, o); };
  while (!run.done) {
    absl::Time now = clock_.Now();
    if (now > run.deadline) {
      Fail(run, run.current, "", nullptr,
           absl::StrCat("run time limit (", absl::FormatDuration(options_.max_run_time),
                        ") exceeded"),
           out);
      return;
    }
    if (run.steps >= options_.max_steps) {
      Fail(run, run.current, "", nullptr,
           absl::StrCat("step limit (", options_.max_steps, ") reached; does the flow loop?"), out);
      return;
    }
    const Node* node = run.flow->Find(run.current);
    if (node == nullptr) {  // cannot happen for a loaded flow; kept as a guard
      Fail(run, run.current, "", nullptr, "no such node", out);
      return;
    }
    ++run.steps;
    if (run.trace != nullptr) {
      TraceStep ts;
      ts.step = run.steps;
      ts.node = node->id;
      ts.kind = std::string(NodeKindName(node->kind));
      run.trace->steps.push_back(std::move(ts));
      run.trace_step = static_cast<int>(run.trace->steps.size()) - 1;
    }

    NodeRunner r(run, options_, now);
    Step step;
    json::value result;  // what the node stores under nodes.<id>
    bool store_result = false;
    std::string action_error;
    auto add_action = [&](json::object action, bool wait) -> bool {
      int index = AddAction(run, std::move(action), options_, out, this, flush, &action_error);
      if (index < 0) {
        step = ErrorStep("", action_error);
        return false;
      }
      if (wait) {
        Flush(run, out);
        run.wait = WaitKind::kAction;
        run.wait_node = node;
        run.wait_frame = run.frames.back();
        run.wait_index = index;
        step.kind = Step::kWait;
      }
      return true;
    };
    auto set_timer = [&](absl::Time deadline) {
      uint64_t id = next_id_++;
      run.timer_id = id;
      waits_[id] = run.id;
      out.push_back(TimerRequest{id, std::min(deadline, run.deadline)});
    };

    switch (node->kind) {
      case NodeKind::kIf: {
        json::value c;
        if (!r.Eval(*node, "condition", &c, &step)) {
          break;
        }
        step.outcome = Truthy(c) ? "true" : "false";
        break;
      }
      case NodeKind::kSwitch: {
        json::value v;
        if (!r.Eval(*node, "value", &v, &step)) {
          break;
        }
        step.outcome = ToText(v);
        break;
      }
      case NodeKind::kSet: {
        json::value v;
        if (!r.Eval(*node, "value", &v, &step)) {
          break;
        }
        run.vars()[node->Str("name")] = std::move(v);
        break;
      }
      case NodeKind::kUnset:
        run.vars().erase(node->Str("name"));
        break;
      case NodeKind::kFormat: {
        json::value input;
        if (!r.Eval(*node, "input", &input, &step)) {
          break;
        }
        std::string op = node->Str("op");
        std::vector<json::value> args{input};
        std::string fn;
        std::string text;
        bool ok = true;
        if (op == "e164") {
          fn = "e164";
          ok = r.Render(*node, "country", false, &text, &step);
          args.emplace_back(json::string(text));
        } else if (op == "date") {
          fn = "formatDate";
          std::string pattern;
          std::string tz;
          ok = r.Render(*node, "pattern", false, &pattern, &step) &&
               r.Render(*node, "timezone", false, &tz, &step);
          args.push_back(node->Tpl("pattern") ? json::value(json::string(pattern)) : nullptr);
          args.push_back(node->Tpl("timezone") ? json::value(json::string(tz)) : nullptr);
        } else if (op == "join") {
          fn = "join";
          ok = r.Render(*node, "separator", false, &text, &step);
          args.emplace_back(json::string(node->Tpl("separator") ? text : std::string(", ")));
        } else if (op == "replace") {
          fn = "replace";
          std::string from;
          std::string to;
          ok = r.Render(*node, "from", false, &from, &step) &&
               r.Render(*node, "to", false, &to, &step);
          args.emplace_back(json::string(from));
          args.emplace_back(json::string(to));
        } else {
          fn = "slice";
          args.emplace_back(node->Num("start", 0));
          if (node->numbers.contains("end")) {
            args.emplace_back(node->Num("end", 0));
          }
        }
        if (!ok) {
          break;
        }
        json::value v;
        ExprError e;
        if (!CallFunction(fn, args, r.scope(), options_.expr, &v, &e)) {
          step = ErrorStep("input", e.message);
          break;
        }
        run.vars()[node->Str("into")] = v;
        result = std::move(v);
        store_result = true;
        break;
      }
      case NodeKind::kCrmSearch: {
        std::string value;
        std::string record_type;
        if (!r.Render(*node, "value", false, &value, &step) ||
            !r.Render(*node, "recordType", false, &record_type, &step)) {
          break;
        }
        json::object a;
        a["kind"] = "crmSearch";
        a["field"] = node->Str("field");
        a["value"] = value;
        if (node->Tpl("recordType")) {
          a["recordType"] = record_type;
        }
        if (!add_action(std::move(a), true)) {
          break;
        }
        set_timer(now + (node->numbers.contains("timeoutSeconds")
                             ? absl::Seconds(node->Num("timeoutSeconds", 20))
                             : options_.crm_timeout));
        break;
      }
      case NodeKind::kScreenPop: {
        std::string target = node->Str("target");
        json::object a;
        a["kind"] = "screenPop";
        a["target"] = target;
        std::string s;
        bool ok = true;
        if (target == "record" || target == "newRecord") {
          ok = r.Render(*node, "recordType", false, &s, &step);
          a["recordType"] = s;
        }
        if (ok && target == "record") {
          ok = r.Render(*node, "recordId", false, &s, &step);
          a["recordId"] = s;
        }
        if (ok && target == "newRecord") {
          json::object fields;
          for (const auto& [name, tpl] : node->template_map) {
            if (!(ok = r.RenderTemplate(tpl, absl::StrCat("fields.", name), false, &s, &step))) {
              break;
            }
            fields[name] = s;
          }
          a["fields"] = std::move(fields);
        }
        if (ok && target == "search") {
          ok = r.Render(*node, "query", false, &s, &step);
          a["query"] = s;
        }
        if (ok && target == "url") {
          ok = r.RenderUrl(*node, "url", &s, &step);
          a["url"] = s;
        }
        if (!ok) {
          break;
        }
        add_action(std::move(a), false);
        break;
      }
      case NodeKind::kToast: {
        std::string title;
        std::string message;
        if (!r.Render(*node, "title", false, &title, &step) ||
            !r.Render(*node, "message", false, &message, &step)) {
          break;
        }
        json::object a;
        a["kind"] = "toast";
        a["title"] = title;
        a["message"] = message;
        a["modal"] = node->Bool("modal", false);
        json::array buttons;
        bool ok = true;
        for (size_t i = 0; i < node->buttons.size() && ok; ++i) {
          std::string label;
          ok = r.RenderTemplate(node->buttons[i].label, absl::StrCat("buttons[", i, "].label"),
                                false, &label, &step);
          json::object b;
          b["id"] = node->buttons[i].id;
          b["label"] = label;
          buttons.push_back(std::move(b));
        }
        if (!ok) {
          break;
        }
        a["buttons"] = std::move(buttons);
        bool waits = !node->buttons.empty();
        // Always sent, so the tab closes a question nobody answered at the same time as the
        // run gives up on it (defaults: 8 s for a notice, 120 s for a question).
        double seconds = node->Num("timeoutSeconds", waits ? 120 : 8);
        absl::Duration timeout = absl::Seconds(seconds);
        a["timeoutSeconds"] = JsonNumber(seconds);
        if (!add_action(std::move(a), waits)) {
          break;
        }
        // The extension reports the button (or none at its own timeout); the engine's timer is a
        // backstop a little later, for a tab that was closed.
        if (waits) {
          set_timer(now + timeout + absl::Seconds(5));
        }
        break;
      }
      case NodeKind::kFillField:
      case NodeKind::kSetDisposition: {
        json::object a;
        std::string value;
        if (node->kind == NodeKind::kFillField) {
          std::string field;
          if (!r.Render(*node, "field", false, &field, &step)) {
            break;
          }
          a["kind"] = "fillField";
          a["field"] = field;
        } else {
          a["kind"] = "setDisposition";
        }
        if (!r.Render(*node, "value", false, &value, &step)) {
          break;
        }
        a["value"] = value;
        add_action(std::move(a), false);
        break;
      }
      case NodeKind::kLogActivity: {
        std::string subject;
        std::string body;
        std::string record_id;
        if (!r.Render(*node, "subject", false, &subject, &step) ||
            !r.Render(*node, "body", false, &body, &step) ||
            !r.Render(*node, "recordId", false, &record_id, &step)) {
          break;
        }
        absl::Duration timeout = absl::Seconds(node->Num("timeoutSeconds", 10));
        if (node->Str("via", "crm") == "crm") {
          json::object a;
          a["kind"] = "logActivity";
          a["subject"] = subject;
          a["body"] = body;
          if (node->Tpl("recordId")) {
            a["recordId"] = record_id;
          }
          if (!add_action(std::move(a), true)) {
            break;
          }
          set_timer(now +
                    (node->numbers.contains("timeoutSeconds") ? timeout : options_.crm_timeout));
          break;
        }
        std::string url;
        if (!r.RenderUrl(*node, "url", &url, &step)) {
          break;
        }
        json::object payload;
        payload["subject"] = subject;
        payload["body"] = body;
        if (node->Tpl("recordId")) {
          payload["recordId"] = record_id;
        }
        if (!run.interaction_id.empty()) {
          payload["interactionId"] = run.interaction_id;
        }
        HttpRequest req;
        req.id = next_id_++;
        req.run_id = run.id;
        req.flow = run.flow->name();
        req.node = node->id;
        req.method = "POST";
        req.url = url;
        req.headers = {{"Content-Type", "application/json"}};
        req.body = json::serialize(payload);
        req.credential = node->Str("credential");
        req.timeout = timeout;
        if (run.trace != nullptr) {
          json::object e{{"kind", "httpRequest"},
                         {"method", "POST"},
                         {"url", url},
                         {"body", payload},
                         {"credential", req.credential}};
          run.trace->effects.push_back(e);
          if (TraceStep* s = run.step()) {
            s->effect = e;
          }
        }
        run.wait = WaitKind::kHttp;
        run.wait_node = node;
        run.wait_id = req.id;
        waits_[req.id] = run.id;
        out.push_back(std::move(req));
        set_timer(now + timeout + absl::Seconds(2));
        step.kind = Step::kWait;
        break;
      }
      case NodeKind::kHttpRequest: {
        std::string url;
        if (!r.RenderUrl(*node, "url", &url, &step)) {
          break;
        }
        HttpRequest req;
        req.id = next_id_++;
        req.run_id = run.id;
        req.flow = run.flow->name();
        req.node = node->id;
        req.method = node->Str("method");
        req.url = url;
        req.credential = node->Str("credential");
        req.timeout = absl::Seconds(node->Num("timeoutSeconds", 10));
        bool ok = true;
        json::object headers_trace;
        for (const auto& [name, tpl] : node->template_map) {
          std::string value;
          if (!(ok = r.RenderTemplate(tpl, absl::StrCat("headers.", name), false, &value, &step))) {
            break;
          }
          if (HasNewline(value)) {
            step = ErrorStep(absl::StrCat("headers.", name), "header value contains a line break");
            ok = false;
            break;
          }
          headers_trace[name] = value;
          req.headers.emplace_back(name, std::move(value));
        }
        if (!ok) {
          break;
        }
        if (node->body.present) {
          // Rebuild the body, replacing each string leaf by its rendered value in order.
          size_t leaf = 0;
          ExprError e;
          std::function<bool(json::value&)> fill = [&](json::value& v) -> bool {
            if (v.is_string()) {
              json::value rendered;
              if (!node->body.leaves[leaf++].RenderValue(r.scope(), options_.expr, &rendered, &e)) {
                return false;
              }
              v = std::move(rendered);
              return true;
            }
            if (v.is_array()) {
              for (auto& item : v.as_array()) {
                if (!fill(item)) {
                  return false;
                }
              }
            } else if (v.is_object()) {
              for (auto& kv : v.as_object()) {
                if (!fill(kv.value())) {
                  return false;
                }
              }
            }
            return true;
          };
          json::value body = node->body.shape;
          if (!fill(body)) {
            step = ExprStep("body", e);
            break;
          }
          req.body = json::serialize(body);
          if (req.body.size() > options_.expr.max_string) {
            step = ErrorStep("body", "request body too large");
            break;
          }
          r.Record("body", body);
          bool has_type = false;
          for (const auto& h : req.headers) {
            has_type = has_type || absl::EqualsIgnoreCase(h.first, "content-type");
          }
          if (!has_type) {
            req.headers.emplace_back("Content-Type", "application/json");
          }
        }
        if (run.trace != nullptr) {
          json::object e{{"kind", "httpRequest"},
                         {"method", req.method},
                         {"url", url},
                         {"headers", headers_trace},
                         {"credential", req.credential}};
          if (!req.body.empty()) {
            e["body"] = req.body;
          }
          run.trace->effects.push_back(e);
          if (TraceStep* s = run.step()) {
            s->effect = e;
          }
        }
        run.wait = WaitKind::kHttp;
        run.wait_node = node;
        run.wait_id = req.id;
        waits_[req.id] = run.id;
        absl::Duration timeout = req.timeout;
        out.push_back(std::move(req));
        // The executor enforces the timeout; the timer is the engine's own backstop.
        set_timer(now + timeout + absl::Seconds(2));
        step.kind = Step::kWait;
        break;
      }
      case NodeKind::kSetAgentState: {
        std::string reason;
        if (!r.Render(*node, "reason", false, &reason, &step)) {
          break;
        }
        AgentStateCommand cmd{node->Str("state"), reason, run.id};
        if (run.trace != nullptr) {
          json::object e{{"kind", "setAgentState"}, {"state", cmd.state}};
          if (!reason.empty()) {
            e["reason"] = reason;
          }
          run.trace->effects.push_back(e);
          if (TraceStep* s = run.step()) {
            s->effect = e;
          }
        }
        // Extension actions queued before this command are sent first, keeping the flow's order.
        Flush(run, out);
        out.push_back(std::move(cmd));
        break;
      }
      case NodeKind::kDelay: {
        double seconds = node->Num("seconds", 0);
        if (run.trace != nullptr) {
          json::object e{{"kind", "delay"}, {"seconds", JsonNumber(seconds)}};
          run.trace->effects.push_back(e);
          if (TraceStep* s = run.step()) {
            s->effect = e;
          }
        }
        if (seconds <= 0) {
          break;
        }
        Flush(run, out);  // what came before the delay is shown before it
        run.wait = WaitKind::kDelay;
        run.wait_node = node;
        set_timer(now + absl::Milliseconds(static_cast<int64_t>(seconds * 1000)));
        step.kind = Step::kWait;
        break;
      }
      case NodeKind::kLaunchApp: {
        AppLaunch launch;
        launch.app = node->Str("app");
        bool ok = true;
        for (size_t i = 0; i < node->template_list.size(); ++i) {
          std::string arg;
          if (!(ok = r.RenderTemplate(node->template_list[i], absl::StrCat("args[", i, "]"), false,
                                      &arg, &step))) {
            break;
          }
          if (arg.find('\0') != std::string::npos) {
            step = ErrorStep(absl::StrCat("args[", i, "]"), "argument contains a NUL byte");
            ok = false;
            break;
          }
          launch.args.push_back(std::move(arg));
        }
        if (!ok) {
          break;
        }
        if (run.trace != nullptr) {
          json::array args;
          for (const auto& a : launch.args) {
            args.emplace_back(json::string(a));
          }
          json::object e{{"kind", "launchApp"}, {"app", launch.app}, {"args", args}};
          run.trace->effects.push_back(e);
          if (TraceStep* s = run.step()) {
            s->effect = e;
          }
        }
        if (!options_.allowed_apps.contains(launch.app)) {
          // Same path as a failed launch, so an "error" branch can handle it.
          json::object res{{"ok", false},
                           {"error", absl::StrCat("'", launch.app, "' is not an allowed app")}};
          if (node->branches.contains("error")) {
            result = std::move(res);
            store_result = true;
            step.outcome = "error";
          } else {
            step = ErrorStep(
                "app", absl::StrCat("'", launch.app, "' is not in the administrator's allowlist"));
          }
          break;
        }
        launch.id = next_id_++;
        launch.run_id = run.id;
        Flush(run, out);
        run.wait = WaitKind::kLaunch;
        run.wait_node = node;
        run.wait_id = launch.id;
        waits_[launch.id] = run.id;
        out.push_back(std::move(launch));
        set_timer(now + absl::Seconds(10));
        step.kind = Step::kWait;
        break;
      }
      case NodeKind::kEnd:
        Finish(run, out);
        return;
    }

    if (step.kind == Step::kError) {
      Fail(run, node->id, step.field, step.has_expr ? &step.expr : nullptr, step.message, out);
      return;
    }
    if (store_result) {
      run.nodes()[node->id] = result;
    }
    if (step.kind == Step::kWait) {
      if (TraceStep* s = run.step()) {
        s->vars = run.vars();
      }
      return;
    }
    const std::string& next = node->Follow(step.outcome);
    if (TraceStep* s = run.step()) {
      s->outcome = step.outcome;
      s->next = next;
      s->vars = run.vars();
      if (store_result) {
        s->result = result;
      }
    }
    if (next.empty()) {
      Finish(run, out);
      return;
    }
    run.current = next;
  }
}

void Engine::Resume(Run& run, std::string_view outcome, json::value result, Effects& out) {
  const Node* node = run.wait_node;
  run.wait = WaitKind::kNone;
  run.wait_node = nullptr;
  run.timer_id = 0;
  run.nodes()[node->id] = result;
  std::string into = node->Str("into");
  if (!into.empty()) {
    const json::value* body =
        result.is_object() ? result.get_object().if_contains("body") : nullptr;
    run.vars()[into] = node->kind == NodeKind::kHttpRequest && body ? *body : result;
  }
  const std::string& next = node->Follow(outcome);
  if (TraceStep* s = run.step()) {
    s->result = result;
    s->outcome = std::string(outcome);
    s->next = next;
    s->vars = run.vars();
  }
  if (next.empty()) {
    Finish(run, out);
    return;
  }
  run.current = next;
  Advance(run, out);
}

void Engine::Fail(Run& run, std::string_view node, std::string_view field, const ExprError* expr,
                  std::string_view message, Effects& out) {
  Diagnostic d{std::string(node), std::string(field), expr != nullptr ? expr->column : 0,
               std::string(message)};
  std::string text = FormatDiagnostic(run.flow->name(), d);
  OMNI_LOG(kWarning, "popflow", "run ", run.id, " stopped: ", text);
  if (TraceStep* s = run.step(); s != nullptr && s->node == node) {
    s->error = std::string(message);
    s->column = d.column;
    s->field = std::string(field);
    s->vars = run.vars();
  }
  if (run.trace != nullptr) {
    run.trace->error = text;
  }
  // The agent learns the pop did not happen; the admin finds the details in the log.
  json::object toast;
  toast["kind"] = "toast";
  toast["title"] = "PopFlow";
  toast["message"] =
      absl::StrCat("Flow '", run.flow->name(), "' stopped at node '", Av(node), "': ", Av(message));
  toast["modal"] = false;
  toast["buttons"] = json::array();
  toast["timeoutSeconds"] = 10;
  if (run.trace != nullptr) {
    run.trace->actions.push_back(toast);
  }
  if (run.batch_bytes > options_.max_frame_bytes / 2) {
    Flush(run, out);
  }
  run.batch.push_back(std::move(toast));
  Flush(run, out);
  run.done = true;
  for (const auto& f : run.frames) {
    frame_to_run_.erase(f);
  }
}

void Engine::Finish(Run& run, Effects& out) {
  Flush(run, out);
  if (run.trace != nullptr) {
    run.trace->completed = true;
  }
  OMNI_LOG(kInfo, "popflow", "run ", run.id, " of flow '", run.flow->name(), "' finished after ",
           run.steps, " steps");
  run.done = true;
  for (const auto& f : run.frames) {
    frame_to_run_.erase(f);
  }
}

namespace {

json::value ParseBody(const HttpResult& result, size_t max_bytes) {
  std::string_view body = result.body;
  if (body.size() > max_bytes) {
    body = body.substr(0, max_bytes);
  }
  bool looks_json = absl::AsciiStrToLower(result.content_type).find("json") != std::string::npos ||
                    (!body.empty() && (body.front() == '{' || body.front() == '['));
  if (looks_json) {
    auto parsed = ParseJsonBounded(body, max_bytes, 32);
    if (parsed.ok()) {
      return *std::move(parsed);
    }
  }
  return json::string(body);
}

}  // namespace

Effects Engine::OnActionResult(std::string_view run_id, int action_index, bool ok,
                               const json::value& data, std::string_view error) {
  Effects out;
  auto f = frame_to_run_.find(Av(run_id));
  if (f == frame_to_run_.end()) {
    return out;  // a run that ended, or an old host's
  }
  auto it = runs_.find(f->second);
  if (it == runs_.end()) {
    return out;
  }
  Run& run = *it->second;
  if (run.wait != WaitKind::kAction || run.wait_frame != run_id || run.wait_index != action_index) {
    if (!ok) {
      OMNI_LOG(kWarning, "popflow", "run ", run.id, " action ", action_index, " of ", run_id,
               " failed in the CRM tab: ", error);
    }
    return out;
  }
  const Node* node = run.wait_node;
  json::object result;
  std::string outcome;
  if (node->kind == NodeKind::kCrmSearch) {
    if (!ok) {
      if (!node->branches.contains("error")) {
        Fail(run, node->id, "", nullptr, absl::StrCat("CRM search failed: ", Av(error)), out);
        if (run.done) {
          runs_.erase(it);
        }
        return out;
      }
      result["count"] = 0;
      result["ids"] = json::array();
      result["error"] = std::string(error);
      outcome = "error";
    } else {
      json::array ids;
      const json::object* d = data.if_object();
      if (const json::value* v = d ? d->if_contains("ids") : nullptr; v && v->is_array()) {
        for (const auto& id : v->get_array()) {
          if (ids.size() >= 100) {
            break;
          }
          ids.emplace_back(json::string(ToText(id)));
        }
      }
      int64_t count = static_cast<int64_t>(ids.size());
      if (const json::value* c = d ? d->if_contains("count") : nullptr) {
        if (c->is_int64()) {
          count = c->get_int64();
        }
        if (c->is_uint64()) {
          count = static_cast<int64_t>(std::min<uint64_t>(c->get_uint64(), 1u << 30));
        }
        if (c->is_double() && std::isfinite(c->get_double())) {
          count = static_cast<int64_t>(c->get_double());
        }
      }
      count = std::max<int64_t>(count, 0);
      result["count"] = count;
      result["id"] = ids.empty() ? json::value(nullptr) : ids[0];
      result["ids"] = std::move(ids);
      outcome = count == 0 ? "none" : count == 1 ? "one" : "many";
    }
  } else if (node->kind == NodeKind::kToast) {
    const json::object* d = data.if_object();
    const json::value* b = d ? d->if_contains("button") : nullptr;
    std::string button = b && b->is_string() ? std::string(b->get_string()) : "";
    bool known = false;
    for (const Button& btn : node->buttons) {
      known = known || btn.id == button;
    }
    result["button"] = known ? json::value(json::string(button)) : json::value(nullptr);
    if (!ok) {
      result["error"] = std::string(error);
    }
    outcome = known ? button : "timeout";
  } else {  // logActivity via the CRM
    result["ok"] = ok;
    if (data.is_object()) {
      result["data"] = data;
    }
    if (!ok) {
      result["error"] = std::string(error);
      if (!node->branches.contains("error")) {
        Fail(run, node->id, "", nullptr, absl::StrCat("logging the activity failed: ", Av(error)),
             out);
        if (run.done) {
          runs_.erase(it);
        }
        return out;
      }
      outcome = "error";
    }
  }
  Resume(run, outcome, std::move(result), out);
  if (run.done) {
    runs_.erase(it);
  }
  return out;
}

Effects Engine::OnHttpResult(uint64_t request_id, const HttpResult& http) {
  Effects out;
  auto w = waits_.find(request_id);
  if (w == waits_.end()) {
    return out;
  }
  std::string run_id = w->second;
  waits_.erase(w);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) {
    return out;
  }
  Run& run = *it->second;
  if (run.wait != WaitKind::kHttp || run.wait_id != request_id) {
    return out;
  }
  const Node* node = run.wait_node;
  bool ok = http.error.empty() && http.status >= 200 && http.status < 300;
  json::object result;
  result["ok"] = ok;
  result["status"] = http.status;
  result["body"] = ParseBody(http, options_.max_http_body);
  if (!http.error.empty()) {
    result["error"] = http.error;
  }
  std::string outcome;
  if (!ok) {
    if (!node->branches.contains("error")) {
      std::string why = http.error.empty() ? absl::StrCat("HTTP status ", http.status) : http.error;
      Fail(run, node->id, "url", nullptr, absl::StrCat("request failed: ", why), out);
      runs_.erase(it);
      return out;
    }
    outcome = "error";
  }
  Resume(run, outcome, std::move(result), out);
  if (run.done) {
    runs_.erase(it);
  }
  return out;
}

Effects Engine::OnLaunchResult(uint64_t launch_id, const absl::Status& status) {
  Effects out;
  auto w = waits_.find(launch_id);
  if (w == waits_.end()) {
    return out;
  }
  std::string run_id = w->second;
  waits_.erase(w);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) {
    return out;
  }
  Run& run = *it->second;
  if (run.wait != WaitKind::kLaunch || run.wait_id != launch_id) {
    return out;
  }
  const Node* node = run.wait_node;
  json::object result;
  result["ok"] = status.ok();
  std::string outcome;
  if (!status.ok()) {
    result["error"] = std::string(status.message());
    if (!node->branches.contains("error")) {
      Fail(run, node->id, "app", nullptr, absl::StrCat("launch failed: ", status.message()), out);
      runs_.erase(it);
      return out;
    }
    outcome = "error";
  }
  Resume(run, outcome, std::move(result), out);
  if (run.done) {
    runs_.erase(it);
  }
  return out;
}

Effects Engine::OnTimer(uint64_t timer_id) {
  Effects out;
  auto w = waits_.find(timer_id);
  if (w == waits_.end()) {
    return out;
  }
  std::string run_id = w->second;
  waits_.erase(w);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) {
    return out;
  }
  Run& run = *it->second;
  if (run.timer_id != timer_id || run.wait == WaitKind::kNone) {
    return out;
  }
  const Node* node = run.wait_node;
  if (clock_.Now() >= run.deadline) {
    Fail(
        run, node->id, "", nullptr,
        absl::StrCat("run time limit (", absl::FormatDuration(options_.max_run_time), ") exceeded"),
        out);
    runs_.erase(it);
    return out;
  }
  if (run.wait == WaitKind::kDelay) {
    Resume(run, "", json::value(nullptr), out);
  } else if (node->kind == NodeKind::kToast) {
    Resume(run, "timeout", json::object{{"button", nullptr}}, out);
  } else if (node->branches.contains("error")) {
    waits_.erase(run.wait_id);  // a late HTTP/launch result must not resume the run twice
    json::object result{{"ok", false}, {"error", "timed out"}};
    if (node->kind == NodeKind::kCrmSearch) {
      result = json::object{
          {"count", 0}, {"ids", json::array()}, {"id", nullptr}, {"error", "timed out"}};
    }
    Resume(run, "error", std::move(result), out);
  } else {
    waits_.erase(run.wait_id);
    Fail(run, node->id, "", nullptr, "timed out waiting for a result", out);
  }
  if (run.done) {
    runs_.erase(it);
  }
  return out;
}

}  // namespace omnibridge::popflow
