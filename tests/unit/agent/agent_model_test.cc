#include "agent/agent_model.h"

#include <string>
#include <vector>

#include "boost/json/serialize.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/clock.h"
#include "unit/cti/fixture_util.h"

namespace omnibridge::agent {
namespace {

namespace json = boost::json;
using ::omnibridge::testing::ForEachTranscriptEvent;
using ::omnibridge::testing::ReadFixture;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string().c_str()) : json::serialize(v);
}

AgentConfig Agent(const std::string& id) {
  AgentConfig c;
  c.agent_id = id;
  c.interfaces = {"Local/" + id + "@agents/n", "Local/" + id + "@omnibridge-task/n"};
  c.queues = {"support", "digital"};
  c.reason_codes = {"Break", "Lunch"};
  return c;
}

class Harness {
 public:
  explicit Harness(AgentConfig config) : model_(std::move(config), &clock_) {}

  void LinkUp() { Link(cti::LinkState::kUp); }

  void Link(cti::LinkState state, std::string detail = "") {
    Effects e;
    model_.OnLinkStatus(cti::LinkStatus{state, "ami", std::move(detail)}, e);
    Take(e);
  }

  void Event(const cti::CtiEvent& event) {
    Effects e;
    model_.OnEvent(event, e);
    Take(e);
  }

  void Transcript(const std::string& fixture) {
    ForEachTranscriptEvent(ReadFixture(fixture), [&](const cti::CtiEvent& ev) {
      clock_.Advance(absl::Milliseconds(10));
      Event(ev);
    });
  }

  void Member(std::string_view iface, std::string_view queue, bool paused, std::string_view reason,
              cti::MemberEvent::Kind kind = cti::MemberEvent::Kind::kPause, bool snapshot = false) {
    cti::MemberEvent m;
    m.kind = kind;
    m.interface = iface;
    m.queue = queue;
    m.member_name = "";
    m.paused = paused;
    m.reason = reason;
    m.device_status = 1;
    m.snapshot = snapshot;
    Event(m);
  }

  void Resync(bool begin, bool restarted = false) {
    cti::ResyncEvent r;
    r.kind = begin ? cti::ResyncEvent::Kind::kBegin : cti::ResyncEvent::Kind::kEnd;
    r.platform_restarted = restarted;
    Event(r);
  }

  std::vector<json::object> FramesOf(std::string_view type) const {
    std::vector<json::object> out;
    for (const auto& f : frames_) {
      if (Str(f.at("type")) == type)
        out.push_back(f);
    }
    return out;
  }

  std::vector<std::string> InteractionStates() const {
    std::vector<std::string> out;
    for (const auto& f : FramesOf("interaction.update")) {
      out.push_back(Str(f.at("interaction").at("state")));
    }
    return out;
  }

  std::vector<std::string> AgentStates() const {
    std::vector<std::string> out;
    for (const auto& f : FramesOf("agent.state")) {
      std::string s = Str(f.at("state"));
      if (f.contains("reason"))
        s += ":" + Str(f.at("reason"));
      out.push_back(s);
    }
    return out;
  }

  void Clear() {
    frames_.clear();
    commands_.clear();
  }

  base::FakeClock clock_;
  AgentModel model_;
  std::vector<json::object> frames_;
  std::vector<cti::Command> commands_;

 private:
  void Take(Effects& e) {
    for (auto& f : e.frames)
      frames_.push_back(std::move(f));
    for (auto& c : e.commands)
      commands_.push_back(std::move(c));
  }
};

std::vector<std::string> Pauses(const std::vector<cti::Command>& commands) {
  std::vector<std::string> out;
  for (const auto& c : commands) {
    const auto* p = std::get_if<cti::PauseMember>(&c);
    if (p == nullptr)
      continue;
    out.push_back(p->interface + (p->paused ? " paused " + p->reason : " unpaused") +
                  (p->queue.empty() ? "" : " queue=" + p->queue));
  }
  return out;
}

