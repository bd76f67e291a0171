#include "popflow/flow.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "popflow/popflow.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

std::string Wrap(std::string_view nodes, std::string_view extra = "") {
  return absl::StrCat(
      R"({"schema":"omnibridge.popflow/1","name":"F","trigger":{"event":"interaction.offered"},"start":"a",)",
      Av(extra), R"("nodes":)", Av(nodes), "}");
}

// Loads and returns the first error diagnostic (fails the test if loading succeeds).
Diagnostic FirstError(std::string_view text) {
  std::vector<Diagnostic> diags;
  auto flow = LoadFlowText(text, {}, &diags);
  EXPECT_FALSE(flow.ok()) << text;
  for (const auto& d : diags) {
    if (!d.warning)
      return d;
  }
  ADD_FAILURE() << "no error diagnostic";
  return {};
}

TEST(PopflowLoaderTest, LoadsAValidFlow) {
  std::vector<Diagnostic> diags;
  auto flow = LoadFlowText(Wrap(R"J([
    {"id":"a","kind":"if","condition":"interaction.queue == 'vip'","branches":{"true":"b"},"next":"c",
     "label":"VIP?","ui":{"x":10,"y":20}},
    {"id":"b","kind":"toast","message":"VIP"},
    {"id":"c","kind":"end"}])J"),
                           {}, &diags);
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ((*flow)->name(), "F");
  EXPECT_EQ((*flow)->nodes().size(), 3u);
  EXPECT_EQ((*flow)->Find("a")->Follow("true"), "b");
  EXPECT_EQ((*flow)->Find("a")->Follow("false"), "c");
  EXPECT_EQ((*flow)->Find("a")->label, "VIP?");
}

TEST(PopflowLoaderTest, ErrorsNameFlowNodeFieldAndColumn) {
  auto flow =
      LoadFlowText(Wrap(R"J([{"id":"a","kind":"if","condition":"interaction.queue = 'vip'"}])J"));
  ASSERT_FALSE(flow.ok());
  EXPECT_EQ(flow.status().message(),
            "flow 'F', node 'a', field 'condition', column 19: '=' is not an operator here; "
            "compare with '=='");
}

TEST(PopflowLoaderTest, TemplateErrorColumnsAreInTheField) {
  Diagnostic d = FirstError(Wrap(R"J([{"id":"a","kind":"toast","message":"Hi {{ lower( }}"}])J"));
  EXPECT_EQ(d.node, "a");
  EXPECT_EQ(d.field, "message");
  EXPECT_EQ(d.column, 14);
}

TEST(PopflowLoaderTest, StructuralErrors) {
  EXPECT_EQ(FirstError("[]").message, "a flow must be a JSON object");
  EXPECT_EQ(FirstError(R"({"schema":"x"})").field, "schema");
  EXPECT_THAT(FirstError(Wrap(R"J([{"id":"a","kind":"teleport"}])J")).message,
              HasSubstr("must be one of if, switch"));
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"a","kind":"toast"}])J")).field, "message");
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"a","kind":"toast","message":"x","colour":"red"}])J")).field,
            "colour");
  EXPECT_THAT(
      FirstError(Wrap(R"J([{"id":"a","kind":"toast","message":"x","next":"zz"}])J")).message,
      HasSubstr("no node 'zz'"));
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"a","kind":"end"},{"id":"a","kind":"end"}])J")).message,
            "duplicate node id");
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"1a","kind":"end"}])J")).field, "id");
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"b","kind":"end"}])J")).field, "start");
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"a","kind":"end","next":"a"}])J")).message,
            "an end node has no next");
  EXPECT_THAT(
      FirstError(Wrap(R"J([{"id":"a","kind":"if","condition":"true","branches":{"maybe":"a"}}])J"))
          .message,
      HasSubstr("outcomes are true, false"));
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"a","kind":"set","name":"1x","value":"1"}])J")).field,
            "name");
  EXPECT_EQ(FirstError(Wrap(R"J([{"id":"a","kind":"delay","seconds":61}])J")).message,
            "must be a number from 0 to 60");
}

TEST(PopflowLoaderTest, TriggerRules) {
  auto with_trigger = [](std::string_view trigger) {
    return absl::StrCat(R"({"schema":"omnibridge.popflow/1","name":"F","trigger":)", Av(trigger),
                        R"(,"start":"a","nodes":[{"id":"a","kind":"end"}]})");
  };
  EXPECT_EQ(FirstError(with_trigger(R"({"event":"call.ringing"})")).field, "trigger.event");
  EXPECT_EQ(FirstError(with_trigger(R"({"event":"connect.event"})")).field, "trigger.name");
  EXPECT_EQ(FirstError(with_trigger(R"({"event":"interaction.offered","name":"x"})")).field,
            "trigger.name");
  Diagnostic d = FirstError(with_trigger(R"({"event":"interaction.offered","filter":"a.b"})"));
  EXPECT_EQ(d.field, "trigger.filter");
  EXPECT_EQ(d.column, 1);
  EXPECT_TRUE(LoadFlowText(with_trigger(R"({"event":"connect.event","name":"crmLookup"})")).ok());
}

