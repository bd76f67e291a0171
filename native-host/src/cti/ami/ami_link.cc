#include "cti/ami/ami_link.h"

#include <array>
#include <chrono>
#include <deque>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include <openssl/ssl.h>

#include "base/log.h"
#include "cti/ami/ami_protocol.h"
#include "cti/text_util.h"

namespace omnibridge::cti::ami {
namespace {

namespace asio = boost::asio;
using text::Av;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using boost::system::error_code;

SteadyClock::duration ToChrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

constexpr char kDriver[] = "ami";

Capabilities AmiCapabilities() {
  Capabilities c;
  c.queue_login = true;
  c.pause_with_reason = true;
  c.dial = true;
  c.hangup = true;
  c.blind_transfer = true;
  c.attended_transfer = true;
  c.hold = false;   // AMI has no Hold action (research notes §1.8): reported, not faked.
  c.answer = true;  // Redirect of a Local member leg (reference dialplan); phones answer themselves
  c.task_routing = true;
  return c;
}

// Digital routing (DESIGN.md): the dialplan context of virtual calls and of digital members.
constexpr char kTaskContext[] = "omnibridge-task";
// Asterisk reads at most 1024 bytes per AMI line, line end included.
constexpr size_t kMaxAmiLine = 1024;

// Percent-encodes all but RFC 3986 unreserved characters: Originate splits Variable values at
// commas, so OB_CRM_URL, OB_SUBJECT and OB_CUSTOMER travel encoded (readers decode them).
std::string PercentEncode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// Ids that end up in channel names, ChannelIds and unencoded variables.
bool IsPlainToken(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_'))
      return false;
  }
  return true;
}

// Maps an AMI "Response: Error" onto a canonical status.
absl::Status ErrorFromResponse(const AmiMessage& response) {
  std::string_view message = response.Get("Message");
  std::string text =
      absl::StrCat("Asterisk: ", message.empty() ? absl::string_view("error") : Av(message));
  if (text::ContainsIgnoreCase(message, "not found") ||
      text::ContainsIgnoreCase(message, "no such") ||
      text::ContainsIgnoreCase(message, "not there")) {
    return absl::NotFoundError(text);
  }
  if (text::ContainsIgnoreCase(message, "permission denied")) {
    return absl::PermissionDeniedError(text);
  }
  return absl::FailedPreconditionError(text);
}

}  // namespace

