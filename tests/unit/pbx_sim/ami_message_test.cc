#include "ami_message.h"

#include "gtest/gtest.h"

namespace omnibridge::pbxsim {
namespace {

std::vector<AmiParser::Result> FeedAll(AmiParser& p, absl::string_view data) {
  std::vector<AmiParser::Result> out;
  p.Feed(data, &out);
  return out;
}

TEST(AmiParser, CrlfAndBareLfAndSplitReads) {
  AmiParser p;
  auto r = FeedAll(p, "Action: Ping\r\nActionID: 1\r\n\r\nAction: Log");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, AmiParser::Error::kNone);
  EXPECT_EQ(r[0].message.Get("action"), "Ping");  // header names are case-insensitive
  r = FeedAll(p, "off\nactionid:  7\n\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].message.Get("Action"), "Logoff");
  EXPECT_EQ(r[0].message.Get("ActionID"), "7");
}

TEST(AmiParser, RepeatedHeadersKeepOrder) {
  AmiParser p;
  auto r = FeedAll(p, "Action: Originate\r\nVariable: A=1\r\nVariable: B=2,C=3\r\n\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].message.GetAll("variable"), (std::vector<std::string>{"A=1", "B=2,C=3"}));
}

TEST(AmiParser, LineTooLongIsAPacketErrorAndReadingGoesOn) {
  AmiParser p;
  std::string data = "Action: Ping\r\nActionID: x\r\nPad: " + std::string(2000, 'a') + "\r\n\r\n";
  data += "Action: Ping\r\n\r\n";
  auto r = FeedAll(p, data);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].error, AmiParser::Error::kLineTooLong);
  EXPECT_EQ(r[0].message.Get("ActionID"), "x");
  EXPECT_EQ(r[1].error, AmiParser::Error::kNone);
}

TEST(AmiParser, LineLimitCountsTheLineEndLikeAsterisk) {
  AmiParser p;
  std::string fits = "Pad: " + std::string(1022 - 5, 'a');  // 1022 + CRLF = 1024 bytes
  std::string over = "Pad: " + std::string(1023 - 5, 'a');  // 1023 + CRLF = 1025 bytes
  auto r = FeedAll(p, "Action: Ping\r\n" + fits + "\r\n\r\nAction: Ping\r\n" + over + "\r\n\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].error, AmiParser::Error::kNone);
  EXPECT_EQ(r[1].error, AmiParser::Error::kLineTooLong);
  r = FeedAll(p, "Action: Ping\n" + over + "\n\n");  // 1023 + LF = 1024 bytes
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, AmiParser::Error::kNone);
}

TEST(AmiParser, TooManyHeaders) {
  AmiParser p;
  std::string data = "Action: Ping\r\n";
  for (int i = 0; i < 128; ++i)
    data += "H: v\r\n";
  auto r = FeedAll(p, data + "\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, AmiParser::Error::kTooManyHeaders);
}

TEST(AmiParser, BlankLineIsAnEmptyPacket) {
  AmiParser p;
  auto r = FeedAll(p, "\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].message.empty());
}

TEST(AmiMessage, SerializeIsCrlfFramed) {
  AmiMessage m = MakeResponse(AmiMessage(), "Success", "ok");
  EXPECT_EQ(m.Serialize(), "Response: Success\r\nMessage: ok\r\n\r\n");
  AmiMessage action;
  action.Add("ActionID", "a1");
  EXPECT_EQ(MakeResponse(action, "Goodbye").Serialize(),
            "Response: Goodbye\r\nActionID: a1\r\n\r\n");
}

}  // namespace
}  // namespace omnibridge::pbxsim
