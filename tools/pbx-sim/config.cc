#include "config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/json.hpp"

#include "base/status_macros.h"
#include "json_util.h"

namespace omnibridge::pbxsim {
namespace {

namespace json = boost::json;

absl::Status KeyError(absl::string_view origin, absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(origin, ": key \"", key, "\": ", what));
}

absl::Status CheckKeys(const json::object& obj, absl::string_view origin, absl::string_view path,
                       std::initializer_list<absl::string_view> allowed) {
  for (const auto& kv : obj) {
    bool ok = false;
    for (absl::string_view a : allowed)
      ok = ok || kv.key() == J(a);
    if (!ok)
      return KeyError(origin, absl::StrCat(path, A(kv.key())), "unknown key");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GetString(const json::object& obj, absl::string_view origin,
                                      absl::string_view path, absl::string_view key) {
  const json::value* v = obj.if_contains(J(key));
  if (v == nullptr)
    return KeyError(origin, absl::StrCat(path, key), "missing");
  if (!v->is_string())
    return KeyError(origin, absl::StrCat(path, key), "must be a string");
  return std::string(v->as_string());
}

absl::Status OptString(const json::object& obj, absl::string_view origin, absl::string_view path,
                       absl::string_view key, std::string* out) {
  if (obj.if_contains(J(key)) == nullptr)
    return absl::OkStatus();
  OMNI_ASSIGN_OR_RETURN(*out, GetString(obj, origin, path, key));
  return absl::OkStatus();
}

absl::Status OptInt(const json::object& obj, absl::string_view origin, absl::string_view path,
                    absl::string_view key, int* out) {
  const json::value* v = obj.if_contains(J(key));
  if (v == nullptr)
    return absl::OkStatus();
  if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > 1'000'000) {
    return KeyError(origin, absl::StrCat(path, key), "must be an integer from 0 to 1000000");
  }
  *out = static_cast<int>(v->as_int64());
  return absl::OkStatus();
}

absl::Status OptBool(const json::object& obj, absl::string_view origin, absl::string_view path,
                     absl::string_view key, bool* out) {
  const json::value* v = obj.if_contains(J(key));
  if (v == nullptr)
    return absl::OkStatus();
  if (!v->is_bool())
    return KeyError(origin, absl::StrCat(path, key), "must be true or false");
  *out = v->as_bool();
  return absl::OkStatus();
}

// A list of strings, also accepted as one comma-separated string like manager.conf writes it.
absl::Status OptStringList(const json::object& obj, absl::string_view origin,
                           absl::string_view path, absl::string_view key,
                           std::vector<std::string>* out) {
  const json::value* v = obj.if_contains(J(key));
  if (v == nullptr)
    return absl::OkStatus();
  out->clear();
  if (v->is_string()) {
    for (absl::string_view part : absl::StrSplit(A(v->as_string()), ',', absl::SkipWhitespace())) {
      out->emplace_back(absl::StripAsciiWhitespace(part));
    }
    return absl::OkStatus();
  }
  if (!v->is_array()) {
    return KeyError(origin, absl::StrCat(path, key), "must be a list of strings");
  }
  for (const json::value& item : v->as_array()) {
    if (!item.is_string()) {
      return KeyError(origin, absl::StrCat(path, key), "must be a list of strings");
    }
    out->emplace_back(item.as_string());
  }
  return absl::OkStatus();
}

absl::StatusOr<Strategy> ParseStrategy(absl::string_view text) {
  if (text == "ringall")
    return Strategy::kRingAll;
  if (text == "rrmemory")
    return Strategy::kRrMemory;
  if (text == "leastrecent")
    return Strategy::kLeastRecent;
  return absl::InvalidArgumentError("must be ringall, rrmemory or leastrecent");
}

absl::Status ParseMember(const json::value& v, absl::string_view origin, const std::string& path,
                         MemberConfig* member) {
  if (!v.is_object())
    return KeyError(origin, path, "must be an object");
  const json::object& obj = v.as_object();
  std::string p = absl::StrCat(path, ".");
  OMNI_RETURN_IF_ERROR(
      CheckKeys(obj, origin, p, {"interface", "membername", "stateInterface", "penalty"}));
  OMNI_ASSIGN_OR_RETURN(member->interface, GetString(obj, origin, p, "interface"));
  if (!member->interface.starts_with("Local/") ||
      member->interface.find('@') == std::string::npos) {
    return KeyError(origin, absl::StrCat(p, "interface"),
                    "pbx-sim simulates Local/<exten>@<context>/n member interfaces only");
  }
  member->membername = member->interface;
  member->state_interface = member->interface;
  OMNI_RETURN_IF_ERROR(OptString(obj, origin, p, "membername", &member->membername));
  OMNI_RETURN_IF_ERROR(OptString(obj, origin, p, "stateInterface", &member->state_interface));
  OMNI_RETURN_IF_ERROR(OptInt(obj, origin, p, "penalty", &member->penalty));
  return absl::OkStatus();
}

absl::Status ParseQueue(const json::value& v, absl::string_view origin, const std::string& path,
                        QueueConfig* queue) {
  if (!v.is_object())
    return KeyError(origin, path, "must be an object");
  const json::object& obj = v.as_object();
  std::string p = absl::StrCat(path, ".");
  OMNI_RETURN_IF_ERROR(CheckKeys(obj, origin, p,
                                 {"name", "strategy", "timeout", "retry", "wrapuptime", "ringinuse",
                                  "servicelevel", "musicclass", "members"}));
  OMNI_ASSIGN_OR_RETURN(queue->name, GetString(obj, origin, p, "name"));
  if (queue->name.empty())
    return KeyError(origin, absl::StrCat(p, "name"), "must not be empty");
  std::string strategy = "ringall";
  OMNI_RETURN_IF_ERROR(OptString(obj, origin, p, "strategy", &strategy));
  auto parsed = ParseStrategy(strategy);
  if (!parsed.ok()) {
    return KeyError(origin, absl::StrCat(p, "strategy"), parsed.status().message());
  }
  queue->strategy = *parsed;
  OMNI_RETURN_IF_ERROR(OptInt(obj, origin, p, "timeout", &queue->timeout_seconds));
  OMNI_RETURN_IF_ERROR(OptInt(obj, origin, p, "retry", &queue->retry_seconds));
  OMNI_RETURN_IF_ERROR(OptInt(obj, origin, p, "wrapuptime", &queue->wrapuptime_seconds));
  OMNI_RETURN_IF_ERROR(OptBool(obj, origin, p, "ringinuse", &queue->ringinuse));
  OMNI_RETURN_IF_ERROR(OptInt(obj, origin, p, "servicelevel", &queue->servicelevel_seconds));
  OMNI_RETURN_IF_ERROR(OptString(obj, origin, p, "musicclass", &queue->musicclass));
  if (const json::value* members = obj.if_contains("members")) {
    if (!members->is_array()) {
      return KeyError(origin, absl::StrCat(p, "members"), "must be a list");
    }
    size_t i = 0;
    for (const json::value& m : members->as_array()) {
      MemberConfig member;
      OMNI_RETURN_IF_ERROR(ParseMember(m, origin, absl::StrCat(p, "members[", i++, "]"), &member));
      queue->members.push_back(std::move(member));
    }
  }
  return absl::OkStatus();
}

MemberConfig Member(absl::string_view agent, absl::string_view context) {
  return MemberConfig{absl::StrCat("Local/", agent, "@", context, "/n"),
                      absl::StrCat("Agent/", agent), absl::StrCat("hint:", agent, "@agent-hints"),
                      0};
}

}  // namespace

absl::string_view StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kRingAll:
      return "ringall";
    case Strategy::kRrMemory:
      return "rrmemory";
    case Strategy::kLeastRecent:
      return "leastrecent";
  }
  return "ringall";
}

