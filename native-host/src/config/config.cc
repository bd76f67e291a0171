#include "config/config.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "boost/json/parse.hpp"

#include "base/log.h"

namespace omnibridge::config {
namespace json = boost::json;

namespace {

// Config files are small; anything bigger is a mistake (or an attack on the parser).
constexpr size_t kMaxConfigBytes = 1024 * 1024;

enum class Type { kString, kInteger, kBoolean, kStringArray, kObject, kObjectArray };

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kString:
      return "string";
    case Type::kInteger:
      return "integer";
    case Type::kBoolean:
      return "boolean";
    case Type::kStringArray:
      return "array<string>";
    case Type::kObject:
      return "object";
    case Type::kObjectArray:
      return "array<object>";
  }
  return "?";
}

// Returns an empty string when `value` is acceptable, else the reason.
using Check = std::function<std::string(const json::value&)>;

struct KeyRule {
  std::string path;
  Type type;
  Check check;          // optional extra validation
  bool opaque = false;  // object whose inner keys belong to another module
};

Check IntRange(int64_t lo, int64_t hi) {
  return [lo, hi](const json::value& v) -> std::string {
    int64_t n = v.is_int64() ? v.get_int64() : static_cast<int64_t>(v.get_uint64());
    if (n < lo || n > hi)
      return absl::StrCat("must be an integer from ", lo, " to ", hi);
    return "";
  };
}

Check OneOf(std::vector<std::string> allowed) {
  return [allowed](const json::value& v) -> std::string {
    std::string s(v.get_string());
    for (const auto& a : allowed) {
      if (s == a)
        return "";
    }
    return absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "), " (got \"", s, "\")");
  };
}

Check NonEmptyString() {
  return [](const json::value& v) -> std::string {
    return v.get_string().empty() ? "must not be empty" : "";
  };
}

Check Origins() {
  return [](const json::value& v) -> std::string {
    for (const json::value& item : v.get_array()) {
      std::string_view s = item.get_string();
      if (!s.starts_with("chrome-extension://") || !s.ends_with("/") ||
          s.size() <= std::string_view("chrome-extension:///").size()) {
        return base::Cat("\"", s,
                         "\" is not an origin of the form chrome-extension://<id>/ "
                         "(the trailing slash is required)");
      }
    }
    return "";
  };
}

const std::vector<KeyRule>& Rules() {
  static const std::vector<KeyRule> kRules = {
      {"allowedOrigins", Type::kStringArray, Origins()},
      {"cti", Type::kObject, nullptr},
      {"cti.driver", Type::kString, OneOf({"ami"})},
      {"cti.ami", Type::kObject, nullptr},
      {"cti.ami.host", Type::kString, NonEmptyString()},
      {"cti.ami.port", Type::kInteger, IntRange(1, 65535)},
      {"cti.ami.tls", Type::kBoolean, nullptr},
      {"cti.ami.username", Type::kString, nullptr},
      {"cti.ami.secret", Type::kString, nullptr},
      {"cti.ami.secretFile", Type::kString, nullptr},
      {"agent", Type::kObject, nullptr},
      {"agent.id", Type::kString, nullptr},
      {"agent.interfaces", Type::kStringArray, nullptr},
      {"agent.queues", Type::kStringArray, nullptr},
      {"agent.reasonCodes", Type::kStringArray, nullptr},
      {"connect", Type::kObject, nullptr},
      {"connect.port", Type::kInteger, IntRange(1, 65535)},
      {"connect.maxBodyBytes", Type::kInteger, IntRange(1, 64 * 1024 * 1024)},
      {"log", Type::kObject, nullptr},
      {"log.level", Type::kString, OneOf({"debug", "info", "warning", "error"})},
      {"nm", Type::kObject, nullptr},
      {"nm.maxFrameBytes", Type::kInteger, IntRange(1024, 64 * 1024 * 1024)},
      {"route", Type::kObject, nullptr},
      {"route.listen", Type::kString, NonEmptyString()},
      {"route.journal", Type::kString, NonEmptyString()},
      {"route.sources", Type::kObjectArray, nullptr},
      {"route.maxBodyBytes", Type::kInteger, IntRange(1, 64 * 1024 * 1024)},
      {"route.offerTimeoutSeconds", Type::kInteger, IntRange(5, 3600)},
      {"route.emailLiveMax", Type::kInteger, IntRange(1, 1000)},
      {"popflow", Type::kObject, nullptr, /*opaque=*/true},
  };
  return kRules;
}

const KeyRule* FindRule(std::string_view path) {
  for (const KeyRule& rule : Rules()) {
    if (rule.path == path)
      return &rule;
  }
  return nullptr;
}

bool HasType(const json::value& v, Type type) {
  switch (type) {
    case Type::kString:
      return v.is_string();
    case Type::kInteger:
      return v.is_int64() || v.is_uint64();
    case Type::kBoolean:
      return v.is_bool();
    case Type::kObject:
      return v.is_object();
    case Type::kStringArray:
      if (!v.is_array())
        return false;
      for (const json::value& item : v.get_array()) {
        if (!item.is_string())
          return false;
      }
      return true;
    case Type::kObjectArray:
      if (!v.is_array())
        return false;
      for (const json::value& item : v.get_array()) {
        if (!item.is_object())
          return false;
      }
      return true;
  }
  return false;
}

