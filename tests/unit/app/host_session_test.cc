#include "app/host_session.h"

#include <string>
#include <vector>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

namespace omnibridge::app {
namespace {
namespace json = boost::json;

class HostSessionTest : public ::testing::Test {
 protected:
  HostSessionTest()
      : session_(HostSession::Options{"9.9.9",
                                      {"ping"},
                                      [this](const nm::HelloRequest& h) {
                                        hello_version_ = h.extension_version;
                                      }},
                 [this](const json::value& m) {
                   sent_.push_back(m.as_object());
                   return absl::OkStatus();
                 }) {}

  void Receive(const std::string& payload) { session_.OnFrame(nm::DecodedFrame{payload, 0}); }

  void Hello() { Receive(R"({"type":"hello","id":"h","protocol":1,"extensionVersion":"1.2"})"); }

  std::string Last(const char* key) { return std::string(sent_.back().at(key).as_string()); }

  std::string hello_version_;
  std::vector<json::object> sent_;
  HostSession session_;
};

TEST_F(HostSessionTest, HelloHandshake) {
  Hello();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(json::serialize(sent_[0]),
            R"({"type":"hello","re":"h","protocol":1,"version":"9.9.9","capabilities":["ping"]})");
  EXPECT_EQ(hello_version_, "1.2");
  EXPECT_TRUE(session_.handshake_done());
}

TEST_F(HostSessionTest, ProtocolMismatchIsRefused) {
  Receive(R"({"type":"hello","id":"h","protocol":99})");
  EXPECT_EQ(Last("code"), "protocol_mismatch");
  EXPECT_FALSE(session_.handshake_done());
}

TEST_F(HostSessionTest, PingEchoesPayload) {
  Receive(R"({"type":"ping","id":"p","payload":{"n":[1,"two",null]}})");
  EXPECT_EQ(json::serialize(sent_.back()),
            R"({"type":"pong","re":"p","payload":{"n":[1,"two",null]}})");
}

TEST_F(HostSessionTest, RequestsBeforeHelloNeedHandshake) {
  Receive(R"({"type":"agent.setState","id":"1","state":"ready"})");
  EXPECT_EQ(Last("code"), "handshake_required");
  EXPECT_EQ(Last("re"), "1");
}

TEST_F(HostSessionTest, UnknownAndUnavailableTypes) {
  Hello();
  Receive(R"({"type":"teleport","id":"2"})");
  EXPECT_EQ(Last("code"), "unknown_type");
  EXPECT_NE(Last("message").find("teleport"), std::string::npos);
  Receive(R"({"type":"popflow.list","id":"3"})");
  EXPECT_EQ(Last("code"), "not_available");
  EXPECT_EQ(Last("re"), "3");
}

TEST_F(HostSessionTest, HandlersGetValidatedRequestsAndReplyWithRe) {
  std::string seen_state;
  session_.RegisterHandler("agent.setState",
                           [&](const json::object& request, HostSession::Reply reply) {
                             seen_state = std::string(request.at("state").as_string());
                             reply({{"type", "ack"}});
                           });
  Hello();
  Receive(R"({"type":"agent.setState","id":"5","state":"notReady","reason":"Break"})");
  EXPECT_EQ(seen_state, "notReady");
  EXPECT_EQ(json::serialize(sent_.back()), R"({"type":"ack","re":"5"})");
  Receive(R"({"type":"agent.setState","id":"6"})");
  EXPECT_EQ(Last("code"), "invalid_request");
}

TEST_F(HostSessionTest, BadFramesGetErrorsAndSessionGoesOn) {
  session_.OnFrame(nm::DecodedFrame{"", 5'000'000});
  EXPECT_EQ(Last("code"), "frame_too_large");
  Receive("{not json");
  EXPECT_EQ(Last("code"), "invalid_json");
  Receive("[]");
  EXPECT_EQ(Last("code"), "not_object");
  Hello();
  EXPECT_EQ(Last("type"), "hello");
}

TEST_F(HostSessionTest, PublishedFramesWaitForHandshakeInOrder) {
  session_.Publish(json::object{{"type", "cti.status"}, {"state", "connecting"}});
  session_.Publish(json::object{{"type", "cti.status"}, {"state", "up"}});
  EXPECT_TRUE(sent_.empty());
  Hello();
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[0].at("type"), "hello");
  EXPECT_EQ(sent_[1].at("state"), "connecting");
  EXPECT_EQ(sent_[2].at("state"), "up");
  session_.Publish(json::object{{"type", "cti.status"}, {"state", "down"}});
  EXPECT_EQ(sent_.size(), 4u);
}

}  // namespace
}  // namespace omnibridge::app