TEST(AgentModelTest, QueueCallGivesOneFramePerStateAndWrapUpAsAcwPause) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Transcript("asterisk-22/transcript-queue-call.txt");

  // One AgentCalled = one offered frame, whatever Asterisk repeats around it.
  EXPECT_THAT(h.InteractionStates(), ElementsAre("offered", "connected", "wrapup"));
  const json::object offered = h.FramesOf("interaction.update")[0].at("interaction").as_object();
  EXPECT_EQ(Str(offered.at("interactionId")), "1795535033.0");  // Linkedid: no OB_INTERACTION_ID
  EXPECT_EQ(Str(offered.at("channel")), "voice");
  EXPECT_EQ(Str(offered.at("direction")), "inbound");
  EXPECT_EQ(Str(offered.at("ani")), "+15551230001");
  EXPECT_EQ(Str(offered.at("callerName")), "Alice Example");
  EXPECT_EQ(Str(offered.at("queue")), "support");
  EXPECT_EQ(Str(offered.at("data").at("OB_CHANNEL")), "voice");
  EXPECT_FALSE(offered.at("data").as_object().contains("OB_INTERACTION_ID"));  // empty: dropped

  // The default pop: one search by the caller's number.
  const auto pops = h.FramesOf("popflow.run");
  ASSERT_EQ(pops.size(), 1u);
  EXPECT_EQ(Str(pops[0].at("flow")), "default");
  EXPECT_EQ(Str(pops[0].at("actions").at(0).at("query")), "+15551230001");
  EXPECT_THAT(h.FramesOf("routing.offer"), IsEmpty());  // a voice call is not a routing offer

  // The QueueMemberStatus pairs (one per queue) did not double any agent.state frame.
  EXPECT_THAT(h.AgentStates(), ElementsAre("loggedOut", "ready", "busy", "wrapup"));

  EXPECT_THAT(Pauses(h.commands_), ElementsAre("Local/1001@agents/n paused ACW",
                                               "Local/1001@omnibridge-task/n paused ACW"));
  EXPECT_EQ(h.model_.state(), AgentState::kWrapup);

  // The ACD echoes the ACW pause; the agent then goes ready: wrap-up ends, the interaction goes.
  h.Clear();
  h.Member("Local/1001@agents/n", "support", true, "ACW");
  h.Member("Local/1001@omnibridge-task/n", "digital", true, "ACW");
  EXPECT_THAT(h.AgentStates(), ElementsAre("wrapup", "wrapup"));  // only `paused` grew
  EXPECT_THAT(h.FramesOf("interaction.ended"), IsEmpty());
  h.Member("Local/1001@agents/n", "support", false, "");
  EXPECT_THAT(h.FramesOf("interaction.ended"), IsEmpty());  // still ACW on the other interface
  h.Member("Local/1001@omnibridge-task/n", "digital", false, "");
  EXPECT_EQ(h.model_.state(), AgentState::kReady);
  EXPECT_EQ(h.model_.interaction_count(), 0u);
  EXPECT_EQ(h.FramesOf("interaction.ended").size(), 1u);
}

TEST(AgentModelTest, RingallLoserSeesOfferEnd) {
  Harness h(Agent("1002"));
  h.LinkUp();
  h.Transcript("asterisk-22/transcript-queue-call.txt");
  EXPECT_THAT(h.InteractionStates(), ElementsAre("offered", "ended"));
  EXPECT_EQ(h.FramesOf("interaction.ended").size(), 1u);
  EXPECT_THAT(h.commands_, IsEmpty());
  EXPECT_EQ(h.model_.state(), AgentState::kReady);
}

TEST(AgentModelTest, DigitalOfferDeclinedIsWithdrawn) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Transcript("asterisk-22/transcript-digital.txt");
  const auto offers = h.FramesOf("routing.offer");
  ASSERT_EQ(offers.size(), 1u);
  const json::object& offer = offers[0].at("offer").as_object();
  EXPECT_EQ(Str(offer.at("interactionId")), "itx-42");
  EXPECT_EQ(Str(offer.at("channel")), "chat");
  EXPECT_EQ(Str(offer.at("queue")), "digital");
  EXPECT_EQ(Str(offer.at("url")), "https://crm.example.test/case/42");
  EXPECT_THAT(h.InteractionStates(), ElementsAre("offered", "ended"));
  ASSERT_EQ(h.FramesOf("routing.offerWithdrawn").size(), 1u);
  EXPECT_EQ(Str(h.FramesOf("routing.offerWithdrawn")[0].at("interactionId")), "itx-42");
  EXPECT_THAT(h.FramesOf("popflow.run"), IsEmpty());  // the default pop is for voice only
}

