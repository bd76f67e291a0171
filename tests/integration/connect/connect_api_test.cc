// The Connect API in-process on 127.0.0.1, port 0, spoken to over real HTTP and WebSocket.
#include <filesystem>
#include <fstream>

#include "boost/json.hpp"
#include <gtest/gtest.h>

#include "connect/connect.h"
#include "integration/connect/test_client.h"
#include <stdlib.h>
#include <sys/stat.h>

namespace omnibridge::connect {
namespace {

using omnibridge::testing::HttpClient;
using omnibridge::testing::LoopThread;
using omnibridge::testing::WsClient;

class RecordingBackend : public ConnectBackend {
 public:
  absl::Status OnEvent(const ConnectEvent& event) override {
    events.push_back(event.ToJson());
    if (event.kind == EventKind::kCustom && event.name == "fail") {
      return absl::UnavailableError("flows are not loaded");
    }
    return absl::OkStatus();
  }

  boost::json::array Interactions() const override { return interactions; }

  std::vector<boost::json::object> events;
  boost::json::array interactions;
};

class ConnectApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/omni-connect-it-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    StartServer();
  }

  void TearDown() override {
    StopServer();
    loop_.Stop();
    std::filesystem::remove_all(dir_);
  }

  void StartServer(int64_t max_body = 2048) {
    ConnectOptions options;
    options.port = 0;
    options.max_body_bytes = max_body;
    options.token_dir = dir_ + "/config/omnibridge";
    options.max_subscriber_queue = 4;
    loop_.Run([&] {
      auto server = ConnectServer::Create(loop_.io(), options, &backend_);
      EXPECT_TRUE(server.ok()) << server.status();
      if (server.ok())
        server_ = std::move(*server);
      return 0;
    });
    ASSERT_NE(server_, nullptr);
    port_ = server_->port();
    std::ifstream in(dir_ + "/config/omnibridge/connect-token");
    std::getline(in, token_);
    ASSERT_EQ(token_.size(), 64u);
  }

  void StopServer() {
    loop_.Run([this] {
      server_.reset();
      return 0;
    });
  }

  std::map<std::string, std::string> Auth() { return {{"Authorization", "Bearer " + token_}}; }

  static std::string Event(std::string_view kind, std::string_view id = "call-1") {
    return std::string(R"({"event":")") + std::string(kind) +
           R"(","interaction":{"interactionId":")" + std::string(id) +
           R"(","channel":"voice","ani":"+15550100","queue":"vip"}})";
  }

  size_t EventCount() {
    return loop_.Run([this] { return backend_.events.size(); });
  }

  static std::string ErrorOf(const testing::ClientResponse& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error") ||
        !v.as_object().at("error").is_string()) {
      return "<no error field: " + r.body + ">";
    }
    return std::string(v.as_object().at("error").as_string());
  }

  LoopThread loop_;
  RecordingBackend backend_;
  std::unique_ptr<ConnectServer> server_;
  std::string dir_;
  std::string token_;
  uint16_t port_ = 0;
};

TEST_F(ConnectApiTest, PostEventAccepted) {
  HttpClient client(port_);
  auto r = client.Request("POST", "/v1/events", Auth(), Event("offered"));
  EXPECT_EQ(r.status, 202) << r.body << r.error;
  EXPECT_EQ(boost::json::parse(r.body).at("status"), "accepted");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  ASSERT_EQ(EventCount(), 1u);
  auto event = loop_.Run([this] { return backend_.events[0]; });
  EXPECT_EQ(event.at("event"), "offered");
  EXPECT_EQ(event.at("interaction").at("ani"), "+15550100");
  // keep-alive: several on one connection
  for (std::string_view kind : {"connected", "held", "resumed", "ended"}) {
    EXPECT_EQ(client.Request("POST", "/v1/events", Auth(), Event(kind)).status, 202);
  }
  EXPECT_EQ(EventCount(), 5u);
  EXPECT_EQ(r.headers.count("access-control-allow-origin"), 0u);
}