class AmiLink::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, AmiLinkOptions options)
      : io_(io),
        options_(std::move(options)),
        capabilities_(AmiCapabilities()),
        resolver_(io),
        retry_timer_(io),
        tick_timer_(io),
        rng_(std::random_device{}()) {
    status_.driver = kDriver;
    status_.state = LinkState::kDown;
    status_.detail = "not started";
  }

  absl::Status Start(CtiEventSink* sink) {
    if (started_)
      return absl::FailedPreconditionError("AMI link already started");
    if (sink == nullptr)
      return absl::InvalidArgumentError("AMI link needs an event sink");
    started_ = true;
    sink_ = sink;
    Connect();
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_)
      return;
    stopped_ = true;
    Close(absl::AbortedError("CTI link stopped"));
    retry_timer_.cancel();
    tick_timer_.cancel();
    resolver_.cancel();
    sink_ = nullptr;
  }

  const LinkStatus& status() const { return status_; }

  const Capabilities& capabilities() const { return capabilities_; }

  const Stats& stats() const { return stats_; }

  void Execute(const Command& command, Completion done);

 private:
  // One TCP (+TLS) connection. Handlers hold it by shared_ptr so a closed connection's late
  // handlers find it alive and see it is no longer current.
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io), connect_timer(io) {}

    tcp::socket socket;
    std::optional<asio::ssl::stream<tcp::socket&>> tls;
    asio::steady_timer connect_timer;
    std::deque<std::string> write_queue;
    size_t write_queue_bytes = 0;
    bool writing = false;
    bool open = true;
  };

  enum class Phase { kIdle, kConnecting, kBanner, kLogin, kWaitBoot, kResync, kUp };

  // An action waiting for its Response (and, for lists, its items and *Complete event).
  struct Pending {
    bool list = false;
    bool essential = false;  // its failure means the session is unusable (login, resync, ping)
    SteadyClock::time_point deadline;
    std::function<void(const AmiMessage&)> on_item;
    // Gets OK + the response (or the list's completion event), or an error and nullptr.
    absl::AnyInvocable<void(absl::Status, const AmiMessage*)> done;
  };

  void Connect();
  void OnConnected(const std::shared_ptr<Conn>& conn);
  void StartSession(const std::shared_ptr<Conn>& conn);
  void Read(const std::shared_ptr<Conn>& conn);
  void OnBytes(std::string_view bytes);
  void OnMessage(const AmiMessage& message);
  void OnEventMessage(const AmiMessage& message);
  void Login();
  void SendLogin(std::string_view challenge);
  void OnLoggedIn();
  void BeginResync();
  void FinishResync();
  void Tick();
  void ScheduleTick();
  void Fail(std::string detail);
  void Close(const absl::Status& why);
  void SetStatus(LinkState state, std::string detail);
  absl::Status Send(const AmiAction& action, Pending pending);
  void Flush(const std::shared_ptr<Conn>& conn);

  void TranslateEventSnapshot(const AmiMessage& item) {
    TranslateEvent(item, /*snapshot=*/true, [this](const CtiEvent& e) { Emit(e); });
  }

  void Emit(const CtiEvent& event) {
    if (sink_ != nullptr)
      sink_->OnEvent(event);
  }

  template <typename F>
  void Post(F&& f) {
    asio::post(io_, std::forward<F>(f));
  }

  asio::io_context& io_;
  const AmiLinkOptions options_;
  const Capabilities capabilities_;
  CtiEventSink* sink_ = nullptr;
  bool started_ = false;
  bool stopped_ = false;
  LinkStatus status_;
  Stats stats_;

  tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  asio::steady_timer tick_timer_;
  bool tick_armed_ = false;
  std::unique_ptr<asio::ssl::context> ssl_context_;
  std::shared_ptr<Conn> conn_;
  std::array<char, 64 * 1024> read_buffer_;
  AmiParser parser_;
  Phase phase_ = Phase::kIdle;

  uint64_t session_ = 0;  // connection attempts, part of every ActionID
  uint64_t next_action_ = 1;
  absl::flat_hash_map<std::string, Pending> pending_;
  int resync_lists_left_ = 0;
  bool fully_booted_ = false;
  SteadyClock::time_point boot_wait_until_;
  SteadyClock::time_point last_ping_;
  std::optional<absl::Time> platform_boot_;  // now − Uptime at the last FullyBooted
  bool platform_restarted_ = true;
  int backoff_attempt_ = 0;
  std::mt19937_64 rng_;
};

// ------------------------------------------------------------------------------- connection

void AmiLink::Impl::Connect() {
  if (stopped_)
    return;
  ++session_;
  phase_ = Phase::kConnecting;
  fully_booted_ = false;
  SetStatus(LinkState::kConnecting, "");
  auto self = shared_from_this();
  auto conn = std::make_shared<Conn>(io_);
  conn_ = conn;
  conn->connect_timer.expires_after(ToChrono(options_.connect_timeout));
  conn->connect_timer.async_wait([self, conn](error_code ec) {
    if (ec || conn != self->conn_ || self->phase_ != Phase::kConnecting)
      return;
    self->Fail("connection timed out");
  });
  resolver_.async_resolve(
      options_.host, std::to_string(options_.port),
      [self, conn](error_code ec, tcp::resolver::results_type results) {
        if (conn != self->conn_)
          return;
        if (ec)
          return self->Fail(
              absl::StrCat("cannot resolve ", self->options_.host, ": ", ec.message()));
        asio::async_connect(
            conn->socket, results, [self, conn](error_code ec, const tcp::endpoint&) {
              if (conn != self->conn_)
                return;
              if (ec) {
                return self->Fail(absl::StrCat("cannot connect to ", self->options_.host, ":",
                                               self->options_.port, ": ", ec.message()));
              }
              self->OnConnected(conn);
            });
      });
}

