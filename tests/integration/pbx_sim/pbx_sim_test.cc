// Integration tests: the real pbx-sim binary, raw AMI over TCP, compared with the Asterisk 22
// captures in tests/fixtures/ami/asterisk-22 (tests run with the repository root as cwd).
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <openssl/evp.h>

#include "pbx_sim_harness.h"

namespace omnibridge::pbxsim::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFixtures = "tests/fixtures/ami/asterisk-22/";

std::string Md5Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  std::string out;
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof(hex), "%02x", digest[i]);
    out += hex;
  }
  return out;
}

// Every event pbx-sim sent that also appears in the fixture has the fixture's header names in
// the fixture's order (runs of ChanVariable collapsed: pbx-sim lists six channelvars, the
// captures three).
void ExpectShapesMatch(const std::vector<Packet>& packets, const std::string& fixture,
                       size_t min_compared) {
  auto shapes = FixtureShapes(kFixtures + fixture);
  ASSERT_FALSE(shapes.empty()) << "fixture " << fixture << " not found (cwd must be the repo)";
  size_t compared = 0;
  for (const Packet& p : packets) {
    auto it = shapes.find(p.Event());
    // A failed Originate has no channel, so no ChanVariable; the captures have none.
    if (it == shapes.end() || p.Get("Response") == "Failure")
      continue;
    ++compared;
    EXPECT_TRUE(it->second.count(p.NameShape()) > 0)
        << "event " << p.Event() << " has a header shape the capture never shows:\n"
        << p.raw;
  }
  EXPECT_GE(compared, min_compared);
}

std::string SecondLeg(std::string channel) {
  if (channel.size() > 2 && channel.substr(channel.size() - 2) == ";1") {
    channel.replace(channel.size() - 2, 2, ";2");
  }
  return channel;
}

std::vector<std::string> QueueLogLines(PbxSim& sim) {
  std::vector<std::string> out;
  auto reply = sim.Control(R"({"cmd":"queueLog"})");
  if (const auto* lines = reply.if_contains("lines")) {
    for (const auto& l : lines->as_array())
      out.emplace_back(l.as_string());
  }
  return out;
}

bool HasLogLine(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines) {
    if (l.find(needle) != std::string::npos)
      return true;
  }
  return false;
}

TEST(PbxSimAmi, BannerPlainLoginFullyBootedLogoff) {
  PbxSim sim;
  ASSERT_GT(sim.ami_port(), 0);
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.ReadBanner(), "Asterisk Call Manager/11.0.0\r\n");
  c.Send("Login", {{"ActionID", "login-1"}, {"Username", "harmony"}, {"Secret", "harmony-secret"}});
  auto resp = c.Next();
  ASSERT_TRUE(resp);
  EXPECT_THAT(resp->NameShape(), ElementsAre("Response", "ActionID", "Message"));
  EXPECT_EQ(resp->Get("Message"), "Authentication accepted");
  auto booted = c.WaitForEvent("FullyBooted");
  ASSERT_TRUE(booted);
  EXPECT_FALSE(booted->Has("Timestamp"));  // quirk 10
  ExpectShapesMatch({*booted}, "transcript-login.txt", 1);
  c.Send("Logoff", {{"ActionID", "logoff-2"}});
  auto bye = c.WaitForResponse("logoff-2");
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->Get("Response"), "Goodbye");
  EXPECT_EQ(bye->Get("Message"), "Thanks for all the fish.");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(PbxSimAmi, Md5ChallengeLoginAndFailedLoginCloses) {
  PbxSim sim({"--banner-version", "9.0.0"});
  AmiClient c(sim.ami_port());
  EXPECT_EQ(c.ReadBanner(), "Asterisk Call Manager/9.0.0\r\n");
  c.Send("Challenge", {{"ActionID", "challenge-1"}, {"AuthType", "MD5"}});
  auto ch = c.WaitForResponse("challenge-1");
  ASSERT_TRUE(ch);
  EXPECT_THAT(ch->NameShape(), ElementsAre("Response", "ActionID", "Challenge"));
  std::string key = Md5Hex(ch->Get("Challenge") + "harmony-secret");
  c.Send("Login",
         {{"ActionID", "login-2"}, {"AuthType", "MD5"}, {"Username", "harmony"}, {"Key", key}});
  auto ok = c.WaitForResponse("login-2");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->Get("Message"), "Authentication accepted");

  AmiClient bad(sim.ami_port());
  bad.ReadBanner();
  bad.Send("Challenge", {{"ActionID", "c"}, {"AuthType", "md5"}});
  ASSERT_TRUE(bad.WaitForResponse("c"));
  bad.Send("Login", {{"ActionID", "l"},
                     {"AuthType", "MD5"},
                     {"Username", "harmony"},
                     {"Key", "00000000000000000000000000000000"}});
  auto fail = bad.WaitForResponse("l");
  ASSERT_TRUE(fail);
  EXPECT_EQ(fail->Get("Response"), "Error");
  EXPECT_EQ(fail->Get("Message"), "Authentication failed");
  EXPECT_TRUE(bad.WaitClosed());
}