TEST_F(ConnectApiTest, GetInteractions) {
  loop_.Run([this] {
    backend_.interactions.push_back(
        boost::json::object{{"interactionId", "a"}, {"state", "connected"}});
    backend_.interactions.push_back(boost::json::object{{"interactionId", "b"}, {"state", "held"}});
    return 0;
  });
  HttpClient client(port_);
  auto r = client.Request("GET", "/v1/interactions", Auth());
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = boost::json::parse(r.body).as_object();
  ASSERT_EQ(body.at("interactions").as_array().size(), 2u);
  EXPECT_EQ(body.at("interactions").at(1).at("interactionId"), "b");
  EXPECT_EQ(r.headers["cache-control"], "no-store");
}

TEST_F(ConnectApiTest, NoOrWrongTokenIs401) {
  HttpClient client(port_);
  auto none = client.Request("POST", "/v1/events", {}, Event("offered"));
  EXPECT_EQ(none.status, 401);
  EXPECT_FALSE(ErrorOf(none).empty());
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer");
  HttpClient c2(port_);
  EXPECT_EQ(
      c2.Request("GET", "/v1/interactions", {{"Authorization", "Bearer " + std::string(64, '0')}})
          .status,
      401);
  HttpClient c3(port_);
  EXPECT_EQ(c3.Request("GET", "/v1/interactions", {{"Authorization", "Basic " + token_}}).status,
            401);
  HttpClient c4(port_);
  EXPECT_EQ(c4.Request("GET", "/v1/interactions", {{"Authorization", "Bearer " + token_.substr(1)}})
                .status,
            401);
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(ConnectApiTest, BrowserOriginIs403EvenWithToken) {
  auto headers = Auth();
  headers["Origin"] = "https://evil.example";
  HttpClient client(port_);
  auto r = client.Request("POST", "/v1/events", headers, Event("offered"));
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(ErrorOf(r).empty());
  EXPECT_EQ(r.headers.count("access-control-allow-origin"), 0u);
  HttpClient preflight(port_);
  auto p = preflight.Request(
      "OPTIONS", "/v1/events",
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(p.status, 403);
  EXPECT_EQ(p.headers.count("access-control-allow-origin"), 0u);
  HttpClient fetch_meta(port_);
  auto headers2 = Auth();
  headers2["Sec-Fetch-Site"] = "same-origin";  // a page on 127.0.0.1 itself (DNS rebinding)
  EXPECT_EQ(fetch_meta.Request("GET", "/v1/interactions", headers2).status, 403);
  HttpClient null_origin(port_);
  auto headers3 = Auth();
  headers3["Origin"] = "null";
  EXPECT_EQ(null_origin.Request("GET", "/v1/interactions", headers3).status, 403);
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(ConnectApiTest, OversizeBodyIs413) {
  std::string big = R"({"event":"offered","interaction":{"interactionId":"x","ani":")" +
                    std::string(4000, '1') + R"("}})";
  HttpClient client(port_);
  auto r = client.Request("POST", "/v1/events", Auth(), big);
  EXPECT_EQ(r.status, 413) << r.error;
  EXPECT_FALSE(ErrorOf(r).empty());
  EXPECT_EQ(EventCount(), 0u);
  // Without a token the answer is still 413 or 401, never a read of the whole body into memory.
  HttpClient head_only(port_);
  auto h = head_only.Raw("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token_ +
                         "\r\nContent-Length: 10000000\r\n\r\n");
  EXPECT_EQ(h.status, 413) << h.error;
}

TEST_F(ConnectApiTest, MalformedBodiesAre400) {
  const std::string bad[] = {
      "{",
      "[]",
      R"({"event":"offered"})",
      R"({"event":"ringing","interaction":{"interactionId":"x"}})",
      R"({"event":"custom","interaction":{"interactionId":"x"}})",
      R"({"event":"offered","interaction":{"channel":"voice"}})",
      "",
  };
  HttpClient client(port_);
  for (const std::string& body : bad) {
    auto r = client.Request("POST", "/v1/events", Auth(), body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_FALSE(ErrorOf(r).empty()) << r.body;
  }
  EXPECT_EQ(EventCount(), 0u);
}

TEST_F(ConnectApiTest, RoutesAndMethods) {
  HttpClient client(port_);
  EXPECT_EQ(client.Request("GET", "/v1/nothing", Auth()).status, 404);
  auto put = client.Request("PUT", "/v1/interactions", Auth(), "{}");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.headers["allow"], "GET");
  HttpClient c2(port_);
  EXPECT_EQ(c2.Request("GET", "/v1/events", Auth()).status, 426);
  HttpClient c3(port_);
  // 401 comes before 404: nothing is learnt without the token.
  EXPECT_EQ(c3.Request("GET", "/v1/nothing").status, 401);
}

