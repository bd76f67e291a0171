// Dry run: the engine's own run machinery on a private engine and a fake clock, with every wait
// answered from the designer's script. Nothing leaves this function but the trace.
#include <utility>

#include "absl/strings/str_cat.h"

#include "base/clock.h"
#include "popflow/flow.h"
#include "popflow/popflow.h"
#include "popflow/run.h"

namespace omnibridge::popflow {

namespace {

const json::object* ScriptFor(const DryRunScript& script, const std::string& node) {
  const json::value* v = script.results.if_contains(node);
  return v != nullptr ? v->if_object() : nullptr;
}

std::string ErrorOf(const json::object* s) {
  if (s == nullptr) {
    return "";
  }
  const json::value* e = s->if_contains("error");
  if (e == nullptr) {
    return "";
  }
  return e->is_string() ? std::string(e->get_string()) : std::string("scripted failure");
}

}  // namespace

Trace DryRun(const std::shared_ptr<const Flow>& flow, const Trigger& trigger,
             const DryRunScript& script, const EngineOptions& options, absl::Time now) {
  Trace trace;
  trace.flow = flow->name();
  base::FakeClock clock(now);
  Engine engine(clock, options);
  // StartRun, not OnTrigger: the designer tests this flow whatever its trigger, and repeated
  // tests of the same sample must not be deduplicated away.
  engine.StartRun(flow, trigger, &trace);
  // Each iteration answers one wait; the run's own step limit bounds the total.
  for (int guard = 0; guard < options.max_steps + 8 && !engine.runs_.empty(); ++guard) {
    Run& run = *engine.runs_.begin()->second;
    const Node* node = run.wait_node;
    if (node == nullptr) {
      break;
    }
    const json::object* s = ScriptFor(script, node->id);
    std::string error = ErrorOf(s);
    auto note = [&](std::string text) {
      if (TraceStep* step = run.step()) {
        step->note = std::move(text);
      }
    };
    switch (run.wait) {
      case WaitKind::kAction: {
        json::value data = json::object();
        bool ok = error.empty();
        if (node->kind == NodeKind::kCrmSearch) {
          if (s == nullptr) {
            note("no scripted result: assumed no match");
            data = json::object{{"count", 0}, {"ids", json::array()}};
          } else {
            note("scripted result");
            data = *s;
          }
        } else if (node->kind == NodeKind::kToast) {
          const json::value* b = s ? s->if_contains("button") : nullptr;
          if (b == nullptr || !b->is_string()) {
            note(s ? "scripted: no button" : "no scripted result: assumed timeout");
            engine.OnTimer(run.timer_id);
            continue;
          }
          note("scripted result");
          data = json::object{{"button", *b}};
        } else {
          note(s ? "scripted result" : "no scripted result: assumed success");
          if (s != nullptr) {
            data = *s;
          }
        }
        std::string frame = run.wait_frame;
        engine.OnActionResult(frame, run.wait_index, ok, data, error);
        break;
      }
      case WaitKind::kHttp: {
        HttpResult result;
        if (s == nullptr) {
          note("no scripted result: assumed 200 with {}");
          result.status = 200;
          result.body = "{}";
          result.content_type = "application/json";
        } else if (!error.empty()) {
          note("scripted failure");
          result.error = error;
        } else {
          note("scripted result");
          const json::value* st = s->if_contains("status");
          result.status = st && st->is_int64() ? static_cast<int>(st->get_int64()) : 200;
          const json::value* body = s->if_contains("body");
          if (body != nullptr && body->is_string()) {
            result.body = std::string(body->get_string());
            result.content_type = "text/plain";
          } else {
            result.body = body ? json::serialize(*body) : "{}";
            result.content_type = "application/json";
          }
        }
        engine.OnHttpResult(run.wait_id, result);
        break;
      }
      case WaitKind::kLaunch:
        note(s ? "scripted result" : "no scripted result: assumed the app started");
        engine.OnLaunchResult(run.wait_id,
                              error.empty() ? absl::OkStatus() : absl::UnavailableError(error));
        break;
      case WaitKind::kDelay:
        note("delay skipped in the test");
        clock.Advance(absl::Seconds(node->Num("seconds", 0)));
        engine.OnTimer(run.timer_id);
        break;
      case WaitKind::kNone:
        guard = options.max_steps + 8;  // nothing to answer: stop
        break;
    }
  }
  return trace;
}

json::object TraceToJson(const Trace& trace, size_t max_bytes) {
  auto build = [&](size_t max_steps, bool with_vars) {
    json::object o;
    o["flow"] = trace.flow;
    o["triggered"] = trace.triggered;
    o["completed"] = trace.completed;
    if (!trace.error.empty()) {
      o["error"] = trace.error;
    }
    json::array steps;
    for (size_t i = 0; i < trace.steps.size() && i < max_steps; ++i) {
      const TraceStep& s = trace.steps[i];
      json::object j;
      j["step"] = s.step;
      j["node"] = s.node;
      j["kind"] = s.kind;
      j["inputs"] = s.inputs;
      if (!s.result.is_null()) {
        j["result"] = s.result;
      }
      if (!s.outcome.empty()) {
        j["outcome"] = s.outcome;
      }
      j["next"] = s.next.empty() ? json::value(nullptr) : json::value(json::string(s.next));
      if (!s.effect.is_null()) {
        j["effect"] = s.effect;
      }
      if (with_vars) {
        j["vars"] = s.vars;
      }
      if (!s.note.empty()) {
        j["note"] = s.note;
      }
      if (!s.error.empty()) {
        j["error"] = s.error;
        if (!s.field.empty()) {
          j["field"] = s.field;
        }
        if (s.column > 0) {
          j["column"] = s.column;
        }
      }
      steps.push_back(std::move(j));
    }
    o["steps"] = std::move(steps);
    o["actions"] = trace.actions;
    o["effects"] = trace.effects;
    if (max_steps < trace.steps.size() || !with_vars) {
      o["truncated"] = true;
    }
    return o;
  };
  // The trace goes back to the designer in one native-messaging frame (1 MiB cap): drop the
  // per-step variable snapshots first, then steps from the end, until it fits.
  json::object full = build(trace.steps.size(), true);
  if (json::serialize(full).size() <= max_bytes) {
    return full;
  }
  size_t keep = trace.steps.size();
  while (true) {
    json::object o = build(keep, false);
    if (json::serialize(o).size() <= max_bytes || keep == 0) {
      return o;
    }
    keep /= 2;
  }
}

}  // namespace omnibridge::popflow
