#include "popflow/io/popflow_io.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/log.h"
#include "popflow/flow_store.h"
#include <sys/stat.h>
#include <unistd.h>

namespace omnibridge::popflow {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "popflow-io-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }

  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PopflowUrlTest, SplitsAndRefuses) {
  auto u = ParseHttpUrl("https://API.Example.com/v1/x?q=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.example.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/v1/x?q=1");
  u = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/");
  u = ParseHttpUrl("http://[::1]:9/a");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_FALSE(ParseHttpUrl("ftp://x/").ok());
  EXPECT_FALSE(ParseHttpUrl("https://user:pw@x/").ok());
  EXPECT_FALSE(ParseHttpUrl("https://x:99999/").ok());
  EXPECT_FALSE(ParseHttpUrl("https://x/a b").ok());
  EXPECT_FALSE(ParseHttpUrl("https:///path").ok());
}

TEST(PopflowStorageTest, RoundTripAndPrivateFiles) {
  TempDir tmp;
  std::string dir = tmp.path() + "/flows";
  auto storage = *DirectoryFlowStorage::Create(dir);

  struct stat st {};

  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_TRUE(storage->Write("a-1", "one").ok());
  ASSERT_TRUE(storage->Write("a-1", "two").ok());
  EXPECT_EQ(*storage->Read("a-1"), "two");
  ASSERT_EQ(::stat((dir + "/a-1.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(*storage->List(), ::testing::ElementsAre("a-1"));
  EXPECT_FALSE(storage->Write("../x", "no").ok());
  EXPECT_FALSE(storage->Read("A").ok());
  ASSERT_TRUE(storage->Remove("a-1").ok());
  EXPECT_TRUE(storage->List()->empty());
  EXPECT_TRUE(storage->Remove("a-1").ok());
}

TEST(PopflowStorageTest, FlowStoreSurvivesARestart) {
  base::SetLogToStderr(false);
  TempDir tmp;
  base::FakeClock clock;
  json::value flow = json::parse(
      R"({"schema":"omnibridge.popflow/1","name":"Pop","trigger":{"event":"interaction.offered"},
          "start":"a","nodes":[{"id":"a","kind":"end"}]})");
  {
    auto storage = *DirectoryFlowStorage::Create(tmp.path());
    auto store = *FlowStore::Open(storage.get(), &clock);
    ASSERT_EQ(*store->Deploy(flow, nullptr), 1);
    ASSERT_EQ(*store->Deploy(flow, nullptr), 2);
    ASSERT_TRUE(store->Rollback("Pop", 1).ok());
  }
  auto storage = *DirectoryFlowStorage::Create(tmp.path());
  auto store = *FlowStore::Open(storage.get(), &clock);
  auto list = store->List();
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].active_version, 1);
  EXPECT_THAT(list[0].versions, SizeIs(2));
}

