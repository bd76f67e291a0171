#include "nm/frame_codec.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace omnibridge::nm {
namespace {

std::string Frame(const std::string& payload) {
  auto frame = EncodeFrame(payload);
  EXPECT_TRUE(frame.ok());
  return *frame;
}

std::vector<std::string> Payloads(const std::vector<DecodedFrame>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames)
    out.push_back(f.oversize() ? "<oversize>" : f.payload);
  return out;
}

TEST(FrameCodecTest, HeaderIsNativeByteOrderLength) {
  std::string frame = Frame("{}");
  ASSERT_EQ(frame.size(), 6u);
  uint32_t length;
  std::memcpy(&length, frame.data(), 4);
  EXPECT_EQ(length, 2u);
  EXPECT_EQ(frame.substr(4), "{}");
}

TEST(FrameCodecTest, DecodesWholeStreamAtOnce) {
  FrameDecoder decoder;
  std::vector<DecodedFrame> out;
  decoder.Feed(Frame("{\"a\":1}") + Frame("") + Frame("[2]"), out);
  EXPECT_EQ(Payloads(out), (std::vector<std::string>{"{\"a\":1}", "", "[2]"}));
  EXPECT_TRUE(decoder.idle());
}

TEST(FrameCodecTest, DecodesOneByteAtATime) {
  std::string stream = Frame("{\"type\":\"ping\"}") + Frame("{\"x\":\"yz\"}");
  FrameDecoder decoder;
  std::vector<DecodedFrame> out;
  for (char c : stream) {
    decoder.Feed(std::string_view(&c, 1), out);
  }
  EXPECT_EQ(Payloads(out), (std::vector<std::string>{"{\"type\":\"ping\"}", "{\"x\":\"yz\"}"}));
}

TEST(FrameCodecTest, DecodesAnyRandomChunking) {
  std::string stream;
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    expected.push_back(std::string(static_cast<size_t>(i * 37), 'a' + i % 26));
    stream += Frame(expected.back());
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    FrameDecoder decoder;
    std::vector<DecodedFrame> out;
    size_t pos = 0;
    while (pos < stream.size()) {
      size_t n = std::min<size_t>(stream.size() - pos, 1 + rng() % 700);
      decoder.Feed(std::string_view(stream).substr(pos, n), out);
      pos += n;
    }
    EXPECT_EQ(Payloads(out), expected);
  }
}

TEST(FrameCodecTest, OversizeFrameIsSkippedAndSyncKept) {
  FrameDecoder decoder(/*max_frame_bytes=*/16);
  std::string big(100, 'x');
  std::string stream = Frame("{\"a\":1}") + Frame(big) + Frame("{\"b\":2}");
  std::vector<DecodedFrame> out;
  for (size_t i = 0; i < stream.size(); i += 3) {
    decoder.Feed(std::string_view(stream).substr(i, 3), out);
  }
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].payload, "{\"a\":1}");
  EXPECT_TRUE(out[1].oversize());
  EXPECT_EQ(out[1].oversize_length, 100u);
  EXPECT_EQ(out[2].payload, "{\"b\":2}");
}

TEST(FrameCodecTest, HugeClaimedLengthIsNeverAllocated) {
  FrameDecoder decoder(1024);
  uint32_t length = 0xFFFFFFF0u;
  std::string header(4, '\0');
  std::memcpy(header.data(), &length, 4);
  std::vector<DecodedFrame> out;
  decoder.Feed(header + "abc", out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(decoder.idle());
}

TEST(FrameCodecTest, OutboundLimitIsChromes) {
  EXPECT_TRUE(EncodeFrame(std::string(kMaxOutboundFrameBytes, 'a')).ok());
  auto too_big = EncodeFrame(std::string(kMaxOutboundFrameBytes + 1, 'a'));
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
  std::string out = "keep";
  EXPECT_FALSE(AppendFrame(std::string(kMaxOutboundFrameBytes + 1, 'a'), out).ok());
  EXPECT_EQ(out, "keep");
}

}  // namespace
}  // namespace omnibridge::nm
