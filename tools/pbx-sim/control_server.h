// The control port (loopback only): newline-delimited JSON requests, one JSON reply line each.
// Tests and the demo use it to place calls, answer as an agent, and read what pbx-sim saw.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/json/value.hpp"

#include "action_log.h"
#include "ami_server.h"
#include "pbx.h"
#include "queue_log.h"

namespace omnibridge::pbxsim {

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& io, Pbx* pbx, AmiServer* ami, ActionLog* actions,
                QueueLog* queue_log);
  ~ControlServer();

  absl::StatusOr<uint16_t> Listen(const std::string& address, uint16_t port);
  void Stop();

  // One request line -> one reply object; usable without a socket.
  boost::json::value Handle(absl::string_view line);

 private:
  class Connection;
  void Accept();

  boost::asio::io_context& io_;
  Pbx* pbx_;
  AmiServer* ami_;
  ActionLog* actions_;
  QueueLog* queue_log_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace omnibridge::pbxsim
