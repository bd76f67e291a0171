#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/log.h"
#include "popflow/popflow.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr std::string_view kFlow = R"J({
  "schema": "omnibridge.popflow/1",
  "name": "VIP pop",
  "trigger": {"event": "interaction.offered"},
  "start": "isVip",
  "nodes": [
    {"id": "isVip", "kind": "if", "condition": "interaction.queue == 'vip'",
     "branches": {"true": "search", "false": "hello"}},
    {"id": "search", "kind": "crmSearch", "field": "phone", "value": "{{ interaction.ani }}",
     "branches": {"one": "pop", "none": "hello"}},
    {"id": "pop", "kind": "screenPop", "target": "record", "recordType": "Contact",
     "recordId": "{{ nodes.search.id }}", "next": "lookup"},
    {"id": "lookup", "kind": "httpRequest", "method": "GET", "credential": "crm",
     "url": "https://api.example/c/{{ nodes.search.id }}", "into": "customer", "next": "wait"},
    {"id": "wait", "kind": "delay", "seconds": 30, "next": "greet"},
    {"id": "greet", "kind": "toast", "message": "Tier {{ vars.customer.tier }}"},
    {"id": "hello", "kind": "toast", "message": "Call in {{ interaction.queue }}"}
  ]
})J";

class PopflowDryRunTest : public ::testing::Test {
 protected:
  PopflowDryRunTest() {
    base::SetLogToStderr(false);
    flow_ = *LoadFlowText(kFlow);
    trigger_.event = "interaction.offered";
    trigger_.interaction =
        json::object{{"interactionId", "t-1"}, {"ani", "+14155550100"}, {"queue", "vip"}};
  }

  std::shared_ptr<const Flow> flow_;
  Trigger trigger_;
};

TEST_F(PopflowDryRunTest, ScriptedResultsDriveTheWholeFlow) {
  DryRunScript script;
  script.results = json::parse(R"({"search":{"count":1,"ids":["003A"]},
                                   "lookup":{"status":200,"body":{"tier":"gold"}}})")
                       .as_object();
  Trace trace = DryRun(flow_, trigger_, script);
  EXPECT_TRUE(trace.triggered);
  EXPECT_TRUE(trace.completed);
  EXPECT_TRUE(trace.error.empty());
  ASSERT_EQ(trace.steps.size(), 6u);
  EXPECT_EQ(trace.steps[0].node, "isVip");
  EXPECT_EQ(trace.steps[0].outcome, "true");
  EXPECT_EQ(trace.steps[0].inputs.at("condition"), true);
  EXPECT_EQ(trace.steps[1].node, "search");
  EXPECT_EQ(trace.steps[1].outcome, "one");
  EXPECT_EQ(trace.steps[1].note, "scripted result");
  EXPECT_EQ(trace.steps[1].effect.at("kind"), "crmSearch");
  EXPECT_EQ(trace.steps[1].result.at("id"), "003A");
  EXPECT_EQ(trace.steps[2].effect.at("recordId"), "003A");
  EXPECT_EQ(trace.steps[3].effect.at("url"), "https://api.example/c/003A");
  EXPECT_EQ(trace.steps[3].effect.at("credential"), "crm");
  EXPECT_EQ(trace.steps[3].vars.at("customer").at("tier"), "gold");
  EXPECT_EQ(trace.steps[4].note, "delay skipped in the test");
  EXPECT_EQ(trace.steps[5].effect.at("message"), "Tier gold");
  EXPECT_EQ(trace.steps[5].next, "");
  EXPECT_EQ(trace.actions.size(), 3u);  // crmSearch, screenPop, toast
  EXPECT_EQ(trace.effects.size(), 2u);  // httpRequest, delay

  json::object j = TraceToJson(trace);
  EXPECT_EQ(j.at("completed"), true);
  EXPECT_EQ(j.at("steps").as_array().size(), 6u);
  EXPECT_FALSE(j.contains("truncated"));
}

