// pbx-sim configuration: the manager user, channel variables, hints and queues that a real
// Asterisk would read from manager.conf, extensions.conf and queues.conf. The default mirrors
// shared/fixtures/ami/asterisk-22; docs/pbx-sim.md describes the JSON file format.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace omnibridge::pbxsim {

struct ManagerUser {
  std::string username;
  std::string secret;
  std::vector<std::string> read;  // event classes, e.g. "call", "agent"; "all" = every class
};

struct MemberConfig {
  std::string interface;        // Local/<exten>@<context>/n
  std::string membername;       // Agent/1001; defaults to the interface
  std::string state_interface;  // hint:1001@agent-hints; defaults to the interface
  int penalty = 0;
};

enum class Strategy { kRingAll, kRrMemory, kLeastRecent };

struct QueueConfig {
  std::string name;
  Strategy strategy = Strategy::kRingAll;
  int timeout_seconds = 15;  // how long one member rings
  int retry_seconds = 5;     // pause between two rounds of ringing
  int wrapuptime_seconds = 0;
  bool ringinuse = false;
  int servicelevel_seconds = 60;
  std::string musicclass = "default";
  std::vector<MemberConfig> members;
};

struct SimConfig {
  std::vector<ManagerUser> users;
  bool timestampevents = true;
  std::vector<std::string> channelvars;
  // "<exten>@<context>" -> devices joined by '&', e.g. "Custom:phone-1001&Custom:digital-1001".
  std::map<std::string, std::string> hints;
  std::vector<QueueConfig> queues;
  // Quirk 12 of the fixtures README: every Nth AgentComplete after a caller hangup comes without
  // channel blocks. 0 = never.
  int bare_agent_complete_every = 0;
};

// The configuration of shared/fixtures/ami/asterisk-22.
SimConfig DefaultConfig();

// Parses a JSON configuration; `origin` (a file name) prefixes every error message.
absl::StatusOr<SimConfig> ParseConfig(absl::string_view json, absl::string_view origin);
absl::StatusOr<SimConfig> LoadConfigFile(const std::string& path);

absl::string_view StrategyName(Strategy strategy);

}  // namespace omnibridge::pbxsim
