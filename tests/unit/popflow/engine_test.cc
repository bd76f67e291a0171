#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/clock.h"
#include "base/log.h"
#include "popflow/flow.h"
#include "popflow/popflow.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::shared_ptr<const Flow> MustLoad(std::string_view text) {
  auto flow = LoadFlowText(text);
  EXPECT_TRUE(flow.ok()) << flow.status();
  return flow.ok() ? *flow : nullptr;
}

// Wraps a node list into a flow bound to interaction.offered.
std::string FlowJson(std::string_view name, std::string_view nodes, std::string_view start = "a",
                     std::string_view trigger = R"({"event":"interaction.offered"})") {
  return absl::StrCat(R"({"schema":"omnibridge.popflow/1","name":")", Av(name), R"(","trigger":)",
                      Av(trigger), R"(,"start":")", Av(start), R"(","nodes":)", Av(nodes), "}");
}

std::vector<json::object> Frames(const Effects& effects) {
  std::vector<json::object> out;
  for (const Effect& e : effects) {
    if (const auto* f = std::get_if<ExtensionFrame>(&e))
      out.push_back(f->frame);
  }
  return out;
}

template <typename T>
std::vector<T> Of(const Effects& effects) {
  std::vector<T> out;
  for (const Effect& e : effects) {
    if (const auto* v = std::get_if<T>(&e))
      out.push_back(*v);
  }
  return out;
}

std::vector<std::string> ActionKinds(const Effects& effects) {
  std::vector<std::string> kinds;
  for (const auto& f : Frames(effects)) {
    for (const auto& a : f.at("actions").as_array()) {
      kinds.emplace_back(a.at("kind").as_string());
    }
  }
  return kinds;
}

json::object LastAction(const Effects& effects) {
  auto frames = Frames(effects);
  EXPECT_FALSE(frames.empty());
  if (frames.empty())
    return {};
  return frames.back().at("actions").as_array().back().as_object();
}

constexpr std::string_view kVipFlow = R"({
  "schema": "omnibridge.popflow/1",
  "name": "VIP pop",
  "trigger": {"event": "interaction.offered", "filter": "interaction.channel == 'voice'"},
  "start": "isVip",
  "nodes": [
    {"id": "isVip", "kind": "if", "condition": "interaction.queue == 'vip'",
     "branches": {"true": "search", "false": "hello"}},
    {"id": "search", "kind": "crmSearch", "field": "phone", "value": "{{ e164(interaction.ani, '1') }}",
     "branches": {"one": "pop", "many": "list", "none": "create"}},
    {"id": "pop", "kind": "screenPop", "target": "record", "recordType": "Contact",
     "recordId": "{{ nodes.search.id }}"},
    {"id": "list", "kind": "screenPop", "target": "search", "query": "{{ interaction.ani }}"},
    {"id": "create", "kind": "screenPop", "target": "newRecord", "recordType": "Contact",
     "fields": {"Phone": "{{ interaction.ani }}", "LastName": "{{ interaction.callerName }}"}},
    {"id": "hello", "kind": "toast", "title": "Call", "message": "Call in {{ interaction.queue }}"}
  ]
})";

class PopflowEngineTest : public ::testing::Test {
 protected:
  PopflowEngineTest() : engine_(clock_, Options()) { base::SetLogToStderr(false); }

  static EngineOptions Options() {
    EngineOptions o;
    o.allowed_apps = {"notepad"};
    return o;
  }

  Trigger Offered(std::string_view id = "i-1", std::string_view queue = "vip") {
    Trigger t;
    t.event = "interaction.offered";
    t.interaction = json::object{{"interactionId", id},
                                 {"channel", "voice"},
                                 {"ani", "(415) 555-0100"},
                                 {"callerName", "Ada"},
                                 {"queue", queue},
                                 {"state", "offered"},
                                 {"data", json::object{{"account", "A-7"}}}};
    t.agent = json::object{{"id", "1001"}};
    return t;
  }

  base::FakeClock clock_;
  Engine engine_;
};