void AmiLink::Impl::OnConnected(const std::shared_ptr<Conn>& conn) {
  ++stats_.connects;
  error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  conn->socket.set_option(asio::socket_base::keep_alive(true), ignored);
  if (!options_.tls)
    return StartSession(conn);

  if (!ssl_context_) {
    ssl_context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ssl_context_->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                              asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    error_code ec;
    if (options_.tls_verify) {
      if (!options_.tls_ca_file.empty()) {
        ssl_context_->load_verify_file(options_.tls_ca_file, ec);
      } else {
        ssl_context_->set_default_verify_paths(ec);
      }
      if (ec) {
        return Fail(absl::StrCat("TLS trust store unusable: ", ec.message()));
      }
      ssl_context_->set_verify_mode(asio::ssl::verify_peer);
    } else {
      ssl_context_->set_verify_mode(asio::ssl::verify_none);
    }
  }
  conn->tls.emplace(conn->socket, *ssl_context_);
  if (options_.tls_verify) {
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(options_.host));
  }
  // SNI, for servers behind a TLS proxy.
  SSL_set_tlsext_host_name(conn->tls->native_handle(), options_.host.c_str());
  auto self = shared_from_this();
  conn->tls->async_handshake(asio::ssl::stream_base::client, [self, conn](error_code ec) {
    if (conn != self->conn_)
      return;
    if (ec)
      return self->Fail(absl::StrCat("TLS handshake failed: ", ec.message()));
    self->StartSession(conn);
  });
}

void AmiLink::Impl::StartSession(const std::shared_ptr<Conn>& conn) {
  conn->connect_timer.cancel();
  phase_ = Phase::kBanner;
  parser_.Reset(/*expect_banner=*/true);
  last_ping_ = SteadyClock::now();
  // A peer that never sends its banner is caught by the login's deadline below.
  boot_wait_until_ = SteadyClock::now() + ToChrono(options_.action_timeout);
  Read(conn);
  ScheduleTick();
}

void AmiLink::Impl::Read(const std::shared_ptr<Conn>& conn) {
  auto self = shared_from_this();
  auto on_read = [self, conn](error_code ec, size_t n) {
    if (conn != self->conn_)
      return;
    if (ec) {
      return self->Fail(ec == asio::error::eof ? std::string("Asterisk closed the connection")
                                               : absl::StrCat("read failed: ", ec.message()));
    }
    self->OnBytes(std::string_view(self->read_buffer_.data(), n));
    // Handlers above may have failed the connection or stopped the link.
    if (conn == self->conn_)
      self->Read(conn);
  };
  if (conn->tls) {
    conn->tls->async_read_some(asio::buffer(read_buffer_), std::move(on_read));
  } else {
    conn->socket.async_read_some(asio::buffer(read_buffer_), std::move(on_read));
  }
}

void AmiLink::Impl::OnBytes(std::string_view bytes) {
  auto conn = conn_;
  parser_.Feed(
      bytes,
      [&](const AmiMessage& message) {
        if (conn == conn_)
          OnMessage(message);
      },
      [&](const absl::Status& error) {
        ++stats_.parse_errors;
        OMNI_LOG(kWarning, "ami", error.message());
      });
}

void AmiLink::Impl::OnMessage(const AmiMessage& message) {
  if (message.is_banner()) {
    stats_.banner = std::string(message.banner());
    OMNI_LOG(kInfo, "ami", "connected to ", stats_.banner);
    if (phase_ == Phase::kBanner)
      Login();
    return;
  }
  if (message.Has("Event"))
    return OnEventMessage(message);

  std::optional<std::string_view> response = message.Find("Response");
  if (!response)
    return;
  auto it = pending_.find(Av(message.Get("ActionID")));
  if (it == pending_.end())
    return;  // an answer to nobody (timed out earlier): ignore
  Pending& pending = it->second;
  const bool ok = text::EqualsIgnoreCase(*response, "Success") ||
                  text::EqualsIgnoreCase(*response, "Follows") ||
                  text::EqualsIgnoreCase(*response, "Goodbye");
  if (pending.list && ok) {
    // Items and a *Complete event follow (Asterisk 11 sends no "EventList: start": same thing).
    return;
  }
  Pending done = std::move(pending);
  pending_.erase(it);
  if (ok) {
    done.done(absl::OkStatus(), &message);
  } else {
    done.done(ErrorFromResponse(message), nullptr);
  }
}

