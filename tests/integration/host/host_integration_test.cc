// The host driven over its pipes exactly as a browser drives it.
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

#include "integration/common/host_process.h"
#include <unistd.h>

namespace omnibridge::testing {
namespace {
namespace json = boost::json;

json::object HelloFrame(const char* id = "h1") {
  return {{"type", "hello"},
          {"id", id},
          {"protocol", 1},
          {"extensionVersion", "test"},
          {"settings", json::object()}};
}

std::string Code(const absl::StatusOr<json::object>& frame) {
  if (!frame.ok())
    return "<" + std::string(frame.status().message()) + ">";
  const json::value* code = frame->if_contains("code");
  return code ? std::string(code->as_string()) : "<no code>";
}

TEST(HostIntegrationTest, HelloIsAnsweredWithHello) {
  HostProcess host;
  ASSERT_TRUE(host.Send(HelloFrame()));
  auto reply = host.ReadReply();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*reply)["type"], "hello");
  EXPECT_EQ((*reply)["re"], "h1");
  EXPECT_EQ((*reply)["protocol"], 1);
  EXPECT_TRUE((*reply)["capabilities"].is_array());
  EXPECT_TRUE((*reply)["version"].is_string());
}

TEST(HostIntegrationTest, OneByteWritesAreReassembled) {
  HostProcess host;
  std::string bytes = FrameBytes(json::serialize(HelloFrame())) +
                      FrameBytes(R"({"type":"ping","id":"p","payload":"one byte at a time"})");
  for (char c : bytes) {
    ASSERT_TRUE(host.WriteRaw(std::string(1, c)));
  }
  auto hello = host.ReadReply();
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ((*hello)["type"], "hello");
  auto pong = host.ReadReply();
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(json::serialize(*pong), R"({"type":"pong","re":"p","payload":"one byte at a time"})");
}

TEST(HostIntegrationTest, OversizeFrameIsRefusedAndFrameSyncKept) {
  // 2 MiB, over the 1 MiB default cap, written in 4 KiB pieces like Chrome does. FrameBytes
  // refuses payloads over 1 MiB, so the header is made by hand.
  std::string big = R"({"type":"ping","id":"big","payload":")" + std::string(2 << 20, 'x') + "\"}";
  uint32_t length = static_cast<uint32_t>(big.size());
  std::string header(4, '\0');
  std::memcpy(header.data(), &length, 4);
  HostProcess fresh;
  ASSERT_TRUE(fresh.Send(HelloFrame()));
  ASSERT_TRUE(fresh.ReadReply().ok());
  ASSERT_TRUE(fresh.WriteRaw(header));
  for (size_t i = 0; i < big.size(); i += 4096)
    ASSERT_TRUE(fresh.WriteRaw(big.substr(i, 4096)));
  ASSERT_TRUE(fresh.Send(json::object{{"type", "ping"}, {"id", "after"}, {"payload", 1}}));
  auto error = fresh.ReadReply();
  EXPECT_EQ(Code(error), "frame_too_large");
  auto pong = fresh.ReadReply();
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ((*pong)["re"], "after");
}

TEST(HostIntegrationTest, MalformedInputGetsNamedErrorsAndSessionGoesOn) {
  HostProcess host;
  ASSERT_TRUE(host.Send(HelloFrame()));
  ASSERT_TRUE(host.ReadReply().ok());
  std::string deep = std::string(100, '[') + std::string(100, ']');
  ASSERT_TRUE(host.WriteRaw(FrameBytes("{\"type\": \"ping\", ")));
  ASSERT_TRUE(host.WriteRaw(FrameBytes("{\"type\":\"ping\",\"payload\":" + deep + "}")));
  ASSERT_TRUE(host.WriteRaw(FrameBytes("[\"not\", \"an\", \"object\"]")));
  ASSERT_TRUE(host.WriteRaw(FrameBytes("{\"type\":\"ping\",\"payload\":\"\xC3\x28\"}")));
  ASSERT_TRUE(host.WriteRaw(FrameBytes("{\"id\":\"x\"}")));
  ASSERT_TRUE(host.Send(json::object{{"type", "warp.drive"}, {"id", "w"}}));
  EXPECT_EQ(Code(host.ReadReply()), "invalid_json");
  EXPECT_EQ(Code(host.ReadReply()), "too_deep");
  EXPECT_EQ(Code(host.ReadReply()), "not_object");
  EXPECT_EQ(Code(host.ReadReply()), "invalid_utf8");
  EXPECT_EQ(Code(host.ReadReply()), "missing_type");
  auto unknown = host.ReadReply();
  EXPECT_EQ(Code(unknown), "unknown_type");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ((*unknown)["re"], "w");
  ASSERT_TRUE(host.Send(json::object{{"type", "ping"}, {"id", "still"}, {"payload", true}}));
  auto pong = host.ReadReply();
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ((*pong)["type"], "pong");
}