// Validates `object` (a layer or a sub-object of one). With `errors` given (lenient mode), an
// invalid key is erased from `object` and its error listed instead of failing.
absl::Status ValidateObject(const std::string& file, const std::string& prefix,
                            json::object& object, std::vector<Warning>* warnings,
                            std::vector<std::string>* errors = nullptr) {
  std::vector<std::string> dropped;
  for (auto& [key, value] : object) {
    std::string key_text(key);
    std::string path = prefix.empty() ? key_text : absl::StrCat(prefix, ".", key_text);
    const KeyRule* rule = FindRule(path);
    if (rule == nullptr) {
      if (warnings)
        warnings->push_back({file, path, "unknown key (ignored)"});
      continue;
    }
    std::string reason;
    if (!HasType(value, rule->type)) {
      reason = base::Cat("must be of type ", TypeName(rule->type));
    } else if (rule->check) {
      reason = rule->check(value);
    }
    if (!reason.empty()) {
      std::string message = base::Cat(file, ": ", path, ": ", reason);
      if (errors == nullptr)
        return absl::InvalidArgumentError(message);
      errors->push_back(std::move(message));
      dropped.push_back(key_text);
      continue;
    }
    if (rule->type == Type::kObject && !rule->opaque) {
      absl::Status status = ValidateObject(file, path, value.get_object(), warnings, errors);
      if (!status.ok())
        return status;
    }
  }
  for (const std::string& key : dropped)
    object.erase(key);
  return absl::OkStatus();
}

// Objects merge key by key; anything else (arrays included) is replaced by the later layer.
void MergeInto(json::object& base, const json::object& layer) {
  for (const auto& [key, value] : layer) {
    json::value* existing = base.if_contains(key);
    if (existing != nullptr && existing->is_object() && value.is_object()) {
      MergeInto(existing->get_object(), value.get_object());
    } else {
      base[key] = value;
    }
  }
}

absl::StatusOr<std::optional<json::object>> ReadLayer(const std::string& path,
                                                      std::vector<Warning>* warnings,
                                                      std::vector<std::string>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::optional<json::object>();  // a layer that is not deployed
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": file is larger than ", kMaxConfigBytes, " bytes"));
  }
  json::parse_options options;
  options.max_depth = 32;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, {}, options);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": (file): not valid JSON: ", ec.message()));
  }
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": (file): must be a JSON object"));
  }
  absl::Status status = ValidateObject(path, "", value.get_object(), warnings, errors);
  if (!status.ok())
    return status;
  return std::optional<json::object>(std::move(value.get_object()));
}

const json::value* Lookup(const json::object& root, std::string_view dotted) {
  const json::object* object = &root;
  const json::value* value = nullptr;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(dotted.data(), dotted.size()), '.')) {
    if (object == nullptr)
      return nullptr;
    value = object->if_contains(std::string_view(part.data(), part.size()));
    if (value == nullptr)
      return nullptr;
    object = value->if_object();
  }
  return value;
}

void Assign(const json::object& root, std::string_view key, std::string& out) {
  if (const json::value* v = Lookup(root, key); v && v->is_string())
    out = v->get_string();
}

void Assign(const json::object& root, std::string_view key, int& out) {
  if (const json::value* v = Lookup(root, key); v && v->is_int64()) {
    out = static_cast<int>(v->get_int64());
  }
}

void Assign(const json::object& root, std::string_view key, int64_t& out) {
  if (const json::value* v = Lookup(root, key); v && v->is_int64())
    out = v->get_int64();
}

void Assign(const json::object& root, std::string_view key, bool& out) {
  if (const json::value* v = Lookup(root, key); v && v->is_bool())
    out = v->get_bool();
}

void Assign(const json::object& root, std::string_view key, std::vector<std::string>& out) {
  if (const json::value* v = Lookup(root, key); v && v->is_array()) {
    out.clear();
    for (const json::value& item : v->get_array())
      out.emplace_back(item.get_string());
  }
}

void Assign(const json::object& root, std::string_view key, json::object& out) {
  if (const json::value* v = Lookup(root, key); v && v->is_object())
    out = v->get_object();
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && *value != '\0') ? std::string(value) : fallback;
}

std::string Home() { return EnvOr("HOME", "/"); }

}  // namespace

absl::Status ValidateLayer(const std::string& file_label, const json::object& layer,
                           std::vector<Warning>* warnings) {
  json::object copy = layer;
  return ValidateObject(file_label, "", copy, warnings);
}

std::vector<std::pair<std::string, std::string>> KnownKeys() {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const KeyRule& rule : Rules())
    keys.emplace_back(rule.path, std::string(TypeName(rule.type)));
  return keys;
}

