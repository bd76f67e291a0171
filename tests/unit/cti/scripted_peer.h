// An in-process AMI peer for driver tests: listens on 127.0.0.1 port 0, speaks from scripts and
// the recorded Asterisk 22 transcripts. Deliberately naive (string splitting, no shared parser), so
// it does not share the driver's bugs.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"

#include "cti/ami/ami_protocol.h"
#include "unit/cti/fixture_util.h"

namespace omnibridge::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One client action as received.
struct Action {
  std::map<std::string, std::string> headers;  // last value wins; enough for tests

  std::string Get(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};

class ScriptedPeer {
 public:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}

    tcp::socket socket;
    std::string inbox;
    char buf[4096];
    std::deque<std::string> outbox;
    bool writing = false;
    bool close_when_flushed = false;
  };

  // What the peer does: defaults model a healthy Asterisk 22.
  bool send_fully_booted = true;
  bool answer_pings = true;
  bool accept_login = true;
  std::string secret = "harmony-secret";
  std::string challenge = "997509468";
  // Extra server packets sent in the middle of the QueueStatus list (interleaving).
  std::string interleave_in_queue_status;
  // CoreShowChannel items (without ActionID; it is added).
  std::vector<std::string> channels;

  explicit ScriptedPeer(asio::io_context& io) : io_(io), acceptor_(io) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
  }

  uint16_t port() const { return port_; }

  const std::vector<Action>& actions() const { return actions_; }

  int connections() const { return connections_; }

  std::vector<std::string> ActionNames() const {
    std::vector<std::string> out;
    for (const auto& a : actions_)
      out.push_back(a.Get("Action"));
    return out;
  }

  void Push(const std::string& bytes) {
    for (auto& c : conns_)
      Send(c, bytes);
  }

  void CloseAll() {
    for (auto& c : conns_) {
      boost::system::error_code ec;
      c->socket.close(ec);
    }
    conns_.clear();
  }

  void StopListening() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void Accept() {
    auto conn = std::make_shared<Conn>(io_);
    acceptor_.async_accept(conn->socket, [this, conn](boost::system::error_code ec) {
      if (ec)
        return;
      ++connections_;
      conns_.push_back(conn);
      Send(conn, "Asterisk Call Manager/11.0.0\r\n");
      Read(conn);
      Accept();
    });
  }

  void Read(std::shared_ptr<Conn> conn) {
    conn->socket.async_read_some(
        asio::buffer(conn->buf), [this, conn](boost::system::error_code ec, size_t n) {
          if (ec)
            return;
          conn->inbox.append(conn->buf, n);
          size_t end;
          while ((end = conn->inbox.find("\r\n\r\n")) != std::string::npos) {
            std::string packet = conn->inbox.substr(0, end);
            conn->inbox.erase(0, end + 4);
            Action a;
            size_t pos = 0;
            while (pos < packet.size()) {
              size_t eol = packet.find("\r\n", pos);
              if (eol == std::string::npos)
                eol = packet.size();
              std::string line = packet.substr(pos, eol - pos);
              size_t colon = line.find(": ");
              if (colon != std::string::npos)
                a.headers[line.substr(0, colon)] = line.substr(colon + 2);
              pos = eol + 2;
            }
            actions_.push_back(a);
            Handle(conn, a);
            if (!conn->socket.is_open())
              return;
          }
          Read(conn);
        });
  }

  static std::string Response(const std::string& id, const std::string& rest) {
    return "Response: Success\r\nActionID: " + id + "\r\n" + rest + "\r\n";
  }

  void Handle(const std::shared_ptr<Conn>& conn, const Action& a) {
    const std::string name = a.Get("Action");
    const std::string id = a.Get("ActionID");
    if (name == "Challenge") {
      Send(conn, Response(id, "Challenge: " + challenge + "\r\n"));
    } else if (name == "Login") {
      const bool ok =
          accept_login &&
          (a.Get("AuthType") == "MD5" ? a.Get("Key") == cti::ami::Md5LoginKey(challenge, secret)
                                      : a.Get("Secret") == secret);
      if (!ok) {
        Send(conn,
             "Response: Error\r\nActionID: " + id + "\r\nMessage: Authentication failed\r\n\r\n");
        return Close(conn);
      }
      Send(conn, Response(id, "Message: Authentication accepted\r\n"));
      if (send_fully_booted) {
        Send(conn,
             "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nLastReload: 5\r\n"
             "Status: Fully Booted\r\n\r\n");
      }
    } else if (name == "Ping") {
      if (answer_pings)
        Send(conn, Response(id, "Ping: Pong\r\nTimestamp: 1795535033.0\r\n"));
    } else if (name == "QueueStatus") {
      // The recorded list, re-stamped with this ActionID, with live events slipped in.
      const std::string t = ReadFixture("asterisk-22/transcript-queuestatus.txt");
      const size_t begin = t.find("Response: Success\r\nActionID: queuestatus-2");
      const size_t end =
          t.find("ListItems: 6\r\n\r\n") + std::string("ListItems: 6\r\n\r\n").size();
      std::string list = t.substr(begin, end - begin);
      size_t p;
      while ((p = list.find("queuestatus-2")) != std::string::npos)
        list.replace(p, 13, id);
      const size_t second_item =
          list.find("Event: QueueMember\r\n", list.find("Event: QueueMember\r\n") + 1);
      list.insert(second_item, interleave_in_queue_status);
      Send(conn, list);
    } else if (name == "CoreShowChannels") {
      std::string out = "Response: Success\r\nActionID: " + id +
                        "\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n";
      for (const std::string& c : channels) {
        out += "Event: CoreShowChannel\r\nActionID: " + id + "\r\n" + c + "\r\n";
      }
      out += "Event: CoreShowChannelsComplete\r\nActionID: " + id +
             "\r\nEventList: Complete\r\nListItems: " + std::to_string(channels.size()) +
             "\r\n\r\n";
      Send(conn, out);
    } else if (name == "QueuePause") {
      if (a.Get("Interface").find("nobody") != std::string::npos) {
        Send(conn,
             "Response: Error\r\nActionID: " + id + "\r\nMessage: Interface not found\r\n\r\n");
        return;
      }
      const bool paused = a.Get("Paused") == "true";
      Send(conn, Response(id, std::string("Message: Interface ") +
                                  (paused ? "paused" : "unpaused") + " successfully\r\n"));
      Send(conn,
           "Event: QueueMemberPause\r\nPrivilege: agent,all\r\nQueue: support\r\n"
           "MemberName: Agent/1001\r\nInterface: " +
               a.Get("Interface") + "\r\nStatus: 1\r\nPaused: " + (paused ? "1" : "0") +
               "\r\nPausedReason: " + (paused ? a.Get("Reason") : "") + "\r\n\r\n");
    } else if (name == "Redirect" || name == "Hangup") {
      Send(conn, Response(id, "Message: Redirect successful\r\n"));
    } else if (name == "Logoff") {
      Send(conn, "Response: Goodbye\r\nActionID: " + id + "\r\n\r\n");
      Close(conn);
    } else {
      Send(conn,
           "Response: Error\r\nActionID: " + id + "\r\nMessage: Invalid/unknown command\r\n\r\n");
    }
  }

  void Close(const std::shared_ptr<Conn>& conn) {
    // Let queued writes finish first, as Asterisk does.
    conn->close_when_flushed = true;
    Flush(conn);
  }

  void Send(const std::shared_ptr<Conn>& conn, std::string bytes) {
    conn->outbox.push_back(std::move(bytes));
    Flush(conn);
  }

  void Flush(const std::shared_ptr<Conn>& conn) {
    if (conn->writing || !conn->socket.is_open())
      return;
    if (conn->outbox.empty()) {
      if (conn->close_when_flushed) {
        boost::system::error_code ec;
        conn->socket.shutdown(tcp::socket::shutdown_both, ec);
        conn->socket.close(ec);
      }
      return;
    }
    conn->writing = true;
    asio::async_write(conn->socket, asio::buffer(conn->outbox.front()),
                      [this, conn](boost::system::error_code ec, size_t) {
                        conn->writing = false;
                        if (ec)
                          return;
                        conn->outbox.pop_front();
                        Flush(conn);
                      });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int connections_ = 0;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<Action> actions_;
};

}  // namespace omnibridge::testing