TEST(PopflowLoaderTest, KindSpecificRules) {
  EXPECT_EQ(
      FirstError(
          Wrap(R"J([{"id":"a","kind":"screenPop","target":"record","recordType":"Contact"}])J"))
          .field,
      "recordId");
  EXPECT_EQ(
      FirstError(
          Wrap(R"J([{"id":"a","kind":"screenPop","target":"url","url":"https://x","query":"q"}])J"))
          .field,
      "query");
  EXPECT_EQ(
      FirstError(Wrap(R"J([{"id":"a","kind":"format","op":"replace","input":"'x'","into":"v"}])J"))
          .field,
      "from");
  EXPECT_EQ(
      FirstError(
          Wrap(
              R"J([{"id":"a","kind":"format","op":"e164","input":"'x'","into":"v","pattern":"%Y"}])J"))
          .field,
      "pattern");
  EXPECT_EQ(
      FirstError(
          Wrap(R"J([{"id":"a","kind":"httpRequest","method":"GET","url":"https://x","body":{}}])J"))
          .field,
      "body");
  EXPECT_THAT(
      FirstError(
          Wrap(
              R"J([{"id":"a","kind":"httpRequest","method":"GET","url":"https://x","headers":{"Authorization":"Bearer x"}}])J"))
          .message,
      HasSubstr("credential"));
  EXPECT_EQ(
      FirstError(Wrap(R"J([{"id":"a","kind":"logActivity","via":"http","subject":"s"}])J")).field,
      "url");
  EXPECT_THAT(
      FirstError(
          Wrap(
              R"J([{"id":"a","kind":"toast","message":"m","buttons":[{"id":"ok","label":"OK"}],"branches":{"cancel":"a"}}])J"))
          .message,
      HasSubstr("no button"));
  EXPECT_THAT(
      FirstError(
          Wrap(
              R"J([{"id":"a","kind":"toast","message":"m","buttons":[{"id":"timeout","label":"x"}]}])J"))
          .message,
      HasSubstr("a button is"));
}

TEST(PopflowLoaderTest, UnreachableNodesAreWarnings) {
  std::vector<Diagnostic> diags;
  auto flow =
      LoadFlowText(Wrap(R"J([{"id":"a","kind":"end"},{"id":"lost","kind":"end"}])J"), {}, &diags);
  ASSERT_TRUE(flow.ok());
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_TRUE(diags[0].warning);
  EXPECT_EQ(diags[0].node, "lost");
}

TEST(PopflowLoaderTest, Limits) {
  std::string nodes = "[";
  for (int i = 0; i < 501; ++i) {
    absl::StrAppend(&nodes, i ? "," : "", R"({"id":"n)", i, R"(","kind":"end"})");
  }
  nodes += "]";
  EXPECT_THAT(
      FirstError(
          absl::StrCat(
              R"({"schema":"omnibridge.popflow/1","name":"F","trigger":{"event":"interaction.offered"},"start":"n0","nodes":)",
              nodes, "}"))
          .message,
      HasSubstr("more than 500 nodes"));
  std::string deep(100, '[');
  EXPECT_THAT(std::string(LoadFlowText(deep).status().message()), HasSubstr("invalid JSON"));
  FlowLimits small;
  small.max_json_bytes = 100;
  EXPECT_THAT(std::string(LoadFlowText(Wrap("[]"), small).status().message()),
              HasSubstr("larger than"));
  std::string long_expr(5000, '1');
  EXPECT_THAT(FirstError(Wrap(absl::StrCat(R"J([{"id":"a","kind":"if","condition":")J", long_expr,
                                           R"J("}])J")))
                  .message,
              HasSubstr("longer than 4096"));
}

TEST(PopflowLoaderTest, EveryDiagnosticIsCollected) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(LoadFlowText(Wrap(R"J([
    {"id":"a","kind":"if","condition":"(","next":"b"},
    {"id":"b","kind":"toast","message":"{{"},
    {"id":"c","kind":"set","name":"x"}])J"),
                            {}, &diags)
                   .ok());
  ASSERT_GE(diags.size(), 3u);
  EXPECT_EQ(diags[0].node, "a");
  EXPECT_EQ(diags[1].node, "b");
  EXPECT_EQ(diags[2].node, "c");
  json::object j = DiagnosticToJson(diags[0]);
  EXPECT_EQ(j.at("field"), "condition");
  EXPECT_EQ(j.at("severity"), "error");
}

}  // namespace
}  // namespace omnibridge::popflow