TEST(PbxSimAmi, PermissionDeniedBeforeLoginAndFramingErrors) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  c.ReadBanner();
  c.Send("Ping", {{"ActionID", "p0"}});
  auto denied = c.WaitForResponse("p0");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->Get("Message"), "Permission denied");

  // Bare LF input and lower-case header names are accepted.
  c.SendRaw("action: Login\nactionid: l1\nusername: harmony\nsecret: harmony-secret\n\n");
  auto ok = c.WaitForResponse("l1");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->Get("Response"), "Success");

  c.SendRaw("Action: Ping\r\nActionID: long-1\r\nX-Pad: " + std::string(1100, 'x') + "\r\n\r\n");
  auto too_long = c.WaitForResponse("long-1");
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->Get("Message"), "Failed to parse message: line too long");

  std::string many = "Action: Ping\r\nActionID: many-1\r\n";
  for (int i = 0; i < 130; ++i)
    many += "X-H" + std::to_string(i) + ": v\r\n";
  c.SendRaw(many + "\r\n");
  auto too_many = c.WaitForResponse("many-1");
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->Get("Message"), "Too many lines in message or allocation failure");

  c.Send("Ping", {{"ActionID", "p1"}});
  auto pong = c.WaitForResponse("p1");
  ASSERT_TRUE(pong);
  EXPECT_THAT(pong->NameShape(), ElementsAre("Response", "ActionID", "Ping", "Timestamp"));
  c.Send("NoSuchThing", {{"ActionID", "u1"}});
  auto unknown = c.WaitForResponse("u1");
  ASSERT_TRUE(unknown);
  EXPECT_THAT(unknown->Get("Message"), HasSubstr("Invalid/unknown command"));
}

TEST(PbxSimAmi, QueueStatusEventListMatchesCapture) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  c.Send("QueueStatus", {{"ActionID", "queuestatus-2"}});
  auto start = c.WaitForResponse("queuestatus-2");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->Get("EventList"), "start");
  auto done = c.WaitForEvent("QueueStatusComplete");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->Get("ListItems"), "6");
  std::vector<Packet> items;
  for (const Packet& p : c.history()) {
    if (p.Get("ActionID") != "queuestatus-2" || !p.Has("Event"))
      continue;
    EXPECT_FALSE(p.Has("Privilege"));
    EXPECT_FALSE(p.Has("Timestamp"));
    items.push_back(p);
  }
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[1].Get("Name"), "Agent/1001");
  EXPECT_EQ(items[1].Get("Location"), "Local/1001@agents/n");
  EXPECT_EQ(items[4].Get("Location"), "Local/1001@omnibridge-task/n");
  ExpectShapesMatch(items, "transcript-queuestatus.txt", 7);
}

