// The route mode end to end: the real router process (routing::RunRoute), pbx-sim as the ACD and
// two real agent hosts (omnibridge-host over its pipes). Nothing is stubbed.
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

#include "integration/common/host_process.h"
#include "integration/routing/routing_harness.h"
#include "routing/journal.h"
#include "routing/webhook.h"
#include <signal.h>

namespace omnibridge::routing::testing {
namespace {
namespace json = boost::json;
using omnibridge::testing::HostProcess;
using omnibridge::testing::TempDir;

constexpr char kSecret[] = "integration-secret-0123456789";
constexpr char kZendeskToken[] = "zendesk-bearer-token-0123";

std::string Str(const json::value* v) {
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

class RoutingIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pbx_ = std::make_unique<Child>(
        PBX_SIM_PATH, std::vector<std::string>{"--ami-port", "0", "--control-port", "0"});
    ASSERT_TRUE(pbx_->first_line().contains("ami")) << "pbx-sim did not start";
    ami_ = static_cast<int>(pbx_->first_line().at("ami").as_int64());
    control_ = static_cast<int>(pbx_->first_line().at("control").as_int64());
    journal_ = dir_.path() + "/journal.sqlite";
  }

  void TearDown() override {
    router_.reset();
    for (auto& h : hosts_)
      h.reset();
    pbx_.reset();
  }

  std::string RouterConfig(int email_live_max) {
    json::object cfg{{"cti",
                      {{"driver", "ami"},
                       {"ami",
                        {{"host", "127.0.0.1"},
                         {"port", ami_},
                         {"username", "harmony"},
                         {"secret", "harmony-secret"}}}}},
                     {"route",
                      {{"listen", "127.0.0.1:0"},
                       {"journal", journal_},
                       {"emailLiveMax", email_live_max},
                       {"sources", json::array{json::object{{"name", "crm"},
                                                            {"kind", "generic"},
                                                            {"secret", kSecret},
                                                            {"queue", "digital"}},
                                               json::object{{"name", "zendesk"},
                                                            {"kind", "zendesk"},
                                                            {"auth", "bearer"},
                                                            {"secret", kZendeskToken},
                                                            {"queue", "digital"}}}}}}};
    return json::serialize(cfg);
  }

  void StartRouter(int email_live_max = 5) {
    const std::string path = dir_.Write("route.json", RouterConfig(email_live_max));
    router_ = std::make_unique<Child>(ROUTE_BIN_PATH,
                                      std::vector<std::string>{"route", "--config", path});
    const std::string listen = Str(router_->first_line().if_contains("listen"));
    ASSERT_FALSE(listen.empty()) << "the router did not start";
    ASSERT_TRUE(absl::SimpleAtoi(listen.substr(listen.rfind(':') + 1), &http_));
    ASSERT_TRUE(WaitUntil([&] { return LinkState() == "up"; })) << "router link never came up";
  }

  std::string LinkState() {
    HttpReply r = Http(http_, "GET", "/v1/status");
    const json::value* link = r.json.if_contains("link");
    return link && link->is_object() ? Str(link->get_object().if_contains("state")) : "";
  }

  json::object StatusOf(const std::string& id) {
    HttpReply r = Http(http_, "GET", "/v1/status");
    if (const json::value* items = r.json.if_contains("interactions"); items && items->is_array()) {
      for (const json::value& v : items->get_array()) {
        if (v.is_object() && Str(v.get_object().if_contains("interactionId")) == id)
          return v.get_object();
      }
    }
    return {};
  }

  std::string StateOf(const std::string& id) { return Str(StatusOf(id).if_contains("state")); }

  HttpReply Post(const std::string& body, std::string signature = "") {
    if (signature.empty())
      signature = Signature(kSecret, body);
    return Http(http_, "POST", "/v1/webhooks/crm", {{"X-Omnibridge-Signature", signature}}, body);
  }

