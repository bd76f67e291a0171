#include "popflow/popflow_service.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/log.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string FlowText(std::string_view name, std::string_view event, std::string_view message,
                     std::string_view trigger_extra = "") {
  return absl::StrCat(R"({"schema":"omnibridge.popflow/1","name":")", Av(name),
                      R"(","trigger":{"event":")", Av(event), R"(")", Av(trigger_extra),
                      R"(},"start":"a","nodes":[{"id":"a","kind":"toast","message":")", Av(message),
                      R"("}]})");
}

std::vector<std::string> Messages(const Effects& effects) {
  std::vector<std::string> out;
  for (const Effect& e : effects) {
    if (const auto* f = std::get_if<ExtensionFrame>(&e)) {
      for (const auto& a : f->frame.at("actions").as_array()) {
        const json::object& o = a.as_object();
        out.emplace_back(o.contains("message") ? o.at("message").as_string()
                                               : o.at("kind").as_string());
      }
    }
  }
  return out;
}

class PopflowServiceTest : public ::testing::Test {
 protected:
  PopflowServiceTest() {
    base::SetLogToStderr(false);
    store_ = *FlowStore::Open(&storage_, &clock_);
    service_ = std::make_unique<PopflowService>(clock_, store_.get());
  }

  json::object Request(std::string_view text) { return json::parse(text).as_object(); }

  void Deploy(std::string_view flow_text) {
    auto out = service_->HandleRequest(
        json::object{{"type", "popflow.deploy"}, {"flow", json::parse(flow_text)}});
    ASSERT_EQ(out.reply.at("type"), "popflow.deploy") << json::serialize(out.reply);
  }

  json::object Snapshot(std::string_view id, std::string_view state) {
    return json::object{{"interactionId", id},    {"state", state},        {"channel", "voice"},
                        {"direction", "inbound"}, {"ani", "+14155550100"}, {"queue", "vip"}};
  }

  base::FakeClock clock_;
  MemoryFlowStorage storage_;
  std::unique_ptr<FlowStore> store_;
  std::unique_ptr<PopflowService> service_;
};

TEST_F(PopflowServiceTest, DeployListGetRollback) {
  Deploy(FlowText("Pop", "interaction.offered", "v1"));
  Deploy(FlowText("Pop", "interaction.offered", "v2"));
  auto list = service_->HandleRequest(Request(R"({"type":"popflow.list","id":"1"})"));
  const json::array& flows = list.reply.at("flows").as_array();
  ASSERT_THAT(flows, SizeIs(1));
  EXPECT_EQ(flows[0].at("name"), "Pop");
  EXPECT_EQ(flows[0].at("activeVersion"), 2);
  EXPECT_EQ(flows[0].at("readOnly"), false);

  auto get = service_->HandleRequest(Request(R"({"type":"popflow.get","name":"Pop","version":1})"));
  EXPECT_EQ(get.reply.at("version"), 1);
  EXPECT_EQ(get.reply.at("flow").at("nodes").as_array()[0].at("message"), "v1");

  EXPECT_THAT(Messages(service_->OnInteractionUpdate(Snapshot("i-1", "offered"), {})),
              ElementsAre("v2"));
  auto rb =
      service_->HandleRequest(Request(R"({"type":"popflow.deploy","name":"Pop","rollbackTo":1})"));
  EXPECT_EQ(rb.reply.at("version"), 1);
  EXPECT_THAT(Messages(service_->OnInteractionUpdate(Snapshot("i-2", "offered"), {})),
              ElementsAre("v1"));
  service_->HandleRequest(Request(R"({"type":"popflow.deploy","name":"Pop","disable":true})"));
  EXPECT_TRUE(service_->OnInteractionUpdate(Snapshot("i-3", "offered"), {}).empty());
}

TEST_F(PopflowServiceTest, ErrorsAreStableCodesWithDiagnostics) {
  auto out = service_->HandleRequest(
      json::object{{"type", "popflow.deploy"},
                   {"flow", json::parse(FlowText("Bad", "interaction.offered", "{{ lowr(1) }}"))}});
  EXPECT_EQ(out.reply.at("type"), "error");
  EXPECT_EQ(out.reply.at("code"), "invalid_request");
  EXPECT_THAT(std::string(out.reply.at("message").as_string()),
              HasSubstr("flow 'Bad', node 'a', field 'message', column 4"));
  const json::array& diags = out.reply.at("diagnostics").as_array();
  ASSERT_THAT(diags, SizeIs(1));
  EXPECT_EQ(diags[0].at("column"), 4);

  out = service_->HandleRequest(Request(R"({"type":"popflow.get","name":"Nope"})"));
  EXPECT_EQ(out.reply.at("code"), "not_found");
  out = service_->HandleRequest(Request(R"({"type":"popflow.get"})"));
  EXPECT_EQ(out.reply.at("code"), "invalid_request");
  out = service_->HandleRequest(Request(R"({"type":"popflow.deploy"})"));
  EXPECT_EQ(out.reply.at("code"), "invalid_request");
}