TEST(PbxSimAmi, RingallVoiceCallAnswerCancelCallerHangup) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  c.Send("Originate", {{"ActionID", "originate-3"},
                       {"Channel", "Local/s@from-test"},
                       {"Context", "test-caller"},
                       {"Exten", "s"},
                       {"Priority", "1"},
                       {"CallerID", "\"Alice Example\" <+15551230001>"},
                       {"Async", "true"}});
  auto queued = c.WaitForResponse("originate-3");
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->Get("Message"), "Originate successfully queued");
  std::map<std::string, Packet> called;  // interface -> AgentCalled
  while (called.size() < 2) {
    auto ev = c.WaitForEvent("AgentCalled");
    ASSERT_TRUE(ev) << "ringall must offer both members";
    called[ev->Get("Interface")] = *ev;
  }
  ASSERT_TRUE(called.count("Local/1001@agents/n"));
  ASSERT_TRUE(called.count("Local/1002@agents/n"));
  const Packet& win = called["Local/1001@agents/n"];
  const Packet& lose = called["Local/1002@agents/n"];
  EXPECT_EQ(win.Get("DestExten"), "support");  // quirk 8
  EXPECT_EQ(win.Get("CallerIDNum"), "+15551230001");
  EXPECT_EQ(win.Get("DestLinkedid"), win.Get("Linkedid"));
  EXPECT_THAT(win.GetAll("DestChanVariable"), ::testing::Contains("OB_CHANNEL=voice"));
  std::string caller_one = SecondLeg(win.Get("Channel"));
  caller_one.back() = '1';

  c.Send("Redirect", {{"ActionID", "redirect-4"},
                      {"Channel", SecondLeg(win.Get("DestChannel"))},
                      {"Context", "agent-answer"},
                      {"Exten", "1001"},
                      {"Priority", "1"}});
  auto connect = c.WaitForEvent("AgentConnect");
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->Get("MemberName"), "Agent/1001");
  int cancels = 0;
  bool loser_cause26 = false;
  for (const Packet& p : c.history()) {
    if (p.Event() == "DialEnd" && p.Get("DestChannel") == lose.Get("DestChannel") &&
        p.Get("DialStatus") == "CANCEL") {
      ++cancels;
    }
    if (p.Event() == "Hangup" && p.Get("Channel") == lose.Get("DestChannel")) {
      loser_cause26 = p.Get("Cause") == "26" && p.Get("Cause-txt") == "Answered elsewhere";
    }
  }
  EXPECT_EQ(cancels, 2);  // quirk 4
  EXPECT_TRUE(loser_cause26);
  ASSERT_TRUE(c.WaitFor([](const Packet& p) {
    return p.Event() == "BridgeEnter" && p.Get("BridgeNumChannels") == "2";
  }));

  c.Send("Hangup", {{"ActionID", "hangup-5"}, {"Channel", caller_one}});
  auto complete = c.WaitForEvent("AgentComplete");
  ASSERT_TRUE(complete);
  EXPECT_EQ(complete->Get("Reason"), "caller");
  EXPECT_EQ(complete->Get("Interface"), "Local/1001@agents/n");
  // Once per queue the state interface belongs to (quirk 2): support and digital.
  auto qms = c.WaitFor([](const Packet& p) {
    return p.Event() == "QueueMemberStatus" && p.Get("CallsTaken") == "1";
  });
  ASSERT_TRUE(qms);
  auto twin = c.WaitFor(
      [](const Packet& p) {
        return p.Event() == "QueueMemberStatus" && p.Get("MemberName") == "Agent/1001" &&
               p.Get("Queue") == "digital";
      },
      milliseconds(2000));
  EXPECT_TRUE(twin);
  int ringing_status = 0;
  for (const Packet& p : c.history()) {
    if (p.Event() == "QueueMemberStatus" && p.Get("MemberName") == "Agent/1002" &&
        p.Get("Status") == "6") {
      ++ringing_status;
    }
  }
  EXPECT_EQ(ringing_status, 2);
  ExpectShapesMatch(c.history(), "transcript-queue-call.txt", 30);

  auto log = QueueLogLines(sim);
  EXPECT_TRUE(HasLogLine(log, "|support|NONE|ENTERQUEUE||+15551230001|1"));
  EXPECT_TRUE(HasLogLine(log, "|support|Agent/1001|CONNECT|"));
  EXPECT_TRUE(HasLogLine(log, "|support|Agent/1001|COMPLETECALLER|"));
}