  std::unique_ptr<HostProcess> StartAgent(const std::string& agent) {
    HostProcess::Options options;
    json::object cfg{
        {"allowedOrigins", json::array{OMNI_TEST_ORIGIN}},
        {"cti",
         {{"driver", "ami"},
          {"ami",
           {{"host", "127.0.0.1"},
            {"port", ami_},
            {"username", "harmony"},
            {"secret", "harmony-secret"}}}}},
        {"agent",
         {{"id", agent},
          {"interfaces", json::array{absl::StrCat("Local/", agent, "@agents/n"),
                                     absl::StrCat("Local/", agent, "@omnibridge-task/n")}},
          {"queues", json::array{"support", "digital"}}}}};
    options.config_json = json::serialize(cfg);
    auto host = std::make_unique<HostProcess>(options);
    EXPECT_TRUE(host->Send(json::object{{"type", "hello"},
                                        {"id", "h"},
                                        {"protocol", 1},
                                        {"extensionVersion", "test"},
                                        {"settings", json::object()}}));
    for (int i = 0; i < 50; ++i) {
      auto frame = host->ReadType("cti.status", absl::Seconds(10));
      if (!frame.ok())
        break;
      if (Str(frame->if_contains("state")) == "up")
        return host;
    }
    ADD_FAILURE() << "agent " << agent << " never saw the CTI link up";
    return host;
  }

  // Waits for a routing.offer on any of `hosts`; returns its index (or -1).
  int WaitOffer(const std::vector<HostProcess*>& hosts, json::object* offer,
                absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      for (size_t i = 0; i < hosts.size(); ++i) {
        auto frame = hosts[i]->Read(absl::Milliseconds(50));
        if (frame.ok() && Str(frame->if_contains("type")) == "routing.offer") {
          *offer = frame->at("offer").as_object();
          return static_cast<int>(i);
        }
      }
    }
    return -1;
  }

  absl::StatusOr<json::object> Request(HostProcess& host, const std::string& type,
                                       const std::string& id) {
    static int n = 0;
    host.Send(json::object{{"type", type}, {"id", absl::StrCat("r", ++n)}, {"interactionId", id}});
    return host.ReadReply();
  }

  // Originate actions pbx-sim received, by ChannelId.
  std::map<std::string, int> Originates() {
    std::map<std::string, int> out;
    json::object r = Control(control_, {{"cmd", "actions"}, {"action", "Originate"}});
    if (const json::value* actions = r.if_contains("actions"); actions && actions->is_array()) {
      for (const json::value& a : actions->get_array()) {
        for (const json::value& h : a.at("headers").as_array()) {
          if (h.as_array()[0].as_string() == "ChannelId")
            ++out[std::string(h.as_array()[1].as_string())];
        }
      }
    }
    return out;
  }

  std::vector<std::string> QueueLog(const std::string& callid) {
    std::vector<std::string> verbs;
    json::object r = Control(control_, {{"cmd", "queueLog"}});
    if (const json::value* lines = r.if_contains("lines"); lines && lines->is_array()) {
      for (const json::value& l : lines->get_array()) {
        std::string line(l.as_string());
        std::vector<std::string> parts;
        size_t start = 0;
        for (size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1)
          parts.push_back(line.substr(start, bar - start));
        parts.push_back(line.substr(start));
        if (parts.size() >= 5 && parts[1] == callid)
          verbs.push_back(parts[4] +
                          (parts[4] == "ENTERQUEUE" && parts.size() > 5 ? ":" + parts[5] : ""));
      }
    }
    return verbs;
  }

  TempDir dir_;
  std::unique_ptr<Child> pbx_, router_;
  std::vector<std::unique_ptr<HostProcess>> hosts_;
  int ami_ = 0, control_ = 0, http_ = 0;
  std::string journal_;
};