TEST(HostIntegrationTest, ReplyOverBrowserLimitBecomesAnError) {
  HostProcess::Options options;
  options.config_json = std::string(R"({"allowedOrigins": [")") + OMNI_TEST_ORIGIN +
                        R"("], "nm": {"maxFrameBytes": 4194304}})";
  HostProcess host(options);
  ASSERT_TRUE(host.Send(HelloFrame()));
  ASSERT_TRUE(host.ReadReply().ok());
  std::string ping =
      R"({"type":"ping","id":"huge","payload":")" + std::string(1536 * 1024, 'y') + "\"}";
  uint32_t length = static_cast<uint32_t>(ping.size());
  std::string header(4, '\0');
  std::memcpy(header.data(), &length, 4);
  ASSERT_TRUE(host.WriteRaw(header + ping));
  auto reply = host.ReadReply();
  EXPECT_EQ(Code(reply), "frame_too_large");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ((*reply)["re"], "huge");
}

TEST(HostIntegrationTest, RefusedOriginGetsErrorFrameAndExitCode2) {
  HostProcess::Options options;
  options.args = {"chrome-extension://notallowednotallowednotallowedno/"};
  HostProcess host(options);
  auto error = host.ReadReply();
  EXPECT_EQ(Code(error), "origin_refused");
  EXPECT_EQ(host.WaitExit(absl::Seconds(10)), 2);
}

TEST(HostIntegrationTest, WindowsParentWindowArgumentIsIgnored) {
  HostProcess::Options options;
  options.args = {OMNI_TEST_ORIGIN, "--parent-window=1234"};
  HostProcess host(options);
  ASSERT_TRUE(host.Send(HelloFrame()));
  auto reply = host.ReadReply();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*reply)["type"], "hello");
}

TEST(HostIntegrationTest, EofMeansCleanExitZeroAndOnlyFramesOnStdout) {
  HostProcess host;
  ASSERT_TRUE(host.Send(HelloFrame()));
  ASSERT_TRUE(host.Send(json::object{{"type", "ping"}, {"id", "1"}, {"payload", nullptr}}));
  ASSERT_TRUE(host.ReadReply().ok());
  ASSERT_TRUE(host.ReadReply().ok());
  absl::Time closed = absl::Now();
  host.CloseStdin();
  // Generous bound: a hang detector, not a performance claim (tests/bench measures it).
  EXPECT_EQ(host.WaitExit(absl::Seconds(5)), 0);
  std::fprintf(stderr, "exit after EOF took %s\n",
               absl::FormatDuration(absl::Now() - closed).c_str());
  EXPECT_TRUE(host.AtCleanEof(absl::Seconds(1)));
}

TEST(HostIntegrationTest, InvalidConfigIsReportedNotFatal) {
  HostProcess::Options options;
  options.config_json = std::string(R"({"allowedOrigins": [")") + OMNI_TEST_ORIGIN +
                        R"("], "cti": {"ami": {"port": "five"}}})";
  HostProcess host(options);
  ASSERT_TRUE(host.Send(HelloFrame()));
  auto hello = host.ReadReply();
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ((*hello)["type"], "hello");
  auto error = host.ReadReply();
  EXPECT_EQ(Code(error), "config_invalid");
  ASSERT_TRUE(error.ok());
  EXPECT_NE(std::string((*error)["message"].as_string()).find("cti.ami.port"), std::string::npos);
}

TEST(HostIntegrationTest, LogsGoToTheStateDirectoryNeverStdout) {
  HostProcess host;
  ASSERT_TRUE(host.Send(json::object{{"type", "bogus"}, {"id", "b"}}));
  EXPECT_EQ(Code(host.ReadReply()), "unknown_type");
  host.CloseStdin();
  EXPECT_EQ(host.WaitExit(absl::Seconds(5)), 0);
  EXPECT_TRUE(host.AtCleanEof(absl::Seconds(1)));
  EXPECT_EQ(::access((host.dir().path() + "/state/omnibridge/host.log").c_str(), R_OK), 0);
}

TEST(HostIntegrationTest, VersionAndHelpWorkFromATerminal) {
  for (const char* flag : {"--version", "--help"}) {
    HostProcess::Options options;
    options.args = {flag};
    HostProcess host(options);
    EXPECT_EQ(host.WaitExit(absl::Seconds(10)), 0) << flag;
  }
  HostProcess::Options options;
  options.args = {"--no-such-flag"};
  HostProcess host(options);
  EXPECT_EQ(host.WaitExit(absl::Seconds(10)), 2);
}

}  // namespace
}  // namespace omnibridge::testing
