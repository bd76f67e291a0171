// Layered configuration: built-in defaults < system-wide file (what an enterprise deploys) <
// per-user file. Keys and files are DESIGN.md's "Contracts"; config.schema.json describes them
// for admins and is tested against this loader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"

namespace omnibridge::config {

struct AmiConfig {
  std::string host = "127.0.0.1";
  int port = 5038;
  bool tls = false;
  std::string username;
  std::string secret;  // from cti.ami.secret, or read from cti.ami.secretFile
  std::string secret_file;
};

struct CtiConfig {
  std::string driver = "ami";
  AmiConfig ami;
};

struct AgentConfig {
  std::string id;
  std::vector<std::string> interfaces;
  std::vector<std::string> queues;
  std::vector<std::string> reason_codes = {"Break", "Lunch", "Training", "ACW"};
};

struct ConnectConfig {
  int port = 8787;
  int64_t max_body_bytes = 1024 * 1024;
};

struct Config {
  std::vector<std::string> allowed_origins;
  CtiConfig cti;
  AgentConfig agent;
  ConnectConfig connect;
  std::string log_level = "info";
  int64_t max_frame_bytes = 1024 * 1024;  // nm.maxFrameBytes: cap on browser→host frames
  // Subtrees owned by other modules, validated by them: route.*, popflow.*.
  boost::json::object route;
  boost::json::object popflow;
  // The merged JSON of every layer, for modules that read their own keys.
  boost::json::object merged;
};

// A problem that does not stop loading: an unknown key, a layer that does not exist.
struct Warning {
  std::string file;
  std::string key;
  std::string message;
};

struct LoadResult {
  Config config;
  std::vector<Warning> warnings;
  // Only in LoadMode::kLenient: each problem that dropped a key or a whole file, named like
  // Load()'s errors.
  std::vector<std::string> errors;
  std::vector<std::string> files_read;
};

// Where the layers come from. An empty path skips that layer; a missing file is skipped too.
struct Layers {
  std::string system_file;
  std::string user_file;
  // The enterprise layer the extension sends in its hello (managed storage): applied between
  // the system and user files. Keys must be valid config keys (`cti`, `agent.reasonCodes`...).
  boost::json::object managed;
  std::vector<std::string> default_allowed_origins;
};

enum class LoadMode {
  kStrict,   // the first problem fails the load (doctor, route, tests)
  kLenient,  // a bad key or unreadable file is dropped and listed in LoadResult::errors, so the
             // browser session still starts and can show the admin what is wrong
};

// Loads and validates every layer. Errors name the file, the key and the reason, e.g.
// "/etc/omnibridge/config.json: cti.ami.port: must be an integer from 1 to 65535".
absl::StatusOr<LoadResult> Load(const Layers& layers, LoadMode mode = LoadMode::kStrict);

// Validates one layer's JSON (as text) without merging: the same checks Load() applies.
absl::Status ValidateLayer(const std::string& file_label, const boost::json::object& layer,
                           std::vector<Warning>* warnings);

// Every key the loader knows, as dotted paths with their JSON type ("string", "integer",
// "boolean", "array<string>", "object", "array<object>"): what the schema test compares with.
std::vector<std::pair<std::string, std::string>> KnownKeys();

// Per-OS default paths (DESIGN.md "Files").
std::string DefaultSystemConfigPath();
// $OMNIBRIDGE_CONFIG if set, else the per-user config.json.
std::string DefaultUserConfigPath();
// The per-user configuration directory (also where connect-token lives).
std::string UserConfigDir();
// The per-user log directory.
std::string UserLogDir();

}  // namespace omnibridge::config
