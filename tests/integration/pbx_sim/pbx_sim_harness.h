// Test harness for the pbx-sim integration tests: starts the real binary on ephemeral ports and
// talks raw AMI and control-port JSON to it over loopback. The AMI reader here is deliberately
// independent of pbx-sim's own codec: it splits on CRLF CRLF and nothing else.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "boost/json.hpp"
#include "boost/process.hpp"

namespace omnibridge::pbxsim::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Packet {
  Headers headers;
  std::string raw;
  std::string Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  bool Has(const std::string& name) const;

  std::string Event() const { return Get("Event"); }

  // Header names in order, with runs of the same name (ChanVariable x N) collapsed to one.
  std::vector<std::string> NameShape() const;
};

// Splits a CRLF byte stream into packets; parses "Key: Value" lines.
std::vector<Packet> SplitPackets(const std::string& bytes);

// Per event name, every header-name shape it has in an asterisk-22 transcript (DialBegin of an
// Originate has no caller block, DialBegin of a queue has one). "ChanVariable(<channel>)" is
// normalised to "ChanVariable()".
std::map<std::string, std::set<std::vector<std::string>>> FixtureShapes(const std::string& file);
std::string ReadFile(const std::string& path);

class PbxSim {
 public:
  explicit PbxSim(std::vector<std::string> extra_args = {});
  ~PbxSim();

  int ami_port() const { return ami_port_; }

  int control_port() const { return control_port_; }

  // One control request; returns the reply object (empty object on transport failure).
  boost::json::object Control(const std::string& json_line);
  bool running();

 private:
  boost::process::ipstream out_;
  boost::process::child child_;
  int ami_port_ = 0;
  int control_port_ = 0;
  int control_fd_ = -1;
  std::string control_buf_;
};

class AmiClient {
 public:
  explicit AmiClient(int port, int rcvbuf = 0);
  ~AmiClient();

  bool connected() const { return fd_ >= 0; }

  // Reads the banner line (everything up to the first CRLF).
  std::string ReadBanner(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void SendRaw(const std::string& bytes);
  void Send(const std::string& action, const Headers& headers);
  // Next packet, or nullopt on timeout / connection closed.
  std::optional<Packet> Next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads packets until one satisfies `pred`; every packet read is appended to history().
  std::optional<Packet> WaitFor(const std::function<bool(const Packet&)>& pred,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::optional<Packet> WaitForEvent(const std::string& event,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::optional<Packet> WaitForResponse(
      const std::string& action_id, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the peer closed the connection within `timeout` (data before the close is read).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool Login(const std::string& user = "harmony", const std::string& secret = "harmony-secret");

  const std::vector<Packet>& history() const { return history_; }

  void ClearHistory() { history_.clear(); }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
  std::vector<Packet> history_;
};

}  // namespace omnibridge::pbxsim::testing