TEST(AgentModelTest, DigitalOfferAcceptedAndCompleted) {
  Harness h(Agent("1002"));
  h.LinkUp();
  h.Transcript("asterisk-22/transcript-digital.txt");
  EXPECT_EQ(h.FramesOf("routing.offer").size(), 1u);
  EXPECT_THAT(h.InteractionStates(), ElementsAre("offered", "connected", "wrapup"));
  EXPECT_THAT(h.FramesOf("routing.offerWithdrawn"), IsEmpty());
  const json::object last = h.FramesOf("interaction.update").back().at("interaction").as_object();
  EXPECT_EQ(Str(last.at("interactionId")), "itx-42");
  EXPECT_EQ(Str(last.at("channel")), "chat");
  EXPECT_EQ(Pauses(h.commands_).size(), 2u);
}

TEST(AgentModelTest, PauseWithReasonFromTheAcdsOwnEvents) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Transcript("asterisk-22/transcript-pause.txt");
  EXPECT_THAT(h.AgentStates(), ElementsAre("loggedOut", "notReady:Lunch", "ready"));
  const auto frames = h.FramesOf("agent.state");
  EXPECT_EQ(json::serialize(frames[1].at("paused")), R"(["Local/1001@agents/n"])");
  EXPECT_EQ(json::serialize(frames[1].at("reasonCodes")), R"(["Break","Lunch"])");
  EXPECT_EQ(Str(frames[1].at("agentId")), "1001");
}

TEST(AgentModelTest, SinceMovesOnlyWithState) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus);
  h.clock_.Advance(absl::Seconds(30));
  h.Member("Local/1001@agents/n", "support", true, "Break");
  const auto frames = h.FramesOf("agent.state");
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(Str(frames[1].at("since")), "2026-09-21T14:13:20Z");
  EXPECT_EQ(Str(frames[2].at("since")), "2026-09-21T14:13:50Z");
  h.clock_.Advance(absl::Seconds(30));
  h.Member("Local/1001@agents/n", "support", true, "Break");  // the echo again: nothing new
  EXPECT_EQ(h.FramesOf("agent.state").size(), 3u);
}

TEST(AgentModelTest, SupervisorPauseOfOneInterfaceShows) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus);
  h.Member("Local/1001@omnibridge-task/n", "digital", true, "Break");
  EXPECT_EQ(h.model_.state(), AgentState::kNotReady);
  EXPECT_EQ(json::serialize(h.FramesOf("agent.state").back().at("paused")),
            R"(["Local/1001@omnibridge-task/n"])");
}

TEST(AgentModelTest, SetStatePlansOnePausePerInterfaceWithoutQueue) {
  Harness h(Agent("1001"));
  auto not_ready = h.model_.PlanSetState("notReady", "Lunch");
  ASSERT_TRUE(not_ready.ok());
  EXPECT_THAT(Pauses(*not_ready), ElementsAre("Local/1001@agents/n paused Lunch",
                                              "Local/1001@omnibridge-task/n paused Lunch"));
  auto ready = h.model_.PlanSetState("ready", "");
  ASSERT_TRUE(ready.ok());
  EXPECT_THAT(Pauses(*ready),
              ElementsAre("Local/1001@agents/n unpaused", "Local/1001@omnibridge-task/n unpaused"));
  EXPECT_EQ(h.model_.PlanSetState("notReady", "Nap").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.model_.PlanSetState("away", "").status().code(), absl::StatusCode::kInvalidArgument);
  // The request changes nothing by itself: agent.state comes from the ACD's events.
  EXPECT_THAT(h.frames_, IsEmpty());
}