TEST(PopflowLaunchTest, RunsOnlyAllowlistedProgramsWithoutAShell) {
  base::SetLogToStderr(false);
  TempDir tmp;
  AppLauncher launcher({{"touch", AppSpec{"/usr/bin/touch", {"--"}}},
                        {"missing", AppSpec{"/nonexistent/program", {}}}});
  EXPECT_THAT(launcher.Names(), ::testing::ElementsAre("missing", "touch"));

  // Shell syntax in an argument is just characters of a file name here.
  std::string name = tmp.path() + "/a; touch pwned $(id) `id` && echo >x";
  AppLaunch launch;
  launch.app = "touch";
  launch.args = {name};
  ASSERT_TRUE(launcher.Launch(launch).ok());
  for (int i = 0; i < 100 && !fs::exists(name); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(fs::exists(name));
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_FALSE(fs::exists(tmp.path() + "/x"));

  launch.app = "sh";
  EXPECT_EQ(launcher.Launch(launch).code(), absl::StatusCode::kPermissionDenied);
  launch.app = "missing";
  EXPECT_FALSE(launcher.Launch(launch).ok());
  for (int i = 0; i < 100 && launcher.running() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    launcher.Reap();
  }
  EXPECT_EQ(launcher.running(), 0u);
}

TEST(PopflowConfigTest, ParsesAppsCredentialsAndFlows) {
  TempDir tmp;
  std::string token_file = tmp.path() + "/token";
  std::ofstream(token_file) << "s3cret\n";
  json::object admin =
      json::parse(
          absl::StrCat(R"({"apps":{"notes":{"path":"/usr/bin/gedit","args":["--new-window"]}},
      "flows":[{"name":"x"}]})"))
          .as_object();
  json::object merged = json::parse(absl::StrCat(R"({"credentials":{
      "crm":{"baseUrl":"https://api.example.com/v1/","tokenFile":")",
                                                 token_file, R"("},
      "basic":{"type":"basic","baseUrl":"http://127.0.0.1/","username":"u","password":"p"},
      "key":{"type":"header","header":"X-Api-Key","baseUrl":"https://k.example/","token":"t"}}})"))
                            .as_object();
  auto config = ParsePopflowConfig(admin, merged);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->apps.at("notes").path, "/usr/bin/gedit");
  EXPECT_EQ(config->credentials.at("crm").secret, "s3cret");
  EXPECT_EQ(config->credentials.at("basic").type, Credential::Type::kBasic);
  EXPECT_EQ(config->credentials.at("key").header, "X-Api-Key");
  EXPECT_THAT(config->enterprise_flows, SizeIs(1));

  EXPECT_FALSE(
      ParsePopflowConfig(json::parse(R"({"apps":{"x":{"path":"gedit"}}})").as_object(), {}).ok());
  EXPECT_FALSE(ParsePopflowConfig(
                   {}, json::parse(R"({"credentials":{"c":{"baseUrl":"https://x/"}}})").as_object())
                   .ok());
  EXPECT_FALSE(
      ParsePopflowConfig(
          {},
          json::parse(R"({"credentials":{"c":{"baseUrl":"ftp://x/","token":"t"}}})").as_object())
          .ok());
}

// A loopback HTTP server on the test's io_context: records each request, answers by path.
class TestServer {
 public:
  explicit TestServer(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  std::vector<http::request<http::string_body>> requests;

 private:
  struct Conn : std::enable_shared_from_this<Conn> {
    explicit Conn(tcp::socket s, TestServer* srv) : socket(std::move(s)), server(srv) {}

    tcp::socket socket;
    TestServer* server;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;

    void Start() {
      http::async_read(
          socket, buffer, req, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec)
              return;
            self->server->requests.push_back(self->req);
            std::string target(self->req.target());
            if (target == "/slow") {
              self->Hold();
              return;
            }
            self->res.version(11);
            self->res.result(target == "/status/503" ? http::status::service_unavailable
                                                     : http::status::ok);
            if (target == "/big") {
              self->res.body() = std::string(3 * 1024, 'x');
            } else {
              self->res.set(http::field::content_type, "application/json");
              self->res.body() = R"({"name":"Ada"})";
            }
            self->res.prepare_payload();
            http::async_write(self->socket, self->res,
                              [self](beast::error_code, size_t) { self->socket.close(); });
          });
    }

    // Keeps the connection open without answering until the client gives up.
    void Hold() {
      socket.async_read_some(asio::buffer(scratch),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (!ec)
                                 self->Hold();
                             });
    }

    char scratch[256];
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return;
      std::make_shared<Conn>(std::move(socket), this)->Start();
      Accept();
    });
  }

  tcp::acceptor acceptor_;
};

class PopflowHttpTest : public ::testing::Test {
 protected:
  PopflowHttpTest() : server_(io_) { base::SetLogToStderr(false); }

  std::string Url(std::string_view path) {
    return absl::StrCat("http://127.0.0.1:", server_.port(), Av(path));
  }

  HttpResult Run(HttpExecutor& executor, HttpRequest request) {
    std::optional<HttpResult> result;
    executor.Execute(request, [&](uint64_t id, HttpResult r) {
      EXPECT_EQ(id, request.id);
      result = std::move(r);
    });
    for (int i = 0; i < 500 && !result; ++i)
      io_.run_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(result.has_value());
    return result.value_or(HttpResult{});
  }

