// The host against pbx-sim over loopback: the real omnibridge-host (AmiLink + AgentSession wired
// by app/) and the real pbx-sim, each its own process, talking AMI; the test plays the extension
// on the host's stdin/stdout and the ACD's outside world on pbx-sim's control port.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "boost/json.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "integration/common/host_process.h"
#include "integration/pbx_sim/pbx_sim_harness.h"

namespace omnibridge {
namespace {

namespace json = boost::json;
using pbxsim::testing::PbxSim;
using testing::HostProcess;

std::string S(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }

std::string Config(int ami_port) {
  return R"({"allowedOrigins": [")" OMNI_TEST_ORIGIN R"("],
    "cti": {"driver": "ami", "ami": {"host": "127.0.0.1", "port": )" +
         std::to_string(ami_port) + R"(, "username": "harmony", "secret": "harmony-secret"}},
    "agent": {"id": "1001",
              "interfaces": ["Local/1001@agents/n", "Local/1001@omnibridge-task/n"],
              "queues": ["support", "digital"], "reasonCodes": ["Break", "Lunch"]}})";
}

// Everything the host sent, in order, with helpers to wait for one frame.
class Extension {
 public:
  explicit Extension(HostProcess& host) : host_(host) {}

  // Reads frames until `pred` holds for one of them (true) or 10 s pass (false).
  bool WaitFor(const std::function<bool(const json::object&)>& pred,
               absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto frame = host_.Read(deadline - absl::Now());
      if (!frame.ok())
        return false;
      frames.push_back(*frame);
      if (pred(*frame))
        return true;
    }
    return false;
  }

  bool WaitType(const std::string& type, const std::string& state = "") {
    return WaitFor([&](const json::object& f) {
      if (S(f.at("type")) != type)
        return false;
      if (state.empty())
        return true;
      if (type == "interaction.update")
        return S(f.at("interaction").at("state")) == state;
      return f.contains("state") && S(f.at("state")) == state;
    });
  }

  // Seen already, or arriving within 10 s (frames of different sources may come in any order).
  bool Saw(const std::string& type, const std::string& state = "") {
    return Count(type, state) > 0 || WaitType(type, state);
  }

  // No two consecutive frames of `type` are equal: frames go out only when the snapshot changed.
  // Counted from `from` (the start-up snapshot after hello legitimately repeats the present).
  bool NoRepeats(const std::string& type) const {
    const json::object* previous = nullptr;
    for (size_t i = from; i < frames.size(); ++i) {
      const json::object& f = frames[i];
      if (S(f.at("type")) != type)
        continue;
      if (previous != nullptr && *previous == f)
        return false;
      previous = &f;
    }
    return true;
  }

  // Reads whatever comes for `d`.
  void Drain(absl::Duration d) {
    WaitFor([](const json::object&) { return false; }, d);
  }

  int Count(const std::string& type, const std::string& state = "") const {
    int n = 0;
    for (const auto& f : frames) {
      if (S(f.at("type")) != type)
        continue;
      if (!state.empty()) {
        const json::value& s =
            type == "interaction.update" ? f.at("interaction").at("state") : f.at("state");
        if (S(s) != state)
          continue;
      }
      ++n;
    }
    return n;
  }

  const json::object* Last(const std::string& type) const {
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      if (S(it->at("type")) == type)
        return &*it;
    }
    return nullptr;
  }

  // A request and its reply (skipping unsolicited frames, which are kept).
  json::object Request(json::object request) {
    host_.Send(request);
    std::optional<json::object> reply;
    WaitFor([&](const json::object& f) {
      if (!f.contains("re"))
        return false;
      reply = f;
      return true;
    });
    return reply.value_or(json::object{});
  }

  std::vector<json::object> frames;
  size_t from = 0;

 private:
  HostProcess& host_;
};

class HostPbxSimTest : public ::testing::Test {
 protected:
  void StartHost() {
    ASSERT_GT(sim_->ami_port(), 0) << "pbx-sim did not start";
    HostProcess::Options options;
    options.config_json = Config(sim_->ami_port());
    host_.emplace(options);
    extension_.emplace(*host_);
    auto hello = extension_->Request(json::object{{"type", "hello"},
                                                  {"id", "h"},
                                                  {"protocol", 1},
                                                  {"extensionVersion", "0.1.0"},
                                                  {"settings", json::object{}}});
    ASSERT_EQ(S(hello.at("type")), "hello");
    ASSERT_TRUE(extension_->Saw("cti.status", "up"));
    ASSERT_TRUE(extension_->Saw("agent.state", "ready"));
    extension_->from = extension_->frames.size();
  }

