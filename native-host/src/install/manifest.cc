#include "install/manifest.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"

#include "install/locations.h"
#include "install/manifest_template.h"  // generated: kManifestTemplate, OMNI_EXTENSION_IDS

namespace omnibridge::install {
namespace json = boost::json;

namespace {

constexpr size_t kMaxManifestBytes = 64 * 1024;

// JSON string body (no quotes) for `text`.
std::string JsonEscape(std::string_view text) {
  std::string quoted = json::serialize(json::string(text));
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::vector<std::string> ShippedExtensionIds() {
  std::vector<std::string> ids;
  for (absl::string_view id : absl::StrSplit(OMNI_EXTENSION_IDS, ',', absl::SkipWhitespace()))
    ids.emplace_back(id);
  return ids;
}

std::vector<std::string> OriginsFor(const std::vector<std::string>& extension_ids) {
  std::vector<std::string> origins;
  for (const std::string& id : extension_ids)
    origins.push_back(absl::StrCat("chrome-extension://", id, "/"));
  return origins;
}

std::string RenderManifest(std::string_view host_path,
                           const std::vector<std::string>& extension_ids) {
  std::string origins;
  for (const std::string& origin : OriginsFor(extension_ids)) {
    if (!origins.empty())
      origins += ", ";
    absl::StrAppend(&origins, "\"", JsonEscape(origin), "\"");
  }
  return absl::StrReplaceAll(kManifestTemplate, {{"@OMNI_HOST_PATH@", JsonEscape(host_path)},
                                                 {"@OMNI_ALLOWED_ORIGINS@", origins},
                                                 {"@OMNI_HOST_NAME@", kHostName}});
}

bool IsExtensionId(std::string_view id) {
  if (id.size() != 32)
    return false;
  for (char c : id) {
    if (c < 'a' || c > 'p')
      return false;
  }
  return true;
}

ManifestCheck CheckManifest(std::string_view text, bool absolute_paths) {
  ManifestCheck check;
  if (text.size() > kMaxManifestBytes) {
    check.parse_error = "larger than 64 KiB";
    return check;
  }
  json::parse_options options;
  options.max_depth = 16;  // strict: no comments, no trailing commas
  boost::system::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) {
    check.parse_error = ec.message();
    return check;
  }
  if (!value.is_object()) {
    check.parse_error = "not a JSON object";
    return check;
  }
  check.parsed = true;
  const json::object& obj = value.get_object();
  auto string_field = [&](const char* key) -> std::string {
    const json::value* v = obj.if_contains(key);
    if (!v || !v->is_string()) {
      check.field_errors.push_back(absl::StrCat("\"", key, "\" is missing or not a string"));
      return {};
    }
    return std::string(v->get_string());
  };
  check.name = string_field("name");
  if (!check.name.empty() && check.name != kHostName)
    check.field_errors.push_back(absl::StrCat("\"name\" is \"", check.name, "\", not ", kHostName));
  if (const json::value* d = obj.if_contains("description");
      !d || !d->is_string() || d->get_string().empty()) {
    check.field_errors.push_back("\"description\" is missing or empty");
  }
  if (std::string type = string_field("type"); !type.empty() && type != "stdio")
    check.field_errors.push_back("\"type\" is not \"stdio\"");
  check.path = string_field("path");
  if (!check.path.empty() && absolute_paths && check.path.front() != '/')
    check.field_errors.push_back("\"path\" is not absolute");
  const json::value* origins = obj.if_contains("allowed_origins");
  if (!origins || !origins->is_array()) {
    check.field_errors.push_back("\"allowed_origins\" is missing or not a list");
    return check;
  }
  for (const json::value& o : origins->get_array()) {
    if (!o.is_string()) {
      check.bad_origins.push_back(json::serialize(o));
      continue;
    }
    std::string origin(o.get_string());
    check.allowed_origins.push_back(origin);
    std::string_view rest(origin);
    constexpr std::string_view kScheme = "chrome-extension://";
    bool good = rest.starts_with(kScheme);
    if (good) {
      rest.remove_prefix(kScheme.size());
      size_t slash = rest.find('/');
      // A path is required ("/" or "/*"); without it Chromium rejects the whole manifest.
      good = slash != std::string_view::npos && IsExtensionId(rest.substr(0, slash)) &&
             (rest.substr(slash) == "/" || rest.substr(slash) == "/*");
    }
    if (!good)
      check.bad_origins.push_back(origin);
  }
  return check;
}

}  // namespace omnibridge::install