TEST_F(PopflowEngineTest, VipCallSearchesThenPopsTheSingleMatch) {
  engine_.SetFlows({MustLoad(kVipFlow)});
  Effects e = engine_.OnTrigger(Offered());
  auto frames = Frames(e);
  ASSERT_THAT(frames, SizeIs(1));
  EXPECT_EQ(frames[0].at("type"), "popflow.run");
  EXPECT_EQ(frames[0].at("interactionId"), "i-1");
  EXPECT_EQ(frames[0].at("flow"), "VIP pop");
  json::object search = LastAction(e);
  EXPECT_EQ(search.at("kind"), "crmSearch");
  EXPECT_EQ(search.at("field"), "phone");
  EXPECT_EQ(search.at("value"), "+14155550100");
  ASSERT_THAT(Of<TimerRequest>(e), SizeIs(1));  // the search's timeout
  EXPECT_EQ(engine_.active_runs(), 1u);

  std::string run_id(frames[0].at("runId").as_string());
  Effects r =
      engine_.OnActionResult(run_id, 0, true, json::parse(R"({"count":1,"ids":["003A"]})"), "");
  json::object pop = LastAction(r);
  EXPECT_EQ(pop.at("kind"), "screenPop");
  EXPECT_EQ(pop.at("target"), "record");
  EXPECT_EQ(pop.at("recordType"), "Contact");
  EXPECT_EQ(pop.at("recordId"), "003A");
  EXPECT_NE(Frames(r)[0].at("runId").as_string(), run_id);  // every frame has its own id
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, SearchOutcomesPickTheBranch) {
  engine_.SetFlows({MustLoad(kVipFlow)});
  Effects e = engine_.OnTrigger(Offered("i-1"));
  std::string run_id(Frames(e)[0].at("runId").as_string());
  json::object created =
      LastAction(engine_.OnActionResult(run_id, 0, true, json::parse(R"({"count":0})"), ""));
  EXPECT_EQ(created.at("target"), "newRecord");
  EXPECT_EQ(created.at("fields"), json::parse(R"({"Phone":"(415) 555-0100","LastName":"Ada"})"));

  e = engine_.OnTrigger(Offered("i-2"));
  run_id = std::string(Frames(e)[0].at("runId").as_string());
  json::object list = LastAction(
      engine_.OnActionResult(run_id, 0, true, json::parse(R"({"count":2,"ids":["a","b"]})"), ""));
  EXPECT_EQ(list.at("target"), "search");
}

TEST_F(PopflowEngineTest, OtherQueueShowsToastAndFilterSkipsChat) {
  engine_.SetFlows({MustLoad(kVipFlow)});
  Effects e = engine_.OnTrigger(Offered("i-1", "support"));
  EXPECT_THAT(ActionKinds(e), ElementsAre("toast"));
  EXPECT_EQ(LastAction(e).at("message"), "Call in support");
  EXPECT_EQ(engine_.active_runs(), 0u);

  Trigger chat = Offered("i-2");
  chat.interaction["channel"] = "chat";
  EXPECT_TRUE(engine_.OnTrigger(chat).empty());
  EXPECT_EQ(engine_.runs_started(), 1u);
}

TEST_F(PopflowEngineTest, OncePerInteractionEventsAreDeduplicated) {
  engine_.SetFlows({MustLoad(kVipFlow)});
  EXPECT_FALSE(engine_.OnTrigger(Offered("i-1", "support")).empty());
  EXPECT_TRUE(engine_.OnTrigger(Offered("i-1", "support")).empty());
  EXPECT_FALSE(engine_.OnTrigger(Offered("i-2", "support")).empty());
}

