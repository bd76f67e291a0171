#include "cti/ami/ami_link.h"

#include <chrono>
#include <functional>

#include "boost/asio/io_context.hpp"
#include "boost/json/serialize.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "agent/agent_session.h"
#include "base/log.h"
#include "unit/cti/scripted_peer.h"

namespace omnibridge::cti::ami {
namespace {

using ::omnibridge::testing::ScriptedPeer;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records what the link tells its sink, copying out of the views.
class RecordingSink : public CtiEventSink {
 public:
  void OnLinkStatus(const LinkStatus& status) override {
    statuses.push_back(std::string(LinkStateName(status.state)) +
                       (status.detail.empty() ? "" : " " + status.detail));
  }

  void OnEvent(const CtiEvent& event) override {
    if (const auto* r = std::get_if<ResyncEvent>(&event)) {
      log.push_back(r->kind == ResyncEvent::Kind::kBegin ? "resync-begin" : "resync-end");
    } else if (const auto* m = std::get_if<MemberEvent>(&event)) {
      log.push_back(std::string(m->snapshot ? "member-snapshot " : "member ") +
                    std::string(m->interface) +
                    (m->paused ? " paused " + std::string(m->reason) : ""));
    } else if (const auto* c = std::get_if<ChannelEvent>(&event)) {
      log.push_back("channel " + std::string(c->channel.uniqueid));
    } else {
      log.push_back("other");
    }
  }

  std::vector<std::string> statuses;
  std::vector<std::string> log;
};

class AmiLinkTest : public ::testing::Test {
 protected:
  AmiLinkTest() : peer_(io_) { base::SetLogToStderr(false); }

  AmiLinkOptions Options() {
    AmiLinkOptions o;
    o.host = "127.0.0.1";
    o.port = peer_.port();
    o.username = "harmony";
    o.secret = "harmony-secret";
    o.backoff_initial = absl::Milliseconds(20);
    o.backoff_max = absl::Milliseconds(100);
    o.fully_booted_wait = absl::Milliseconds(200);
    o.action_timeout = absl::Milliseconds(500);
    o.ping_interval = absl::Seconds(30);
    return o;
  }

  // Runs the loop until `done` or 5 s; false on timeout.
  bool RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  std::unique_ptr<AmiLink> Start(AmiLinkOptions options, CtiEventSink* sink) {
    auto link = AmiLink::Create(io_, std::move(options));
    EXPECT_TRUE(link.ok()) << link.status();
    EXPECT_TRUE((*link)->Start(sink).ok());
    return *std::move(link);
  }

