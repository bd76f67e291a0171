// Connect API pieces without sockets: event validation, bearer parsing, token file handling.
#include <filesystem>
#include <fstream>

#include "boost/json.hpp"
#include <gtest/gtest.h>

#include "config/config.h"
#include "connect/connect.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace omnibridge::connect {
namespace {

absl::StatusCode CodeOf(std::string_view body) { return ParseEventBody(body).status().code(); }

std::string MessageOf(std::string_view body) {
  return std::string(ParseEventBody(body).status().message());
}

TEST(ConnectParseEventBody, AcceptsEveryKindAndKeepsKnownFields) {
  for (std::string_view kind : {"offered", "connected", "held", "resumed", "transferred", "ended",
                                "missed", "wrapupStarted", "wrapupEnded"}) {
    std::string body = std::string(R"({"event":")") + std::string(kind) +
                       R"(","interaction":{"interactionId":"i-1","channel":"voice",)"
                       R"("direction":"inbound","state":"offered","ani":"+15551234",)"
                       R"("callerName":"Ada","dnis":"100","queue":"vip","data":{"k":1},)"
                       R"("extra":"dropped"}})";
    auto event = ParseEventBody(body);
    ASSERT_TRUE(event.ok()) << kind << ": " << event.status();
    EXPECT_EQ(EventKindName(event->kind), kind);
    EXPECT_EQ(event->interaction.at("interactionId"), "i-1");
    EXPECT_EQ(event->interaction.at("queue"), "vip");
    EXPECT_EQ(event->interaction.at("data").at("k"), 1);
    EXPECT_EQ(event->interaction.if_contains("extra"), nullptr);
    EXPECT_TRUE(event->name.empty());
  }
}

TEST(ConnectParseEventBody, CustomNeedsName) {
  auto ok = ParseEventBody(
      R"({"event":"custom","name":"crm.saved","interaction":{"interactionId":"x"},"data":{"a":[1]}})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->kind, EventKind::kCustom);
  EXPECT_EQ(ok->name, "crm.saved");
  auto json = ok->ToJson();
  EXPECT_EQ(json.at("event"), "custom");
  EXPECT_EQ(json.at("name"), "crm.saved");
  EXPECT_EQ(json.at("data").at("a").at(0), 1);
  EXPECT_EQ(CodeOf(R"({"event":"custom","interaction":{"interactionId":"x"}})"),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(R"({"event":"custom","name":"","interaction":{"interactionId":"x"}})"),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(R"({"event":"custom","name":7,"interaction":{"interactionId":"x"}})"),
            absl::StatusCode::kInvalidArgument);
  // A name on a non-custom event is ignored.
  auto offered =
      ParseEventBody(R"({"event":"offered","name":"n","interaction":{"interactionId":"x"}})");
  ASSERT_TRUE(offered.ok());
  EXPECT_EQ(offered->ToJson().if_contains("name"), nullptr);
}

TEST(ConnectParseEventBody, RejectsMalformedBodies) {
  const char* bad[] = {
      "",
      "not json",
      "[]",
      "\"offered\"",
      R"({"event":"offered"})",                                     // no interaction
      R"({"event":"offered","interaction":"i-1"})",                 // not an object
      R"({"event":"offered","interaction":{}})",                    // no id
      R"({"event":"offered","interaction":{"interactionId":""}})",  // empty id
      R"({"event":"offered","interaction":{"interactionId":5}})",
      R"({"event":"ringing","interaction":{"interactionId":"x"}})",  // unknown event
      R"({"event":"OFFERED","interaction":{"interactionId":"x"}})",
      R"({"event":1,"interaction":{"interactionId":"x"}})",
      R"({"interaction":{"interactionId":"x"}})",
      R"({"event":"offered","interaction":{"interactionId":"x","ani":5}})",
      R"({"event":"offered","interaction":{"interactionId":"x","state":"ringing"}})",
      R"({"event":"offered","interaction":{"interactionId":"x","data":[1]}})",
      R"({"event":"offered","interaction":{"interactionId":"x"},"data":"s"})",
      R"({"event":"offered","interaction":{"interactionId":"x"}} trailing)",
  };
  for (const char* body : bad) {
    EXPECT_EQ(CodeOf(body), absl::StatusCode::kInvalidArgument) << body;
  }
  EXPECT_NE(MessageOf(R"({"event":"offered"})").find("interaction"), std::string::npos);
  EXPECT_NE(MessageOf(R"({"event":"ringing","interaction":{"interactionId":"x"}})").find("event"),
            std::string::npos);
}

TEST(ConnectParseEventBody, EnforcesLimits) {
  std::string deep = R"({"event":"offered","interaction":{"interactionId":"x","data":)";
  for (int i = 0; i < 40; ++i)
    deep += R"({"a":)";
  deep += "1";
  for (int i = 0; i < 40; ++i)
    deep += "}";
  deep += "}}";
  EXPECT_EQ(CodeOf(deep), absl::StatusCode::kInvalidArgument);
  std::string long_id =
      R"({"event":"offered","interaction":{"interactionId":")" + std::string(300, 'a') + R"("}})";
  EXPECT_EQ(CodeOf(long_id), absl::StatusCode::kInvalidArgument);
  std::string big_data = R"({"event":"offered","interaction":{"interactionId":"x"},"data":{"a":")" +
                         std::string(70 * 1024, 'a') + R"("}})";
  EXPECT_EQ(CodeOf(big_data), absl::StatusCode::kInvalidArgument);
  // null optional fields are treated as absent
  EXPECT_TRUE(ParseEventBody(
                  R"({"event":"held","interaction":{"interactionId":"x","ani":null,"data":null}})")
                  .ok());
}