TEST_F(PopflowServiceTest, TestReturnsTraceWithoutSideEffects) {
  auto out = service_->HandleRequest(json::object{
      {"type", "popflow.test"},
      {"flow", json::parse(FlowText("T", "interaction.offered", "Hi {{interaction.ani}}"))},
      {"interaction", json::object{{"ani", "123"}}}});
  EXPECT_EQ(out.reply.at("type"), "popflow.test");
  EXPECT_EQ(out.reply.at("ok"), true);
  EXPECT_TRUE(out.effects.empty());
  const json::object& trace = out.reply.at("trace").as_object();
  EXPECT_EQ(trace.at("completed"), true);
  EXPECT_EQ(trace.at("actions").as_array()[0].at("message"), "Hi 123");
  EXPECT_TRUE(store_->List().empty());  // testing does not save
  EXPECT_EQ(service_->engine().runs_started(), 0u);

  out = service_->HandleRequest(json::object{
      {"type", "popflow.test"}, {"flow", json::parse(FlowText("T", "interaction.offered", "{{"))}});
  EXPECT_EQ(out.reply.at("ok"), false);
  EXPECT_THAT(out.reply.at("diagnostics").as_array(), SizeIs(1));
}

TEST_F(PopflowServiceTest, InteractionLifecycleTriggers) {
  for (std::string_view e :
       {"interaction.offered", "interaction.connected", "interaction.held", "interaction.resumed",
        "interaction.ended", "interaction.missed", "interaction.wrapupStarted",
        "interaction.wrapupEnded", "interaction.transferred"}) {
    Deploy(FlowText(e, e, e));
  }
  auto m = [&](Effects e) { return Messages(e); };
  EXPECT_THAT(m(service_->OnInteractionUpdate(Snapshot("a", "offered"), {})),
              ElementsAre("interaction.offered"));
  EXPECT_TRUE(service_->OnInteractionUpdate(Snapshot("a", "offered"), {}).empty());
  EXPECT_THAT(m(service_->OnInteractionUpdate(Snapshot("a", "connected"), {})),
              ElementsAre("interaction.connected"));
  EXPECT_THAT(m(service_->OnInteractionUpdate(Snapshot("a", "held"), {})),
              ElementsAre("interaction.held"));
  EXPECT_THAT(m(service_->OnInteractionUpdate(Snapshot("a", "connected"), {})),
              ElementsAre("interaction.resumed"));
  json::object transferred = Snapshot("a", "connected");
  transferred["transferred"] = true;
  EXPECT_THAT(m(service_->OnInteractionUpdate(transferred, {})),
              ElementsAre("interaction.transferred"));
  EXPECT_THAT(m(service_->OnInteractionUpdate(Snapshot("a", "wrapup"), {})),
              ElementsAre("interaction.ended", "interaction.wrapupStarted"));
  EXPECT_THAT(m(service_->OnInteractionEnded("a", {})), ElementsAre("interaction.wrapupEnded"));

  // Offered, then gone without being answered: missed.
  service_->OnInteractionUpdate(Snapshot("b", "offered"), {});
  EXPECT_THAT(m(service_->OnInteractionEnded("b", {})),
              ElementsAre("interaction.ended", "interaction.missed"));
}