void AmiLink::Impl::OnEventMessage(const AmiMessage& message) {
  ++stats_.events;
  // List items carry the ActionID of their list action.
  if (std::optional<std::string_view> id = message.Find("ActionID")) {
    auto it = pending_.find(Av(*id));
    if (it != pending_.end() && it->second.list) {
      const std::string_view name = message.Get("Event");
      if (text::EqualsIgnoreCase(message.Get("EventList"), "Complete") ||
          text::EndsWithIgnoreCase(name, "Complete")) {
        Pending done = std::move(it->second);
        pending_.erase(it);
        done.done(absl::OkStatus(), &message);
      } else if (it->second.on_item) {
        it->second.on_item(message);
      }
      return;
    }
  }
  const std::string_view name = message.Get("Event");
  if (text::EqualsIgnoreCase(name, "FullyBooted")) {
    fully_booted_ = true;
    int64_t uptime = 0;
    if (absl::SimpleAtoi(Av(message.Get("Uptime")), &uptime)) {
      const absl::Time boot = absl::Now() - absl::Seconds(uptime);
      // A restart moves the boot instant; allow for clock jitter and Uptime's 1 s resolution.
      platform_restarted_ = !platform_boot_.has_value() ||
                            absl::AbsDuration(boot - *platform_boot_) > absl::Seconds(2);
      platform_boot_ = boot;
    } else {
      platform_restarted_ = true;
    }
    if (phase_ == Phase::kWaitBoot)
      BeginResync();
    return;
  }
  if (text::EqualsIgnoreCase(name, "Shutdown")) {
    OMNI_LOG(kInfo, "ami", "Asterisk is shutting down");
    return;
  }
  if (phase_ < Phase::kWaitBoot)
    return;
  TranslateEvent(message, /*snapshot=*/false, [this](const CtiEvent& e) { Emit(e); });
}

// ------------------------------------------------------------------------------------ login

void AmiLink::Impl::Login() {
  phase_ = Phase::kLogin;
  auto self = shared_from_this();
  if (!options_.md5_login)
    return SendLogin("");
  AmiAction challenge{"Challenge", {}};
  challenge.Set("AuthType", "MD5");
  Pending pending;
  pending.essential = true;
  pending.done = [self](absl::Status status, const AmiMessage* response) {
    if (!status.ok())
      return self->Fail(absl::StrCat("MD5 challenge refused: ", status.message()));
    self->SendLogin(response->Get("Challenge"));
  };
  (void)Send(challenge, std::move(pending));
}

void AmiLink::Impl::SendLogin(std::string_view challenge) {
  AmiAction login{"Login", {}};
  login.Set("Username", options_.username);
  if (options_.md5_login) {
    login.Set("AuthType", "MD5");
    login.Set("Key", Md5LoginKey(challenge, options_.secret));
  } else {
    login.Set("Secret", options_.secret);
  }
  login.Set("Events", "on");
  auto self = shared_from_this();
  Pending pending;
  pending.essential = true;
  pending.done = [self](absl::Status status, const AmiMessage*) {
    if (!status.ok()) {
      // Asterisk closes the session after a failed login; say why rather than "closed".
      return self->Fail(absl::StrCat("login failed: ", status.message()));
    }
    self->OnLoggedIn();
  };
  (void)Send(login, std::move(pending));
}

void AmiLink::Impl::OnLoggedIn() {
  ++stats_.logins;
  OMNI_LOG(kInfo, "ami", "logged in as ", options_.username);
  phase_ = Phase::kWaitBoot;
  if (fully_booted_)
    return BeginResync();
  boot_wait_until_ = SteadyClock::now() + ToChrono(options_.fully_booted_wait);
}

