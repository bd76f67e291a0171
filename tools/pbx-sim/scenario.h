// Scenario files: timed inbound calls and digital tasks for the demo and load tests.
//   {"calls": [{"at": 2, "from": "+15551234", "name": "Alice", "to": "5000", "queue": "support",
//               "answerAfter": 3, "duration": 20, "repeat": 10, "every": 5}]}
// docs/pbx-sim.md documents every field.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"

#include "pbx.h"
#include "scheduler.h"

namespace omnibridge::pbxsim {

// The call fields shared by scenario entries and the control port's "call" request.
absl::StatusOr<CallRequest> ParseCallRequest(const boost::json::object& obj,
                                             absl::string_view where);

struct ScenarioCall {
  double at_seconds = 0;
  int repeat = 1;
  double every_seconds = 0;
  CallRequest request;
};

struct Scenario {
  std::vector<ScenarioCall> calls;
};

absl::StatusOr<Scenario> ParseScenario(absl::string_view json, absl::string_view origin);
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// Schedules every call of the scenario on `scheduler`, relative to now.
void RunScenario(const Scenario& scenario, Scheduler* scheduler, Pbx* pbx);

}  // namespace omnibridge::pbxsim