TEST_F(PopflowServiceTest, ResultsFlowBackThroughCrmEvents) {
  Deploy(R"J({"schema":"omnibridge.popflow/1","name":"S","trigger":{"event":"interaction.offered"},
    "start":"s","nodes":[
      {"id":"s","kind":"crmSearch","field":"phone","value":"{{interaction.ani}}","branches":{"one":"p"}},
      {"id":"p","kind":"screenPop","target":"record","recordType":"Contact","recordId":"{{nodes.s.id}}"}]})J");
  Effects e = service_->OnInteractionUpdate(Snapshot("i", "offered"), {});
  ASSERT_THAT(Messages(e), ElementsAre("crmSearch"));
  std::string run_id(std::get<ExtensionFrame>(e[0]).frame.at("runId").as_string());
  json::object result{
      {"type", "crm.event"}, {"event", "popflow.result"},
      {"runId", run_id},     {"actionIndex", 0},
      {"ok", true},          {"data", json::object{{"count", 1}, {"ids", json::array{"003"}}}}};
  Effects r = service_->OnCrmEvent(result);
  ASSERT_THAT(Messages(r), ElementsAre("screenPop"));
  EXPECT_TRUE(service_->OnCrmEvent(json::object{{"event", "other"}}).empty());
  EXPECT_TRUE(service_->OnCrmEvent(json::object{{"event", "popflow.result"}}).empty());
}

TEST_F(PopflowServiceTest, ConnectApiEvents) {
  Deploy(FlowText("C", "connect.event", "custom {{trigger.data.x}} {{trigger.source}}",
                  R"(,"name":"lookup")"));
  Deploy(FlowText("O", "interaction.offered", "offered"));
  auto r = service_->OnConnectEvent(
      json::parse(R"({"event":"custom","name":"lookup","interaction":{},"data":{"x":1}})")
          .as_object(),
      {});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Messages(*r), ElementsAre("custom 1 connect"));
  r = service_->OnConnectEvent(
      json::parse(R"({"event":"offered","interaction":{"interactionId":"z"}})").as_object(), {});
  EXPECT_THAT(Messages(*r), ElementsAre("offered"));
  // The same interaction reported by the CTI afterwards does not pop twice.
  EXPECT_TRUE(service_->OnInteractionUpdate(Snapshot("z", "offered"), {}).empty());
  EXPECT_FALSE(
      service_->OnConnectEvent(json::parse(R"({"event":"boom","interaction":{}})").as_object(), {})
          .ok());
  EXPECT_FALSE(
      service_
          ->OnConnectEvent(json::parse(R"({"event":"custom","interaction":{}})").as_object(), {})
          .ok());
  EXPECT_FALSE(
      service_->OnConnectEvent(json::parse(R"({"event":"offered"})").as_object(), {}).ok());
}

TEST_F(PopflowServiceTest, AgentRoutingAndButtons) {
  Deploy(FlowText("A", "agent.stateChanged", "{{agent.state}} from {{trigger.data.previous}}"));
  Deploy(FlowText("R", "routing.offerAccepted", "accepted {{interaction.channel}}"));
  Deploy(FlowText("Btn", "button.clicked", "clicked {{interaction.interactionId}}"));
  EXPECT_THAT(Messages(service_->OnAgentState(json::object{{"state", "ready"}})),
              ElementsAre("ready from "));
  EXPECT_TRUE(service_->OnAgentState(json::object{{"state", "ready"}}).empty());
  EXPECT_THAT(
      Messages(service_->OnAgentState(json::object{{"state", "notReady"}, {"reason", "Lunch"}})),
      ElementsAre("notReady from ready"));
  EXPECT_THAT(Messages(service_->OnRoutingDecision(true, json::object{{"channel", "chat"}}, {})),
              ElementsAre("accepted chat"));
  EXPECT_TRUE(service_->OnRoutingDecision(false, json::object{}, {}).empty());
  EXPECT_THAT(Messages(service_->OnButton("Btn", json::object{{"interactionId", "q"}}, {}, {})),
              ElementsAre("clicked q"));
  EXPECT_TRUE(service_->OnButton("Nope", {}, {}, {}).empty());
  service_->OnInteractionUpdate(Snapshot("k", "connected"), {});
  EXPECT_THAT(Messages(service_->OnCrmEvent(json::object{
                  {"event", "popflow.button"}, {"flow", "Btn"}, {"interactionId", "k"}})),
              ElementsAre("clicked k"));
}

TEST_F(PopflowServiceTest, OptionalDefaultPopWhenNoOfferedFlow) {
  ServiceOptions options;
  options.default_pop = true;
  PopflowService service(clock_, store_.get(), options);
  Effects e = service.OnInteractionUpdate(Snapshot("d", "offered"), {});
  ASSERT_THAT(e, SizeIs(1));
  const json::object& frame = std::get<ExtensionFrame>(e[0]).frame;
  EXPECT_EQ(frame.at("flow"), "default");
  EXPECT_EQ(frame.at("actions").as_array()[0].at("query"), "+14155550100");
}

}  // namespace
}  // namespace omnibridge::popflow