TEST(ConnectEventKind, NamesRoundTrip) {
  for (std::string_view name : {"offered", "custom", "wrapupEnded"}) {
    auto kind = ParseEventKind(name);
    ASSERT_TRUE(kind.has_value());
    EXPECT_EQ(EventKindName(*kind), name);
  }
  EXPECT_FALSE(ParseEventKind("").has_value());
}

TEST(ConnectBearer, ParsesSchemeCaseInsensitively) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer   abc  "), "abc");
  EXPECT_EQ(BearerToken("BEARER abc"), "abc");
  EXPECT_FALSE(BearerToken("Basic abc").has_value());
  EXPECT_FALSE(BearerToken("Bearer").has_value());
  EXPECT_FALSE(BearerToken("Bearer ").has_value());
  EXPECT_FALSE(BearerToken("Bearerabc").has_value());
  EXPECT_FALSE(BearerToken("").has_value());
}

TEST(ConnectBearer, ConstantTimeMatch) {
  std::string token(64, 'a');
  EXPECT_TRUE(TokenMatches(token, token));
  std::string other = token;
  other[63] = 'b';
  EXPECT_FALSE(TokenMatches(token, other));
  EXPECT_FALSE(TokenMatches(token, token.substr(0, 63)));
  EXPECT_FALSE(TokenMatches(token, ""));
  EXPECT_FALSE(TokenMatches("", ""));  // an empty expected token never matches
}

class ConnectTokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/omni-connect-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = templ;
  }

  void TearDown() override { std::filesystem::remove_all(root_); }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string root_;
};

TEST_F(ConnectTokenFileTest, CreatedOnceWithMode0600AndStable) {
  std::string dir = root_ + "/nested/omnibridge";
  auto first = LoadOrCreateToken(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(first->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(ModeOf(dir + "/connect-token"), 0600u);
  EXPECT_EQ(ModeOf(dir), 0700u);
  auto second = LoadOrCreateToken(dir);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  // No temporary files left behind.
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  // Another directory gets another token.
  auto other = LoadOrCreateToken(root_ + "/other");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
}

TEST_F(ConnectTokenFileTest, LooseModeIsNarrowedAndGarbageReplaced) {
  std::string path = root_ + "/connect-token";
  std::string token(64, 'c');
  std::ofstream(path) << token << "\n";
  ::chmod(path.c_str(), 0644);
  auto read = LoadOrCreateToken(root_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, token);
  EXPECT_EQ(ModeOf(path), 0600u);

  std::ofstream(path, std::ios::trunc) << "not a token";
  auto replaced = LoadOrCreateToken(root_);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->size(), 64u);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(*LoadOrCreateToken(root_), *replaced);
}

TEST_F(ConnectTokenFileTest, SymlinkAndDirectoryRefused) {
  std::string target = root_ + "/elsewhere";
  std::ofstream(target) << std::string(64, 'd');
  ASSERT_EQ(::symlink(target.c_str(), (root_ + "/connect-token").c_str()), 0);
  EXPECT_EQ(LoadOrCreateToken(root_).status().code(), absl::StatusCode::kFailedPrecondition);

  std::string dir2 = root_ + "/d2";
  std::filesystem::create_directories(dir2 + "/connect-token");
  EXPECT_FALSE(LoadOrCreateToken(dir2).ok());
}

TEST_F(ConnectTokenFileTest, TokenDirIsTheUserConfigDirEvenWithOmnibridgeConfig) {
  std::string old_xdg = getenv("XDG_CONFIG_HOME") ? getenv("XDG_CONFIG_HOME") : "";
  std::string old_cfg = getenv("OMNIBRIDGE_CONFIG") ? getenv("OMNIBRIDGE_CONFIG") : "";
  ::setenv("XDG_CONFIG_HOME", root_.c_str(), 1);
  ::setenv("OMNIBRIDGE_CONFIG", "/somewhere/else/config.json", 1);
  config::Config config;
  config.connect.port = 9911;
  config.connect.max_body_bytes = 4096;
  ConnectOptions options = OptionsFromConfig(config);
  EXPECT_EQ(options.token_dir, root_ + "/omnibridge");
  EXPECT_EQ(options.port, 9911);
  EXPECT_EQ(options.max_body_bytes, 4096);
  if (old_xdg.empty())
    ::unsetenv("XDG_CONFIG_HOME");
  else
    ::setenv("XDG_CONFIG_HOME", old_xdg.c_str(), 1);
  if (old_cfg.empty())
    ::unsetenv("OMNIBRIDGE_CONFIG");
  else
    ::setenv("OMNIBRIDGE_CONFIG", old_cfg.c_str(), 1);
}

}  // namespace
}  // namespace omnibridge::connect