  asio::io_context io_;
  TestServer server_;
};

TEST_F(PopflowHttpTest, GetAndPostWithCredentials) {
  std::map<std::string, Credential> creds;
  creds["crm"] = Credential{Credential::Type::kBearer, Url("/api/"), "", "", "tok"};
  creds["basic"] = Credential{Credential::Type::kBasic, Url("/"), "", "user", "pw"};
  creds["key"] = Credential{Credential::Type::kHeader, Url("/"), "X-Api-Key", "", "k1"};
  HttpExecutor executor(io_, creds);

  HttpRequest get;
  get.id = 7;
  get.method = "GET";
  get.url = Url("/api/x?q=1");
  get.headers = {{"X-Agent", "1001"}};
  get.credential = "crm";
  HttpResult r = Run(executor, get);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"name":"Ada"})");
  EXPECT_EQ(r.content_type, "application/json");
  ASSERT_THAT(server_.requests, SizeIs(1));
  EXPECT_EQ(server_.requests[0].target(), "/api/x?q=1");
  EXPECT_EQ(server_.requests[0][http::field::authorization], "Bearer tok");
  EXPECT_EQ(server_.requests[0]["X-Agent"], "1001");

  HttpRequest post = get;
  post.method = "POST";
  post.url = Url("/log");
  post.body = R"({"a":1})";
  post.credential = "basic";
  r = Run(executor, post);
  EXPECT_EQ(r.status, 200);
  ASSERT_THAT(server_.requests, SizeIs(2));
  EXPECT_EQ(server_.requests[1].method(), http::verb::post);
  EXPECT_EQ(server_.requests[1].body(), R"({"a":1})");
  EXPECT_EQ(server_.requests[1][http::field::content_type], "application/json");
  EXPECT_EQ(server_.requests[1][http::field::authorization], "Basic dXNlcjpwdw==");

  post.credential = "key";
  r = Run(executor, post);
  EXPECT_EQ(server_.requests.back()["X-Api-Key"], "k1");
  EXPECT_TRUE(server_.requests.back()[http::field::authorization].empty());

  get.url = Url("/status/503");
  get.credential.clear();
  EXPECT_EQ(Run(executor, get).status, 503);
}

TEST_F(PopflowHttpTest, CredentialsStayUnderTheirBaseUrl) {
  std::map<std::string, Credential> creds;
  creds["crm"] = Credential{Credential::Type::kBearer, Url("/api"), "", "", "tok"};
  HttpExecutor executor(io_, creds);
  HttpRequest req;
  req.method = "GET";
  req.credential = "crm";
  for (std::string url :
       {Url("/apix"), Url("/other/api"), absl::StrCat("http://localhost:", server_.port(), "/api"),
        absl::StrCat("https://127.0.0.1:", server_.port(), "/api")}) {
    req.url = url;
    HttpResult r = Run(executor, req);
    EXPECT_THAT(r.error, HasSubstr("only for")) << url;
  }
  req.credential = "nope";
  req.url = Url("/api");
  EXPECT_THAT(Run(executor, req).error, HasSubstr("no credential 'nope'"));
  EXPECT_TRUE(server_.requests.empty());  // nothing was sent anywhere
  req.credential = "crm";
  req.url = Url("/api/v1");
  EXPECT_EQ(Run(executor, req).status, 200);
}

TEST_F(PopflowHttpTest, TimeoutAndBodyCap) {
  HttpExecutor::Options options;
  options.max_body = 1024;
  HttpExecutor executor(io_, {}, options);
  HttpRequest req;
  req.method = "GET";
  req.url = Url("/slow");
  req.timeout = absl::Seconds(1);
  auto start = std::chrono::steady_clock::now();
  HttpResult r = Run(executor, req);
  EXPECT_EQ(r.error, "timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  req.url = Url("/big");
  EXPECT_THAT(Run(executor, req).error, HasSubstr("larger than 1024"));
  req.url = "http://127.0.0.1:1/";  // nothing listens on port 1
  EXPECT_THAT(Run(executor, req).error, HasSubstr("connecting"));
}

}  // namespace
}  // namespace omnibridge::popflow
