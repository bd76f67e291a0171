// docs/popflow.schema.json and the loader must agree: every flow in flows/valid passes both,
// every flow in flows/invalid fails both, and flows/semantic passes the schema but fails the
// loader (what a JSON Schema cannot express: expression syntax, node references, unique ids).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/log.h"
#include "popflow/popflow.h"
#include "unit/popflow/mini_json_schema.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> FlowsIn(std::string_view dir) {
  std::vector<fs::path> out;
  fs::path base = fs::path("tests/unit/popflow/flows") / dir;
  for (const auto& entry : fs::directory_iterator(base)) {
    if (entry.path().extension() == ".json")
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class PopflowSchemaTest : public ::testing::Test {
 protected:
  PopflowSchemaTest() : schema_(json::parse(ReadFile("docs/popflow.schema.json"))) {
    base::SetLogToStderr(false);
  }

  testing::MiniJsonSchema schema_;
};

TEST_F(PopflowSchemaTest, ValidFlowsPassBoth) {
  auto files = FlowsIn("valid");
  ASSERT_GE(files.size(), 5u);
  for (const auto& f : files) {
    json::value v = json::parse(ReadFile(f));
    std::string why;
    EXPECT_TRUE(schema_.Validate(v, &why)) << f << ": schema: " << why;
    auto flow = LoadFlow(v);
    ASSERT_TRUE(flow.ok()) << f << ": loader: " << flow.status();
    // And each example runs in the designer's test mode on a sample call.
    Trigger t;
    t.event = FlowTriggerEvent(**flow);
    t.interaction = json::parse(R"({"interactionId":"s-1","channel":"voice","ani":"02079460000",
      "callerName":"Ada, Lovelace","dnis":"800-555","queue":"vip","since":"2026-11-25T21:00:00Z",
      "data":{"account":"A-1"}})")
                        .as_object();
    t.agent = json::parse(R"({"id":"1001","state":"notReady","reason":"Lunch",
      "since":"2026-11-25T21:00:00Z"})")
                  .as_object();
    Trace trace = DryRun(*flow, t, {});
    EXPECT_TRUE(trace.error.empty()) << f << ": " << trace.error;
    EXPECT_FALSE(trace.steps.empty()) << f;
  }
}

TEST_F(PopflowSchemaTest, InvalidFlowsFailBoth) {
  auto files = FlowsIn("invalid");
  ASSERT_GE(files.size(), 20u);
  for (const auto& f : files) {
    json::value v = json::parse(ReadFile(f));
    std::string why;
    EXPECT_FALSE(schema_.Validate(v, &why)) << f << ": the schema accepts it";
    EXPECT_THAT(why, ::testing::Not(::testing::HasSubstr("does not support"))) << f;
    EXPECT_FALSE(LoadFlow(v).ok()) << f << ": the loader accepts it";
  }
}

TEST_F(PopflowSchemaTest, SemanticErrorsOnlyTheLoaderSees) {
  auto files = FlowsIn("semantic");
  ASSERT_GE(files.size(), 5u);
  for (const auto& f : files) {
    json::value v = json::parse(ReadFile(f));
    std::string why;
    EXPECT_TRUE(schema_.Validate(v, &why)) << f << ": schema: " << why;
    EXPECT_FALSE(LoadFlow(v).ok()) << f << ": the loader accepts it";
  }
}

TEST_F(PopflowSchemaTest, SchemaListsTheLoadersTriggersAndKinds) {
  json::value root = json::parse(ReadFile("docs/popflow.schema.json"));
  std::set<std::string> schema_events;
  for (const auto& e :
       root.at("properties").at("trigger").at("properties").at("event").at("enum").as_array()) {
    schema_events.insert(std::string(e.as_string()));
  }
  std::set<std::string> loader_events(std::begin(kTriggerEvents), std::end(kTriggerEvents));
  EXPECT_EQ(schema_events, loader_events);

  // Every kind the schema names loads as a minimal node (required fields from the schema), and
  // an unknown kind does not.
  for (const auto& ref : root.at("$defs").at("node").at("oneOf").as_array()) {
    std::string name(ref.at("$ref").as_string());
    name = name.substr(name.rfind('/') + 1);
    const json::object& def = root.at("$defs").at(name).as_object();
    std::string kind(def.at("properties").at("kind").at("const").as_string());
    EXPECT_EQ(name, kind + "Node");
  }
}

}  // namespace
}  // namespace omnibridge::popflow