TEST(PbxSimAmi, DigitalOfferDeclineNextMemberAcceptComplete) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  c.Send("Originate", {{"ActionID", "originate-3"},
                       {"Channel", "Local/digital@omnibridge-task/n"},
                       {"Application", "Wait"},
                       {"Data", "86400"},
                       {"Async", "true"},
                       {"ChannelId", "itx-42-a"},
                       {"OtherChannelId", "itx-42-b"},
                       {"CallerID", "\"Bob (chat)\" <chat-42>"},
                       {"Variable", "__OB_INTERACTION_ID=itx-42"},
                       {"Variable", "__OB_CHANNEL=chat,__OB_CRM_URL=https%3A%2F%2Fcrm%2F42"}});
  auto orig = c.WaitForEvent("OriginateResponse");
  ASSERT_TRUE(orig);
  EXPECT_EQ(orig->Get("ActionID"), "originate-3");
  EXPECT_EQ(orig->Get("Response"), "Success");
  EXPECT_EQ(orig->Get("Uniqueid"), "itx-42-a");
  EXPECT_EQ(orig->Get("CallerIDNum"), "chat42");  // quirk 9

  auto first = c.WaitForEvent("AgentCalled");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->Get("Uniqueid"), "itx-42-b");
  EXPECT_EQ(first->Get("Linkedid"), "itx-42-a");
  EXPECT_EQ(first->Get("DestLinkedid"), "itx-42-a");
  EXPECT_EQ(first->Get("DestExten"), "digital");
  EXPECT_THAT(first->GetAll("DestChanVariable"),
              ::testing::IsSupersetOf({"OB_INTERACTION_ID=itx-42", "OB_CHANNEL=chat",
                                       "OB_CRM_URL=https%3A%2F%2Fcrm%2F42"}));

  // A second virtual call for the same interaction fails while the first lives.
  c.Send("Originate", {{"ActionID", "dup"},
                       {"Channel", "Local/digital@omnibridge-task/n"},
                       {"Application", "Wait"},
                       {"Data", "1"},
                       {"Async", "true"},
                       {"ChannelId", "itx-42-a"},
                       {"OtherChannelId", "itx-42-b"}});
  auto dup = c.WaitFor([](const Packet& p) {
    return p.Event() == "OriginateResponse" && p.Get("ActionID") == "dup";
  });
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->Get("Response"), "Failure");

  // Decline: hang up the offered member's ;2.
  c.Send("Hangup", {{"ActionID", "hangup-4"}, {"Channel", SecondLeg(first->Get("DestChannel"))}});
  auto rna = c.WaitForEvent("AgentRingNoAnswer");
  ASSERT_TRUE(rna);
  EXPECT_EQ(rna->Get("Interface"), first->Get("Interface"));
  auto second = c.WaitForEvent("AgentCalled");
  ASSERT_TRUE(second) << "the next member is offered at once";
  EXPECT_NE(second->Get("Interface"), first->Get("Interface"));
  bool noanswer = false;
  for (const Packet& p : c.history()) {
    noanswer |= p.Event() == "DialEnd" && p.Get("DialStatus") == "NOANSWER";
  }
  EXPECT_TRUE(noanswer);

  std::string agent = second->Get("Interface").substr(6, 4);
  c.Send("Redirect", {{"ActionID", "redirect-5"},
                      {"Channel", SecondLeg(second->Get("DestChannel"))},
                      {"Context", "agent-answer"},
                      {"Exten", agent},
                      {"Priority", "1"}});
  auto connect = c.WaitForEvent("AgentConnect");
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->Get("Interface"), second->Get("Interface"));
  ASSERT_TRUE(c.WaitFor([](const Packet& p) {
    return p.Event() == "BridgeEnter" && p.Get("BridgeNumChannels") == "2";
  }));

  c.Send("Hangup", {{"ActionID", "hangup-6"}, {"Channel", SecondLeg(second->Get("DestChannel"))}});
  auto complete = c.WaitForEvent("AgentComplete");
  ASSERT_TRUE(complete);
  EXPECT_EQ(complete->Get("Reason"), "agent");
  ASSERT_TRUE(c.WaitFor([](const Packet& p) {
    return p.Event() == "Hangup" && p.Get("Channel").find(";1") != std::string::npos &&
           p.Get("Uniqueid") == "itx-42-a";
  }));
  ExpectShapesMatch(c.history(), "transcript-digital.txt", 30);

  auto log = QueueLogLines(sim);
  EXPECT_TRUE(HasLogLine(log, "|itx-42-b|digital|NONE|ENTERQUEUE|itx-42|chat42|1"));
  EXPECT_TRUE(HasLogLine(
      log, "|itx-42-b|digital|Agent/" + first->Get("Interface").substr(6, 4) + "|RINGNOANSWER|"));
  EXPECT_TRUE(HasLogLine(log, "|itx-42-b|digital|Agent/" + agent + "|CONNECT|"));
  EXPECT_TRUE(HasLogLine(log, "|itx-42-b|digital|Agent/" + agent + "|COMPLETEAGENT|"));
}