TEST_F(PopflowDryRunTest, UnscriptedWaitsUseDocumentedDefaults) {
  Trace trace = DryRun(flow_, trigger_, {});
  ASSERT_GE(trace.steps.size(), 3u);
  EXPECT_EQ(trace.steps[1].outcome, "none");
  EXPECT_EQ(trace.steps[1].note, "no scripted result: assumed no match");
  EXPECT_EQ(trace.steps[2].node, "hello");
  EXPECT_TRUE(trace.completed);
}

TEST_F(PopflowDryRunTest, ErrorsAreShownOnTheStep) {
  auto flow = *LoadFlowText(R"J({"schema":"omnibridge.popflow/1","name":"bad",
    "trigger":{"event":"interaction.offered"},"start":"a",
    "nodes":[{"id":"a","kind":"set","name":"x","value":"1 + interaction.ani"}]})J");
  Trace trace = DryRun(flow, trigger_, {});
  EXPECT_FALSE(trace.completed);
  ASSERT_EQ(trace.steps.size(), 1u);
  EXPECT_THAT(trace.steps[0].error, HasSubstr("arithmetic needs numbers"));
  EXPECT_EQ(trace.steps[0].field, "value");
  EXPECT_EQ(trace.steps[0].column, 3);
  EXPECT_EQ(trace.error,
            "flow 'bad', node 'a', field 'value', column 3: arithmetic needs numbers, got number "
            "and text (use concat() for text)");
  // The agent would have seen the error toast: the trace shows it too.
  ASSERT_EQ(trace.actions.size(), 1u);
  EXPECT_EQ(trace.actions[0].at("kind"), "toast");
}

TEST_F(PopflowDryRunTest, FilterRejectionIsReported) {
  auto flow = *LoadFlowText(R"J({"schema":"omnibridge.popflow/1","name":"f",
    "trigger":{"event":"interaction.offered","filter":"interaction.channel == 'chat'"},"start":"a",
    "nodes":[{"id":"a","kind":"end"}]})J");
  Trace trace = DryRun(flow, trigger_, {});
  EXPECT_FALSE(trace.triggered);
  EXPECT_TRUE(trace.steps.empty());
}

TEST_F(PopflowDryRunTest, ScriptedFailuresTakeErrorBranches) {
  auto flow = *LoadFlowText(R"J({"schema":"omnibridge.popflow/1","name":"f",
    "trigger":{"event":"interaction.offered"},"start":"a",
    "nodes":[{"id":"a","kind":"httpRequest","method":"GET","url":"https://x.example/",
              "branches":{"error":"b"}},
             {"id":"b","kind":"toast","message":"failed: {{nodes.a.error}}"}]})J");
  DryRunScript script;
  script.results = json::parse(R"({"a":{"error":"connection refused"}})").as_object();
  Trace trace = DryRun(flow, trigger_, script);
  ASSERT_EQ(trace.steps.size(), 2u);
  EXPECT_EQ(trace.steps[0].outcome, "error");
  EXPECT_EQ(trace.actions.back().at("message"), "failed: connection refused");
}

TEST_F(PopflowDryRunTest, EndlessLoopStopsAtTheStepLimitAndTruncates) {
  auto flow = *LoadFlowText(R"J({"schema":"omnibridge.popflow/1","name":"loop",
    "trigger":{"event":"interaction.offered"},"start":"a",
    "nodes":[{"id":"a","kind":"set","name":"big","value":"padStart('', 200, 'x')","next":"b"},
             {"id":"b","kind":"if","condition":"true","branches":{"true":"a"}}]})J");
  Trace trace = DryRun(flow, trigger_, {});
  EXPECT_EQ(trace.steps.size(), 1000u);
  EXPECT_THAT(trace.error, HasSubstr("step limit"));
  json::object j = TraceToJson(trace, 64 * 1024);
  EXPECT_LE(json::serialize(j).size(), 64u * 1024);
  EXPECT_EQ(j.at("truncated"), true);
}

}  // namespace
}  // namespace omnibridge::popflow