// ----------------------------------------------------------------------------------- resync

void AmiLink::Impl::BeginResync() {
  phase_ = Phase::kResync;
  resync_lists_left_ = 2;
  ResyncEvent begin;
  begin.kind = ResyncEvent::Kind::kBegin;
  begin.platform_restarted = platform_restarted_;
  Emit(begin);
  auto self = shared_from_this();
  for (const char* name : {"QueueStatus", "CoreShowChannels"}) {
    Pending pending;
    pending.list = true;
    pending.essential = true;
    pending.on_item = [self](const AmiMessage& item) { self->TranslateEventSnapshot(item); };
    pending.done = [self, name](absl::Status status, const AmiMessage*) {
      if (!status.ok()) {
        // Asterisk answers "Invalid/unknown command" while app_queue is still loading.
        return self->Fail(absl::StrCat("resync ", name, " failed: ", status.message()));
      }
      if (--self->resync_lists_left_ == 0)
        self->FinishResync();
    };
    if (!Send(AmiAction{name, {}}, std::move(pending)).ok())
      return;
  }
}

void AmiLink::Impl::FinishResync() {
  phase_ = Phase::kUp;
  backoff_attempt_ = 0;
  ++stats_.resyncs;
  ResyncEvent end;
  end.kind = ResyncEvent::Kind::kEnd;
  Emit(end);
  if (phase_ == Phase::kUp)
    SetStatus(LinkState::kUp, "");
}

// ----------------------------------------------------------------------------- housekeeping

void AmiLink::Impl::ScheduleTick() {
  if (tick_armed_ || stopped_)
    return;
  tick_armed_ = true;
  // Fine enough for the shortest of the timings it enforces.
  const absl::Duration finest =
      std::min({options_.ping_interval, options_.action_timeout, options_.fully_booted_wait});
  const absl::Duration interval = std::clamp(finest / 4, absl::Milliseconds(10), absl::Seconds(1));
  tick_timer_.expires_after(ToChrono(interval));
  auto self = shared_from_this();
  tick_timer_.async_wait([self](error_code ec) {
    self->tick_armed_ = false;
    if (ec || self->stopped_)
      return;
    self->Tick();
  });
}

void AmiLink::Impl::Tick() {
  if (!conn_ || phase_ == Phase::kConnecting || phase_ == Phase::kIdle)
    return;
  const auto now = SteadyClock::now();
  // Expired actions: an essential one (login, resync, ping) means the session is dead.
  std::vector<std::string> expired;
  for (const auto& [id, pending] : pending_) {
    if (pending.deadline <= now)
      expired.push_back(id);
  }
  for (const std::string& id : expired) {
    auto it = pending_.find(id);
    if (it == pending_.end())
      continue;
    Pending pending = std::move(it->second);
    pending_.erase(it);
    if (pending.essential)
      return Fail("Asterisk stopped answering");
    pending.done(absl::DeadlineExceededError("no answer from Asterisk"), nullptr);
    if (!conn_)
      return;
  }
  if (phase_ == Phase::kBanner && now > boot_wait_until_)
    return Fail("no banner from Asterisk");
  if (phase_ == Phase::kWaitBoot && now >= boot_wait_until_) {
    OMNI_LOG(kWarning, "ami",
             "no FullyBooted event (is \"system\" in the manager user's read permission?); "
             "resynchronising anyway");
    platform_restarted_ = true;
    BeginResync();
    if (!conn_)
      return;
  }
  if (phase_ >= Phase::kWaitBoot && now - last_ping_ >= ToChrono(options_.ping_interval)) {
    last_ping_ = now;
    Pending pending;
    pending.essential = true;
    pending.done = [](absl::Status, const AmiMessage*) {};
    (void)Send(AmiAction{"Ping", {}}, std::move(pending));
    if (!conn_)
      return;
  }
  ScheduleTick();
}

