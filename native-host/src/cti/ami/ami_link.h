// AmiLink: the Asterisk Manager Interface driver of cti::CtiLink.
//
// One long-lived AMI session over TCP or TLS on the host's event loop: banner, plain or
// MD5-challenge login, ActionID-correlated actions and EventLists, Ping keepalive, reconnect with
// exponential backoff and jitter, and after every (re)connect a wait for FullyBooted followed by a
// resync (QueueStatus + CoreShowChannels) bracketed by ResyncEvent. The driver always has a read
// pending (Asterisk disconnects slow readers after `writetimeout`) and never blocks the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"

#include "cti/cti_link.h"

namespace omnibridge::cti::ami {

// Mirrors the config keys `cti.ami.*` (the app maps config onto this struct); the fields after
// `secret_file` are tuning knobs with production defaults.
struct AmiLinkOptions {
  std::string host = "127.0.0.1";  // cti.ami.host
  uint16_t port = 5038;            // cti.ami.port (5039 is the usual TLS port)
  bool tls = false;                // cti.ami.tls
  std::string username;            // cti.ami.username
  std::string secret;              // cti.ami.secret
  std::string secret_file;         // cti.ami.secretFile: read at Create(), trailing newline dropped

  // Login with an MD5 challenge instead of sending the secret (only obfuscation: prefer TLS).
  bool md5_login = false;
  // TLS: verify the server's certificate against `tls_ca_file` (or the system store) and `host`.
  bool tls_verify = true;
  std::string tls_ca_file;

  // Dialplan the driver's commands rely on (shipped in docs/asterisk.md).
  std::string answer_context = "agent-answer";  // TaskAccept / Answer: Redirect to <ctx>,<agent>,1
  std::string dial_context = "from-internal";   // Dial: Originate into <ctx>,<number>,1
  std::string transfer_context = "from-internal";  // Transfer target context

  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration action_timeout = absl::Seconds(15);  // a response that never comes
  absl::Duration ping_interval = absl::Seconds(20);
  // Without FullyBooted (no "system" read permission) the resync starts after this wait anyway.
  absl::Duration fully_booted_wait = absl::Seconds(10);
  absl::Duration backoff_initial = absl::Milliseconds(500);
  absl::Duration backoff_max = absl::Seconds(30);
  size_t max_write_queue_bytes = 1 << 20;  // beyond it, commands fail with kResourceExhausted
};

class AmiLink final : public CtiLink {
 public:
  // Validates `options` (host, username, a secret or a readable secret file). `io` must outlive the
  // link and run on one thread; every callback runs there.
  static absl::StatusOr<std::unique_ptr<AmiLink>> Create(boost::asio::io_context& io,
                                                         AmiLinkOptions options);
  ~AmiLink() override;  // Stop()s.

  AmiLink(const AmiLink&) = delete;
  AmiLink& operator=(const AmiLink&) = delete;

  absl::Status Start(CtiEventSink* sink) override;
  void Stop() override;
  LinkStatus status() const override;
  const Capabilities& capabilities() const override;
  void Execute(const Command& command, Completion done) override;

  // Counters for tests and `doctor`.
  struct Stats {
    uint64_t connects = 0;      // TCP connections established
    uint64_t logins = 0;        // successful logins
    uint64_t resyncs = 0;       // completed resyncs
    uint64_t parse_errors = 0;  // dropped lines/packets
    uint64_t events = 0;        // AMI events received
    std::string banner;         // last banner seen
  };

  Stats stats() const;

 private:
  class Impl;
  explicit AmiLink(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace omnibridge::cti::ami