TEST(AgentModelTest, RestartForgettingPausesReappliesLastNotReady) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Member("Local/1001@agents/n", "support", true, "Lunch");
  h.Member("Local/1001@omnibridge-task/n", "digital", true, "Lunch");
  h.Link(cti::LinkState::kDown, "Asterisk closed the connection");
  h.Link(cti::LinkState::kConnecting);
  h.Clear();
  h.Resync(true, /*restarted=*/true);
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus, true);
  h.Member("Local/1001@omnibridge-task/n", "digital", false, "", cti::MemberEvent::Kind::kStatus,
           true);
  h.Resync(false);
  EXPECT_THAT(Pauses(h.commands_), ElementsAre("Local/1001@agents/n paused Lunch",
                                               "Local/1001@omnibridge-task/n paused Lunch"));
  h.LinkUp();
  EXPECT_THAT(h.FramesOf("agent.state"), IsEmpty());  // no "ready" flash before the echo
  h.Member("Local/1001@agents/n", "support", true, "Lunch");
  h.Member("Local/1001@omnibridge-task/n", "digital", true, "Lunch");
  EXPECT_EQ(h.model_.state(), AgentState::kNotReady);
  EXPECT_EQ(h.model_.reason(), "Lunch");
  // Only `paused` grows as the ACD confirms each interface; never a "ready" in between.
  EXPECT_THAT(h.AgentStates(), ::testing::Each(::testing::Eq("notReady:Lunch")));
}

TEST(AgentModelTest, ReconnectWithoutRestartReappliesNothing) {
  Harness h(Agent("1001"));
  h.LinkUp();
  h.Member("Local/1001@agents/n", "support", true, "Lunch");
  h.Link(cti::LinkState::kDown, "x");
  h.Clear();
  h.Resync(true, /*restarted=*/false);
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus, true);
  h.Resync(false);
  EXPECT_THAT(h.commands_, IsEmpty());
  EXPECT_EQ(h.model_.state(), AgentState::kReady);  // a supervisor unpaused it meanwhile
}

// Feeds the queue-call transcript up to AgentConnect, so the call is live.
void ConnectCall(Harness& h) {
  bool stop = false;
  ForEachTranscriptEvent(ReadFixture("asterisk-22/transcript-queue-call.txt"),
                         [&](const cti::CtiEvent& e) {
                           if (stop)
                             return;
                           h.Event(e);
                           const auto* m = std::get_if<cti::MemberCallEvent>(&e);
                           if (m != nullptr && m->kind == cti::MemberCallEvent::Kind::kConnected) {
                             stop = true;
                           }
                         });
}

TEST(AgentModelTest, ResyncConfirmingALiveCallAnnouncesNothing) {
  Harness h(Agent("1001"));
  h.LinkUp();
  ConnectCall(h);
  ASSERT_THAT(h.InteractionStates(), ElementsAre("offered", "connected"));
  h.Link(cti::LinkState::kDown, "gone");
  h.Link(cti::LinkState::kConnecting);
  h.Clear();
  h.Resync(true);
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus, true);
  h.Member("Local/1001@omnibridge-task/n", "digital", false, "", cti::MemberEvent::Kind::kStatus,
           true);
  cti::ChannelEvent snap;
  snap.kind = cti::ChannelEvent::Kind::kSnapshot;
  snap.channel.uniqueid = "1795535033.4";  // the member leg AgentCalled named
  snap.channel.linkedid = "1795535033.0";
  snap.channel.state = 6;
  h.Event(snap);
  h.Resync(false);
  h.LinkUp();
  EXPECT_THAT(h.FramesOf("interaction.update"), IsEmpty());
  EXPECT_THAT(h.FramesOf("agent.state"), IsEmpty());
  EXPECT_EQ(h.FramesOf("cti.status").size(), 1u);  // up
  EXPECT_THAT(h.commands_, IsEmpty());
}

