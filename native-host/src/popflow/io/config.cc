#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "base/status_macros.h"
#include "popflow/io/popflow_io.h"

namespace omnibridge::popflow {

namespace json = boost::json;

namespace {

bool IsConfigName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !absl::ascii_isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> StringAt(const json::object& o, std::string_view key,
                                     const std::string& where, bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", Av(key), ": required"));
    }
    return std::string();
  }
  if (!v->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", Av(key), ": must be a string"));
  }
  return std::string(v->get_string());
}

// Reads a secret kept in its own file (first line, trailing whitespace dropped).
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& where) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(where, ": cannot read ", path));
  }
  std::string data(size_t{64} * 1024 + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > size_t{64} * 1024) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": file too large"));
  }
  if (size_t nl = data.find('\n'); nl != std::string::npos) {
    data.resize(nl);
  }
  return std::string(absl::StripTrailingAsciiWhitespace(data));
}

// The secret from `key` or, failing that, from `key`File.
absl::StatusOr<std::string> Secret(const json::object& o, std::string_view key,
                                   const std::string& where) {
  OMNI_ASSIGN_OR_RETURN(std::string inline_secret, StringAt(o, key, where, false));
  OMNI_ASSIGN_OR_RETURN(std::string file, StringAt(o, absl::StrCat(Av(key), "File"), where, false));
  if (!inline_secret.empty()) {
    return inline_secret;
  }
  if (file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": needs ", Av(key), " or ", Av(key), "File"));
  }
  return ReadSecretFile(file, absl::StrCat(where, ".", Av(key), "File"));
}

}  // namespace

absl::StatusOr<PopflowConfig> ParsePopflowConfig(const json::object& admin,
                                                 const json::object& merged) {
  PopflowConfig config;
  if (const json::value* apps = admin.if_contains("apps")) {
    if (!apps->is_object()) {
      return absl::InvalidArgumentError("popflow.apps: must be an object");
    }
    for (const auto& kv : apps->get_object()) {
      std::string where = absl::StrCat("popflow.apps.", Av(kv.key()));
      if (!IsConfigName(kv.key())) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": names are letters, digits, _ -"));
      }
      const json::object* o = kv.value().if_object();
      if (o == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
      }
      AppSpec spec;
      OMNI_ASSIGN_OR_RETURN(spec.path, StringAt(*o, "path", where, true));
      if (spec.path.empty() || spec.path[0] != '/') {
        // Windows paths (C:\...) are absolute too; PATH lookups are not allowed anywhere.
        if (!(spec.path.size() > 2 && spec.path[1] == ':')) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".path: must be absolute"));
        }
      }
      if (const json::value* args = o->if_contains("args")) {
        if (!args->is_array()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".args: must be a list"));
        }
        for (const auto& a : args->get_array()) {
          if (!a.is_string()) {
            return absl::InvalidArgumentError(absl::StrCat(where, ".args: strings only"));
          }
          spec.args.emplace_back(a.get_string());
        }
      }
      config.apps[std::string(kv.key())] = std::move(spec);
    }
  }
  if (const json::value* flows = admin.if_contains("flows")) {
    if (!flows->is_array()) {
      return absl::InvalidArgumentError("popflow.flows: must be a list");
    }
    config.enterprise_flows = flows->get_array();
  }
  if (const json::value* creds = merged.if_contains("credentials")) {
    if (!creds->is_object()) {
      return absl::InvalidArgumentError("popflow.credentials: must be an object");
    }
    for (const auto& kv : creds->get_object()) {
      std::string where = absl::StrCat("popflow.credentials.", Av(kv.key()));
      if (!IsConfigName(kv.key())) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": names are letters, digits, _ -"));
      }
      const json::object* o = kv.value().if_object();
      if (o == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
      }
      Credential c;
      OMNI_ASSIGN_OR_RETURN(c.base_url, StringAt(*o, "baseUrl", where, true));
      auto parsed = ParseHttpUrl(c.base_url);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".baseUrl: ", parsed.status().message()));
      }
      OMNI_ASSIGN_OR_RETURN(std::string type, StringAt(*o, "type", where, false));
      if (type.empty() || type == "bearer") {
        c.type = Credential::Type::kBearer;
        OMNI_ASSIGN_OR_RETURN(c.secret, Secret(*o, "token", where));
      } else if (type == "header") {
        c.type = Credential::Type::kHeader;
        OMNI_ASSIGN_OR_RETURN(c.header, StringAt(*o, "header", where, true));
        OMNI_ASSIGN_OR_RETURN(c.secret, Secret(*o, "token", where));
      } else if (type == "basic") {
        c.type = Credential::Type::kBasic;
        OMNI_ASSIGN_OR_RETURN(c.username, StringAt(*o, "username", where, true));
        OMNI_ASSIGN_OR_RETURN(c.secret, Secret(*o, "password", where));
      } else {
        return absl::InvalidArgumentError(absl::StrCat(where, ".type: bearer, basic or header"));
      }
      if (c.secret.find_first_of("\r\n") != std::string::npos ||
          c.header.find_first_of("\r\n:") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": line breaks are not allowed"));
      }
      config.credentials[std::string(kv.key())] = std::move(c);
    }
  }
  return config;
}

}  // namespace omnibridge::popflow
