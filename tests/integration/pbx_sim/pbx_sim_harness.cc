#include "pbx_sim_harness.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

namespace omnibridge::pbxsim::testing {
namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

std::string Packet::Get(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name)
      return v;
  }
  return "";
}

std::vector<std::string> Packet::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name)
      out.push_back(v);
  }
  return out;
}

bool Packet::Has(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name)
      return true;
  }
  return false;
}

std::vector<std::string> Packet::NameShape() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    std::string name = k;
    if (name.rfind("ChanVariable(", 0) == 0)
      name = "ChanVariable()";
    if (!out.empty() && out.back() == name)
      continue;
    out.push_back(name);
  }
  return out;
}

namespace {

Packet ParsePacket(const std::string& raw) {
  Packet p;
  p.raw = raw;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t end = raw.find("\r\n", pos);
    if (end == std::string::npos)
      end = raw.size();
    std::string line = raw.substr(pos, end - pos);
    size_t colon = line.find(": ");
    if (colon != std::string::npos) {
      p.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    } else if (!line.empty() && line.back() == ':') {
      p.headers.emplace_back(line.substr(0, line.size() - 1), "");
    }
    pos = end + 2;
  }
  return p;
}

}  // namespace

std::vector<Packet> SplitPackets(const std::string& bytes) {
  std::vector<Packet> out;
  size_t pos = 0;
  while (true) {
    size_t end = bytes.find("\r\n\r\n", pos);
    if (end == std::string::npos)
      break;
    out.push_back(ParsePacket(bytes.substr(pos, end - pos)));
    pos = end + 4;
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::set<std::vector<std::string>>> FixtureShapes(const std::string& file) {
  std::string bytes = ReadFile(file);
  size_t banner = bytes.find("\r\n");
  if (banner != std::string::npos)
    bytes = bytes.substr(banner + 2);
  std::map<std::string, std::set<std::vector<std::string>>> shapes;
  for (const Packet& p : SplitPackets(bytes)) {
    if (!p.Has("Event"))
      continue;
    shapes[p.Event()].insert(p.NameShape());
  }
  return shapes;
}

PbxSim::PbxSim(std::vector<std::string> extra_args) {
  std::vector<std::string> args = {"--ami-port",           "0", "--control-port", "0",
                                   "--auth-fail-delay-ms", "50"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  child_ = bp::child(PBX_SIM_PATH, bp::args(args), bp::std_out > out_);
  std::string line;
  if (std::getline(out_, line)) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (!ec && v.is_object()) {
      ami_port_ = static_cast<int>(v.as_object().at("ami").as_int64());
      control_port_ = static_cast<int>(v.as_object().at("control").as_int64());
    }
  }
}

PbxSim::~PbxSim() {
  if (control_fd_ >= 0)
    ::close(control_fd_);
  if (child_.valid() && child_.running()) {
    ::kill(child_.id(), SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (child_.running() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (child_.running())
      child_.terminate();
  }
  if (child_.valid()) {
    std::error_code ec;
    child_.wait(ec);
  }
}

bool PbxSim::running() { return child_.valid() && child_.running(); }

boost::json::object PbxSim::Control(const std::string& json_line) {
  if (control_fd_ < 0) {
    control_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(control_port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(control_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(control_fd_);
      control_fd_ = -1;
      return {};
    }
  }
  std::string req = json_line + "\n";
  if (::send(control_fd_, req.data(), req.size(), MSG_NOSIGNAL) < 0)
    return {};
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (control_buf_.find('\n') == std::string::npos && Clock::now() < deadline) {
    pollfd pfd{control_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0)
      continue;
    char buf[65536];
    ssize_t n = ::recv(control_fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return {};
    control_buf_.append(buf, static_cast<size_t>(n));
  }
  size_t nl = control_buf_.find('\n');
  if (nl == std::string::npos)
    return {};
  std::string line = control_buf_.substr(0, nl);
  control_buf_.erase(0, nl + 1);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object())
    return {};
  return v.as_object();
}

AmiClient::AmiClient(int port, int rcvbuf) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

AmiClient::~AmiClient() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool AmiClient::Fill(Clock::time_point deadline) {
  if (fd_ < 0 || eof_)
    return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0)
    return false;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
    return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string AmiClient::ReadBanner(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buf_.find("\r\n") == std::string::npos) {
    if (!Fill(deadline))
      return "";
  }
  size_t end = buf_.find("\r\n") + 2;
  std::string banner = buf_.substr(0, end);
  buf_.erase(0, end);
  return banner;
}

void AmiClient::SendRaw(const std::string& bytes) {
  if (fd_ >= 0)
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

void AmiClient::Send(const std::string& action, const Headers& headers) {
  std::string out = "Action: " + action + "\r\n";
  for (const auto& [k, v] : headers)
    out += k + ": " + v + "\r\n";
  out += "\r\n";
  SendRaw(out);
}

std::optional<Packet> AmiClient::Next(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buf_.find("\r\n\r\n") == std::string::npos) {
    if (!Fill(deadline))
      return std::nullopt;
  }
  size_t end = buf_.find("\r\n\r\n");
  Packet p = ParsePacket(buf_.substr(0, end));
  buf_.erase(0, end + 4);
  history_.push_back(p);
  return p;
}

std::optional<Packet> AmiClient::WaitFor(const std::function<bool(const Packet&)>& pred,
                                         std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto p = Next(left);
    if (!p)
      return std::nullopt;
    if (pred(*p))
      return p;
  }
  return std::nullopt;
}

std::optional<Packet> AmiClient::WaitForEvent(const std::string& event,
                                              std::chrono::milliseconds timeout) {
  return WaitFor([&](const Packet& p) { return p.Event() == event; }, timeout);
}

std::optional<Packet> AmiClient::WaitForResponse(const std::string& action_id,
                                                 std::chrono::milliseconds timeout) {
  return WaitFor(
      [&](const Packet& p) { return p.Has("Response") && p.Get("ActionID") == action_id; },
      timeout);
}

bool AmiClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_ && Clock::now() < deadline)
    Fill(deadline);
  return eof_;
}

bool AmiClient::Login(const std::string& user, const std::string& secret) {
  if (ReadBanner().empty())
    return false;
  Send("Login", {{"ActionID", "login-1"}, {"Username", user}, {"Secret", secret}});
  auto r = WaitForResponse("login-1");
  return r && r->Get("Response") == "Success";
}

}  // namespace omnibridge::pbxsim::testing