TEST(AgentModelTest, CallThatEndedWhileDownGoesToWrapUpOnce) {
  Harness h(Agent("1001"));
  h.LinkUp();
  ConnectCall(h);
  h.Link(cti::LinkState::kDown, "gone");
  h.Clear();
  h.Resync(true);
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus, true);
  h.Resync(false);
  h.LinkUp();
  EXPECT_THAT(h.InteractionStates(), ElementsAre("wrapup"));
  // The wrap-up pause is issued although the link announces "up" only after the resync.
  EXPECT_EQ(Pauses(h.commands_).size(), 2u);
  h.Resync(true);
  h.Member("Local/1001@agents/n", "support", false, "", cti::MemberEvent::Kind::kStatus, true);
  h.Resync(false);
  EXPECT_THAT(h.InteractionStates(), ElementsAre("wrapup"));  // a second resync repeats nothing
}

TEST(AgentModelTest, OfferThatVanishedWhileDownEnds) {
  Harness h(Agent("1001"));
  h.LinkUp();
  bool stop = false;
  ForEachTranscriptEvent(ReadFixture("asterisk-22/transcript-digital.txt"),
                         [&](const cti::CtiEvent& e) {
                           if (stop)
                             return;
                           h.Event(e);
                           const auto* m = std::get_if<cti::MemberCallEvent>(&e);
                           if (m != nullptr)
                             stop = true;
                         });
  ASSERT_EQ(h.FramesOf("routing.offer").size(), 1u);
  h.Link(cti::LinkState::kDown, "gone");
  h.Clear();
  h.Resync(true);
  h.Resync(false);
  EXPECT_THAT(h.InteractionStates(), ElementsAre("ended"));
  EXPECT_EQ(h.FramesOf("routing.offerWithdrawn").size(), 1u);
  EXPECT_EQ(h.FramesOf("interaction.ended").size(), 1u);
}

TEST(AgentModelTest, AgentCompleteWithoutChannelBlockMatchesQueueAndInterface) {
  Harness h(Agent("1001"));
  h.LinkUp();
  ConnectCall(h);
  h.Clear();
  cti::MemberCallEvent complete;  // quirk 12: no Channel, Uniqueid, Linkedid, no Dest*
  complete.kind = cti::MemberCallEvent::Kind::kCompleted;
  complete.queue = "support";
  complete.interface = "Local/1001@agents/n";
  complete.member_name = "Agent/1001";
  complete.reason = "caller";
  h.Event(complete);
  EXPECT_THAT(h.InteractionStates(), ElementsAre("wrapup"));
  EXPECT_EQ(Pauses(h.commands_).size(), 2u);
}

TEST(AgentModelTest, HangupCompletesWhenAgentCompleteNeverComes) {
  Harness h(Agent("1001"));
  h.LinkUp();
  ConnectCall(h);
  h.Clear();
  cti::ChannelEvent hangup;
  hangup.kind = cti::ChannelEvent::Kind::kHangup;
  hangup.channel.uniqueid = "1795535033.1";  // the caller leg
  hangup.channel.linkedid = "1795535033.0";
  h.Event(hangup);
  EXPECT_THAT(h.InteractionStates(), ElementsAre("wrapup"));
  // The late AgentComplete repeats nothing.
  cti::MemberCallEvent complete;
  complete.kind = cti::MemberCallEvent::Kind::kCompleted;
  complete.interface = "Local/1001@agents/n";
  complete.caller.linkedid = "1795535033.0";
  complete.caller.uniqueid = "1795535033.1";
  h.Event(complete);
  EXPECT_THAT(h.InteractionStates(), ElementsAre("wrapup"));
  EXPECT_EQ(Pauses(h.commands_).size(), 2u);
}