TEST_F(PopflowEngineTest, NonWaitingActionsAreBatchedInOrder) {
  engine_.SetFlows({MustLoad(FlowJson("batch", R"J([
    {"id":"a","kind":"set","name":"acct","value":"interaction.data.account","next":"b"},
    {"id":"b","kind":"format","op":"e164","input":"interaction.ani","country":"1","into":"phone","next":"c"},
    {"id":"c","kind":"screenPop","target":"url","url":"https://crm.example/find?acct={{vars.acct}}&p={{vars.phone}}","next":"d"},
    {"id":"d","kind":"fillField","field":"Subject","value":"Call {{vars.phone}}","next":"e"},
    {"id":"e","kind":"setDisposition","value":"Answered","next":"f"},
    {"id":"f","kind":"end"}
  ])J"))});
  Effects e = engine_.OnTrigger(Offered());
  auto frames = Frames(e);
  ASSERT_THAT(frames, SizeIs(1));
  EXPECT_THAT(ActionKinds(e), ElementsAre("screenPop", "fillField", "setDisposition"));
  const json::array& actions = frames[0].at("actions").as_array();
  // Substitutions inside a URL are percent-encoded: "+" cannot turn into a space or a new param.
  EXPECT_EQ(actions[0].at("url"), "https://crm.example/find?acct=A-7&p=%2B14155550100");
  EXPECT_EQ(actions[1].at("value"), "Call +14155550100");
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, WholeFieldUrlIsKeptButMustBeHttp) {
  engine_.SetFlows({MustLoad(FlowJson("url", R"J([
    {"id":"a","kind":"screenPop","target":"url","url":"{{interaction.data.url}}"}
  ])J"))});
  Trigger t = Offered("i-1");
  t.interaction["data"].as_object()["url"] = "https://crm.example/case/9?x=1";
  EXPECT_EQ(LastAction(engine_.OnTrigger(t)).at("url"), "https://crm.example/case/9?x=1");
  t = Offered("i-2");
  t.interaction["data"].as_object()["url"] = "javascript:alert(1)";
  json::object toast = LastAction(engine_.OnTrigger(t));
  EXPECT_EQ(toast.at("kind"), "toast");
  EXPECT_THAT(std::string(toast.at("message").as_string()), HasSubstr("http"));
}

TEST_F(PopflowEngineTest, NodeErrorStopsOnlyThatRunWithAToast) {
  engine_.SetFlows({
      MustLoad(FlowJson("broken", R"J([
        {"id":"a","kind":"toast","message":"first","next":"b"},
        {"id":"b","kind":"set","name":"x","value":"interaction.ani + 1","next":"c"},
        {"id":"c","kind":"toast","message":"never"}])J")),
      MustLoad(FlowJson("fine", R"J([{"id":"a","kind":"toast","message":"fine"}])J")),
  });
  Effects e = engine_.OnTrigger(Offered());
  auto frames = Frames(e);
  ASSERT_THAT(frames, SizeIs(2));
  EXPECT_EQ(frames[0].at("flow"), "broken");
  const json::array& broken = frames[0].at("actions").as_array();
  ASSERT_THAT(broken, SizeIs(2));
  EXPECT_EQ(broken[0].at("message"), "first");
  std::string msg(broken[1].at("message").as_string());
  EXPECT_THAT(msg, HasSubstr("Flow 'broken' stopped at node 'b'"));
  EXPECT_THAT(msg, HasSubstr("arithmetic needs numbers"));
  EXPECT_EQ(frames[1].at("flow"), "fine");
  EXPECT_EQ(frames[1].at("actions").as_array()[0].at("message"), "fine");
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, LoopsAreBoundedByTheStepLimit) {
  engine_.SetFlows({MustLoad(FlowJson("loop", R"J([
    {"id":"a","kind":"set","name":"n","value":"coalesce(vars.n, 0) + 1","next":"b"},
    {"id":"b","kind":"if","condition":"true","branches":{"true":"a"}}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  json::object toast = LastAction(e);
  EXPECT_THAT(std::string(toast.at("message").as_string()), HasSubstr("step limit (1000)"));
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, LoopWithACounterTerminates) {
  engine_.SetFlows({MustLoad(FlowJson("count", R"J([
    {"id":"a","kind":"set","name":"n","value":"coalesce(vars.n, 0) + 1","next":"b"},
    {"id":"b","kind":"if","condition":"vars.n < 3","branches":{"true":"a","false":"c"}},
    {"id":"c","kind":"toast","message":"n={{vars.n}}"}])J"))});
  EXPECT_EQ(LastAction(engine_.OnTrigger(Offered())).at("message"), "n=3");
}

TEST_F(PopflowEngineTest, SwitchFallsBackToNext) {
  engine_.SetFlows({MustLoad(FlowJson("sw", R"J([
    {"id":"a","kind":"switch","value":"interaction.queue","branches":{"vip":"v","sales":"s"},"next":"d"},
    {"id":"v","kind":"toast","message":"vip"},
    {"id":"s","kind":"toast","message":"sales"},
    {"id":"d","kind":"toast","message":"default"}])J"))});
  EXPECT_EQ(LastAction(engine_.OnTrigger(Offered("1", "vip"))).at("message"), "vip");
  EXPECT_EQ(LastAction(engine_.OnTrigger(Offered("2", "sales"))).at("message"), "sales");
  EXPECT_EQ(LastAction(engine_.OnTrigger(Offered("3", "other"))).at("message"), "default");
}

TEST_F(PopflowEngineTest, SetUnsetAndFormatOps) {
  engine_.SetFlows({MustLoad(FlowJson("fmt", R"J([
    {"id":"a","kind":"set","name":"tmp","value":"'x'","next":"b"},
    {"id":"b","kind":"unset","name":"tmp","next":"c"},
    {"id":"c","kind":"format","op":"date","input":"'2026-11-25T21:00:00Z'","pattern":"%d.%m.%Y","timezone":"+01:00","into":"d","next":"e"},
    {"id":"e","kind":"format","op":"join","input":"split('a b c', ' ')","separator":"-","into":"j","next":"f"},
    {"id":"f","kind":"format","op":"replace","input":"interaction.ani","from":" ","to":"","into":"r","next":"g"},
    {"id":"g","kind":"format","op":"slice","input":"'abcdef'","start":1,"end":-1,"into":"s","next":"h"},
    {"id":"h","kind":"toast","message":"{{exists(vars.tmp)}}|{{vars.d}}|{{vars.j}}|{{vars.r}}|{{vars.s}}|{{nodes.g}}"}])J"))});
  EXPECT_EQ(LastAction(engine_.OnTrigger(Offered())).at("message"),
            "false|25.11.2026|a-b-c|(415)555-0100|bcde|bcde");
}

TEST_F(PopflowEngineTest, ToastButtonsBranchAndTimeout) {
  engine_.SetFlows({MustLoad(FlowJson("ask", R"J([
    {"id":"a","kind":"toast","title":"New call","message":"Open the account?","modal":true,
     "buttons":[{"id":"yes","label":"Open {{interaction.data.account}}"},{"id":"no","label":"No"}],
     "timeoutSeconds":30,"branches":{"yes":"y","timeout":"t"},"next":"n"},
    {"id":"y","kind":"screenPop","target":"record","recordType":"Account","recordId":"{{interaction.data.account}}"},
    {"id":"n","kind":"toast","message":"no"},
    {"id":"t","kind":"toast","message":"timed out"}])J"))});
  Effects e = engine_.OnTrigger(Offered("1"));
  json::object ask = LastAction(e);
  EXPECT_EQ(ask.at("modal"), true);
  EXPECT_EQ(ask.at("timeoutSeconds"), 30);
  EXPECT_EQ(ask.at("buttons"),
            json::parse(R"J([{"id":"yes","label":"Open A-7"},{"id":"no","label":"No"}])J"));
  std::string run_id(Frames(e)[0].at("runId").as_string());
  EXPECT_EQ(
      LastAction(engine_.OnActionResult(run_id, 0, true, json::parse(R"({"button":"yes"})"), ""))
          .at("recordId"),
      "A-7");

  e = engine_.OnTrigger(Offered("2"));
  run_id = std::string(Frames(e)[0].at("runId").as_string());
  EXPECT_EQ(
      LastAction(engine_.OnActionResult(run_id, 0, true, json::parse(R"({"button":"no"})"), ""))
          .at("message"),
      "no");

  e = engine_.OnTrigger(Offered("3"));
  auto timers = Of<TimerRequest>(e);
  ASSERT_THAT(timers, SizeIs(1));
  clock_.Advance(absl::Seconds(40));
  EXPECT_EQ(LastAction(engine_.OnTimer(timers[0].id)).at("message"), "timed out");
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, HttpRequestKeepsCredentialsByNameAndStoresTheBody) {
  engine_.SetFlows({MustLoad(FlowJson("http", R"J([
    {"id":"a","kind":"httpRequest","method":"POST","url":"https://api.example/lookup",
     "credential":"crmApi","headers":{"X-Agent":"{{agent.id}}"},
     "body":{"phone":"{{interaction.ani}}","n":"{{ 1 + 1 }}","fixed":[true,null]},
     "timeoutSeconds":5,"into":"customer","branches":{"error":"err"},"next":"b"},
    {"id":"b","kind":"toast","message":"Hello {{vars.customer.name}} ({{nodes.a.status}})"},
    {"id":"err","kind":"toast","message":"lookup failed: {{nodes.a.status}}"}])J"))});
  Effects e = engine_.OnTrigger(Offered("1"));
  EXPECT_TRUE(Frames(e).empty());
  auto reqs = Of<HttpRequest>(e);
  ASSERT_THAT(reqs, SizeIs(1));
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url, "https://api.example/lookup");
  EXPECT_EQ(reqs[0].credential, "crmApi");
  EXPECT_EQ(reqs[0].timeout, absl::Seconds(5));
  EXPECT_EQ(json::parse(reqs[0].body),
            json::parse(R"({"phone":"(415) 555-0100","n":2,"fixed":[true,null]})"));
  EXPECT_THAT(reqs[0].headers,
              ::testing::Contains(std::pair<std::string, std::string>("X-Agent", "1001")));
  Effects r = engine_.OnHttpResult(reqs[0].id,
                                   HttpResult{200, R"({"name":"Ada"})", "application/json", ""});
  EXPECT_EQ(LastAction(r).at("message"), "Hello Ada (200)");

  e = engine_.OnTrigger(Offered("2"));
  reqs = Of<HttpRequest>(e);
  r = engine_.OnHttpResult(reqs[0].id, HttpResult{503, "busy", "text/plain", ""});
  EXPECT_EQ(LastAction(r).at("message"), "lookup failed: 503");
  // A second result for the same request is ignored.
  EXPECT_TRUE(engine_.OnHttpResult(reqs[0].id, HttpResult{200, "{}", "", ""}).empty());
}

TEST_F(PopflowEngineTest, HttpFailureWithoutErrorBranchStopsTheRun) {
  engine_.SetFlows({MustLoad(FlowJson("http", R"J([
    {"id":"a","kind":"httpRequest","method":"GET","url":"https://api.example/x?q={{interaction.ani}}"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  auto reqs = Of<HttpRequest>(e);
  ASSERT_THAT(reqs, SizeIs(1));
  EXPECT_EQ(reqs[0].url, "https://api.example/x?q=%28415%29%20555-0100");
  EXPECT_TRUE(reqs[0].body.empty());
  Effects r = engine_.OnHttpResult(reqs[0].id, HttpResult{0, "", "", "connection refused"});
  EXPECT_THAT(std::string(LastAction(r).at("message").as_string()),
              HasSubstr("connection refused"));
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, HttpTimeoutUsesTheEnginesBackstopTimer) {
  engine_.SetFlows({MustLoad(FlowJson("http", R"J([
    {"id":"a","kind":"httpRequest","method":"GET","url":"https://api.example/x","timeoutSeconds":3,
     "branches":{"error":"b"}},
    {"id":"b","kind":"toast","message":"{{nodes.a.error}}"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  auto timers = Of<TimerRequest>(e);
  ASSERT_THAT(timers, SizeIs(1));
  EXPECT_EQ(timers[0].deadline, clock_.Now() + absl::Seconds(5));
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(LastAction(engine_.OnTimer(timers[0].id)).at("message"), "timed out");
  // The late response is ignored.
  EXPECT_TRUE(
      engine_.OnHttpResult(Of<HttpRequest>(e)[0].id, HttpResult{200, "{}", "", ""}).empty());
}

TEST_F(PopflowEngineTest, AgentStateComesAfterEarlierActions) {
  engine_.SetFlows({MustLoad(FlowJson("state", R"J([
    {"id":"a","kind":"toast","message":"going on break","next":"b"},
    {"id":"b","kind":"setAgentState","state":"notReady","reason":"{{ 'After' + 'Call' }}","next":"c"},
    {"id":"c","kind":"toast","message":"done"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  ASSERT_THAT(e, SizeIs(3));
  ASSERT_TRUE(std::holds_alternative<ExtensionFrame>(e[0]));
  ASSERT_TRUE(std::holds_alternative<AgentStateCommand>(e[1]));
  EXPECT_EQ(std::get<AgentStateCommand>(e[1]).state, "notReady");
  EXPECT_EQ(std::get<AgentStateCommand>(e[1]).reason, "AfterCall");
  ASSERT_TRUE(std::holds_alternative<ExtensionFrame>(e[2]));
}

TEST_F(PopflowEngineTest, DelayWaitsForItsTimer) {
  engine_.SetFlows({MustLoad(FlowJson("delay", R"J([
    {"id":"a","kind":"toast","message":"before","next":"b"},
    {"id":"b","kind":"delay","seconds":2.5,"next":"c"},
    {"id":"c","kind":"toast","message":"after"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  EXPECT_THAT(ActionKinds(e), ElementsAre("toast"));
  auto timers = Of<TimerRequest>(e);
  ASSERT_THAT(timers, SizeIs(1));
  EXPECT_EQ(timers[0].deadline, clock_.Now() + absl::Milliseconds(2500));
  EXPECT_TRUE(engine_.OnTimer(timers[0].id + 1000).empty());  // unknown timer
  clock_.Advance(absl::Milliseconds(2500));
  EXPECT_EQ(LastAction(engine_.OnTimer(timers[0].id)).at("message"), "after");
}

TEST_F(PopflowEngineTest, RunTimeIsBounded) {
  EngineOptions o;
  o.max_run_time = absl::Seconds(30);
  Engine engine(clock_, o);
  engine.SetFlows({MustLoad(FlowJson("slow", R"J([
    {"id":"a","kind":"delay","seconds":60,"next":"b"},
    {"id":"b","kind":"toast","message":"after"}])J"))});
  Effects e = engine.OnTrigger(Offered());
  auto timers = Of<TimerRequest>(e);
  ASSERT_THAT(timers, SizeIs(1));
  EXPECT_EQ(timers[0].deadline, clock_.Now() + absl::Seconds(30));  // capped by the run limit
  clock_.Advance(absl::Seconds(31));
  EXPECT_THAT(std::string(LastAction(engine.OnTimer(timers[0].id)).at("message").as_string()),
              HasSubstr("run time limit"));
  EXPECT_EQ(engine.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, LaunchAppOnlyForAllowlistedNames) {
  engine_.SetFlows({MustLoad(FlowJson("apps", R"J([
    {"id":"a","kind":"launchApp","app":"notepad","args":["--caller","{{interaction.ani}}; rm -rf /"],"next":"b"},
    {"id":"b","kind":"launchApp","app":"shell","branches":{"error":"c"}},
    {"id":"c","kind":"toast","message":"{{nodes.a.ok}} {{nodes.b.error}}"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  auto launches = Of<AppLaunch>(e);
  ASSERT_THAT(launches, SizeIs(1));
  EXPECT_EQ(launches[0].app, "notepad");
  // Arguments are separate argv entries, passed as they are: no shell ever sees them.
  EXPECT_THAT(launches[0].args, ElementsAre("--caller", "(415) 555-0100; rm -rf /"));
  Effects r = engine_.OnLaunchResult(launches[0].id, absl::OkStatus());
  EXPECT_TRUE(Of<AppLaunch>(r).empty());
  EXPECT_EQ(LastAction(r).at("message"), "true 'shell' is not an allowed app");
}

TEST_F(PopflowEngineTest, LogActivityThroughTheCrmOrHttp) {
  engine_.SetFlows({MustLoad(FlowJson("log", R"J([
    {"id":"a","kind":"logActivity","subject":"Call {{interaction.ani}}","body":"queue {{interaction.queue}}","next":"b"},
    {"id":"b","kind":"logActivity","via":"http","url":"https://log.example/activities","credential":"logApi",
     "subject":"s","branches":{"error":"c"},"next":"d"},
    {"id":"c","kind":"toast","message":"log failed"},
    {"id":"d","kind":"toast","message":"logged {{nodes.a.ok}}"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  json::object log = LastAction(e);
  EXPECT_EQ(log.at("kind"), "logActivity");
  EXPECT_EQ(log.at("subject"), "Call (415) 555-0100");
  EXPECT_FALSE(log.contains("recordId"));
  std::string run_id(Frames(e)[0].at("runId").as_string());
  Effects r = engine_.OnActionResult(run_id, 0, true, json::object(), "");
  auto reqs = Of<HttpRequest>(r);
  ASSERT_THAT(reqs, SizeIs(1));
  EXPECT_EQ(reqs[0].credential, "logApi");
  EXPECT_EQ(json::parse(reqs[0].body).at("interactionId"), "i-1");
  EXPECT_EQ(LastAction(engine_.OnHttpResult(reqs[0].id, HttpResult{201, "", "", ""})).at("message"),
            "logged true");
}

TEST_F(PopflowEngineTest, CrmFailureWithoutBranchStopsWithToast) {
  engine_.SetFlows({MustLoad(FlowJson("s", R"J([
    {"id":"a","kind":"crmSearch","field":"email","value":"{{interaction.data.email}}","next":"b"},
    {"id":"b","kind":"toast","message":"ok"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  std::string run_id(Frames(e)[0].at("runId").as_string());
  // Results for the wrong index or an unknown frame are ignored.
  EXPECT_TRUE(engine_.OnActionResult(run_id, 5, true, json::object(), "").empty());
  EXPECT_TRUE(engine_.OnActionResult("nope.1", 0, true, json::object(), "").empty());
  Effects r = engine_.OnActionResult(run_id, 0, false, nullptr, "no CRM tab");
  EXPECT_THAT(std::string(LastAction(r).at("message").as_string()), HasSubstr("no CRM tab"));
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, CrmWaitsTimeOut) {
  engine_.SetFlows({MustLoad(FlowJson("t", R"J([
    {"id":"a","kind":"crmSearch","field":"phone","value":"1","timeoutSeconds":5,"branches":{"error":"b"}},
    {"id":"b","kind":"logActivity","subject":"s","next":"c"},
    {"id":"c","kind":"toast","message":"never"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  auto timers = Of<TimerRequest>(e);
  ASSERT_THAT(timers, SizeIs(1));
  EXPECT_EQ(timers[0].deadline, clock_.Now() + absl::Seconds(5));
  clock_.Advance(absl::Seconds(5));
  Effects r = engine_.OnTimer(timers[0].id);  // search timed out: error branch, then logActivity
  EXPECT_THAT(ActionKinds(r), ElementsAre("logActivity"));
  timers = Of<TimerRequest>(r);
  ASSERT_THAT(timers, SizeIs(1));
  EXPECT_EQ(timers[0].deadline, clock_.Now() + absl::Seconds(20));  // the default CRM timeout
  clock_.Advance(absl::Seconds(20));
  r = engine_.OnTimer(timers[0].id);
  EXPECT_THAT(std::string(LastAction(r).at("message").as_string()),
              HasSubstr("timed out waiting for a result"));
  EXPECT_EQ(engine_.active_runs(), 0u);
}

TEST_F(PopflowEngineTest, ConnectAndButtonTriggersMatchByName) {
  engine_.SetFlows({
      MustLoad(FlowJson("c1", R"J([{"id":"a","kind":"toast","message":"{{trigger.data.note}}"}])J",
                        "a", R"({"event":"connect.event","name":"lookup"})")),
      MustLoad(FlowJson("Open account", R"J([{"id":"a","kind":"toast","message":"button"}])J", "a",
                        R"({"event":"button.clicked"})")),
  });
  Trigger t;
  t.event = "connect.event";
  t.name = "other";
  EXPECT_TRUE(engine_.OnTrigger(t).empty());
  t.name = "lookup";
  t.source = "connect";
  t.data = json::object{{"note", "from softphone"}};
  EXPECT_EQ(LastAction(engine_.OnTrigger(t)).at("message"), "from softphone");
  Trigger b;
  b.event = "button.clicked";
  b.name = "Open account";
  EXPECT_EQ(LastAction(engine_.OnTrigger(b)).at("message"), "button");
}

TEST_F(PopflowEngineTest, FilterErrorsAreLoggedNotRun) {
  engine_.SetFlows(
      {MustLoad(FlowJson("f", R"J([{"id":"a","kind":"toast","message":"x"}])J", "a",
                         R"({"event":"interaction.offered","filter":"interaction.ani > 3"})"))});
  EXPECT_TRUE(engine_.OnTrigger(Offered()).empty());
  EXPECT_EQ(engine_.runs_started(), 0u);
}

TEST_F(PopflowEngineTest, ConcurrentRunsAreBounded) {
  EngineOptions o;
  o.max_runs = 2;
  Engine engine(clock_, o);
  engine.SetFlows({MustLoad(FlowJson("wait", R"J([{"id":"a","kind":"delay","seconds":10}])J"))});
  engine.OnTrigger(Offered("1"));
  engine.OnTrigger(Offered("2"));
  EXPECT_TRUE(engine.OnTrigger(Offered("3")).empty());
  EXPECT_EQ(engine.active_runs(), 2u);
}

TEST_F(PopflowEngineTest, ActionsPerRunAreBounded) {
  engine_.SetFlows({MustLoad(FlowJson("spam", R"J([
    {"id":"a","kind":"toast","message":"x","next":"a"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  size_t actions = ActionKinds(e).size();
  EXPECT_EQ(actions, 201u);  // 200 toasts, then the error toast
  EXPECT_THAT(std::string(LastAction(e).at("message").as_string()), HasSubstr("200 actions"));
}

TEST_F(PopflowEngineTest, FramesStayUnderTheCap) {
  EngineOptions o;
  o.max_frame_bytes = 2000;
  Engine engine(clock_, o);
  engine.SetFlows({MustLoad(FlowJson("big", R"J([
    {"id":"a","kind":"set","name":"n","value":"coalesce(vars.n, 0) + 1","next":"b"},
    {"id":"b","kind":"toast","message":"{{padStart('', 200, 'x')}}","next":"c"},
    {"id":"c","kind":"if","condition":"vars.n < 30","branches":{"true":"a"}}])J"))});
  Effects e = engine.OnTrigger(Offered());
  auto frames = Frames(e);
  EXPECT_GT(frames.size(), 3u);
  for (const auto& f : frames)
    EXPECT_LE(json::serialize(f).size(), 2300u);
  EXPECT_EQ(ActionKinds(e).size(), 30u);
}

TEST_F(PopflowEngineTest, RunsKeepTheirFlowVersionWhenFlowsChange) {
  engine_.SetFlows({MustLoad(FlowJson("v", R"J([
    {"id":"a","kind":"delay","seconds":1,"next":"b"},
    {"id":"b","kind":"toast","message":"old"}])J"))});
  Effects e = engine_.OnTrigger(Offered());
  engine_.SetFlows({MustLoad(FlowJson("v", R"J([{"id":"a","kind":"toast","message":"new"}])J"))});
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(LastAction(engine_.OnTimer(Of<TimerRequest>(e)[0].id)).at("message"), "old");
}

}  // namespace
}  // namespace omnibridge::popflow