TEST(PbxSimAmi, QueuePauseEveryQueueOfAnInterface) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  c.Send("QueueAdd", {{"ActionID", "add"},
                      {"Queue", "digital"},
                      {"Interface", "Local/1001@agents/n"},
                      {"MemberName", "Agent/1001"},
                      {"StateInterface", "hint:1001@agent-hints"}});
  auto added = c.WaitForResponse("add");
  ASSERT_TRUE(added);
  EXPECT_EQ(added->Get("Message"), "Added interface to queue");
  ASSERT_TRUE(c.WaitForEvent("QueueMemberAdded"));

  c.Send("QueuePause", {{"ActionID", "queuepause-3"},
                        {"Interface", "Local/1001@agents/n"},
                        {"Paused", "true"},
                        {"Reason", "Lunch"}});
  auto resp = c.WaitForResponse("queuepause-3");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->Get("Message"), "Interface paused successfully");
  std::set<std::string> queues;
  std::vector<Packet> pauses;
  for (int i = 0; i < 2; ++i) {
    auto ev = c.WaitForEvent("QueueMemberPause");
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->Get("PausedReason"), "Lunch");
    EXPECT_EQ(ev->Get("Paused"), "1");
    EXPECT_FALSE(ev->Has("Reason"));  // quirk 11
    queues.insert(ev->Get("Queue"));
    pauses.push_back(*ev);
  }
  EXPECT_EQ(queues, (std::set<std::string>{"support", "digital"}));
  ExpectShapesMatch(pauses, "transcript-pause.txt", 2);

  c.Send("QueuePause", {{"ActionID", "queuepause-4"},
                        {"Interface", "Local/1001@agents/n"},
                        {"Queue", "support"},
                        {"Paused", "false"}});
  auto unpause = c.WaitForEvent("QueueMemberPause");
  ASSERT_TRUE(unpause);
  EXPECT_EQ(unpause->Get("Paused"), "0");
  EXPECT_EQ(unpause->Get("PausedReason"), "");

  c.Send("QueuePause",
         {{"ActionID", "nf"}, {"Interface", "Local/9999@agents/n"}, {"Paused", "true"}});
  auto nf = c.WaitForResponse("nf");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->Get("Message"), "Interface not found");

  auto actions = sim.Control(R"({"cmd":"actions","action":"QueuePause"})");
  ASSERT_TRUE(actions.if_contains("actions"));
  const auto& list = actions.at("actions").as_array();
  ASSERT_GE(list.size(), 1u);
  bool saw_reason = false;
  for (const auto& h : list[0].at("headers").as_array()) {
    saw_reason |= h.as_array()[0] == "Reason" && h.as_array()[1] == "Lunch";
  }
  EXPECT_TRUE(saw_reason);
  auto log = QueueLogLines(sim);
  EXPECT_TRUE(HasLogLine(log, "|NONE|support|Agent/1001|PAUSE|Lunch"));
  EXPECT_TRUE(HasLogLine(log, "|NONE|digital|Agent/1001|PAUSE|Lunch"));
  EXPECT_TRUE(HasLogLine(log, "|MANAGER|digital|Agent/1001|ADDMEMBER|"));
}

TEST(PbxSimAmi, FilterFromTheCaptureAndEventsOff) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  c.Send("Filter",
         {{"ActionID", "filter-2"},
          {"Operation", "Add"},
          {"Filter",
           "^Event: (OriginateResponse|Newchannel|Newstate|DialBegin|DialEnd|BridgeEnter|"
           "BridgeLeave|Hangup|QueueCallerJoin|QueueCallerLeave|QueueCallerAbandon|AgentCalled|"
           "AgentRingNoAnswer|AgentConnect|AgentComplete|QueueMemberStatus|QueueMemberPause|"
           "MusicOnHoldStart|MusicOnHoldStop)[[:cntrl:]]"}});
  auto ok = c.WaitForResponse("filter-2");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->Get("Message"), "Success");
  AmiClient quiet(sim.ami_port());
  quiet.ReadBanner();
  quiet.Send("Login", {{"ActionID", "l"},
                       {"Username", "harmony"},
                       {"Secret", "harmony-secret"},
                       {"Events", "off"}});
  ASSERT_TRUE(quiet.WaitForResponse("l"));
  ASSERT_EQ(sim.Control(R"({"cmd":"call","channel":"chat"})").at("ok"), true);
  ASSERT_TRUE(c.WaitForEvent("AgentCalled"));
  for (const Packet& p : c.history()) {
    EXPECT_NE(p.Event(), "VarSet");
    EXPECT_NE(p.Event(), "DeviceStateChange");
  }
  EXPECT_FALSE(quiet.Next(milliseconds(300))) << "Events: off at login";
}

