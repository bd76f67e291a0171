// The JSON Schema in native-host/src/config/config.schema.json is what admins read and what their
// editors validate with; these tests keep it and the loader in agreement.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

#include "config/config.h"

namespace omnibridge::config {
namespace {
namespace json = boost::json;

json::object LoadSchema() {
  std::ifstream in("native-host/src/config/config.schema.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_object();
}

std::string SchemaType(const json::object& node) {
  std::string type(node.at("type").as_string());
  if (type != "array")
    return type;
  return "array<" + std::string(node.at("items").at("type").as_string()) + ">";
}

void Collect(const json::object& node, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  const json::value* properties = node.if_contains("properties");
  if (properties == nullptr)
    return;
  for (const auto& [key, child] : properties->as_object()) {
    std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
    out[path] = SchemaType(child.as_object());
    Collect(child.as_object(), path, out);
  }
}

// A small validator for the keywords the schema uses (type, enum, minimum, maximum, minLength,
// pattern as a prefix/suffix check, items, properties). Unknown properties are allowed, as the
// loader warns instead of failing.
bool Valid(const json::value& v, const json::object& schema) {
  std::string type(schema.at("type").as_string());
  if (type == "object") {
    if (!v.is_object())
      return false;
    if (const json::value* props = schema.if_contains("properties")) {
      for (const auto& [key, child] : v.as_object()) {
        if (const json::value* s = props->as_object().if_contains(key)) {
          if (!Valid(child, s->as_object()))
            return false;
        }
      }
    }
    return true;
  }
  if (type == "array") {
    if (!v.is_array())
      return false;
    for (const json::value& item : v.as_array()) {
      if (!Valid(item, schema.at("items").as_object()))
        return false;
    }
    return true;
  }
  if (type == "string") {
    if (!v.is_string())
      return false;
    std::string s(v.as_string());
    if (const json::value* e = schema.if_contains("enum")) {
      bool found = false;
      for (const json::value& option : e->as_array())
        found |= option.as_string() == s;
      if (!found)
        return false;
    }
    if (const json::value* m = schema.if_contains("minLength")) {
      if (static_cast<int64_t>(s.size()) < m->as_int64())
        return false;
    }
    if (const json::value* p = schema.if_contains("pattern")) {
      // The only pattern is ^chrome-extension://[^/]+/$.
      EXPECT_EQ(p->as_string(), "^chrome-extension://[^/]+/$");
      std::string prefix = "chrome-extension://";
      if (s.rfind(prefix, 0) != 0 || s.size() <= prefix.size() + 1 || s.back() != '/' ||
          s.find('/', prefix.size()) != s.size() - 1) {
        return false;
      }
    }
    return true;
  }
  if (type == "integer") {
    if (!v.is_int64())
      return false;
    if (const json::value* m = schema.if_contains("minimum"); m && v.as_int64() < m->as_int64()) {
      return false;
    }
    if (const json::value* m = schema.if_contains("maximum"); m && v.as_int64() > m->as_int64()) {
      return false;
    }
    return true;
  }
  if (type == "boolean")
    return v.is_bool();
  ADD_FAILURE() << "schema type not handled by the test validator: " << type;
  return false;
}

TEST(ConfigSchemaTest, SchemaAndLoaderKnowTheSameKeysAndTypes) {
  std::map<std::string, std::string> from_schema;
  Collect(LoadSchema(), "", from_schema);
  std::map<std::string, std::string> from_loader;
  for (const auto& [key, type] : KnownKeys())
    from_loader[key] = type;
  EXPECT_EQ(from_schema, from_loader);
}

TEST(ConfigSchemaTest, SchemaAndLoaderAgreeOnExamples) {
  const char* examples[] = {
      R"({})",
      R"({"allowedOrigins": ["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]})",
      R"({"allowedOrigins": ["chrome-extension://abc"]})",
      R"({"allowedOrigins": ["https://evil.example/"]})",
      R"({"cti": {"driver": "ami", "ami": {"host": "pbx", "port": 5038, "tls": false,
          "username": "u", "secret": "s"}}})",
      R"({"cti": {"ami": {"port": 0}}})",
      R"({"cti": {"ami": {"port": 65536}}})",
      R"({"cti": {"ami": {"host": ""}}})",
      R"({"cti": {"ami": {"tls": "yes"}}})",
      R"({"cti": {"driver": "esl"}})",
      R"({"agent": {"id": "1001", "interfaces": ["Local/1001@agents/n"], "queues": ["support"],
          "reasonCodes": ["Break"]}})",
      R"({"agent": {"queues": "support"}})",
      R"({"connect": {"port": 8787, "maxBodyBytes": 1048576}})",
      R"({"connect": {"maxBodyBytes": 0}})",
      R"({"log": {"level": "debug"}})",
      R"({"log": {"level": "verbose"}})",
      R"({"nm": {"maxFrameBytes": 100}})",
      R"({"nm": {"maxFrameBytes": 4096}})",
      R"({"route": {"listen": "127.0.0.1:8088", "journal": "/var/lib/ob.db",
          "sources": [{"name": "crm"}], "offerTimeoutSeconds": 30, "emailLiveMax": 5}})",
      R"({"route": {"sources": ["crm"]}})",
      R"({"route": {"offerTimeoutSeconds": 1}})",
      R"({"popflow": {"anything": [1, 2]}})",
      R"({"popflow": 3})",
  };
  json::object schema = LoadSchema();
  for (const char* text : examples) {
    json::value example = json::parse(text);
    bool loader_ok = ValidateLayer("example", example.as_object(), nullptr).ok();
    EXPECT_EQ(Valid(example, schema), loader_ok) << text;
  }
}

}  // namespace
}  // namespace omnibridge::config