SimConfig DefaultConfig() {
  SimConfig config;
  config.users.push_back(ManagerUser{
      "harmony",
      "harmony-secret",
      {"system", "call", "agent", "user", "dialplan", "reporting", "originate", "command"}});
  config.timestampevents = true;
  config.channelvars = {"OB_INTERACTION_ID", "OB_CHANNEL",  "OB_CRM_URL",
                        "OB_SUBJECT",        "OB_CUSTOMER", "OB_OFFER_TIMEOUT"};
  for (absl::string_view agent : {"1001", "1002", "1003", "1004"}) {
    config.hints[absl::StrCat(agent, "@agent-hints")] =
        absl::StrCat("Custom:phone-", agent, "&Custom:digital-", agent);
  }
  QueueConfig support;
  support.name = "support";
  support.strategy = Strategy::kRingAll;
  support.timeout_seconds = 20;
  support.retry_seconds = 2;
  support.servicelevel_seconds = 60;
  support.members = {Member("1001", "agents"), Member("1002", "agents")};
  QueueConfig digital;
  digital.name = "digital";
  digital.strategy = Strategy::kRrMemory;
  digital.timeout_seconds = 30;
  digital.retry_seconds = 1;
  digital.servicelevel_seconds = 120;
  digital.members = {Member("1001", "omnibridge-task"), Member("1002", "omnibridge-task")};
  config.queues = {support, digital};
  return config;
}