  boost::asio::io_context io_;
  ScriptedPeer peer_;
  RecordingSink sink_;
};

TEST_F(AmiLinkTest, CreateValidatesOptions) {
  AmiLinkOptions o = Options();
  o.username = "";
  EXPECT_EQ(AmiLink::Create(io_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options();
  o.secret = "";
  EXPECT_EQ(AmiLink::Create(io_, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.secret_file = "/nonexistent/secret";
  EXPECT_EQ(AmiLink::Create(io_, o).status().code(), absl::StatusCode::kNotFound);
  o = Options();
  o.secret = "a\r\nAction: Hangup";
  EXPECT_EQ(AmiLink::Create(io_, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AmiLinkTest, PlainLoginWaitsForFullyBootedThenResyncs) {
  auto link = Start(Options(), &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  EXPECT_THAT(sink_.statuses, ElementsAre("connecting", "up"));
  EXPECT_THAT(peer_.ActionNames(), ElementsAre("Login", "QueueStatus", "CoreShowChannels"));
  EXPECT_EQ(peer_.actions()[0].Get("Secret"), "harmony-secret");
  EXPECT_EQ(peer_.actions()[0].Get("Events"), "on");
  ASSERT_GE(sink_.log.size(), 6u);
  EXPECT_EQ(sink_.log.front(), "resync-begin");
  EXPECT_EQ(sink_.log.back(), "resync-end");
  EXPECT_THAT(sink_.log, Contains("member-snapshot Local/1001@agents/n"));
  EXPECT_THAT(sink_.log, Contains("member-snapshot Local/1002@omnibridge-task/n"));
  EXPECT_EQ(link->stats().banner, "Asterisk Call Manager/11.0.0");
  EXPECT_EQ(link->stats().logins, 1u);
}

TEST_F(AmiLinkTest, Md5ChallengeLogin) {
  AmiLinkOptions o = Options();
  o.md5_login = true;
  auto link = Start(o, &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  ASSERT_GE(peer_.actions().size(), 2u);
  EXPECT_EQ(peer_.actions()[0].Get("Action"), "Challenge");
  EXPECT_EQ(peer_.actions()[0].Get("AuthType"), "MD5");
  EXPECT_EQ(peer_.actions()[1].Get("Key"), "a3f70d4d10fa30d13de88a81c44b50bb");
  EXPECT_EQ(peer_.actions()[1].Get("Secret"), "");
}

TEST_F(AmiLinkTest, FailedLoginIsReportedAndRetriedWithBackoff) {
  AmiLinkOptions o = Options();
  o.secret = "wrong";
  auto link = Start(o, &sink_);
  ASSERT_TRUE(RunUntil([&] { return peer_.connections() >= 3; }));
  EXPECT_NE(link->status().state, LinkState::kUp);  // down, or connecting again
  EXPECT_THAT(sink_.statuses, Contains("down login failed: Asterisk: Authentication failed"));
  // The peer fixed: the link comes up by itself.
  peer_.secret = "wrong";
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
}

TEST_F(AmiLinkTest, ListItemsAndUnrelatedEventsInterleave) {
  peer_.interleave_in_queue_status =
      "Event: QueueMemberPause\r\nPrivilege: agent,all\r\nQueue: digital\r\nMemberName: "
      "Agent/1002\r\nInterface: Local/1002@omnibridge-task/n\r\nPaused: 1\r\nPausedReason: "
      "Break\r\n\r\n"
      "Event: QueueMemberStatus\r\nActionID: not-ours\r\nQueue: support\r\nInterface: "
      "Local/1003@agents/n\r\nPaused: 0\r\n\r\n";
  peer_.channels = {
      "Channel: Local/1001@agents-00000002;1\r\nChannelState: 6\r\nUniqueid: "
      "1795535033.4\r\nLinkedid: 1795535033.0\r\n"};
  auto link = Start(Options(), &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  EXPECT_THAT(sink_.log, Contains("member Local/1002@omnibridge-task/n paused Break"));
  EXPECT_THAT(sink_.log, Contains("member Local/1003@agents/n"));
  EXPECT_THAT(sink_.log, Contains("channel 1795535033.4"));
  EXPECT_EQ(sink_.log.back(), "resync-end");
}

TEST_F(AmiLinkTest, WithoutFullyBootedTheResyncStartsAfterAWait) {
  peer_.send_fully_booted = false;
  auto link = Start(Options(), &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  EXPECT_THAT(peer_.ActionNames(), ElementsAre("Login", "QueueStatus", "CoreShowChannels"));
}

TEST_F(AmiLinkTest, CommandsCorrelateByActionId) {
  auto link = Start(Options(), &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  std::vector<absl::Status> results;
  link->Execute(PauseMember{"Local/1001@agents/n", true, "Lunch", ""},
                [&](absl::Status s) { results.push_back(s); });
  link->Execute(PauseMember{"Local/nobody@agents/n", false, "", ""},
                [&](absl::Status s) { results.push_back(s); });
  link->Execute(Hold{"PJSIP/1001-1", true}, [&](absl::Status s) { results.push_back(s); });
  EXPECT_TRUE(results.empty());  // never from inside Execute
  ASSERT_TRUE(RunUntil([&] { return results.size() == 3; }));
  EXPECT_EQ(results[0].code(), absl::StatusCode::kUnimplemented);  // Hold: AMI has none
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].code(), absl::StatusCode::kNotFound);
  const auto& pause = peer_.actions()[3];
  EXPECT_EQ(pause.Get("Action"), "QueuePause");
  EXPECT_EQ(pause.Get("Interface"), "Local/1001@agents/n");
  EXPECT_EQ(pause.Get("Paused"), "true");
  EXPECT_EQ(pause.Get("Reason"), "Lunch");
  EXPECT_EQ(pause.Get("Queue"), "");  // all queues
  EXPECT_THAT(sink_.log, Contains("member Local/1001@agents/n paused Lunch"));

  results.clear();
  link->Execute(TaskAccept{"Local/1002@omnibridge-task-00000005;1", "1002"},
                [&](absl::Status s) { results.push_back(s); });
  ASSERT_TRUE(RunUntil([&] { return results.size() == 1; }));
  const auto& redirect = peer_.actions().back();
  EXPECT_EQ(redirect.Get("Action"), "Redirect");
  EXPECT_EQ(redirect.Get("Channel"), "Local/1002@omnibridge-task-00000005;2");
  EXPECT_EQ(redirect.Get("Context"), "agent-answer");
  EXPECT_EQ(redirect.Get("Exten"), "1002");
  EXPECT_EQ(redirect.Get("Priority"), "1");

  // Header injection through a command is refused before anything is sent.
  results.clear();
  link->Execute(PauseMember{"Local/1001@agents/n", true, "x\r\nAction: Hangup", ""},
                [&](absl::Status s) { results.push_back(s); });
  ASSERT_TRUE(RunUntil([&] { return results.size() == 1; }));
  EXPECT_EQ(results[0].code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AmiLinkTest, CommandsFailFastWhenNotUp) {
  auto link = AmiLink::Create(io_, Options());
  ASSERT_TRUE(link.ok());
  std::optional<absl::Status> result;
  (*link)->Execute(Hangup{"x"}, [&](absl::Status s) { result = s; });
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->code(), absl::StatusCode::kUnavailable);
}

TEST_F(AmiLinkTest, OversizeLineIsDroppedAndTheLinkStaysUp) {
  auto link = Start(Options(), &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  sink_.log.clear();
  peer_.Push("Event: Newchannel\r\nChannel: " + std::string(200000, 'x') +
             "\r\nUniqueid: 1\r\n\r\n" +
             "Event: QueueMemberPause\r\nInterface: Local/1001@agents/n\r\nPaused: 1\r\n"
             "PausedReason: Break\r\n\r\n");
  ASSERT_TRUE(RunUntil([&] { return !sink_.log.empty(); }));
  EXPECT_THAT(sink_.log, ElementsAre("member Local/1001@agents/n paused Break"));
  EXPECT_EQ(link->stats().parse_errors, 1u);
  EXPECT_EQ(link->status().state, LinkState::kUp);
}

TEST_F(AmiLinkTest, SilentPeerIsDetectedByPingAndReconnected) {
  AmiLinkOptions o = Options();
  o.ping_interval = absl::Milliseconds(40);
  o.action_timeout = absl::Milliseconds(150);
  auto link = Start(o, &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  ASSERT_TRUE(RunUntil([&] {
    for (const auto& a : peer_.actions()) {
      if (a.Get("Action") == "Ping")
        return true;
    }
    return false;
  }));
  peer_.answer_pings = false;
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kDown; }));
  EXPECT_THAT(sink_.statuses.back(), HasSubstr("stopped answering"));
  peer_.answer_pings = true;
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  EXPECT_EQ(peer_.connections(), 2);
}

TEST_F(AmiLinkTest, StopFailsPendingAndIsQuiet) {
  auto link = Start(Options(), &sink_);
  ASSERT_TRUE(RunUntil([&] { return link->status().state == LinkState::kUp; }));
  peer_.answer_pings = false;
  std::optional<absl::Status> result;
  link->Execute(Hangup{"x"}, [&](absl::Status s) { result = s; });
  link->Stop();
  const size_t statuses = sink_.statuses.size();
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->code(), absl::StatusCode::kAborted);
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sink_.statuses.size(), statuses);
}

// The driver and the agent session together: a live call survives a reconnect and is announced
// once; a call that ended meanwhile is wrapped up once.
TEST_F(AmiLinkTest, ReconnectResyncLosesNothingAndRepeatsNothing) {
  agent::AgentConfig config;
  config.agent_id = "1001";
  config.interfaces = {"Local/1001@agents/n", "Local/1001@omnibridge-task/n"};
  config.reason_codes = {"Lunch"};
  base::SystemClock clock;
  std::vector<boost::json::object> frames;
  auto link = AmiLink::Create(io_, Options());
  ASSERT_TRUE(link.ok());
  agent::AgentSession session(config, link->get(), &clock,
                              [&](boost::json::object f) { frames.push_back(std::move(f)); });
  ASSERT_TRUE((*link)->Start(&session).ok());
  ASSERT_TRUE(RunUntil([&] { return (*link)->status().state == LinkState::kUp; }));

  // The recorded call up to AgentConnect.
  const std::string t = omnibridge::testing::ReadFixture("asterisk-22/transcript-queue-call.txt");
  const size_t from = t.find("Event: Newchannel");
  const size_t to = t.find("Event: BridgeEnter");
  peer_.Push(t.substr(from, to - from));
  auto count = [&](const std::string& type, const std::string& state = "") {
    int n = 0;
    for (const auto& f : frames) {
      if (f.at("type").as_string() != type)
        continue;
      if (!state.empty() && f.at("interaction").at("state").as_string() != state)
        continue;
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(RunUntil([&] { return count("interaction.update", "connected") == 1; }));
  EXPECT_EQ(count("interaction.update", "offered"), 1);

  // Asterisk drops the session; the call is still up when the link comes back.
  peer_.channels = {
      "Channel: Local/1001@agents-00000002;1\r\nChannelState: 6\r\nUniqueid: "
      "1795535033.4\r\nLinkedid: 1795535033.0\r\n"};
  peer_.CloseAll();
  ASSERT_TRUE(RunUntil([&] { return (*link)->stats().resyncs == 2; }));
  EXPECT_EQ(count("interaction.update"), 2);  // offered, connected: nothing repeated

  // Dropped again; this time the call ended while the link was down.
  peer_.channels.clear();
  peer_.CloseAll();
  ASSERT_TRUE(RunUntil([&] { return (*link)->stats().resyncs == 3; }));
  EXPECT_EQ(count("interaction.update", "wrapup"), 1);
  EXPECT_EQ(count("interaction.update"), 3);
  int cti_up = 0;
  for (const auto& f : frames) {
    if (f.at("type").as_string() == "cti.status" && f.at("state").as_string() == "up")
      ++cti_up;
  }
  EXPECT_EQ(cti_up, 3);
  (*link)->Stop();
}

}  // namespace
}  // namespace omnibridge::cti::ami