namespace omnibridge::connect {
namespace {

boost::json::object Update(std::string_view id, std::string_view state, bool transferred = false) {
  boost::json::object interaction{{"interactionId", id}, {"state", state}, {"channel", "voice"}};
  if (transferred)
    interaction["transferred"] = true;
  return boost::json::object{{"type", "interaction.update"}, {"interaction", interaction}};
}

std::vector<std::string> Events(InteractionEventStream& stream, const boost::json::object& frame) {
  std::vector<std::string> out;
  for (const auto& m : stream.OnFrame(frame))
    out.emplace_back(m.at("event").as_string());
  return out;
}

using Names = std::vector<std::string>;

TEST(ConnectEventStream, LifecycleFromSnapshots) {
  InteractionEventStream s;
  EXPECT_EQ(Events(s, Update("a", "offered")), Names{"offered"});
  EXPECT_EQ(Events(s, Update("a", "offered")), Names{});  // repeated snapshot
  EXPECT_EQ(Events(s, Update("a", "connected")), Names{"connected"});
  EXPECT_EQ(Events(s, Update("a", "held")), Names{"held"});
  EXPECT_EQ(Events(s, Update("a", "connected")), Names{"resumed"});
  EXPECT_EQ(Events(s, Update("a", "connected", true)), Names{"transferred"});
  EXPECT_EQ(Events(s, Update("a", "wrapup", true)), Names{"wrapupStarted"});
  auto last = s.OnFrame(boost::json::object{{"type", "interaction.ended"}, {"interactionId", "a"}});
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].at("event"), "wrapupEnded");
  EXPECT_EQ(last[0].at("interaction").at("interactionId"), "a");
  // Forgotten: a second ended frame gives nothing.
  EXPECT_EQ(Events(s, boost::json::object{{"type", "interaction.ended"}, {"interactionId", "a"}}),
            Names{});
}

TEST(ConnectEventStream, EndedOnceAndIgnoresOtherFrames) {
  InteractionEventStream s;
  EXPECT_EQ(Events(s, Update("b", "offered")), Names{"offered"});
  EXPECT_EQ(Events(s, boost::json::object{{"type", "interaction.ended"}, {"interactionId", "b"}}),
            Names{"ended"});
  EXPECT_EQ(Events(s, Update("c", "ended")), Names{"ended"});
  EXPECT_EQ(Events(s, boost::json::object{{"type", "interaction.ended"}, {"interactionId", "c"}}),
            Names{});
  EXPECT_EQ(Events(s, boost::json::object{{"type", "agent.state"}, {"state", "ready"}}), Names{});
  EXPECT_EQ(Events(s, boost::json::object{{"type", "interaction.update"}}), Names{});
}

TEST(ConnectEventStream, Bounded) {
  InteractionEventStream s(2);
  EXPECT_EQ(Events(s, Update("1", "offered")), Names{"offered"});
  EXPECT_EQ(Events(s, Update("2", "offered")), Names{"offered"});
  EXPECT_EQ(Events(s, Update("3", "offered")), Names{"offered"});  // forgets "1"
  EXPECT_EQ(Events(s, Update("1", "offered")), Names{"offered"});  // seen as new again
  EXPECT_EQ(Events(s, Update("3", "offered")), Names{});
}

}  // namespace
}  // namespace omnibridge::connect