absl::StatusOr<SimConfig> ParseConfig(absl::string_view text, absl::string_view origin) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value root = json::parse(J(text), ec, {}, options);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": not valid JSON: ", ec.message()));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": must be a JSON object"));
  }
  const json::object& obj = root.as_object();
  OMNI_RETURN_IF_ERROR(CheckKeys(obj, origin, "", {"manager", "hints", "queues", "quirks"}));
  SimConfig config = DefaultConfig();

  if (const json::value* manager = obj.if_contains("manager")) {
    if (!manager->is_object())
      return KeyError(origin, "manager", "must be an object");
    const json::object& m = manager->as_object();
    OMNI_RETURN_IF_ERROR(
        CheckKeys(m, origin, "manager.", {"timestampevents", "channelvars", "users"}));
    OMNI_RETURN_IF_ERROR(
        OptBool(m, origin, "manager.", "timestampevents", &config.timestampevents));
    OMNI_RETURN_IF_ERROR(OptStringList(m, origin, "manager.", "channelvars", &config.channelvars));
    if (const json::value* users = m.if_contains("users")) {
      if (!users->is_array() || users->as_array().empty()) {
        return KeyError(origin, "manager.users", "must be a non-empty list");
      }
      config.users.clear();
      size_t i = 0;
      for (const json::value& u : users->as_array()) {
        std::string p = absl::StrCat("manager.users[", i++, "].");
        if (!u.is_object())
          return KeyError(origin, p, "must be an object");
        const json::object& uo = u.as_object();
        OMNI_RETURN_IF_ERROR(CheckKeys(uo, origin, p, {"username", "secret", "read"}));
        ManagerUser user;
        OMNI_ASSIGN_OR_RETURN(user.username, GetString(uo, origin, p, "username"));
        OMNI_ASSIGN_OR_RETURN(user.secret, GetString(uo, origin, p, "secret"));
        user.read = {"all"};
        OMNI_RETURN_IF_ERROR(OptStringList(uo, origin, p, "read", &user.read));
        config.users.push_back(std::move(user));
      }
    }
  }
  if (const json::value* hints = obj.if_contains("hints")) {
    if (!hints->is_object())
      return KeyError(origin, "hints", "must be an object");
    config.hints.clear();
    for (const auto& kv : hints->as_object()) {
      if (!kv.value().is_string() || A(kv.key()).find('@') == absl::string_view::npos) {
        return KeyError(origin, absl::StrCat("hints.", A(kv.key())),
                        "must map \"<exten>@<context>\" to a string of devices joined by &");
      }
      config.hints[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  if (const json::value* queues = obj.if_contains("queues")) {
    if (!queues->is_array())
      return KeyError(origin, "queues", "must be a list");
    config.queues.clear();
    size_t i = 0;
    for (const json::value& q : queues->as_array()) {
      QueueConfig queue;
      OMNI_RETURN_IF_ERROR(ParseQueue(q, origin, absl::StrCat("queues[", i++, "]"), &queue));
      for (const QueueConfig& other : config.queues) {
        if (other.name == queue.name) {
          return KeyError(origin, absl::StrCat("queues[", i - 1, "].name"),
                          absl::StrCat("duplicate queue \"", queue.name, "\""));
        }
      }
      config.queues.push_back(std::move(queue));
    }
  }
  if (const json::value* quirks = obj.if_contains("quirks")) {
    if (!quirks->is_object())
      return KeyError(origin, "quirks", "must be an object");
    const json::object& q = quirks->as_object();
    OMNI_RETURN_IF_ERROR(CheckKeys(q, origin, "quirks.", {"bareAgentCompleteEvery"}));
    OMNI_RETURN_IF_ERROR(
        OptInt(q, origin, "quirks.", "bareAgentCompleteEvery", &config.bare_agent_complete_every));
  }
  return config;
}

absl::StatusOr<SimConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path, ": cannot open config file"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": config file over 1 MiB"));
  }
  return ParseConfig(text, path);
}

}  // namespace omnibridge::pbxsim