TEST(PbxSimAmi, BootDelayHidesQueueActionsUntilFullyBooted) {
  PbxSim sim({"--boot-delay-ms", "1500"});
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  c.Send("QueueStatus", {{"ActionID", "qs"}});
  auto early = c.WaitForResponse("qs");
  ASSERT_TRUE(early);
  EXPECT_THAT(early->Get("Message"), HasSubstr("Invalid/unknown command"));
  for (const Packet& p : c.history())
    EXPECT_NE(p.Event(), "FullyBooted");
  ASSERT_TRUE(c.WaitForEvent("FullyBooted", seconds(5)));
  c.Send("QueueStatus", {{"ActionID", "qs2"}});
  auto later = c.WaitForResponse("qs2");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->Get("EventList"), "start");
}

TEST(PbxSimControl, CallsMembersErrorsAndConnectionControl) {
  PbxSim sim;
  AmiClient c(sim.ami_port());
  ASSERT_TRUE(c.Login());
  auto bad = sim.Control("{not json");
  EXPECT_EQ(bad.at("ok"), false);
  auto unknown = sim.Control(R"({"cmd":"frobnicate"})");
  EXPECT_EQ(unknown.at("ok"), false);

  auto call = sim.Control(
      R"({"cmd":"call","from":"+15551234","name":"Alice","to":"5000","queue":"support"})");
  ASSERT_EQ(call.at("ok"), true) << boost::json::serialize(call);
  std::string linkedid(call.at("linkedid").as_string());
  auto join = c.WaitForEvent("QueueCallerJoin");
  ASSERT_TRUE(join);
  EXPECT_EQ(join->Get("Exten"), "5000");  // DNIS
  EXPECT_EQ(join->Get("CallerIDName"), "Alice");
  ASSERT_TRUE(c.WaitForEvent("AgentCalled"));
  auto answer = sim.Control(R"({"cmd":"answer","agent":"1002"})");
  EXPECT_EQ(answer.at("ok"), true);
  auto connect = c.WaitForEvent("AgentConnect");
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->Get("MemberName"), "Agent/1002");

  auto members = sim.Control(R"({"cmd":"members"})");
  bool busy = false;
  for (const auto& m : members.at("members").as_array()) {
    if (m.at("interface") == "Local/1002@omnibridge-task/n")
      busy = m.at("status") == 2;
  }
  EXPECT_TRUE(busy) << "a voice call makes the shared hint busy for digital too";
  auto calls = sim.Control(R"({"cmd":"calls"})");
  EXPECT_EQ(calls.at("channels").as_array().size(), 4u);

  auto hangup = sim.Control(R"({"cmd":"hangup","linkedid":")" + linkedid + R"("})");
  EXPECT_EQ(hangup.at("ok"), true);
  auto complete = c.WaitForEvent("AgentComplete");
  ASSERT_TRUE(complete);
  EXPECT_EQ(complete->Get("Reason"), "caller");

  auto closed = sim.Control(R"({"cmd":"disconnectClients"})");
  EXPECT_EQ(closed.at("closed"), 1);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(sim.Control(R"({"cmd":"refuseConnections","ms":800})").at("ok"), true);
  AmiClient refused(sim.ami_port());
  EXPECT_EQ(refused.ReadBanner(seconds(2)), "");
  std::this_thread::sleep_for(milliseconds(900));
  AmiClient again(sim.ami_port());
  EXPECT_EQ(again.ReadBanner(), "Asterisk Call Manager/11.0.0\r\n");
  EXPECT_EQ(sim.Control(R"({"cmd":"reset"})").at("ok"), true);
  EXPECT_TRUE(QueueLogLines(sim).empty());
}

TEST(PbxSimAmi, SlowReaderIsDisconnected) {
  PbxSim sim({"--max-backlog-bytes", "65536", "--write-timeout-ms", "200"});
  AmiClient slow(sim.ami_port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(slow.Login());
  // Pipelined QueueStatus requests (about 3 KB of answer each) and a few calls, never read:
  // the output backlog must be cut off, not grow without bound.
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(sim.Control(R"({"cmd":"call","channel":"chat"})").at("ok"), true);
  std::string burst;
  for (int i = 0; i < 4000; ++i)
    burst += "Action: QueueStatus\r\nActionID: s" + std::to_string(i) + "\r\n\r\n";
  slow.SendRaw(burst);
  std::this_thread::sleep_for(milliseconds(1500));
  auto closed = sim.Control(R"({"cmd":"disconnectClients"})");
  EXPECT_EQ(closed.at("closed"), 0) << "the slow reader should already be gone";
  EXPECT_TRUE(sim.running());
}

}  // namespace
}  // namespace omnibridge::pbxsim::testing