TEST_F(RoutingIntegrationTest, ChatDeclinedByOneAgentAcceptedAndCompletedByTheOther) {
  hosts_.push_back(StartAgent("1001"));
  hosts_.push_back(StartAgent("1002"));
  StartRouter();
  const std::string body =
      R"({"id":"chat-42","channel":"chat","subject":"Order #1234, arrived damaged",)"
      R"("customer":{"name":"Dana Customer","address":"dana@example.com"},)"
      R"("url":"https://crm.example.test/case/42?tab=chat,notes","data":{"priority":2}})";
  // Signed at a known second, so the retry below can be signed at a different one (the router
  // refuses a signature it has seen: replay protection).
  const int64_t first_signed = static_cast<int64_t>(std::time(nullptr));
  HttpReply r = Post(body, Signature(kSecret, body, first_signed));
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = Str(r.json.if_contains("interactionId"));
  EXPECT_EQ(id, InteractionIdFor("crm", "chat-42"));

  json::object offer;
  const int first = WaitOffer({hosts_[0].get(), hosts_[1].get()}, &offer);
  ASSERT_GE(first, 0) << "no routing.offer reached an agent";
  EXPECT_EQ(Str(offer.if_contains("interactionId")), id);
  EXPECT_EQ(Str(offer.if_contains("channel")), "chat");
  EXPECT_EQ(Str(offer.if_contains("queue")), "digital");
  EXPECT_EQ(Str(offer.if_contains("subject")), "Order #1234, arrived damaged");
  EXPECT_EQ(Str(offer.if_contains("customer")), "Dana Customer <dana@example.com>");
  EXPECT_EQ(Str(offer.if_contains("url")), "https://crm.example.test/case/42?tab=chat,notes");
  EXPECT_EQ(offer.at("timeoutSeconds").as_int64(), 30);
  EXPECT_TRUE(WaitUntil([&] { return StateOf(id) == "offered"; }));

  auto declined = Request(*hosts_[first], "routing.decline", id);
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(Str(declined->if_contains("type")), "ack") << json::serialize(*declined);

  const int second_index = 1 - first;
  json::object offer2;
  ASSERT_EQ(WaitOffer({hosts_[second_index].get()}, &offer2), 0) << "the other agent got no offer";
  EXPECT_EQ(Str(offer2.if_contains("interactionId")), id);
  auto accepted = Request(*hosts_[second_index], "routing.accept", id);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(Str(accepted->if_contains("type")), "ack") << json::serialize(*accepted);
  const std::string agent = absl::StrCat("Agent/", second_index == 0 ? "1001" : "1002");
  ASSERT_TRUE(WaitUntil([&] { return StateOf(id) == "assigned"; }));
  EXPECT_EQ(Str(StatusOf(id).if_contains("agent")), agent);

  // The agent's own host sees the connect too (an interaction.update "connected").
  bool connected = false;
  for (int i = 0; i < 50 && !connected; ++i) {
    auto update = hosts_[second_index]->ReadType("interaction.update", absl::Seconds(5));
    ASSERT_TRUE(update.ok()) << update.status();
    const json::object& interaction = update->at("interaction").as_object();
    connected = Str(interaction.if_contains("interactionId")) == id &&
                Str(interaction.if_contains("state")) == "connected";
  }
  ASSERT_TRUE(connected);
  auto completed = Request(*hosts_[second_index], "routing.complete", id);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(Str(completed->if_contains("type")), "ack") << json::serialize(*completed);
  ASSERT_TRUE(WaitUntil([&] { return StateOf(id) == "completed"; }));

  ASSERT_TRUE(WaitUntil([&] { return QueueLog(id + "-b").size() >= 4; }));
  const std::vector<std::string> log = QueueLog(id + "-b");
  EXPECT_EQ(log, (std::vector<std::string>{"ENTERQUEUE:" + id, "RINGNOANSWER", "CONNECT",
                                           "COMPLETEAGENT"}));

  // The same work item again (a CRM retry, signed anew): 200, same id, nothing routed twice.
  HttpReply again = Post(body, Signature(kSecret, body, first_signed - 1));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Str(again.json.if_contains("interactionId")), id);
  EXPECT_EQ(Originates(), (std::map<std::string, int>{{id + "-a", 1}}));

  // The HTML status page shows it, escaped.
  HttpReply html = Http(http_, "GET", "/");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.body.find(id), std::string::npos);
  EXPECT_NE(html.body.find("completed"), std::string::npos);
}