void AmiLink::Impl::Fail(std::string detail) {
  if (stopped_)
    return;
  OMNI_LOG(kWarning, "ami", "link down: ", detail);
  Close(absl::AbortedError(absl::StrCat("CTI link lost: ", detail)));
  SetStatus(LinkState::kDown, detail);
  // Exponential backoff with "equal jitter": half fixed, half random, so a fleet of hosts does
  // not reconnect in lockstep after an Asterisk restart.
  absl::Duration delay = options_.backoff_initial;
  for (int i = 0; i < backoff_attempt_ && delay < options_.backoff_max; ++i)
    delay *= 2;
  delay = std::min(delay, options_.backoff_max);
  const int64_t half_us = absl::ToInt64Microseconds(delay) / 2;
  std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(half_us, 0));
  delay = absl::Microseconds(half_us + jitter(rng_));
  ++backoff_attempt_;
  retry_timer_.expires_after(ToChrono(delay));
  auto self = shared_from_this();
  retry_timer_.async_wait([self](error_code ec) {
    if (ec || self->stopped_)
      return;
    self->Connect();
  });
}

void AmiLink::Impl::Close(const absl::Status& why) {
  phase_ = Phase::kIdle;
  if (conn_) {
    error_code ignored;
    conn_->open = false;
    conn_->connect_timer.cancel();
    conn_->socket.shutdown(tcp::socket::shutdown_both, ignored);
    conn_->socket.close(ignored);
    conn_.reset();
  }
  resolver_.cancel();
  // Completions run later, from the loop, so that no caller is re-entered.
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    Post([done = std::move(p.done), why]() mutable { done(why, nullptr); });
  }
}

void AmiLink::Impl::SetStatus(LinkState state, std::string detail) {
  LinkStatus next{state, kDriver, std::move(detail)};
  if (next == status_)
    return;
  status_ = next;
  if (sink_ != nullptr)
    sink_->OnLinkStatus(status_);
}

// ----------------------------------------------------------------------------------- writing

absl::Status AmiLink::Impl::Send(const AmiAction& action, Pending pending) {
  if (!conn_ || !conn_->open)
    return absl::UnavailableError("CTI link is not connected");
  std::string id = absl::StrCat("ob-", session_, "-", next_action_++);
  std::string packet;
  absl::Status status = SerializeAction(action, id, &packet);
  if (!status.ok())
    return status;
  if (conn_->write_queue_bytes + packet.size() > options_.max_write_queue_bytes) {
    if (pending.essential) {
      Fail("send queue full");
    }
    return absl::ResourceExhaustedError("AMI send queue is full");
  }
  pending.deadline = SteadyClock::now() + ToChrono(options_.action_timeout);
  pending_.emplace(std::move(id), std::move(pending));
  conn_->write_queue_bytes += packet.size();
  conn_->write_queue.push_back(std::move(packet));
  Flush(conn_);
  return absl::OkStatus();
}

void AmiLink::Impl::Flush(const std::shared_ptr<Conn>& conn) {
  if (conn->writing || conn->write_queue.empty())
    return;
  conn->writing = true;
  auto self = shared_from_this();
  auto on_written = [self, conn](error_code ec, size_t) {
    conn->writing = false;
    if (conn != self->conn_)
      return;
    if (ec)
      return self->Fail(absl::StrCat("write failed: ", ec.message()));
    conn->write_queue_bytes -= conn->write_queue.front().size();
    conn->write_queue.pop_front();
    self->Flush(conn);
  };
  const std::string& front = conn->write_queue.front();
  if (conn->tls) {
    asio::async_write(*conn->tls, asio::buffer(front), std::move(on_written));
  } else {
    asio::async_write(conn->socket, asio::buffer(front), std::move(on_written));
  }
}

// ---------------------------------------------------------------------------------- commands

