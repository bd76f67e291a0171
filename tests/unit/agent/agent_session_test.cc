#include "agent/agent_session.h"

#include <deque>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/clock.h"
#include "base/log.h"
#include "unit/cti/fixture_util.h"

namespace omnibridge::agent {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A CtiLink that records commands and completes them when the test says so.
class FakeLink : public cti::CtiLink {
 public:
  absl::Status Start(cti::CtiEventSink* sink) override {
    sink_ = sink;
    return absl::OkStatus();
  }

  void Stop() override {}

  cti::LinkStatus status() const override { return status_; }

  const cti::Capabilities& capabilities() const override { return caps_; }

  void Execute(const cti::Command& command, Completion done) override {
    commands.push_back(command);
    pending.push_back(std::move(done));
  }

  void CompleteAll(absl::Status status = absl::OkStatus()) {
    while (!pending.empty()) {
      auto done = std::move(pending.front());
      pending.pop_front();
      std::move(done)(status);
    }
  }

  cti::LinkStatus status_{cti::LinkState::kUp, "ami", ""};
  cti::Capabilities caps_ = [] {
    cti::Capabilities c;
    c.queue_login = c.pause_with_reason = c.dial = c.hangup = c.blind_transfer =
        c.attended_transfer = c.answer = c.task_routing = true;
    return c;
  }();
  cti::CtiEventSink* sink_ = nullptr;
  std::vector<cti::Command> commands;
  std::deque<Completion> pending;
};

class AgentSessionTest : public ::testing::Test {
 protected:
  AgentSessionTest() {
    base::SetLogToStderr(false);
    AgentConfig c;
    c.agent_id = "1001";
    c.interfaces = {"Local/1001@agents/n", "Local/1001@omnibridge-task/n"};
    c.reason_codes = {"Break", "Lunch"};
    session_ = std::make_unique<AgentSession>(
        c, &link_, &clock_, [this](json::object f) { frames_.push_back(std::move(f)); });
    session_->OnLinkStatus(link_.status_);
  }

  json::object Request(const std::string& text) {
    json::object request = json::parse(text).as_object();
    std::optional<json::object> reply;
    session_->HandleRequest(request, [&](json::object r) { reply = std::move(r); });
    link_.CompleteAll();
    return reply ? *reply : json::object{{"type", "none"}};
  }

  std::string Code(const json::object& reply) {
    return reply.contains("code") ? std::string(reply.at("code").as_string()) : "";
  }

  base::FakeClock clock_;
  FakeLink link_;
  std::vector<json::object> frames_;
  std::unique_ptr<AgentSession> session_;
};

TEST_F(AgentSessionTest, SetStateIsOnePausePerInterfaceAndAnAck) {
  json::object request =
      json::parse(R"({"type":"agent.setState","id":"7","state":"notReady","reason":"Lunch"})")
          .as_object();
  std::optional<json::object> reply;
  session_->HandleRequest(request, [&](json::object r) { reply = std::move(r); });
  ASSERT_EQ(link_.commands.size(), 2u);
  EXPECT_FALSE(reply.has_value());  // the ACD has not answered yet
  link_.CompleteAll();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(json::serialize(*reply), R"({"type":"ack","re":"7"})");
  const auto& pause = std::get<cti::PauseMember>(link_.commands[1]);
  EXPECT_EQ(pause.interface, "Local/1001@omnibridge-task/n");
  EXPECT_TRUE(pause.paused);
  EXPECT_EQ(pause.reason, "Lunch");
  EXPECT_TRUE(pause.queue.empty());
}

TEST_F(AgentSessionTest, ErrorsCarryStableCodes) {
  EXPECT_EQ(
      Code(Request(R"({"type":"agent.setState","id":"1","state":"notReady","reason":"Nap"})")),
      "invalid_request");
  EXPECT_EQ(Code(Request(R"({"type":"routing.accept","id":"2","interactionId":"nope"})")),
            "not_found");
  EXPECT_EQ(Code(Request(R"({"type":"call.hold","id":"3","interactionId":"x"})")), "not_available");
  EXPECT_EQ(Code(Request(R"({"type":"call.fly","id":"4"})")), "unknown_type");
  json::object reply = Request(R"({"type":"routing.decline","id":"5"})");
  EXPECT_EQ(Code(reply), "invalid_request");
  EXPECT_EQ(reply.at("re").as_string(), "5");

  link_.status_ = {cti::LinkState::kDown, "ami", "gone"};
  EXPECT_EQ(Code(Request(R"({"type":"agent.setState","id":"6","state":"ready"})")), "cti_down");
}

TEST_F(AgentSessionTest, PlatformRefusalBecomesAnErrorReply) {
  json::object request =
      json::parse(R"({"type":"agent.setState","id":"9","state":"ready"})").as_object();
  std::optional<json::object> reply;
  session_->HandleRequest(request, [&](json::object r) { reply = std::move(r); });
  link_.CompleteAll(absl::NotFoundError("Asterisk: Interface not found"));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(Code(*reply), "not_found");
  EXPECT_EQ(reply->at("message").as_string(), "Asterisk: Interface not found");
}

TEST_F(AgentSessionTest, EventsBecomeFramesAndWrapUpCommands) {
  omnibridge::testing::ForEachTranscriptEvent(
      omnibridge::testing::ReadFixture("asterisk-22/transcript-queue-call.txt"),
      [&](const cti::CtiEvent& e) { session_->OnEvent(e); });
  std::vector<std::string> types;
  for (const auto& f : frames_)
    types.emplace_back(f.at("type").as_string());
  // ready (first member status), busy (the device goes in use before AgentConnect), then
  // connected and wrapup updates, then wrapup once the device is idle again.
  EXPECT_THAT(types, ElementsAre("cti.status", "agent.state", "interaction.update", "popflow.run",
                                 "agent.state", "agent.state", "interaction.update",
                                 "interaction.update", "agent.state"));
  ASSERT_EQ(link_.commands.size(), 2u);  // ACW pause on both interfaces
  // The ACW pause fails: wrap-up must not stick.
  frames_.clear();
  link_.CompleteAll(absl::FailedPreconditionError("Asterisk: Interface not found"));
  types.clear();
  for (const auto& f : frames_)
    types.emplace_back(f.at("type").as_string());
  EXPECT_THAT(types, ElementsAre("interaction.ended", "agent.state"));
  EXPECT_EQ(session_->model().state(), AgentState::kReady);
}

TEST_F(AgentSessionTest, CompletionsAfterDestructionAreDropped) {
  json::object request =
      json::parse(R"({"type":"agent.setState","id":"1","state":"ready"})").as_object();
  bool replied = false;
  session_->HandleRequest(request, [&](json::object) { replied = true; });
  session_.reset();
  link_.CompleteAll();
  EXPECT_FALSE(replied);
}

TEST_F(AgentSessionTest, CurrentFramesDescribeThePresent) {
  auto frames = session_->CurrentFrames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].at("type").as_string(), "cti.status");
  EXPECT_EQ(frames[0].at("state").as_string(), "up");
  EXPECT_EQ(frames[1].at("type").as_string(), "agent.state");
  EXPECT_TRUE(AgentSession::Handles("routing.complete"));
  EXPECT_FALSE(AgentSession::Handles("popflow.list"));
}

}  // namespace
}  // namespace omnibridge::agent
