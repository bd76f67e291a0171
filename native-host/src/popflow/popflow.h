// PopFlow: interaction workflows ("flows") loaded from user-authored JSON, validated, and run by
// an engine on CTI, routing, agent and Connect API triggers.
//
// Logic without I/O: the engine takes triggers, results and a base::Clock, and returns effects
// as values (frames for the extension, HTTP requests, agent-state commands, app launches,
// timers). The host performs them (omni_popflow_io has executors) and feeds results back.
// Nothing here is thread-safe: the host calls it from its one event loop.
//
// docs/popflow.md documents the format, the node kinds and the expression language;
// docs/popflow.schema.json is the JSON Schema of a flow.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json.hpp"

#include "base/clock.h"
#include "popflow/expr.h"

namespace omnibridge::popflow {

class Flow;  // popflow/flow.h; immutable once loaded
struct Run;  // engine internals

inline constexpr std::string_view kSchemaId = "omnibridge.popflow/1";

// Trigger events a flow can bind to (`trigger.event`).
inline constexpr std::string_view kTriggerEvents[] = {
    "interaction.offered",     "interaction.connected",
    "interaction.held",        "interaction.resumed",
    "interaction.transferred", "interaction.ended",
    "interaction.missed",      "interaction.wrapupStarted",
    "interaction.wrapupEnded", "routing.offerAccepted",
    "routing.offerDeclined",   "agent.stateChanged",
    "button.clicked",          "connect.event",
};

struct FlowLimits {
  size_t max_json_bytes = size_t{512} * 1024;
  int max_json_depth = 32;
  size_t max_nodes = 500;
  size_t max_name = 100;
  size_t max_buttons = 5;
  size_t max_branches = 100;
  size_t max_fields = 50;                   // newRecord fields, headers, launch args
  size_t max_ui_bytes = size_t{16} * 1024;  // designer layout data per node
  ExprLimits expr;
};

// One problem found in a flow. `column` is 1-based in the field's text, 0 when not applicable.
struct Diagnostic {
  std::string node;   // "" for flow-level fields
  std::string field;  // e.g. "condition", "trigger.filter", "branches.true"
  int column = 0;
  std::string message;
  bool warning = false;  // warnings (e.g. unreachable node) do not block loading
};

// "flow 'X', node 'n3', field 'condition', column 14: unexpected ')'".
std::string FormatDiagnostic(std::string_view flow_name, const Diagnostic& d);
boost::json::object DiagnosticToJson(const Diagnostic& d);

// Validates and compiles a flow. The error (InvalidArgument) names the flow, node, field and
// column of the first problem; `diagnostics`, when given, receives every problem and warning.
absl::StatusOr<std::shared_ptr<const Flow>> LoadFlow(
    const boost::json::value& json, const FlowLimits& limits = {},
    std::vector<Diagnostic>* diagnostics = nullptr);
// Parses text first (size and depth bounded), then LoadFlow.
absl::StatusOr<std::shared_ptr<const Flow>> LoadFlowText(
    std::string_view text, const FlowLimits& limits = {},
    std::vector<Diagnostic>* diagnostics = nullptr);
// Bounded JSON parse shared by the module (never throws).
absl::StatusOr<boost::json::value> ParseJsonBounded(std::string_view text, size_t max_bytes,
                                                    int max_depth);

const std::string& FlowName(const Flow& flow);
const std::string& FlowTriggerEvent(const Flow& flow);

// ------------------------------------------------------------------------------------------
// Triggers and effects

struct Trigger {
  std::string event;           // one of kTriggerEvents
  std::string name;            // connect.event: the event name; button.clicked: the flow's name
  std::string source = "cti";  // cti | connect | extension
  boost::json::object interaction;  // the interaction.update snapshot ({} for agent events)
  boost::json::object agent;        // agent.state fields, agent id
  boost::json::object data;         // trigger payload (Connect body data, button payload, ...)
};

// A popflow.run frame for the extension (docs/protocol.md). `frame` is ready to send.
struct ExtensionFrame {
  boost::json::object frame;
};

// An HTTP request for the host to perform, then report with Engine::OnHttpResult. `credential`
// is a NAME the host resolves from its own configuration; the secret never enters the engine.
struct HttpRequest {
  uint64_t id = 0;
  std::string run_id;
  std::string flow;
  std::string node;
  std::string method;  // GET | POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // JSON text for POST, else empty
  std::string credential;
  absl::Duration timeout = absl::Seconds(10);
};

struct HttpResult {
  int status = 0;    // 0 when the request failed before a response
  std::string body;  // at most the executor's cap
  std::string content_type;
  std::string error;  // transport error, empty on a response
};

struct AgentStateCommand {
  std::string state;  // ready | notReady
  std::string reason;
  std::string run_id;
};

// Launch an admin-allowlisted desktop program by its configured NAME with templated arguments,
// without a shell. Report with Engine::OnLaunchResult.
struct AppLaunch {
  uint64_t id = 0;
  std::string run_id;
  std::string app;
  std::vector<std::string> args;
};

// Call Engine::OnTimer(id) at `deadline` (or later). Timers never need cancelling: a stale one
// is ignored.
struct TimerRequest {
  uint64_t id = 0;
  absl::Time deadline;
};

using Effect =
    std::variant<ExtensionFrame, HttpRequest, AgentStateCommand, AppLaunch, TimerRequest>;
using Effects = std::vector<Effect>;

struct EngineOptions {
  int max_steps = 1000;  // per run; bounds loops in the graph
  absl::Duration max_run_time = absl::Minutes(10);
  size_t max_runs = 256;  // concurrent runs; new triggers refused above
  size_t max_actions_per_run = 200;
  size_t max_action_bytes = size_t{256} * 1024;    // one serialized action
  size_t max_frame_bytes = size_t{768} * 1024;     // below Chrome's 1 MiB host→extension cap
  absl::Duration crm_timeout = absl::Seconds(20);  // waiting for a crmSearch/logActivity result
  size_t max_http_body = size_t{1024} * 1024;
  absl::flat_hash_set<std::string> allowed_apps;  // launchApp names; empty = none allowed
  ExprLimits expr;
};

// ------------------------------------------------------------------------------------------
// Dry run (the designer's Test button)

// Scripted results for the nodes that would wait on the outside world, keyed by node id:
//   crmSearch  {"count": n, "ids": [...]}        (default: no match)
//   toast      {"button": "<id>"} or {"timeout": true}  (default: timeout)
//   httpRequest{"status": 200, "body": <JSON or text>} (default: 200 with {})
//   logActivity{"ok": true}                      launchApp {"ok": true}
// A script entry may also be {"error": "text"} to simulate a failure.
struct DryRunScript {
  boost::json::object results;
};

struct TraceStep {
  int step = 0;
  std::string node;
  std::string kind;
  boost::json::object inputs;  // the node's fields as evaluated
  boost::json::value result;   // what the node produced (search result, HTTP response, ...)
  std::string outcome;         // the branch taken ("true", "one", button id, ...) or ""
  std::string next;            // the node that runs next, "" at the end
  boost::json::value effect;   // the action/request/command it would emit, null if none
  boost::json::object vars;    // variables after the step
  std::string note;            // e.g. "scripted result", "no scripted result: assumed none"
  std::string error;           // set on the step that stopped the run
  int column = 0;              // of the expression error, when there is one
  std::string field;
};

struct Trace {
  std::string flow;
  bool triggered = true;   // false when the trigger's filter rejected the sample
  bool completed = false;  // reached an end without error
  std::string error;       // the run's error, formatted, if any
  std::vector<TraceStep> steps;
  boost::json::array actions;  // every extension action in order, as the frames would carry
  boost::json::array effects;  // every other effect (http, agent state, launch, delay)
};

boost::json::object TraceToJson(const Trace& trace, size_t max_bytes = size_t{768} * 1024);

// Runs `flow` against a sample trigger without side effects: waits are answered from `script`,
// delays are skipped (recorded), nothing is sent anywhere.
Trace DryRun(const std::shared_ptr<const Flow>& flow, const Trigger& trigger,
             const DryRunScript& script, const EngineOptions& options = {},
             absl::Time now = absl::UnixEpoch());

// ------------------------------------------------------------------------------------------
// Engine

// Role: runs the active flows on triggers and advances runs as results arrive.
class Engine {
 public:
  // `clock` must outlive the engine.
  explicit Engine(const base::Clock& clock, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Replaces the flows that triggers run. Runs in progress keep their flow version.
  void SetFlows(std::vector<std::shared_ptr<const Flow>> flows);

  // Starts a run of every active flow bound to `trigger.event` whose filter accepts it.
  // Once-per-interaction events (offered, connected, ended, missed, wrapup*) for an interaction
  // already seen are ignored, so a CTI reconnect never pops twice.
  Effects OnTrigger(const Trigger& trigger);
  // Starts one flow directly (a flow button, a Connect API call naming a flow).
  Effects Start(const std::shared_ptr<const Flow>& flow, const Trigger& trigger);

  // A `crm.event` `popflow.result` from the extension. `run_id` is the frame's runId.
  Effects OnActionResult(std::string_view run_id, int action_index, bool ok,
                         const boost::json::value& data, std::string_view error);
  Effects OnHttpResult(uint64_t request_id, const HttpResult& result);
  Effects OnLaunchResult(uint64_t launch_id, const absl::Status& status);
  Effects OnTimer(uint64_t timer_id);

  size_t active_runs() const { return runs_.size(); }

  // Number of runs started since construction (tests, doctor).
  uint64_t runs_started() const { return runs_started_; }

  // Internal (used by the run machinery and DryRun).
  struct Wait;

 private:
  friend Trace DryRun(const std::shared_ptr<const Flow>&, const Trigger&, const DryRunScript&,
                      const EngineOptions&, absl::Time);
  Effects StartRun(const std::shared_ptr<const Flow>& flow, const Trigger& trigger, Trace* trace);
  void Advance(Run& run, Effects& out);
  void Fail(Run& run, std::string_view node, std::string_view field, const ExprError* expr,
            std::string_view message, Effects& out);
  void Finish(Run& run, Effects& out);
  void Flush(Run& run, Effects& out);
  void Resume(Run& run, std::string_view outcome, boost::json::value result, Effects& out);

  const base::Clock& clock_;
  EngineOptions options_;
  std::vector<std::shared_ptr<const Flow>> flows_;
  std::map<std::string, std::unique_ptr<Run>> runs_;  // by run id
  absl::flat_hash_map<std::string, std::string> frame_to_run_;
  absl::flat_hash_map<uint64_t, std::string> waits_;  // http/launch/timer id → run id
  std::deque<std::string> seen_order_;                // once-only dedup, bounded FIFO
  absl::flat_hash_set<std::string> seen_;
  uint64_t next_id_ = 1;
  uint64_t runs_started_ = 0;
  std::string id_prefix_;
};

}  // namespace omnibridge::popflow
