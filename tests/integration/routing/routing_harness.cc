#include "integration/routing/routing_harness.h"

#include <chrono>
#include <ctime>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/process.hpp"

#include "routing/webhook.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

namespace omnibridge::routing::testing {
namespace bp = boost::process;
namespace json = boost::json;

namespace {

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until EOF (or `stop` says the bytes so far are enough), 10 s at most.
std::string ReadSome(int fd, bool (*stop)(const std::string&)) {
  std::string data;
  char buf[65536];
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    data.append(buf, static_cast<size_t>(n));
    if (stop != nullptr && stop(data))
      break;
  }
  return data;
}

}  // namespace

Child::Child(const std::string& exe, const std::vector<std::string>& args, bool quiet_stderr) {
  try {
    if (quiet_stderr) {
      child_ = std::make_unique<bp::child>(exe, bp::args(args), bp::std_out > out_,
                                           bp::std_err > bp::null, bp::std_in < bp::null);
    } else {
      child_ = std::make_unique<bp::child>(exe, bp::args(args), bp::std_out > out_,
                                           bp::std_in < bp::null);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot start %s: %s\n", exe.c_str(), e.what());
    return;
  }
  std::string line;
  const int fd = out_.native_source();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    char c;
    // Byte by byte: nothing after the first line is taken from the pipe.
    if (::read(fd, &c, 1) != 1)
      break;
    line.push_back(c);
  }
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (!ec && v.is_object())
    first_ = v.get_object();
}

Child::~Child() { Kill(); }

bool Child::running() { return child_ && child_->running(); }

void Child::Kill() {
  if (!child_)
    return;
  std::error_code ec;
  if (child_->running(ec)) {
    ::kill(child_->id(), SIGKILL);
  }
  child_->wait(ec);
  child_.reset();
}

int Child::Terminate() {
  if (!child_)
    return -1;
  ::kill(child_->id(), SIGTERM);
  std::error_code ec;
  if (!child_->wait_for(std::chrono::seconds(5), ec)) {
    Kill();
    return -1;
  }
  int code = child_->exit_code();
  child_.reset();
  return code;
}

HttpReply Http(int port, const std::string& method, const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& headers,
               const std::string& body) {
  HttpReply reply;
  int fd = ConnectLoopback(port);
  if (fd < 0)
    return reply;
  std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", "Connection: close\r\n");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    absl::StrAppend(&request, k, ": ", v, "\r\n");
    has_type |= k == "Content-Type";
  }
  if (!has_type && !body.empty())
    request += "Content-Type: application/json\r\n";
  absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n\r\n", body);
  WriteAll(fd, request);
  auto complete = [](const std::string& data) {
    const size_t head_end = data.find("\r\n\r\n");
    if (head_end == std::string::npos)
      return false;
    const std::string head = data.substr(0, head_end);
    size_t cl = head.find("content-length:");
    if (cl == std::string::npos)
      cl = head.find("Content-Length:");
    if (cl == std::string::npos)
      return false;
    int64_t length = 0;
    const size_t eol = head.find("\r\n", cl);
    std::string value =
        head.substr(cl + 15, eol == std::string::npos ? std::string::npos : eol - cl - 15);
    while (!value.empty() && value.front() == ' ')
      value.erase(0, 1);
    if (!absl::SimpleAtoi(value, &length))
      return false;
    return data.size() >= head_end + 4 + static_cast<size_t>(length);
  };
  std::string data = ReadSome(fd, +complete);
  ::close(fd);
  if (data.size() < 12 || !data.starts_with("HTTP/1.1 "))
    return reply;
  absl::SimpleAtoi(data.substr(9, 3), &reply.status);
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end != std::string::npos)
    reply.body = data.substr(head_end + 4);
  boost::system::error_code ec;
  json::value v = json::parse(reply.body, ec);
  if (!ec && v.is_object())
    reply.json = v.get_object();
  return reply;
}

std::string Signature(const std::string& secret, const std::string& body, int64_t unix_seconds) {
  const int64_t t = unix_seconds != 0 ? unix_seconds : static_cast<int64_t>(std::time(nullptr));
  return absl::StrCat("t=", t, ",v1=", HmacSha256Hex(secret, absl::StrCat(t, ".", body)));
}

json::object Control(int port, const json::object& request) {
  int fd = ConnectLoopback(port);
  if (fd < 0)
    return {};
  WriteAll(fd, json::serialize(request) + "\n");
  std::string data =
      ReadSome(fd, [](const std::string& d) { return d.find('\n') != std::string::npos; });
  ::close(fd);
  boost::system::error_code ec;
  json::value v = json::parse(data.substr(0, data.find('\n')), ec);
  return !ec && v.is_object() ? v.get_object() : json::object();
}

}  // namespace omnibridge::routing::testing