  std::string PlaceCall() {
    json::object call =
        sim_->Control(R"({"cmd":"call","from":"+15551234","name":"Alice","queue":"support"})");
    EXPECT_TRUE(call.contains("linkedid")) << json::serialize(call);
    return call.contains("linkedid") ? S(call.at("linkedid")) : "";
  }

  std::optional<PbxSim> sim_{std::in_place};
  std::optional<HostProcess> host_;
  std::optional<Extension> extension_;
};

TEST_F(HostPbxSimTest, InboundQueueCallGivesOfferedConnectedWrapUp) {
  StartHost();
  const std::string linkedid = PlaceCall();
  ASSERT_TRUE(extension_->Saw("interaction.update", "offered"));
  const json::object offered =
      extension_->Last("interaction.update")->at("interaction").as_object();
  EXPECT_EQ(S(offered.at("interactionId")), linkedid);
  EXPECT_EQ(S(offered.at("ani")), "+15551234");
  EXPECT_EQ(S(offered.at("callerName")), "Alice");
  EXPECT_EQ(S(offered.at("queue")), "support");
  EXPECT_EQ(S(offered.at("channel")), "voice");
  ASSERT_TRUE(extension_->Saw("popflow.run"));

  sim_->Control(R"({"cmd":"answer","agent":"1001"})");
  ASSERT_TRUE(extension_->Saw("interaction.update", "connected"));
  ASSERT_TRUE(extension_->Saw("agent.state", "busy"));

  sim_->Control(R"({"cmd":"hangup","linkedid":")" + linkedid + R"("})");
  ASSERT_TRUE(extension_->Saw("interaction.update", "wrapup"));
  // Wrap-up is an ACW pause the ACD itself reports.
  ASSERT_TRUE(extension_->WaitFor([](const json::object& f) {
    return S(f.at("type")) == "agent.state" && S(f.at("state")) == "wrapup" &&
           f.at("paused").as_array().size() == 2;
  }));
  json::object pauses = sim_->Control(R"({"cmd":"actions","action":"QueuePause"})");
  ASSERT_EQ(pauses.at("actions").as_array().size(), 2u) << json::serialize(pauses);

  // Ready again: the wrap-up ends, the interaction goes.
  json::object ack = extension_->Request(
      json::object{{"type", "agent.setState"}, {"id", "r1"}, {"state", "ready"}});
  EXPECT_EQ(S(ack.at("type")), "ack") << json::serialize(ack);
  ASSERT_TRUE(extension_->WaitType("interaction.ended"));
  ASSERT_TRUE(extension_->WaitType("agent.state", "ready"));
  EXPECT_TRUE(extension_->NoRepeats("agent.state"));
  EXPECT_TRUE(extension_->NoRepeats("interaction.update"));
  EXPECT_EQ(extension_->Count("interaction.update", "offered"), 1);
  EXPECT_EQ(extension_->Count("interaction.update", "connected"), 1);
  EXPECT_EQ(extension_->Count("interaction.update", "wrapup"), 1);
  EXPECT_EQ(extension_->Count("popflow.run"), 1);
}

TEST_F(HostPbxSimTest, PauseAndUnpauseWithReason) {
  StartHost();
  json::object ack = extension_->Request(json::object{
      {"type", "agent.setState"}, {"id", "p1"}, {"state", "notReady"}, {"reason", "Lunch"}});
  ASSERT_EQ(S(ack.at("type")), "ack") << json::serialize(ack);
  ASSERT_TRUE(extension_->WaitFor([](const json::object& f) {
    return S(f.at("type")) == "agent.state" && S(f.at("state")) == "notReady" &&
           f.contains("reason") && S(f.at("reason")) == "Lunch" &&
           f.at("paused").as_array().size() == 2;
  }));
  json::object members = sim_->Control(R"({"cmd":"members"})");
  int paused = 0;
  for (const auto& m : members.at("members").as_array()) {
    if (S(m.at("membername")) == "Agent/1001" && m.at("paused").as_bool()) {
      EXPECT_EQ(S(m.at("pausedReason")), "Lunch");
      ++paused;
    }
  }
  EXPECT_EQ(paused, 2);

  json::object bad = extension_->Request(json::object{
      {"type", "agent.setState"}, {"id", "p2"}, {"state", "notReady"}, {"reason", "Nap"}});
  EXPECT_EQ(S(bad.at("code")), "invalid_request");

  ack = extension_->Request(
      json::object{{"type", "agent.setState"}, {"id", "p3"}, {"state", "ready"}});
  ASSERT_EQ(S(ack.at("type")), "ack");
  ASSERT_TRUE(extension_->WaitType("agent.state", "ready"));
  EXPECT_TRUE(extension_->NoRepeats("agent.state"));
}

