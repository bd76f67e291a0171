// Foundation figures: start → hello reply, idle RSS, and ping echo throughput through the real
// binary over pipes, each beside its target and its ceiling (the same thing done by `cat`, a
// process that only copies its stdin to its stdout). Prints figures; asserts nothing.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "boost/json/serialize.hpp"

#include "integration/common/host_process.h"
#include <poll.h>
#include <unistd.h>

namespace {
using omnibridge::testing::FrameBytes;
using omnibridge::testing::HostProcess;
namespace json = boost::json;

constexpr char kCat[] = "/bin/cat";

HostProcess::Options Host() { return HostProcess::Options{}; }

HostProcess::Options Cat() {
  HostProcess::Options options;
  options.executable = kCat;
  options.args = {};
  return options;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// Reads exactly `n` bytes (or until EOF); returns bytes read.
size_t ReadExactly(int fd, size_t n) {
  std::vector<char> buffer(1 << 16);
  size_t total = 0;
  while (total < n) {
    ssize_t got = ::read(fd, buffer.data(), std::min(buffer.size(), n - total));
    if (got <= 0)
      break;
    total += static_cast<size_t>(got);
  }
  return total;
}

// Reads until `frames` pong frames arrived (other frames are skipped), or until nothing came for
// 5 s; returns the pongs counted.
size_t ReadFrames(int fd, size_t frames) {
  std::string buffer;
  std::vector<char> chunk(1 << 16);
  size_t done = 0;
  while (done < frames) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) {
      std::printf("  (stopped waiting: %zu of %zu pongs arrived)\n", done, frames);
      break;
    }
    ssize_t got = ::read(fd, chunk.data(), chunk.size());
    if (got <= 0)
      break;
    buffer.append(chunk.data(), static_cast<size_t>(got));
    size_t pos = 0;
    while (buffer.size() - pos >= 4) {
      uint32_t length;
      std::memcpy(&length, buffer.data() + pos, 4);
      if (buffer.size() - pos < 4 + length)
        break;
      if (buffer.compare(pos + 4, 14, R"({"type":"pong")") == 0)
        ++done;
      pos += 4 + length;
    }
    buffer.erase(0, pos);
  }
  return done;
}

double StartToFirstReplyMs(HostProcess::Options options, const std::string& hello) {
  absl::Time start = absl::Now();
  HostProcess process(std::move(options));
  process.WriteRaw(hello);
  auto reply = process.Read(absl::Seconds(10));
  double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  return reply.ok() ? ms : -1;
}

long RssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  }
  return -1;
}

struct Throughput {
  double frames_per_s;
  double mb_per_s;
};

// Streams `count` copies of `frame` through the process (a writer thread; this thread reads)
// and measures until the last reply arrives. For the host, replies are pongs; for cat, the same
// bytes come back.
Throughput Echo(HostProcess& process, const std::string& frame, size_t count, bool framed_replies) {
  absl::Time start = absl::Now();
  std::thread writer([&] {
    std::string batch;
    for (size_t i = 0; i < count; ++i) {
      batch += frame;
      if (batch.size() >= (1 << 16) || i + 1 == count) {
        process.WriteRaw(batch);
        batch.clear();
      }
    }
  });
  if (framed_replies) {
    ReadFrames(process.stdout_fd(), count);
  } else {
    ReadExactly(process.stdout_fd(), frame.size() * count);
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  writer.join();
  double bytes = static_cast<double>(frame.size() * count);
  return {static_cast<double>(count) / seconds, bytes / seconds / 1e6};
}

}  // namespace

int main() {
  std::printf("omnibridge-host foundation benchmark (%s)\n", OMNI_HOST_PATH);
  std::printf(
      "Run on one core (tools/bench uses taskset -c 0); release build for meaningful figures.\n\n");

  const std::string hello = FrameBytes(
      R"({"type":"hello","id":"1","protocol":1,"extensionVersion":"bench","settings":{}})");

  if (StartToFirstReplyMs(Host(), hello) < 0) {
    std::printf("the host did not answer hello: no figures (is %s built?)\n", OMNI_HOST_PATH);
    return 1;
  }

  // 1. start → hello reply
  std::vector<double> host_ms, cat_ms;
  for (int i = 0; i < 40; ++i) {
    host_ms.push_back(StartToFirstReplyMs(Host(), hello));
    cat_ms.push_back(StartToFirstReplyMs(Cat(), hello));
  }
  std::printf("%-44s %10s %10s %12s %12s\n", "figure", "measured", "target", "ceiling(cat)",
              "node.js ref");
  std::printf("%-44s %8.2f ms %7s ms %9.2f ms %9s ms\n", "start -> hello reply, p50",
              Percentile(host_ms, 0.5), "<= 5", Percentile(cat_ms, 0.5), "52");
  std::printf("%-44s %8.2f ms %7s ms %9.2f ms %9s\n", "start -> hello reply, p99",
              Percentile(host_ms, 0.99), "<= 5", Percentile(cat_ms, 0.99), "");

  // 2. idle RSS after the handshake
  {
    HostProcess host(Host());
    host.WriteRaw(hello);
    (void)host.ReadType("hello");
    // Without an agent configured the host then says why there is no CTI: not an echo.
    (void)host.ReadType("cti.status", absl::Seconds(2));
    HostProcess cat(Cat());
    cat.WriteRaw(hello);
    (void)cat.Read();
    absl::SleepFor(absl::Milliseconds(300));
    std::printf("%-44s %8.2f MB %7s MB %9.2f MB %9s MB\n", "idle RSS after hello",
                RssKb(host.pid()) / 1024.0, "<= 6", RssKb(cat.pid()) / 1024.0, "43");
  }

  // 3. ping echo throughput
  struct Size {
    const char* name;
    size_t payload;
    size_t count;
  } sizes[] = {
      {"100 B", 100, 200000}, {"10 KB", 10 * 1024, 20000}, {"1 MiB", 1024 * 1024 - 64, 200}};

  for (const Size& size : sizes) {
    std::string body = R"({"type":"ping","id":"b","payload":")";
    body += std::string(size.payload - std::min(size.payload, body.size() + 2), 'x');
    body += "\"}";
    std::string frame = FrameBytes(body);
    HostProcess host(Host());
    host.WriteRaw(hello);
    (void)host.ReadType("hello");
    // Without an agent configured the host then says why there is no CTI: not an echo.
    (void)host.ReadType("cti.status", absl::Seconds(2));
    Throughput h = Echo(host, frame, size.count, /*framed_replies=*/true);
    HostProcess cat(Cat());
    Throughput c = Echo(cat, frame, size.count, /*framed_replies=*/false);
    double ratio = h.mb_per_s / c.mb_per_s;
    std::printf(
        "echo %-7s %9.0f frames/s %8.1f MB/s  ratio to cat %5.2f (target >= 0.85%s; node.js 0.27)  "
        "cat: %8.1f MB/s\n",
        size.name, h.frames_per_s, h.mb_per_s, ratio,
        std::string(size.name) == "10 KB" ? "" : ", informative", c.mb_per_s);
  }
  return 0;
}
