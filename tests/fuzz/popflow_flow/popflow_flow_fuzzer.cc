// Fuzzes the flow loader and, for flows that load, a dry run: user-authored JSON must be refused
// with a diagnostic or run to an end within the step and size limits, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "boost/json.hpp"

#include "base/log.h"
#include "popflow/popflow.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omnibridge::popflow;
  namespace json = boost::json;
  static const bool quiet = [] {
    omnibridge::base::SetLogToStderr(false);
    return true;
  }();
  (void)quiet;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Diagnostic> diagnostics;
  auto flow = LoadFlowText(text, {}, &diagnostics);
  if (!flow.ok()) {
    bool has_error = false;
    for (const auto& d : diagnostics)
      has_error = has_error || !d.warning;
    if (!has_error)
      std::abort();  // a refusal always says why
    return 0;
  }
  Trigger trigger;
  trigger.event = FlowTriggerEvent(**flow);
  trigger.interaction = json::object{
      {"interactionId", "f-1"}, {"ani", "+14155550100"}, {"queue", "vip"}, {"channel", "voice"}};
  DryRunScript script;
  script.results = json::object{{"a", json::object{{"count", 2}, {"ids", json::array{"x", "y"}}}},
                                {"b", json::object{{"button", "ok"}}}};
  EngineOptions options;
  options.max_steps = 200;
  Trace trace = DryRun(*flow, trigger, script, options);
  if (trace.steps.size() > 200)
    std::abort();
  json::object j = TraceToJson(trace, 256 * 1024);
  if (json::serialize(j).size() > 256 * 1024)
    std::abort();
  return 0;
}