TEST_F(RoutingIntegrationTest, RouterKilledAndRestartedLosesNothingAndRoutesNothingTwice) {
  StartRouter(/*email_live_max=*/1);
  std::vector<std::string> ids;
  for (const char* item : {R"({"id":"c1","channel":"chat"})", R"({"id":"c2","channel":"sms"})",
                           R"({"id":"e1","channel":"email"})", R"({"id":"e2","channel":"email"})",
                           R"({"id":"e3","channel":"email"})"}) {
    HttpReply r = Post(item);
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(Str(r.json.if_contains("interactionId")));
  }
  // Chats at once, one email live, two emails waiting in the router.
  ASSERT_TRUE(WaitUntil([&] { return Originates().size() == 3; }));
  ASSERT_TRUE(WaitUntil(
      [&] { return StateOf(ids[2]) != "originating" && StateOf(ids[0]) != "originating"; }));
  EXPECT_EQ(StateOf(ids[3]), "pending");
  EXPECT_EQ(StateOf(ids[4]), "pending");

  router_->Kill();
  StartRouter(/*email_live_max=*/1);
  // Everything is back, nothing was originated again.
  for (const std::string& id : ids)
    EXPECT_NE(StateOf(id), "") << id;
  EXPECT_EQ(StateOf(ids[3]), "pending");
  absl::SleepFor(absl::Milliseconds(500));
  std::map<std::string, int> originated = Originates();
  EXPECT_EQ(originated.size(), 3u);
  for (const auto& [channel_id, n] : originated)
    EXPECT_EQ(n, 1) << channel_id;
  // Webhooks repeated after the restart are answered with the same ids.
  HttpReply again =
      Post(R"({"id":"e2","channel":"email"})",
           Signature(kSecret, R"({"id":"e2","channel":"email"})", std::time(nullptr) - 1));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Str(again.json.if_contains("interactionId")), ids[3]);

  // The live email's virtual call ends unanswered: the next email is fed at once.
  Control(control_, {{"cmd", "hangup"}, {"linkedid", ids[2] + "-a"}});
  ASSERT_TRUE(WaitUntil([&] { return Originates().count(ids[3] + "-a") == 1; }));
  EXPECT_EQ(Originates().count(ids[4] + "-a"), 0u);
}

TEST_F(RoutingIntegrationTest, WebhooksWhileTheAcdIsDownAreJournaledAndRoutedWhenItIsBack) {
  StartRouter();
  Control(control_, {{"cmd", "refuseConnections"}, {"ms", 1500}});
  Control(control_, {{"cmd", "disconnectClients"}});
  ASSERT_TRUE(WaitUntil([&] { return LinkState() != "up"; }, 5));
  HttpReply r = Post(R"({"id":"while-down","channel":"chat"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = Str(r.json.if_contains("interactionId"));
  EXPECT_EQ(StateOf(id), "pending");
  ASSERT_TRUE(WaitUntil([&] { return LinkState() == "up"; }, 15));
  ASSERT_TRUE(WaitUntil([&] { return Originates().count(id + "-a") == 1; }));
  EXPECT_TRUE(WaitUntil([&] {
    const std::string s = StateOf(id);
    return s == "queued" || s == "offered";
  }));
}

TEST_F(RoutingIntegrationTest, BadWebhooksAreRejectedWithAClearStatusAndNothingIsJournaled) {
  StartRouter();
  const std::string body = R"({"id":"bad-1","channel":"chat"})";
  auto expect = [&](HttpReply r, int status, std::string_view words) {
    EXPECT_EQ(r.status, status) << r.body;
    const std::string error = Str(r.json.if_contains("error"));
    EXPECT_NE(error.find(words), std::string::npos) << "\"" << error << "\" lacks " << words;
  };
  expect(Post(body, Signature("some-other-secret-value", body)), 401, "does not match");
  expect(Post(body, Signature(kSecret, body, std::time(nullptr) - 600)), 401, "5-minute");
  expect(Http(http_, "POST", "/v1/webhooks/crm", {}, body), 401, "missing");
  expect(Post("{\"id\": ", ""), 400, "JSON");
  expect(Post(R"({"channel":"chat"})"), 400, "no id");
  expect(Post(R"({"id":"x","channel":"pigeon"})"), 400, "channel");
  expect(Http(http_, "POST", "/v1/webhooks/nope", {{"X-Omnibridge-Signature", "t=1,v1=00"}}, body),
         404, "unknown source");
  expect(Http(http_, "POST", "/v1/webhooks/zendesk", {{"Authorization", "Bearer wrong"}},
              R"({"ticket":{"id":1,"via":"chat"}})"),
         401, "bearer");
  const std::string big = absl::StrCat(R"({"id":"big","channel":"chat","data":{"x":")",
                                       std::string(1100 * 1024, 'x'), R"("}})");
  HttpReply oversize = Post(big);
  EXPECT_EQ(oversize.status, 413) << oversize.body.substr(0, 200);

  // A replay of a request that was accepted once.
  const std::string good = R"({"id":"good-1","channel":"chat"})";
  const std::string sig = Signature(kSecret, good);
  ASSERT_EQ(Post(good, sig).status, 202);
  expect(Post(good, sig), 401, "replayed");

  // Only the good one is in the journal.
  HttpReply status = Http(http_, "GET", "/v1/status");
  EXPECT_EQ(status.json.at("accepted").as_int64(), 1);
  EXPECT_EQ(status.json.at("interactions").as_array().size(), 1u);
  router_->Kill();
  auto journal = Journal::Open(journal_);
  ASSERT_TRUE(journal.ok()) << journal.status();
  EXPECT_EQ(*(*journal)->Count(), 1);
}