TEST_F(HostPbxSimTest, LinkDropMidCallRepeatsNothing) {
  StartHost();
  PlaceCall();
  sim_->Control(R"({"cmd":"answer","agent":"1001"})");
  ASSERT_TRUE(extension_->Saw("interaction.update", "connected"));
  sim_->Control(R"({"cmd":"disconnectClients"})");  // calls stay up
  ASSERT_TRUE(extension_->WaitType("cti.status", "down"));
  ASSERT_TRUE(extension_->WaitType("cti.status", "up"));
  extension_->Drain(absl::Milliseconds(500));
  EXPECT_EQ(extension_->Count("interaction.update"), 2);  // offered, connected: nothing again
  EXPECT_EQ(extension_->Count("interaction.ended"), 0);
  EXPECT_EQ(extension_->Count("popflow.run"), 1);
}

TEST_F(HostPbxSimTest, PbxSimKilledAndRestartedMidCall) {
  StartHost();
  const int port = sim_->ami_port();
  PlaceCall();
  sim_->Control(R"({"cmd":"answer","agent":"1001"})");
  ASSERT_TRUE(extension_->Saw("interaction.update", "connected"));

  sim_.reset();  // SIGTERM: the ACD is gone, and with it the call
  ASSERT_TRUE(extension_->WaitType("cti.status", "down"));
  sim_.emplace(std::vector<std::string>{"--ami-port", std::to_string(port)});
  ASSERT_EQ(sim_->ami_port(), port);
  ASSERT_TRUE(extension_->WaitType("cti.status", "up"));
  extension_->Drain(absl::Seconds(1));

  // The call that died with the ACD is wrapped up once; nothing is offered or connected twice.
  EXPECT_EQ(extension_->Count("interaction.update", "offered"), 1);
  EXPECT_EQ(extension_->Count("interaction.update", "connected"), 1);
  EXPECT_EQ(extension_->Count("interaction.update", "wrapup"), 1);
  EXPECT_EQ(extension_->Count("popflow.run"), 1);
  // … and the host put the agent into wrap-up on the restarted ACD (an ACW pause there).
  ASSERT_TRUE(extension_->Saw("agent.state", "wrapup"));
  json::object ack = extension_->Request(
      json::object{{"type", "agent.setState"}, {"id", "r"}, {"state", "ready"}});
  ASSERT_EQ(S(ack.at("type")), "ack") << json::serialize(ack);
  ASSERT_TRUE(extension_->WaitType("interaction.ended"));
  extension_->Drain(absl::Milliseconds(300));
  EXPECT_EQ(extension_->Count("interaction.ended"), 1);
}

TEST_F(HostPbxSimTest, RestartForgettingPausesGetsNotReadyReapplied) {
  StartHost();
  const int port = sim_->ami_port();
  json::object ack = extension_->Request(json::object{
      {"type", "agent.setState"}, {"id", "p"}, {"state", "notReady"}, {"reason", "Break"}});
  ASSERT_EQ(S(ack.at("type")), "ack");
  ASSERT_TRUE(extension_->WaitFor([](const json::object& f) {
    return S(f.at("type")) == "agent.state" && S(f.at("state")) == "notReady" &&
           f.at("paused").as_array().size() == 2;
  }));
  sim_.reset();
  ASSERT_TRUE(extension_->WaitType("cti.status", "down"));
  // A restart is told apart from a reconnect by the FullyBooted uptime: give it a few seconds.
  absl::SleepFor(absl::Seconds(3));
  sim_.emplace(std::vector<std::string>{"--ami-port", std::to_string(port)});
  ASSERT_TRUE(extension_->WaitType("cti.status", "up"));
  // Static members come back unpaused; the host pauses them again with the same reason.
  bool reapplied = false;
  for (int i = 0; i < 100 && !reapplied; ++i) {
    json::object members = sim_->Control(R"({"cmd":"members"})");
    int paused = 0;
    for (const auto& m : members.at("members").as_array()) {
      if (S(m.at("membername")) == "Agent/1001" && m.at("paused").as_bool() &&
          S(m.at("pausedReason")) == "Break") {
        ++paused;
      }
    }
    reapplied = paused == 2;
    if (!reapplied)
      absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(reapplied);
  extension_->Drain(absl::Milliseconds(500));
  const json::object* last = extension_->Last("agent.state");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(S(last->at("state")), "notReady");
  EXPECT_EQ(S(last->at("reason")), "Break");
}

}  // namespace
}  // namespace omnibridge