void AmiLink::Impl::Execute(const Command& command, Completion done) {
  auto fail_later = [this](Completion done, absl::Status status) {
    Post([done = std::move(done), status]() mutable { std::move(done)(status); });
  };
  if (stopped_ || phase_ != Phase::kUp) {
    return fail_later(std::move(done), absl::UnavailableError("CTI link is not up"));
  }
  AmiAction action;

  struct Builder {
    const AmiLinkOptions& o;
    AmiAction& a;

    absl::Status operator()(const QueueLogin& c) {
      a.name = "QueueAdd";
      a.Set("Queue", c.queue).Set("Interface", c.interface);
      if (!c.member_name.empty())
        a.Set("MemberName", c.member_name);
      if (!c.state_interface.empty())
        a.Set("StateInterface", c.state_interface);
      if (c.paused) {
        a.Set("Paused", "true");
        if (!c.reason.empty())
          a.Set("Reason", c.reason);
      }
      return absl::OkStatus();
    }

    absl::Status operator()(const QueueLogout& c) {
      a.name = "QueueRemove";
      a.Set("Queue", c.queue).Set("Interface", c.interface);
      return absl::OkStatus();
    }

    absl::Status operator()(const PauseMember& c) {
      a.name = "QueuePause";
      a.Set("Interface", c.interface).Set("Paused", c.paused ? "true" : "false");
      if (!c.queue.empty())
        a.Set("Queue", c.queue);
      if (c.paused && !c.reason.empty())
        a.Set("Reason", c.reason);
      return absl::OkStatus();
    }

    absl::Status operator()(const Dial& c) {
      a.name = "Originate";
      a.Set("Channel", c.endpoint)
          .Set("Context", o.dial_context)
          .Set("Exten", c.number)
          .Set("Priority", "1")
          .Set("Async", "true");
      if (!c.caller_id.empty())
        a.Set("CallerID", c.caller_id);
      return absl::OkStatus();
    }

    absl::Status operator()(const Hangup& c) {
      a.name = "Hangup";
      a.Set("Channel", c.channel);
      return absl::OkStatus();
    }

    absl::Status operator()(const Transfer& c) {
      a.name = c.attended ? "Atxfer" : "BlindTransfer";
      a.Set("Channel", c.channel).Set("Exten", c.target).Set("Context", o.transfer_context);
      return absl::OkStatus();
    }

    absl::Status operator()(const Hold&) {
      return absl::UnimplementedError("Asterisk AMI has no hold action");
    }

    absl::Status operator()(const Answer& c) { return Redirect(c.member_channel, c.agent_id); }

    absl::Status operator()(const TaskAccept& c) { return Redirect(c.member_channel, c.agent_id); }

    absl::Status operator()(const TaskDecline& c) {
      a.name = "Hangup";
      a.Set("Channel", MemberLegToRun(c.member_channel));
      return absl::OkStatus();
    }

    absl::Status operator()(const TaskComplete& c) {
      a.name = "Hangup";
      a.Set("Channel", MemberLegToRun(c.member_channel));
      return absl::OkStatus();
    }

    absl::Status operator()(const RouteTask& c) {
      if (!IsPlainToken(c.task_id) || !IsPlainToken(c.queue) || !IsPlainToken(c.channel) ||
          c.task_id.size() > 120) {
        return absl::InvalidArgumentError("route task needs a plain task id, queue and channel");
      }
      a.name = "Originate";
      a.Set("Channel", absl::StrCat("Local/", c.queue, "@", kTaskContext, "/n"))
          .Set("Application", "Wait")
          .Set("Data", "86400")
          .Set("Async", "true")
          .Set("ChannelId", absl::StrCat(c.task_id, "-a"))
          .Set("OtherChannelId", absl::StrCat(c.task_id, "-b"))
          .Set("Variable", absl::StrCat("__OB_INTERACTION_ID=", c.task_id))
          .Set("Variable", absl::StrCat("__OB_CHANNEL=", c.channel));
      if (!c.crm_url.empty())
        a.Set("Variable", absl::StrCat("__OB_CRM_URL=", PercentEncode(c.crm_url)));
      if (!c.subject.empty())
        a.Set("Variable", absl::StrCat("__OB_SUBJECT=", PercentEncode(c.subject)));
      if (!c.customer.empty())
        a.Set("Variable", absl::StrCat("__OB_CUSTOMER=", PercentEncode(c.customer)));
      if (c.offer_timeout_seconds > 0)
        a.Set("Variable", absl::StrCat("__OB_OFFER_TIMEOUT=", c.offer_timeout_seconds));
      for (const auto& [name, value] : a.headers) {
        if (name.size() + value.size() + 4 > kMaxAmiLine) {
          return absl::InvalidArgumentError(
              absl::StrCat("route task: ", name, " is too long for an AMI line"));
        }
      }
      return absl::OkStatus();
    }

    absl::Status operator()(const WithdrawTask& c) {
      if (c.channel.empty() && !IsPlainToken(c.task_id))
        return absl::InvalidArgumentError("withdraw needs the task id or its channel");
      a.name = "Hangup";
      // Asterisk looks a channel up by name, then by Uniqueid.
      a.Set("Channel", c.channel.empty() ? absl::StrCat(c.task_id, "-a") : c.channel);
      return absl::OkStatus();
    }

    absl::Status Redirect(const std::string& member_channel, const std::string& agent) {
      if (member_channel.empty() || agent.empty()) {
        return absl::InvalidArgumentError("answer needs the member channel and the agent id");
      }
      a.name = "Redirect";
      a.Set("Channel", MemberLegToRun(member_channel))
          .Set("Context", o.answer_context)
          .Set("Exten", agent)
          .Set("Priority", "1");
      return absl::OkStatus();
    }
  };

  absl::Status built = std::visit(Builder{options_, action}, command);
  if (!built.ok())
    return fail_later(std::move(done), built);
  Pending pending;
  auto shared_done = std::make_shared<Completion>(std::move(done));
  pending.done = [shared_done](absl::Status status, const AmiMessage*) {
    std::move (*shared_done)(std::move(status));
  };
  absl::Status sent = Send(action, std::move(pending));
  if (!sent.ok())
    fail_later(std::move(*shared_done), sent);
}

