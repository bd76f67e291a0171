// The route mode against pbx-sim, real processes on loopback:
//  1. throughput: signed webhooks over keep-alive connections → accepted (202, journaled) per
//     second, and routing requests (AMI Originate answered by pbx-sim) per second;
//  2. latency: webhook → routing.offer frame at the agent's host, p50 / p99 (the offer card in
//     Chromium is tests/e2e/routing.test.mjs; its extra cost is the extension's).
// Prints figures beside their targets; asserts nothing. Build it in Release for figures worth
// quoting. Usage: routing_bench [webhooks=20000] [connections=8] [offers=100]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/json/serialize.hpp"

#include "integration/common/host_process.h"
#include "integration/routing/routing_harness.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace omnibridge;
using namespace omnibridge::routing::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr char kSecret[] = "bench-secret-0123456789abcdef";
constexpr double kTargetPerSecond = 5000;

// A keep-alive HTTP/1.1 connection that sends one request at a time.
class KeepAlive {
 public:
  explicit KeepAlive(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  ~KeepAlive() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  // The status code, 0 on failure.
  int Post(const std::string& path, const std::string& signature, const std::string& body) {
    if (fd_ < 0)
      return 0;
    std::string req =
        absl::StrCat("POST ", path,
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "X-Omnibridge-Signature: ",
                     signature, "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return 0;
      off += static_cast<size_t>(n);
    }
    for (;;) {
      const size_t head_end = buf_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t cl = buf_.find("ontent-length:");
        int64_t length = 0;
        if (cl != std::string::npos && cl < head_end) {
          size_t v = cl + 14;
          while (v < head_end && buf_[v] == ' ')
            ++v;
          absl::SimpleAtoi(buf_.substr(v, buf_.find("\r\n", v) - v), &length);
        }
        if (buf_.size() >= head_end + 4 + static_cast<size_t>(length)) {
          int status = 0;
          absl::SimpleAtoi(buf_.substr(9, 3), &status);
          buf_.erase(0, head_end + 4 + static_cast<size_t>(length));
          return status;
        }
      }
      char tmp[16384];
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0)
        return 0;
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0)
        return 0;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

std::string Str(const json::value* v) {
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t Int(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->get_int64()
                                       : (v && v->is_uint64() ? v->get_uint64() : 0);
}

struct Stack {
  std::unique_ptr<Child> pbx, router;
  int ami = 0, control = 0, http = 0;
};

Stack Start(const omnibridge::testing::TempDir& dir, const std::string& tag) {
  Stack s;
  const std::string sim = dir.Write(
      tag + "-sim.json",
      R"({"queues":[{"name":"digital","strategy":"rrmemory","timeout":30,"retry":1,)"
      R"("members":[{"interface":"Local/1001@omnibridge-task/n","membername":"Agent/1001",)"
      R"("stateInterface":"hint:1001@agent-hints"}]}]})");
  s.pbx = std::make_unique<Child>(
      PBX_SIM_PATH,
      std::vector<std::string>{"--ami-port", "0", "--control-port", "0", "--config", sim,
                               "--max-backlog-bytes", "536870912", "--write-timeout-ms", "2000"},
      /*quiet_stderr=*/std::getenv("ROUTING_BENCH_VERBOSE") == nullptr);
  s.ami = static_cast<int>(Int(s.pbx->first_line(), "ami"));
  s.control = static_cast<int>(Int(s.pbx->first_line(), "control"));
  json::object cfg{
      {"cti",
       {{"driver", "ami"},
        {"ami",
         {{"host", "127.0.0.1"},
          {"port", s.ami},
          {"username", "harmony"},
          {"secret", "harmony-secret"}}}}},
      {"log", {{"level", "warning"}}},
      {"route",
       {{"listen", "127.0.0.1:0"},
        {"journal", dir.path() + "/" + tag + "-journal.sqlite"},
        {"sources", json::array{json::object{
                        {"name", "bench"}, {"secret", kSecret}, {"queue", "digital"}}}}}}};
  const std::string path = dir.Write(tag + "-route.json", json::serialize(cfg));
  s.router =
      std::make_unique<Child>(ROUTE_BIN_PATH, std::vector<std::string>{"route", "--config", path},
                              /*quiet_stderr=*/std::getenv("ROUTING_BENCH_VERBOSE") == nullptr);
  const std::string listen = Str(s.router->first_line().if_contains("listen"));
  absl::SimpleAtoi(listen.substr(listen.rfind(':') + 1), &s.http);
  WaitUntil([&] {
    HttpReply r = Http(s.http, "GET", "/v1/status");
    const json::value* link = r.json.if_contains("link");
    return link && link->is_object() && Str(link->get_object().if_contains("state")) == "up";
  });
  return s;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void Throughput(const omnibridge::testing::TempDir& dir, int total, int connections) {
  Stack s = Start(dir, "throughput");
  if (s.http == 0) {
    std::printf("throughput: the router did not start\n");
    return;
  }
  // Bodies and signatures made up front: the figure is the router's, not the client's HMAC.
  std::vector<std::pair<std::string, std::string>> requests;
  requests.reserve(total);
  for (int i = 0; i < total; ++i) {
    std::string body =
        absl::StrCat(R"({"id":"bench-)", i, R"(","channel":"chat","subject":"Bench )", i,
                     R"(","customer":{"name":"Load Test","address":"load@example.com"},)",
                     R"("url":"https://crm.example.test/case/)", i, R"("})");
    std::string sig = Signature(kSecret, body);
    requests.emplace_back(std::move(sig), std::move(body));
  }
  std::atomic<int> accepted{0}, other{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      KeepAlive conn(s.http);
      for (int i = c; i < total; i += connections) {
        const int status = conn.Post("/v1/webhooks/bench", requests[i].first, requests[i].second);
        (status == 202 ? accepted : other)++;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const double accept_s = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t originated = 0;
  // Polled gently: the status page is not what is measured.
  for (const auto end = Clock::now() + std::chrono::seconds(120); Clock::now() < end;) {
    HttpReply r = Http(s.http, "GET", "/v1/status");
    originated = Int(r.json, "routeRequests");
    if (originated >= total)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const double originate_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("webhooks: %d over %d keep-alive connections (%d not 202)\n", total, connections,
              other.load());
  std::printf("  accepted + journaled:      %8.0f /s   (target >= %.0f /s)\n",
              accepted.load() / accept_s, kTargetPerSecond);
  std::printf("  ... and originated (AMI):  %8.0f /s   (target >= %.0f /s)  [%lld of %d]\n",
              static_cast<double>(originated) / originate_s, kTargetPerSecond,
              static_cast<long long>(originated), total);
}

void Latency(const omnibridge::testing::TempDir& dir, int offers) {
  Stack s = Start(dir, "latency");
  if (s.http == 0) {
    std::printf("latency: the router did not start\n");
    return;
  }
  omnibridge::testing::HostProcess::Options options;
  json::object cfg{{"allowedOrigins", json::array{OMNI_TEST_ORIGIN}},
                   {"cti",
                    {{"driver", "ami"},
                     {"ami",
                      {{"host", "127.0.0.1"},
                       {"port", s.ami},
                       {"username", "harmony"},
                       {"secret", "harmony-secret"}}}}},
                   {"agent",
                    {{"id", "1001"},
                     {"interfaces", json::array{"Local/1001@omnibridge-task/n"}},
                     {"queues", json::array{"digital"}}}}};
  options.config_json = json::serialize(cfg);
  omnibridge::testing::HostProcess host(options);
  host.Send(json::object{{"type", "hello"},
                         {"id", "h"},
                         {"protocol", 1},
                         {"extensionVersion", "bench"},
                         {"settings", json::object()}});
  for (int i = 0; i < 20; ++i) {
    auto f = host.ReadType("cti.status", absl::Seconds(5));
    if (!f.ok() || Str(f->if_contains("state")) == "up")
      break;
  }
  std::vector<double> ms;
  int n = 0;
  auto request = [&](const std::string& type, json::object extra) {
    extra["type"] = type;
    extra["id"] = absl::StrCat("q", ++n);
    host.Send(extra);
    return host.ReadReply(absl::Seconds(5));
  };
  for (int i = 0; i < offers; ++i) {
    const std::string body = absl::StrCat(R"({"id":"lat-)", i, R"(","channel":"chat"})");
    const auto t0 = Clock::now();
    HttpReply r = Http(s.http, "POST", "/v1/webhooks/bench",
                       {{"X-Omnibridge-Signature", Signature(kSecret, body)}}, body);
    if (r.status != 202)
      break;
    const std::string id = Str(r.json.if_contains("interactionId"));
    auto offer = host.ReadType("routing.offer", absl::Seconds(10));
    if (!offer.ok())
      break;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    request("routing.accept", {{"interactionId", id}});
    for (int k = 0; k < 20; ++k) {
      auto u = host.ReadType("interaction.update", absl::Seconds(5));
      if (!u.ok() || Str(u->at("interaction").as_object().if_contains("state")) == "connected")
        break;
    }
    request("routing.complete", {{"interactionId", id}});
    // Wrap-up is a pause with reason ACW until the agent is ready again.
    for (int k = 0; k < 20; ++k) {
      auto st = host.ReadType("agent.state", absl::Seconds(5));
      if (!st.ok() || Str(st->if_contains("state")) == "wrapup")
        break;
    }
    request("agent.setState", {{"state", "ready"}});
    for (int k = 0; k < 20; ++k) {
      auto st = host.ReadType("agent.state", absl::Seconds(5));
      if (!st.ok() || Str(st->if_contains("state")) == "ready")
        break;
    }
  }
  std::printf(
      "webhook -> routing.offer at the agent's host (%zu offers): p50 %.2f ms, p99 %.2f ms"
      "   (target p99 < 500 ms)\n",
      ms.size(), Percentile(ms, 0.5), Percentile(ms, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  const int total = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int connections = argc > 2 ? std::atoi(argv[2]) : 8;
  const int offers = argc > 3 ? std::atoi(argv[3]) : 100;
  omnibridge::testing::TempDir dir;
  if (offers > 0)
    Latency(dir, offers);
  Throughput(dir, total, connections);
  return 0;
}
