// Helpers for the routing integration tests and benchmark: child processes that print their ports
// as a first JSON line (pbx-sim, the route mode), a blocking HTTP/1.1 client, pbx-sim's control
// port, and the webhook signature.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "boost/json/object.hpp"
#include "boost/process/child.hpp"
#include "boost/process/pipe.hpp"

namespace omnibridge::routing::testing {

// A child process whose first stdout line is JSON; killed (SIGKILL) on destruction.
class Child {
 public:
  Child(const std::string& exe, const std::vector<std::string>& args, bool quiet_stderr = true);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The first line, parsed (empty object when none came within 10 s).
  const boost::json::object& first_line() const { return first_; }

  bool running();
  void Kill();      // SIGKILL, reaped
  int Terminate();  // SIGTERM; the exit code (or -1 after 5 s)

 private:
  boost::process::pipe out_;
  std::unique_ptr<boost::process::child> child_;
  boost::json::object first_;
};

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
  boost::json::object json;  // the body parsed, when it is a JSON object
};

// One request on a fresh connection ("Connection: close").
HttpReply Http(int port, const std::string& method, const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               const std::string& body = "");

// "t=<now>,v1=<hmac>" for `body`, at `unix_seconds` (0 = now).
std::string Signature(const std::string& secret, const std::string& body, int64_t unix_seconds = 0);

// One control-port request; the reply (empty object on failure).
boost::json::object Control(int port, const boost::json::object& request);

// Polls `predicate` every 20 ms for at most `seconds`.
template <typename F>
bool WaitUntil(F&& predicate, double seconds = 10);

}  // namespace omnibridge::routing::testing

#include <chrono>
#include <thread>

template <typename F>
bool omnibridge::routing::testing::WaitUntil(F&& predicate, double seconds) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    if (predicate())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return predicate();
}
