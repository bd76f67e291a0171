// Connect API throughput: POST /v1/events over keep-alive loopback connections, the server on its
// own io_context thread (as in the host), raw-socket clients on other threads. Prints each figure
// beside its target; asserts nothing. Run from anywhere: it uses a temporary token directory.
//
// Target: >= 5,000 events/s on one connection and >= 10,000 events/s over four, in a release
// build. A softphone or CTI app posts a handful of events per call, so this is orders of
// magnitude above one agent's need; it keeps the Connect API from ever being the slow part of a
// pop (the PopFlow run it triggers is measured by tests/bench/popflow).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"

#include "base/log.h"
#include "connect/connect.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;
using omnibridge::connect::ConnectBackend;
using omnibridge::connect::ConnectEvent;
using omnibridge::connect::ConnectServer;

constexpr double kTargetOneConnection = 5'000;
constexpr double kTargetFourConnections = 10'000;

class CountingBackend : public ConnectBackend {
 public:
  absl::Status OnEvent(const ConnectEvent& event) override {
    ++events;
    return absl::OkStatus();
  }

  boost::json::array Interactions() const override { return {}; }

  uint64_t events = 0;  // loop thread only
};

// One blocking keep-alive connection; Post() sends a request and reads the whole response.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }

  ~RawClient() { ::close(fd_); }

  bool ok() const { return ok_; }

  // Returns the status code, 0 on error.
  int Post(const std::string& request) {
    size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return 0;
      sent += static_cast<size_t>(n);
    }
    for (;;) {
      size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t cl = buffer_.find("content-length: ");
        if (cl == std::string::npos || cl > head_end)
          cl = buffer_.find("Content-Length: ");
        size_t length = cl < head_end ? std::strtoul(buffer_.c_str() + cl + 16, nullptr, 10) : 0;
        size_t total = head_end + 4 + length;
        if (buffer_.size() >= total) {
          int status = std::atoi(buffer_.c_str() + 9);
          buffer_.erase(0, total);
          return status;
        }
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        return 0;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string buffer_;
};

struct Result {
  uint64_t events = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_us;
};

Result Run(uint16_t port, const std::string& request, int connections, double seconds) {
  std::atomic<uint64_t> events{0}, errors{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(connections));
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      RawClient client(port);
      if (!client.ok()) {
        ++errors;
        return;
      }
      while (Clock::now() < deadline) {
        auto t0 = Clock::now();
        int status = client.Post(request);
        auto t1 = Clock::now();
        if (status == 202) {
          ++events;
          latencies[static_cast<size_t>(c)].push_back(
              std::chrono::duration<double, std::micro>(t1 - t0).count());
        } else {
          ++errors;
          return;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  Result r;
  r.events = events;
  r.errors = errors;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& l : latencies)
    r.latencies_us.insert(r.latencies_us.end(), l.begin(), l.end());
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  return r;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
}

void Print(const char* name, const Result& r, double target) {
  double rate = static_cast<double>(r.events) / r.seconds;
  std::printf("%-40s %10.0f events/s  (p50 %6.0f us, p99 %6.0f us, %llu errors)\n", name, rate,
              Percentile(r.latencies_us, 0.5), Percentile(r.latencies_us, 0.99),
              static_cast<unsigned long long>(r.errors));
  std::printf("%-40s %10.0f events/s  target (>=) -> %s\n", "", target,
              rate >= target ? "met" : "NOT met");
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  omnibridge::base::SetLogToStderr(false);
  char templ[] = "/tmp/omni-connect-bench-XXXXXX";
  if (::mkdtemp(templ) == nullptr)
    return 1;
  std::string dir = templ;

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  CountingBackend backend;
  omnibridge::connect::ConnectOptions options;
  options.port = 0;
  options.token_dir = dir;
  auto server = ConnectServer::Create(io, options, &backend);
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::thread loop([&] { io.run(); });
  uint16_t port = (*server)->port();
  std::string token;
  std::ifstream(dir + "/connect-token") >> token;

  std::string body =
      R"({"event":"offered","interaction":{"interactionId":"bench-1","channel":"voice",)"
      R"("direction":"inbound","state":"offered","ani":"+15550100","callerName":"Ada Lovelace",)"
      R"("dnis":"100","queue":"vip","data":{"account":"42","priority":1}}})";
  std::string request =
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;

  std::printf(
      "Connect API: POST /v1/events (%zu-byte body) over keep-alive loopback, %.1f s each\n",
      body.size(), seconds);
  Print("1 connection", Run(port, request, 1, seconds), kTargetOneConnection);
  Print("4 connections", Run(port, request, 4, seconds), kTargetFourConnections);

  boost::asio::post(io, [&] { server->reset(); });
  guard.reset();
  loop.join();
  std::filesystem::remove_all(dir);
  return 0;
}
