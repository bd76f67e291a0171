// The AMI listener: banner, login (plain and MD5 challenge), per-session event masks and
// filters, the writetimeout-style cut-off of slow readers, and dispatch of PBX actions.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"

#include "action_log.h"
#include "base/clock.h"
#include "config.h"
#include "pbx.h"

namespace omnibridge::pbxsim {

struct AmiServerOptions {
  std::string banner_version = "11.0.0";  // Asterisk 22's AMI version
  absl::Duration auth_fail_delay = absl::Seconds(1);
  absl::Duration auth_timeout = absl::Seconds(30);
  // A write that cannot complete within this time disconnects the client (manager.conf
  // writetimeout, 100 ms by default in Asterisk).
  absl::Duration write_timeout = absl::Milliseconds(100);
  // Output queued for a client that does not read; past it the client is disconnected.
  size_t max_backlog_bytes = 4 << 20;
};

class AmiServer final : public EventSink {
 public:
  AmiServer(boost::asio::io_context& io, const SimConfig& config, const base::Clock* clock,
            ActionLog* action_log, AmiServerOptions options);
  ~AmiServer() override;

  void set_pbx(Pbx* pbx) { pbx_ = pbx; }

  // Binds and starts accepting; returns the bound port (port 0 = ephemeral).
  absl::StatusOr<uint16_t> Listen(const std::string& address, uint16_t port);
  void Stop();

  // EventSink: broadcast to every logged-in session whose mask and filters accept it.
  void Publish(const AmiMessage& event, absl::string_view event_class) override;

  // Quirk 13: until then queue actions are unknown and FullyBooted is withheld.
  void SetBooted(bool booted);

  bool booted() const { return booted_; }

  size_t DisconnectAll();
  void RefuseConnectionsFor(absl::Duration duration);

  size_t session_count() const { return sessions_.size(); }

 private:
  class Session;
  friend class Session;

  void Accept();
  void Remove(Session* session);

  void BeginAction() { ++action_depth_; }

  void EndAction();
  AmiMessage FullyBootedEvent() const;

  boost::asio::io_context& io_;
  const SimConfig& config_;
  const base::Clock* clock_;
  ActionLog* action_log_;
  AmiServerOptions options_;
  Pbx* pbx_ = nullptr;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;
  uint64_t next_session_id_ = 1;
  bool booted_ = true;
  absl::Time refuse_until_ = absl::InfinitePast();
  // While an action runs, its events wait so that its Response goes out first, as in Asterisk.
  int action_depth_ = 0;
  std::vector<std::pair<AmiMessage, std::string>> deferred_;
};

}  // namespace omnibridge::pbxsim