// ------------------------------------------------------------------------------------ facade

absl::StatusOr<std::unique_ptr<AmiLink>> AmiLink::Create(asio::io_context& io,
                                                         AmiLinkOptions options) {
  if (options.host.empty())
    return absl::InvalidArgumentError("cti.ami.host is empty");
  if (options.port == 0)
    return absl::InvalidArgumentError("cti.ami.port is 0");
  if (options.username.empty())
    return absl::InvalidArgumentError("cti.ami.username is empty");
  if (!options.secret_file.empty()) {
    std::ifstream in(options.secret_file, std::ios::binary);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("cti.ami.secretFile ", options.secret_file, " cannot be read"));
    }
    std::stringstream content;
    content << in.rdbuf();
    std::string secret = content.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
      secret.pop_back();
    options.secret = std::move(secret);
  }
  if (options.secret.empty()) {
    return absl::InvalidArgumentError("cti.ami.secret (or cti.ami.secretFile) is empty");
  }
  if (options.secret.find_first_of("\r\n") != std::string::npos ||
      options.username.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("AMI credentials must not contain line breaks");
  }
  if (options.ping_interval <= absl::ZeroDuration() ||
      options.action_timeout <= absl::ZeroDuration() ||
      options.backoff_initial <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("AMI timings must be positive");
  }
  return std::unique_ptr<AmiLink>(new AmiLink(std::make_shared<Impl>(io, std::move(options))));
}

AmiLink::AmiLink(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AmiLink::~AmiLink() { impl_->Stop(); }

absl::Status AmiLink::Start(CtiEventSink* sink) { return impl_->Start(sink); }

void AmiLink::Stop() { impl_->Stop(); }

LinkStatus AmiLink::status() const { return impl_->status(); }

const Capabilities& AmiLink::capabilities() const { return impl_->capabilities(); }

void AmiLink::Execute(const Command& command, Completion done) {
  impl_->Execute(command, std::move(done));
}

AmiLink::Stats AmiLink::stats() const { return impl_->stats(); }

}  // namespace omnibridge::cti::ami