absl::StatusOr<LoadResult> Load(const Layers& layers, LoadMode mode) {
  LoadResult result;
  std::vector<std::string>* errors = mode == LoadMode::kLenient ? &result.errors : nullptr;
  json::object merged;
  auto apply_file = [&](const std::string& path) -> absl::Status {
    if (path.empty())
      return absl::OkStatus();
    auto layer = ReadLayer(path, &result.warnings, errors);
    if (!layer.ok()) {
      if (errors == nullptr)
        return layer.status();
      errors->push_back(std::string(layer.status().message()));
      return absl::OkStatus();
    }
    if (!layer->has_value())
      return absl::OkStatus();
    result.files_read.push_back(path);
    MergeInto(merged, **layer);
    return absl::OkStatus();
  };
  absl::Status status = apply_file(layers.system_file);
  if (!status.ok())
    return status;
  if (!layers.managed.empty()) {
    json::object managed = layers.managed;
    // Secrets live with the host, never in extension storage.
    if (json::value* cti = managed.if_contains("cti"); cti && cti->is_object()) {
      if (json::value* ami = cti->get_object().if_contains("ami"); ami && ami->is_object()) {
        for (const char* secret : {"secret", "secretFile", "username"}) {
          if (ami->get_object().erase(secret) > 0) {
            result.warnings.push_back({"managed settings", absl::StrCat("cti.ami.", secret),
                                       "ignored: credentials are only read from config files"});
          }
        }
      }
    }
    status = ValidateObject("managed settings", "", managed, &result.warnings, errors);
    if (!status.ok())
      return status;
    MergeInto(merged, managed);
  }
  status = apply_file(layers.user_file);
  if (!status.ok())
    return status;

  Config& c = result.config;
  c.allowed_origins = layers.default_allowed_origins;
  Assign(merged, "allowedOrigins", c.allowed_origins);
  Assign(merged, "cti.driver", c.cti.driver);
  Assign(merged, "cti.ami.host", c.cti.ami.host);
  Assign(merged, "cti.ami.port", c.cti.ami.port);
  Assign(merged, "cti.ami.tls", c.cti.ami.tls);
  Assign(merged, "cti.ami.username", c.cti.ami.username);
  Assign(merged, "cti.ami.secret", c.cti.ami.secret);
  Assign(merged, "cti.ami.secretFile", c.cti.ami.secret_file);
  Assign(merged, "agent.id", c.agent.id);
  Assign(merged, "agent.interfaces", c.agent.interfaces);
  Assign(merged, "agent.queues", c.agent.queues);
  Assign(merged, "agent.reasonCodes", c.agent.reason_codes);
  Assign(merged, "connect.port", c.connect.port);
  Assign(merged, "connect.maxBodyBytes", c.connect.max_body_bytes);
  Assign(merged, "log.level", c.log_level);
  Assign(merged, "nm.maxFrameBytes", c.max_frame_bytes);
  Assign(merged, "route", c.route);
  Assign(merged, "popflow", c.popflow);

  if (!c.cti.ami.secret_file.empty() && c.cti.ami.secret.empty()) {
    std::ifstream in(c.cti.ami.secret_file, std::ios::binary);
    std::string message =
        absl::StrCat("cti.ami.secretFile: cannot read \"", c.cti.ami.secret_file, "\"");
    if (!in && errors == nullptr)
      return absl::InvalidArgumentError(message);
    if (!in)
      errors->push_back(std::move(message));
    std::getline(in, c.cti.ami.secret);
    while (!c.cti.ami.secret.empty() &&
           (c.cti.ami.secret.back() == '\r' || c.cti.ami.secret.back() == ' ')) {
      c.cti.ami.secret.pop_back();
    }
  }
  c.merged = std::move(merged);
  return result;
}

std::string DefaultSystemConfigPath() {
#if defined(_WIN32)
  return EnvOr("ProgramData", "C:\\ProgramData") + "\\Omnibridge\\config.json";
#elif defined(__APPLE__)
  return "/Library/Application Support/Omnibridge/config.json";
#else
  return "/etc/omnibridge/config.json";
#endif
}

std::string UserConfigDir() {
#if defined(_WIN32)
  return EnvOr("APPDATA", Home()) + "\\Omnibridge";
#elif defined(__APPLE__)
  return Home() + "/Library/Application Support/Omnibridge";
#else
  return EnvOr("XDG_CONFIG_HOME", Home() + "/.config") + "/omnibridge";
#endif
}

std::string DefaultUserConfigPath() {
  return EnvOr("OMNIBRIDGE_CONFIG", UserConfigDir() + "/config.json");
}

std::string UserLogDir() {
#if defined(_WIN32)
  return EnvOr("LOCALAPPDATA", Home()) + "\\Omnibridge";
#elif defined(__APPLE__)
  return Home() + "/Library/Logs/Omnibridge";
#else
  return EnvOr("XDG_STATE_HOME", Home() + "/.local/state") + "/omnibridge";
#endif
}

}  // namespace omnibridge::config
