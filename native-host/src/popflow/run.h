// Internal: the state of one flow run, shared by the engine and the dry-run driver.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "boost/json.hpp"

#include "popflow/flow.h"
#include "popflow/popflow.h"

namespace omnibridge::popflow {

namespace json = boost::json;

enum class WaitKind { kNone, kAction, kHttp, kLaunch, kDelay };

struct Run {
  std::string id;
  std::shared_ptr<const Flow> flow;
  std::string interaction_id;
  json::object roots;  // interaction, agent, trigger, flow, vars, nodes
  std::string current;
  int steps = 0;
  absl::Time started;
  absl::Time deadline;
  json::array batch;
  size_t batch_bytes = 0;
  int frame_seq = 0;
  size_t actions = 0;
  std::vector<std::string> frames;
  bool done = false;

  WaitKind wait = WaitKind::kNone;
  const Node* wait_node = nullptr;
  std::string wait_frame;
  int wait_index = -1;
  uint64_t wait_id = 0;  // http/launch id
  uint64_t timer_id = 0;

  Trace* trace = nullptr;
  int trace_step = -1;  // index into trace->steps of the node in progress

  json::object& vars() { return roots["vars"].as_object(); }

  json::object& nodes() { return roots["nodes"].as_object(); }

  TraceStep* step() {
    return trace != nullptr && trace_step >= 0 ? &trace->steps[static_cast<size_t>(trace_step)]
                                               : nullptr;
  }
};

}  // namespace omnibridge::popflow
