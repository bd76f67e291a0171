#include "cti/ami/ami_protocol.h"

#include <filesystem>
#include <random>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "unit/cti/fixture_util.h"

namespace omnibridge::cti::ami {
namespace {

using ::omnibridge::testing::Packet;
using ::omnibridge::testing::ParseAll;
using ::omnibridge::testing::ReadFixture;
using ::testing::ElementsAre;
using ::testing::Pair;

std::vector<std::string> AllFixtures() {
  std::vector<std::string> out;
  for (const auto& dir :
       {std::string("tests/fixtures/ami"), std::string("tests/fixtures/ami/asterisk-22")}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".ami" || entry.path().extension() == ".yaml" ||
          (entry.path().extension() == ".txt" && name.rfind("transcript", 0) == 0)) {
        out.push_back(entry.path().lexically_relative("tests/fixtures/ami").string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AmiParserTest, EveryFixtureParsesTheSameWhateverTheChunking) {
  const std::vector<std::string> fixtures = AllFixtures();
  ASSERT_GE(fixtures.size(), 18u);
  std::mt19937 rng(7);
  for (const std::string& fixture : fixtures) {
    SCOPED_TRACE(fixture);
    const std::string bytes = ReadFixture(fixture);
    ASSERT_FALSE(bytes.empty());
    int errors = 0;
    const std::vector<Packet> whole = ParseAll(bytes, 0, &errors);
    EXPECT_EQ(errors, 0);
    EXPECT_GT(whole.size(), 1u);
    EXPECT_EQ(ParseAll(bytes, 1), whole);
    EXPECT_EQ(ParseAll(bytes, 1 + rng() % 700), whole);
    // Most packets start with the header naming what they are (the fixtures hold a few
    // oddities: "Actionid", a capture gap); none is empty.
    size_t named = 0;
    for (const Packet& p : whole) {
      ASSERT_FALSE(p.headers.empty());
      const std::string& first = p.headers.front().first;
      if (p.banner || first == "Event" || first == "Response" || first == "Action")
        ++named;
    }
    EXPECT_GE(named * 10, whole.size() * 9);
  }
}

TEST(AmiParserTest, LfOnlyFramingEqualsCrlf) {
  for (const char* fixture : {"asterisk-22/transcript-queue-call.txt", "goami2_call.ami",
                              "asterisk-22/transcript-digital-full.txt"}) {
    SCOPED_TRACE(fixture);
    const std::string crlf = ReadFixture(fixture);
    const std::string lf = absl::StrReplaceAll(crlf, {{"\r\n", "\n"}});
    ASSERT_NE(lf.size(), crlf.size());
    EXPECT_EQ(ParseAll(lf), ParseAll(crlf));
  }
}

TEST(AmiParserTest, BannerThenPacketsWithRepeatedHeadersInOrder) {
  const std::vector<Packet> packets =
      ParseAll(ReadFixture("asterisk-22/transcript-queue-call.txt"));
  ASSERT_FALSE(packets.empty());
  EXPECT_TRUE(packets[0].banner);
  EXPECT_EQ(packets[0].headers[0].second, "Asterisk Call Manager/11.0.0");
  int agent_called = 0;
  for (const Packet& p : packets) {
    if (p.Get("Event") != "AgentCalled")
      continue;
    ++agent_called;
    std::vector<std::string> vars;
    for (const auto& [k, v] : p.headers) {
      if (k == "DestChanVariable")
        vars.push_back(v);
    }
    EXPECT_THAT(vars, ElementsAre("OB_INTERACTION_ID=", "OB_CHANNEL=voice", "OB_CRM_URL="));
    EXPECT_EQ(p.Get("AccountCode"), "");  // empty values survive
  }
  EXPECT_EQ(agent_called, 2);
}

TEST(AmiMessageTest, LookupIsCaseInsensitiveAndKeepsRepeats) {
  AmiMessage m;
  m.Add("Event", "QueueMemberPause");
  m.Add("ChanVariable", "A=1");
  m.Add("chanvariable", "B=2");
  EXPECT_EQ(m.Get("EVENT"), "QueueMemberPause");
  EXPECT_EQ(m.Get("missing"), "");
  EXPECT_FALSE(m.Has("missing"));
  EXPECT_THAT(m.GetAll("ChanVariable"), ElementsAre("A=1", "B=2"));
}

TEST(AmiParserTest, OversizeLineDropsItsPacketAndResynchronises) {
  AmiParser::Limits limits;
  limits.max_line_bytes = 64;
  std::string stream = "Asterisk Call Manager/11.0.0\r\n";
  stream += "Event: Big\r\nData: " + std::string(500, 'x') + "\r\nMore: y\r\n\r\n";
  stream += "Event: Small\r\nKey: v\r\n\r\n";
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}, size_t{100}}) {
    SCOPED_TRACE(chunk);
    int errors = 0;
    const std::vector<Packet> packets = ParseAll(stream, chunk, &errors, limits);
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_TRUE(packets[0].banner);
    EXPECT_EQ(packets[1].Get("Event"), "Small");
    EXPECT_EQ(errors, 1);
  }
}

TEST(AmiParserTest, EndlessLineIsNotBuffered) {
  AmiParser::Limits limits;
  limits.max_line_bytes = 128;
  AmiParser parser(limits, false);
  int errors = 0;
  int messages = 0;
  const std::string junk(1000, 'z');
  for (int i = 0; i < 1000; ++i) {
    parser.Feed(
        junk, [&](const AmiMessage&) { ++messages; }, [&](const absl::Status&) { ++errors; });
    ASSERT_LE(parser.buffered_bytes(), limits.max_line_bytes);
  }
  parser.Feed(
      "\r\n\r\nEvent: After\r\n\r\n",
      [&](const AmiMessage& m) {
        ++messages;
        EXPECT_EQ(m.Get("Event"), "After");
      },
      [&](const absl::Status&) { ++errors; });
  EXPECT_EQ(messages, 1);
  EXPECT_EQ(errors, 1);
}

TEST(AmiParserTest, TooManyHeadersDropsThePacket) {
  AmiParser::Limits limits;
  limits.max_headers = 10;
  std::string stream = "Event: Many\r\n";
  for (int i = 0; i < 50; ++i)
    stream += "H: v\r\n";
  stream += "\r\nEvent: Next\r\n\r\n";
  int errors = 0;
  cti::ami::AmiParser parser(limits, false);
  std::vector<std::string> names;
  parser.Feed(
      stream, [&](const AmiMessage& m) { names.emplace_back(m.Get("Event")); },
      [&](const absl::Status& s) {
        ++errors;
        EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
      });
  EXPECT_THAT(names, ElementsAre("Next"));
  EXPECT_EQ(errors, 1);
}

TEST(AmiParserTest, RawCommandOutputLinesAreKept) {
  const std::vector<Packet> packets = ParseAll(
      "Response: Follows\r\nPrivilege: Command\r\nsome raw text\r\n--END COMMAND--\r\n\r\n");
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_THAT(packets[0].headers,
              ElementsAre(Pair("Response", "Follows"), Pair("Privilege", "Command"),
                          Pair("", "some raw text"), Pair("", "--END COMMAND--")));
}

TEST(AmiSerializerTest, WritesCrlfPacketWithActionId) {
  AmiAction action{"QueuePause", {}};
  action.Set("Interface", "Local/1001@agents/n").Set("Paused", "true").Set("Reason", "Lunch");
  std::string out;
  ASSERT_TRUE(SerializeAction(action, "ob-1-7", &out).ok());
  EXPECT_EQ(out,
            "Action: QueuePause\r\nActionID: ob-1-7\r\nInterface: Local/1001@agents/n\r\n"
            "Paused: true\r\nReason: Lunch\r\n\r\n");
}

TEST(AmiSerializerTest, RejectsLineBreaksAndBadNames) {
  std::string out = "keep";
  AmiAction injected{"QueuePause", {{"Reason", "Lunch\r\nAction: Hangup"}}};
  EXPECT_EQ(SerializeAction(injected, "1", &out).code(), absl::StatusCode::kInvalidArgument);
  AmiAction lf{"QueuePause", {{"Reason", "a\nb"}}};
  EXPECT_FALSE(SerializeAction(lf, "1", &out).ok());
  AmiAction colon{"QueuePause", {{"Bad: name", "x"}}};
  EXPECT_FALSE(SerializeAction(colon, "1", &out).ok());
  AmiAction empty_name{"QueuePause", {{"", "x"}}};
  EXPECT_FALSE(SerializeAction(empty_name, "1", &out).ok());
  EXPECT_FALSE(SerializeAction(AmiAction{"Ping", {}}, "1\r\n", &out).ok());
  EXPECT_EQ(out, "keep");
}

TEST(AmiMd5Test, MatchesTheRecordedAsterisk22Login) {
  // transcript-login-md5.txt: Challenge 997509468, secret "harmony-secret" (manager.conf).
  EXPECT_EQ(Md5LoginKey("997509468", "harmony-secret"), "a3f70d4d10fa30d13de88a81c44b50bb");
}

TEST(AmiMemberLegTest, OneBecomesTwo) {
  EXPECT_EQ(MemberLegToRun("Local/1001@agents-00000002;1"), "Local/1001@agents-00000002;2");
  EXPECT_EQ(MemberLegToRun("Local/1001@agents-00000002;2"), "Local/1001@agents-00000002;2");
  EXPECT_EQ(MemberLegToRun("PJSIP/1001-0000001"), "PJSIP/1001-0000001");
}

// ------------------------------------------------------------------------------------ translate

std::vector<CtiEvent> Translate(const std::string& fixture) {
  std::vector<CtiEvent> out;
  // Views die with the parser's message; only counts and copies are checked below.
  omnibridge::testing::ForEachTranscriptEvent(ReadFixture(fixture),
                                              [&](const CtiEvent& e) { out.push_back(e); });
  return out;
}

TEST(AmiTranslateTest, QueueCallEvents) {
  int offered = 0, connected = 0, completed = 0, member_status = 0, hangups = 0;
  std::string offered_to, ani, queue, member_channel;
  omnibridge::testing::ForEachTranscriptEvent(
      ReadFixture("asterisk-22/transcript-queue-call.txt"), [&](const CtiEvent& e) {
        if (const auto* m = std::get_if<MemberCallEvent>(&e)) {
          if (m->kind == MemberCallEvent::Kind::kOffered) {
            ++offered;
            if (m->interface == "Local/1001@agents/n") {
              ani = std::string(m->caller.caller_num);
              queue = std::string(m->queue);
              member_channel = std::string(m->member.channel);
              EXPECT_EQ(m->member_name, "Agent/1001");
              EXPECT_EQ(m->caller.linkedid, "1795535033.0");
              EXPECT_EQ(m->caller.caller_name, "Alice Example");
              ASSERT_EQ(m->member.vars.size(), 3u);
              EXPECT_EQ(m->member.vars[1].first, "OB_CHANNEL");
              EXPECT_EQ(m->member.vars[1].second, "voice");
            }
          }
          if (m->kind == MemberCallEvent::Kind::kConnected) {
            ++connected;
            EXPECT_EQ(m->ring_time, absl::Seconds(1));
          }
          if (m->kind == MemberCallEvent::Kind::kCompleted) {
            ++completed;
            EXPECT_EQ(m->reason, "caller");
            EXPECT_EQ(m->talk_time, absl::Seconds(2));
          }
        }
        if (std::holds_alternative<MemberEvent>(e))
          ++member_status;
        if (const auto* c = std::get_if<ChannelEvent>(&e)) {
          if (c->kind == ChannelEvent::Kind::kHangup)
            ++hangups;
        }
      });
  EXPECT_EQ(offered, 2);
  EXPECT_EQ(connected, 1);
  EXPECT_EQ(completed, 1);
  EXPECT_EQ(member_status, 10);
  EXPECT_EQ(hangups, 6);
  EXPECT_EQ(ani, "+15551230001");
  EXPECT_EQ(queue, "support");
  EXPECT_EQ(member_channel, "Local/1001@agents-00000002;1");
}

TEST(AmiTranslateTest, DeclineIsRingNoAnswerInMilliseconds) {
  bool seen = false;
  omnibridge::testing::ForEachTranscriptEvent(
      ReadFixture("asterisk-22/transcript-digital.txt"), [&](const CtiEvent& e) {
        const auto* m = std::get_if<MemberCallEvent>(&e);
        if (m == nullptr || m->kind != MemberCallEvent::Kind::kNoAnswer)
          return;
        seen = true;
        EXPECT_EQ(m->ring_time, absl::Seconds(1));
        EXPECT_EQ(m->interface, "Local/1001@omnibridge-task/n");
        EXPECT_EQ(m->caller.linkedid, "itx-42-a");
      });
  EXPECT_TRUE(seen);
}

TEST(AmiTranslateTest, PauseReasonFromPausedReasonOrLegacyReason) {
  std::vector<std::pair<bool, std::string>> pauses;
  for (const char* fixture :
       {"asterisk-22/transcript-pause.txt", "goami2_queues_and_members.ami"}) {
    omnibridge::testing::ForEachTranscriptEvent(ReadFixture(fixture), [&](const CtiEvent& e) {
      const auto* m = std::get_if<MemberEvent>(&e);
      if (m != nullptr && m->kind == MemberEvent::Kind::kPause) {
        pauses.emplace_back(m->paused, std::string(m->reason));
      }
    });
  }
  ASSERT_GE(pauses.size(), 3u);
  EXPECT_EQ(pauses[0], std::make_pair(true, std::string("Lunch")));
  EXPECT_EQ(pauses[1], std::make_pair(false, std::string("")));
  // goami2 (Asterisk 13-16): "Reason: Break" beside Paused: 1, and "<nil>" artefacts ignored.
  bool saw_break = false;
  for (size_t i = 2; i < pauses.size(); ++i) {
    if (pauses[i].first && pauses[i].second == "Break")
      saw_break = true;
    EXPECT_NE(pauses[i].second, "<nil>");
  }
  EXPECT_TRUE(saw_break);
}

TEST(AmiTranslateTest, Asterisk11Shapes) {
  // QueueStatus list items in Asterisk 11 say Name/Location too; the legacy QueueMemberPaused
  // event is a pause.
  AmiParser parser;
  int members = 0;
  std::string first_interface;
  parser.Feed(
      ReadFixture("panoramisk_queue_status.yaml"),
      [&](const AmiMessage& m) {
        TranslateEvent(m, true, [&](const CtiEvent& e) {
          const auto* member = std::get_if<MemberEvent>(&e);
          if (member == nullptr)
            return;
          if (members++ == 0)
            first_interface = std::string(member->interface);
          EXPECT_TRUE(member->snapshot);
        });
      },
      [](const absl::Status&) {});
  EXPECT_GT(members, 0);
  EXPECT_EQ(first_interface, "Local/id-9@agentcallback");

  int paused_events = 0;
  omnibridge::testing::ForEachTranscriptEvent(
      ReadFixture("panoramisk_agent_not_in_pause.yaml"), [&](const CtiEvent& e) {
        const auto* m = std::get_if<MemberEvent>(&e);
        if (m != nullptr && m->kind == MemberEvent::Kind::kPause) {
          ++paused_events;
          EXPECT_FALSE(m->paused);
        }
      });
  EXPECT_GE(paused_events, 1);
}

TEST(AmiTranslateTest, VarSetStripsInheritancePrefix) {
  AmiMessage m;
  m.Add("Event", "VarSet");
  m.Add("Channel", "Local/x;1");
  m.Add("Uniqueid", "1.1");
  m.Add("Linkedid", "1.0");
  m.Add("Variable", "__OB_SUBJECT");
  m.Add("Value", "Hello%2C%20world");
  int seen = 0;
  TranslateEvent(m, false, [&](const CtiEvent& e) {
    const auto& c = std::get<ChannelEvent>(e);
    EXPECT_EQ(c.kind, ChannelEvent::Kind::kVarSet);
    EXPECT_EQ(c.var_name, "OB_SUBJECT");
    EXPECT_EQ(c.var_value, "Hello%2C%20world");
    EXPECT_EQ(c.channel.linkedid, "1.0");
    ++seen;
  });
  EXPECT_EQ(seen, 1);
}

TEST(AmiTranslateTest, IgnoresNoise) {
  AmiMessage m;
  m.Add("Event", "DeviceStateChange");
  m.Add("Device", "Queue:support_avail");
  int seen = 0;
  TranslateEvent(m, false, [&](const CtiEvent&) { ++seen; });
  EXPECT_EQ(seen, 0);
}

}  // namespace
}  // namespace omnibridge::cti::ami