TEST_F(ConnectApiTest, BackendErrorsMapToStatus) {
  HttpClient client(port_);
  auto r =
      client.Request("POST", "/v1/events", Auth(),
                     R"({"event":"custom","name":"fail","interaction":{"interactionId":"x"}})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ErrorOf(r), "flows are not loaded");
}

TEST_F(ConnectApiTest, WebSocketNeedsTokenAndNoOrigin) {
  WsClient none;
  EXPECT_EQ(none.Connect(port_, "/v1/events"), 401);
  WsClient browser;
  auto headers = Auth();
  headers["Origin"] = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(browser.Connect(port_, "/v1/events", headers), 403);
  WsClient wrong_path;
  EXPECT_EQ(wrong_path.Connect(port_, "/v1/interactions", Auth()), 404);
  EXPECT_EQ(loop_.Run([this] { return server_->subscribers(); }), 0u);
}

TEST_F(ConnectApiTest, WebSocketReceivesBroadcasts) {
  WsClient a, b;
  ASSERT_EQ(a.Connect(port_, "/v1/events", Auth()), 101);
  ASSERT_EQ(b.Connect(port_, "/v1/events", Auth()), 101);
  for (int i = 0; i < 100 && loop_.Run([this] { return server_->subscribers(); }) < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(loop_.Run([this] { return server_->subscribers(); }), 2u);
  boost::json::object message{
      {"event", "connected"},
      {"interaction", {{"interactionId", "call-9"}, {"state", "connected"}}}};
  loop_.Run([&] {
    server_->Broadcast(message);
    return 0;
  });
  for (WsClient* ws : {&a, &b}) {
    auto text = ws->Read();
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(boost::json::parse(*text), boost::json::value(message));
  }
  a.Close();
  for (int i = 0; i < 100 && loop_.Run([this] { return server_->subscribers(); }) > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(loop_.Run([this] { return server_->subscribers(); }), 1u);
}

TEST_F(ConnectApiTest, SlowSubscriberIsDropped) {
  WsClient slow;
  ASSERT_EQ(slow.Connect(port_, "/v1/events", Auth()), 101);
  for (int i = 0; i < 100 && loop_.Run([this] { return server_->subscribers(); }) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Five messages in one loop turn: the queue (4) overflows before anything is written.
  loop_.Run([&] {
    for (int i = 0; i < 5; ++i)
      server_->Broadcast(boost::json::object{{"n", i}});
    return 0;
  });
  int received = 0;
  while (slow.Read())
    ++received;
  EXPECT_EQ(received, 4);
  EXPECT_EQ(slow.close_reason().code, 1008);
  EXPECT_EQ(loop_.Run([this] { return server_->subscribers(); }), 0u);
}

TEST_F(ConnectApiTest, TokenFileIs0600AndStableAcrossRestarts) {
  std::string path = server_->token_path();
  EXPECT_EQ(path, dir_ + "/config/omnibridge/connect-token");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string before = token_;
  StopServer();
  StartServer();
  EXPECT_EQ(token_, before);
  HttpClient client(port_);
  EXPECT_EQ(client.Request("GET", "/v1/interactions", Auth()).status, 200);
}

TEST_F(ConnectApiTest, ListensOnLoopbackOnly) {
  // Whatever address the machine has besides loopback must not answer.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
  EXPECT_FALSE(ec);
  boost::asio::ip::tcp::endpoint local = socket.local_endpoint(ec);
  EXPECT_TRUE(local.address().is_loopback());
  boost::asio::ip::tcp::socket v6(io);
  v6.connect({boost::asio::ip::make_address("::1"), port_}, ec);
  EXPECT_TRUE(ec);  // not on ::1 either: 127.0.0.1 only
}

}  // namespace
}  // namespace omnibridge::connect