TEST(AgentModelTest, RoutedVariablesArePercentDecoded) {
  Harness h(Agent("1001"));
  h.LinkUp();
  cti::MemberCallEvent called;
  called.kind = cti::MemberCallEvent::Kind::kOffered;
  called.queue = "digital";
  called.interface = "Local/1001@omnibridge-task/n";
  called.caller.channel = "Local/digital@omnibridge-task-00000003;2";
  called.caller.uniqueid = "itx-7-b";
  called.caller.linkedid = "itx-7-a";
  called.member.channel = "Local/1001@omnibridge-task-00000004;1";
  called.member.uniqueid = "9.8";
  called.member.linkedid = "itx-7-a";
  called.member.vars = {{"OB_INTERACTION_ID", "itx-7"},
                        {"OB_CHANNEL", "email"},
                        {"OB_SUBJECT", "Refund%2C%20please%20%E2%82%AC"},
                        {"OB_CUSTOMER", "Bob%20%3Cbob%40example.test%3E"},
                        {"OB_CRM_URL", "https%3A%2F%2Fcrm.example.test%2Fcase%2F7%3Fa%3D1%2C2"},
                        {"OB_OFFER_TIMEOUT", "30"}};
  h.Event(called);
  const auto offers = h.FramesOf("routing.offer");
  ASSERT_EQ(offers.size(), 1u);
  const json::object& offer = offers[0].at("offer").as_object();
  EXPECT_EQ(Str(offer.at("subject")), "Refund, please \xE2\x82\xAC");
  EXPECT_EQ(Str(offer.at("customer")), "Bob <bob@example.test>");
  EXPECT_EQ(Str(offer.at("url")), "https://crm.example.test/case/7?a=1,2");
  EXPECT_EQ(offer.at("timeoutSeconds").as_int64(), 30);
  EXPECT_EQ(Str(offer.at("channel")), "email");
  EXPECT_EQ(Str(h.FramesOf("interaction.update")[0].at("interaction").at("data").at("OB_SUBJECT")),
            "Refund, please \xE2\x82\xAC");
}

TEST(AgentModelTest, PlansTaskCommandsOnTheMemberLeg) {
  Harness h(Agent("1002"));
  h.LinkUp();
  bool stop = false;
  ForEachTranscriptEvent(ReadFixture("asterisk-22/transcript-digital.txt"),
                         [&](const cti::CtiEvent& e) {
                           if (stop)
                             return;
                           h.Event(e);
                           const auto* m = std::get_if<cti::MemberCallEvent>(&e);
                           if (m != nullptr && m->kind == cti::MemberCallEvent::Kind::kOffered &&
                               m->interface == "Local/1002@omnibridge-task/n") {
                             stop = true;
                           }
                         });
  json::object request{{"type", "routing.accept"}, {"id", "5"}, {"interactionId", "itx-42"}};
  auto accept = h.model_.PlanInteractionCommand("routing.accept", request);
  ASSERT_TRUE(accept.ok()) << accept.status();
  const auto& task = std::get<cti::TaskAccept>(*accept);
  EXPECT_EQ(task.member_channel, "Local/1002@omnibridge-task-00000005;1");
  EXPECT_EQ(task.agent_id, "1002");
  EXPECT_EQ(h.model_.PlanInteractionCommand("routing.complete", request).status().code(),
            absl::StatusCode::kFailedPrecondition);
  json::object unknown{{"interactionId", "nope"}};
  EXPECT_EQ(h.model_.PlanInteractionCommand("routing.decline", unknown).status().code(),
            absl::StatusCode::kNotFound);
  json::object dial{{"number", "+15550000"}};
  auto dialed = h.model_.PlanInteractionCommand("call.dial", dial);
  ASSERT_TRUE(dialed.ok());
  EXPECT_EQ(std::get<cti::Dial>(*dialed).endpoint, "Local/1002@agents/n");
}

TEST(AgentModelTest, InvalidUtf8IsReplacedInFrames) {
  Harness h(Agent("1001"));
  h.LinkUp();
  cti::MemberCallEvent called;
  called.kind = cti::MemberCallEvent::Kind::kOffered;
  called.queue = "support";
  called.interface = "Local/1001@agents/n";
  called.caller.uniqueid = "1.1";
  called.caller.linkedid = "1.0";
  called.caller.caller_num = "555";
  called.caller.caller_name = "Jos\xE9";  // Latin-1
  called.member.channel = "Local/1001@agents-1;1";
  called.member.uniqueid = "1.2";
  h.Event(called);
  EXPECT_EQ(Str(h.FramesOf("interaction.update")[0].at("interaction").at("callerName")),
            "Jos\xEF\xBF\xBD");
}

TEST(AgentModelTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b%2c"), "a b,");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace omnibridge::agent
