#include "nm/protocol.h"

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value_from.hpp"
#include "gtest/gtest.h"

namespace omnibridge::nm {
namespace {
namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(ProtocolTest, EveryRequestTypeIsKnownAndUnknownIsNot) {
  for (const char* type :
       {"hello", "ping", "agent.setState", "call.answer", "call.hangup", "call.hold", "call.resume",
        "call.transfer", "call.dial", "routing.accept", "routing.decline", "routing.complete",
        "crm.event", "popflow.list", "popflow.get", "popflow.deploy", "popflow.test", "doctor"}) {
    EXPECT_NE(FindMessageType(type), nullptr) << type;
  }
  EXPECT_EQ(FindMessageType("pong"), nullptr);  // host → extension only
  EXPECT_EQ(FindMessageType("agent.explode"), nullptr);
}

TEST(ProtocolTest, DecodesHello) {
  auto hello = DecodeRequest<HelloRequest>(Obj(
      R"({"type":"hello","id":"h1","protocol":1,"extensionVersion":"0.3","settings":{"reasonCodes":["Break"]}})"));
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->id.as_string(), "h1");
  EXPECT_EQ(hello->protocol, 1);
  EXPECT_EQ(hello->extension_version, "0.3");
  EXPECT_TRUE(hello->settings.contains("reasonCodes"));
}

TEST(ProtocolTest, RequestFieldErrorsNameTheField) {
  auto missing = DecodeRequest<AgentSetStateRequest>(Obj(R"({"type":"agent.setState","id":"1"})"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(WireCodeOf(missing.status()), WireCode::kInvalidRequest);
  EXPECT_NE(missing.status().message().find("\"state\""), absl::string_view::npos);

  auto wrong =
      DecodeRequest<CallRequest>(Obj(R"({"type":"call.hangup","id":"1","interactionId":42})"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("interactionId"), absl::string_view::npos);

  auto no_id = DecodeRequest<PingRequest>(Obj(R"({"type":"ping"})"));
  EXPECT_FALSE(no_id.ok());

  auto too_long = DecodeRequest<RoutingRequest>(json::object{
      {"type", "routing.accept"}, {"id", "1"}, {"interactionId", std::string(300, 'x')}});
  EXPECT_FALSE(too_long.ok());
}

TEST(ProtocolTest, DecodesCallAndRoutingActions) {
  auto call = DecodeRequest<CallRequest>(Obj(
      R"({"type":"call.transfer","id":"9","interactionId":"i1","target":"2001","mode":"blind"})"));
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->action, "transfer");
  EXPECT_EQ(call->target, "2001");
  auto routing = DecodeRequest<RoutingRequest>(
      Obj(R"({"type":"routing.decline","id":"9","interactionId":"x"})"));
  ASSERT_TRUE(routing.ok());
  EXPECT_EQ(routing->action, "decline");
}

TEST(ProtocolTest, EncodesHostMessagesWithContractFields) {
  EXPECT_EQ(json::serialize(json::value_from(HelloReply{"1", 1, "0.1.0", {"ping"}})),
            R"({"type":"hello","re":"1","protocol":1,"version":"0.1.0","capabilities":["ping"]})");
  EXPECT_EQ(json::serialize(json::value_from(CtiStatus{"down", "ami", "connection refused"})),
            R"({"type":"cti.status","state":"down","driver":"ami","detail":"connection refused"})");
  EXPECT_EQ(json::serialize(json::value_from(CtiStatus{"up", "ami", ""})),
            R"({"type":"cti.status","state":"up","driver":"ami"})");

  AgentState state{"1001",   "notReady", "Break", "2026-11-25T10:00:00Z", {"Local/1001@agents/n"},
                   {"Break"}};
  json::object a = json::value_from(state).as_object();
  EXPECT_EQ(a["state"], "notReady");
  EXPECT_EQ(a["reason"], "Break");
  EXPECT_EQ(a["paused"].as_array().size(), 1u);

  Interaction interaction;
  interaction.interaction_id = "itx-42";
  interaction.channel = "chat";
  interaction.state = "offered";
  json::object u = json::value_from(InteractionUpdate{interaction}).as_object();
  EXPECT_EQ(u["type"], "interaction.update");
  for (const char* key : {"interactionId", "channel", "direction", "state", "ani", "callerName",
                          "dnis", "queue", "data"}) {
    EXPECT_TRUE(u["interaction"].as_object().contains(key)) << key;
  }
  json::object o = json::value_from(RoutingOffer{{"itx-1", "chat", "digital", "Hi", "Bob <b@x>",
                                                  "https://crm/1", 30}})
                       .as_object();
  EXPECT_EQ(o["offer"].as_object()["timeoutSeconds"], 30);
}

TEST(ProtocolTest, ErrorFrameCarriesStableCode) {
  json::object e = MakeErrorFrame("7", WireError(WireCode::kUnknownType, "unknown \"x\""));
  EXPECT_EQ(json::serialize(e),
            R"({"type":"error","re":"7","code":"unknown_type","message":"unknown \"x\""})");
  json::object no_re = MakeErrorFrame(nullptr, absl::UnavailableError("AMI down"));
  EXPECT_FALSE(no_re.contains("re"));
  EXPECT_EQ(no_re["code"], "cti_down");
}

}  // namespace
}  // namespace omnibridge::nm
