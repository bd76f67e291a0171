// Latency from pbx-sim writing an AMI event to the host's frame leaving its stdout, over 1000
// calls: the real host (started as a browser starts it) against pbx-sim on loopback. A call is
// placed through pbx-sim's control port; its AgentCalled event is written while the control reply
// is on its way, so "control request sent → offered frame read" bounds the event → frame latency
// from above (it also contains pbx-sim's own work). Prints figures; asserts nothing.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/process.hpp"

#include "integration/common/host_process.h"
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
namespace bp = boost::process;
namespace json = boost::json;
using omnibridge::testing::HostProcess;

// One request line to the control port, one reply line back.
std::string Control(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string line = request + "\n";
  (void)::write(fd, line.data(), line.size());
  std::string reply;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n')
    reply.push_back(c);
  ::close(fd);
  return reply;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 1000;
  bp::ipstream out;
  bp::child sim(OMNI_PBX_SIM_PATH, "--ami-port", "0", "--control-port", "0", bp::std_out > out,
                bp::std_err > bp::null);
  std::string first;
  std::getline(out, first);
  json::value ports = json::parse(first);
  int ami = static_cast<int>(ports.at("ami").as_int64());
  int control = static_cast<int>(ports.at("control").as_int64());

  HostProcess::Options options;
  options.config_json = std::string(R"({"allowedOrigins": [")") + OMNI_TEST_ORIGIN +
                        R"("], "cti": {"ami": {"host": "127.0.0.1", "port": )" +
                        std::to_string(ami) +
                        R"(, "username": "harmony", "secret": "harmony-secret"}},
      "agent": {"id": "1001", "interfaces": ["Local/1001@agents/n", "Local/1001@omnibridge-task/n"],
                "queues": ["support"]}, "connect": {"port": 1}})";
  HostProcess host(options);
  host.Send(
      json::object{{"type", "hello"}, {"id", "1"}, {"protocol", 1}, {"settings", json::object()}});
  // Wait for the CTI link to be up.
  for (absl::Time end = absl::Now() + absl::Seconds(20); absl::Now() < end;) {
    auto frame = host.ReadType("cti.status", absl::Seconds(20));
    if (!frame.ok() || (*frame)["state"] == "up")
      break;
  }

  std::vector<double> latencies_ms;
  for (int i = 0; i < calls; ++i) {
    absl::Time sent = absl::Now();
    std::string reply =
        Control(control, R"({"cmd":"call","from":"+1555)" + std::to_string(1000000 + i) +
                             R"(","name":"Bench","queue":"support"})");
    auto offered = host.ReadType("interaction.update", absl::Seconds(10));
    absl::Time got = absl::Now();
    if (!offered.ok() || reply.empty()) {
      std::printf("call %d: no offered frame (%s)\n", i,
                  std::string(offered.status().message()).c_str());
      break;
    }
    latencies_ms.push_back(absl::ToDoubleMilliseconds(got - sent));
    json::value r = json::parse(reply);
    Control(control,
            R"({"cmd":"hangup","linkedid":")" + std::string(r.at("linkedid").as_string()) + "\"}");
    // Drain the frames of the call's end before the next one.
    for (int k = 0; k < 20; ++k) {
      auto frame = host.Read(absl::Milliseconds(30));
      if (!frame.ok())
        break;
    }
  }
  sim.terminate();
  if (latencies_ms.empty())
    return 1;
  std::printf(
      "AMI event -> interaction frame on the host's stdout, %zu calls (upper bound: includes "
      "pbx-sim)\n",
      latencies_ms.size());
  std::printf("  p50 %.2f ms   p99 %.2f ms   max %.2f ms   (end-to-end pop target <= 15 ms p99)\n",
              Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99),
              *std::max_element(latencies_ms.begin(), latencies_ms.end()));
  return 0;
}