TEST_F(RoutingIntegrationTest, ZendeskBearerSourceMapsItsTicket) {
  StartRouter();
  HttpReply r = Http(http_, "POST", "/v1/webhooks/zendesk",
                     {{"Authorization", absl::StrCat("Bearer ", kZendeskToken)}},
                     R"({"ticket":{"id":4711,"title":"Where is <b>my</b> order?","via":"Mail",)"
                     R"("url":"acme.zendesk.com/agent/tickets/4711",)"
                     R"("requester":{"name":"Cy","email":"cy@example.com"}}})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = Str(r.json.if_contains("interactionId"));
  EXPECT_EQ(id, InteractionIdFor("zendesk", "4711"));
  ASSERT_TRUE(WaitUntil([&] { return Originates().count(id + "-a") == 1; }));
  json::object calls = Control(control_, {{"cmd", "calls"}});
  const std::string dump = json::serialize(calls);
  EXPECT_NE(dump.find("Where%20is%20%3Cb%3Emy%3C%2Fb%3E%20order%3F"), std::string::npos) << dump;
  EXPECT_NE(dump.find("https%3A%2F%2Facme.zendesk.com%2Fagent%2Ftickets%2F4711"),
            std::string::npos);
}

TEST_F(RoutingIntegrationTest, CrmClosingAWaitingItemWithdrawsItsVirtualCall) {
  StartRouter();
  const std::string body = R"({"id":"to-close","channel":"chat"})";
  HttpReply r = Post(body);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = Str(r.json.if_contains("interactionId"));
  ASSERT_TRUE(WaitUntil([&] {
    const std::string s = StateOf(id);
    return s == "queued" || s == "offered";
  }));
  const std::string closed = R"({"id":"to-close","channel":"chat","status":"closed"})";
  HttpReply c = Post(closed);
  EXPECT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Str(c.json.if_contains("interactionId")), id);
  ASSERT_TRUE(WaitUntil([&] { return StateOf(id) == "withdrawn"; }));
  // The virtual call is gone from the ACD.
  EXPECT_TRUE(WaitUntil([&] {
    return json::serialize(Control(control_, {{"cmd", "calls"}})).find(id) == std::string::npos;
  }));
  EXPECT_EQ(Originates().size(), 1u);
}

TEST_F(RoutingIntegrationTest, StatusPageEscapesWhatTheCrmSent) {
  StartRouter();
  const std::string body = R"({"id":"<img src=x onerror=alert(1)>","channel":"sms"})";
  ASSERT_EQ(Post(body).status, 202);
  HttpReply html = Http(http_, "GET", "/");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.body.find("<img"), std::string::npos);
  EXPECT_NE(html.body.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  HttpReply json_status = Http(http_, "GET", "/v1/status");
  EXPECT_EQ(Str(json_status.json.at("interactions").as_array()[0].as_object().if_contains("crmId")),
            "<img src=x onerror=alert(1)>");
  EXPECT_EQ(Http(http_, "DELETE", "/v1/status").status, 405);
  EXPECT_EQ(Http(http_, "GET", "/v1/webhooks/crm").status, 405);
  EXPECT_EQ(Http(http_, "GET", "/nope").status, 404);
}

}  // namespace
}  // namespace omnibridge::routing::testing
