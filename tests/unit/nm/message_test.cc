#include "nm/message.h"

#include <string>

#include "gtest/gtest.h"

#include "nm/wire_error.h"

namespace omnibridge::nm {
namespace {

WireCode CodeOf(std::string_view payload) {
  auto result = ParseInboundMessage(payload);
  EXPECT_FALSE(result.ok()) << payload;
  return WireCodeOf(result.status());
}

TEST(Utf8Test, AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x9E"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8Test, RejectsMalformed) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xE2\x82"));       // truncated
  EXPECT_FALSE(IsValidUtf8("abcdefgh\x80"));      // lone continuation after fast path
}

TEST(ParseInboundMessageTest, AcceptsObjectWithType) {
  auto message = ParseInboundMessage(R"({"type":"ping","id":"1","payload":{"a":[1,2]}})");
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->at("type").as_string(), "ping");
  EXPECT_EQ(RequestIdOf(*message), "1");
}

TEST(ParseInboundMessageTest, NamesEachProblem) {
  EXPECT_EQ(CodeOf("{\"type\":\"ping\",\"x\":\"\xFF\"}"), WireCode::kInvalidUtf8);
  EXPECT_EQ(CodeOf("{\"type\":"), WireCode::kInvalidJson);
  EXPECT_EQ(CodeOf(""), WireCode::kInvalidJson);
  EXPECT_EQ(CodeOf("[1,2]"), WireCode::kNotObject);
  EXPECT_EQ(CodeOf("\"text\""), WireCode::kNotObject);
  EXPECT_EQ(CodeOf("{\"id\":\"1\"}"), WireCode::kMissingType);
  EXPECT_EQ(CodeOf("{\"type\":7}"), WireCode::kMissingType);
}

TEST(ParseInboundMessageTest, DepthLimitIsSixtyFour) {
  auto nested = [](int depth) {
    std::string inner = "1";
    for (int i = 1; i < depth; ++i)
      inner = "[" + inner + "]";
    return "{\"type\":\"ping\",\"payload\":" + inner + "}";
  };
  // The outer object is level 1, so a payload of depth 63 makes 64 levels in all.
  EXPECT_TRUE(ParseInboundMessage(nested(64)).ok());
  EXPECT_EQ(CodeOf(nested(65)), WireCode::kTooDeep);
  EXPECT_EQ(CodeOf(nested(5000)), WireCode::kTooDeep);
}

}  // namespace
}  // namespace omnibridge::nm
