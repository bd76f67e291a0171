#include "ami_server.h"

#include <deque>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/asio/write.hpp"
#include <openssl/evp.h>

#include "base/log.h"
#include <regex.h>

namespace omnibridge::pbxsim {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr char kLog[] = "ami";
constexpr size_t kWriteChunk = 64 * 1024;

std::string Md5Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1)
    return "";
  std::string out;
  for (unsigned int i = 0; i < len; ++i)
    absl::StrAppendFormat(&out, "%02x", digest[i]);
  return out;
}

std::string UnknownCommand(absl::string_view action) {
  // manager.c process_message() in Asterisk 13+.
  return absl::StrCat("Invalid/unknown command: ", action,
                      ". Use Action: ListCommands to show available commands.");
}

// A compiled POSIX extended regex, as Asterisk's eventfilter uses (regcomp REG_EXTENDED).
class Regex {
 public:
  static std::unique_ptr<Regex> Compile(const std::string& pattern) {
    auto r = std::unique_ptr<Regex>(new Regex());
    if (regcomp(&r->re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0)
      return nullptr;
    r->ok_ = true;
    return r;
  }

  ~Regex() {
    if (ok_)
      regfree(&re_);
  }

  bool Matches(const std::string& text) const {
    return regexec(&re_, text.c_str(), 0, nullptr, 0) == 0;
  }

 private:
  Regex() = default;
  regex_t re_{};
  bool ok_ = false;
};

}  // namespace

class AmiServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(AmiServer* server, tcp::socket socket, uint64_t id)
      : server_(server),
        socket_(std::move(socket)),
        write_timer_(server->io_),
        auth_timer_(server->io_),
        delay_timer_(server->io_),
        id_(id) {}

  void Start() {
    Enqueue(absl::StrCat("Asterisk Call Manager/", server_->options_.banner_version, "\r\n"));
    auto self = shared_from_this();
    auth_timer_.expires_after(absl::ToChronoMilliseconds(server_->options_.auth_timeout));
    auth_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec && !self->authenticated_) {
        OMNI_LOG(kInfo, kLog, "session ", self->id_, ": authtimeout");
        self->Close();
      }
    });
    Read();
  }

  void Close() {
    if (closed_)
      return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    write_timer_.cancel();
    auth_timer_.cancel();
    delay_timer_.cancel();
    server_->Remove(this);
  }

  void DeliverEvent(const std::string& text, absl::string_view event_class) {
    if (!authenticated_ || closing_ || closed_)
      return;
    if (!Wants(event_class))
      return;
    if (!includes_.empty()) {
      bool any = false;
      for (const auto& re : includes_)
        any = any || re->Matches(text);
      if (!any)
        return;
    }
    for (const auto& re : excludes_) {
      if (re->Matches(text))
        return;
    }
    Enqueue(text);
  }

  bool authenticated() const { return authenticated_; }

  void SendFullyBooted() {
    if (!authenticated_ || !Wants("system"))
      return;
    Enqueue(server_->FullyBootedEvent().Serialize());
  }

 private:
  bool Wants(absl::string_view event_class) const {
    if (!events_all_ && events_.count(std::string(event_class)) == 0)
      return false;
    if (read_.count("all") > 0)
      return true;
    return read_.count(std::string(event_class)) > 0;
  }

  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(read_buf_),
                            [self](const boost::system::error_code& ec, size_t n) {
                              if (ec || self->closed_) {
                                self->Close();
                                return;
                              }
                              self->OnData(absl::string_view(self->read_buf_.data(), n));
                            });
  }

  void OnData(absl::string_view data) {
    std::vector<AmiParser::Result> results;
    parser_.Feed(data, &results);
    for (AmiParser::Result& r : results) {
      if (closing_ || closed_)
        break;
      Handle(r);
    }
    if (!closing_ && !closed_)
      Read();
  }

  void Handle(const AmiParser::Result& r) {
    const AmiMessage& m = r.message;
    if (r.error == AmiParser::Error::kTooManyHeaders) {
      Send(MakeResponse(m, "Error", "Too many lines in message or allocation failure"));
      return;
    }
    if (r.error == AmiParser::Error::kLineTooLong) {
      Send(MakeResponse(m, "Error", "Failed to parse message: line too long"));
      return;
    }
    std::string action = m.Get("Action");
    if (!action.empty())
      server_->action_log_->Record(id_, server_->clock_->Now(), m);
    if (action.empty()) {
      Send(MakeResponse(m, "Error", "Missing action in request"));
      return;
    }
    std::string lower = absl::AsciiStrToLower(action);
    if (!authenticated_ && lower != "login" && lower != "logoff" && lower != "challenge") {
      Send(MakeResponse(m, "Error", "Permission denied"));
      return;
    }
    if (lower == "login")
      return Login(m);
    if (lower == "challenge")
      return Challenge(m);
    if (lower == "logoff") {
      Send(MakeResponse(m, "Goodbye", "Thanks for all the fish."));
      CloseAfterFlush();
      return;
    }
    if (lower == "ping") {
      AmiMessage resp = MakeResponse(m, "Success");
      resp.Add("Ping", "Pong");
      int64_t micros = absl::ToUnixMicros(server_->clock_->Now());
      resp.Add("Timestamp", absl::StrFormat("%d.%06d", micros / 1'000'000, micros % 1'000'000));
      Send(resp);
      return;
    }
    if (lower == "events")
      return Events(m);
    if (lower == "filter")
      return Filter(m);
    if (Pbx::IsQueueAction(action) && !server_->booted_) {
      Send(MakeResponse(m, "Error", UnknownCommand(action)));
      return;
    }
    if (server_->pbx_ == nullptr || !Pbx::HandlesAction(action)) {
      Send(MakeResponse(m, "Error", UnknownCommand(action)));
      return;
    }
    server_->BeginAction();
    std::vector<AmiMessage> replies = server_->pbx_->HandleAction(m);
    for (const AmiMessage& reply : replies)
      Send(reply);
    server_->EndAction();
  }

  void Login(const AmiMessage& m) {
    if (authenticated_) {
      Send(MakeResponse(m, "Success", "Already authenticated"));
      return;
    }
    std::string username = m.Get("Username");
    const ManagerUser* user = nullptr;
    for (const ManagerUser& u : server_->config_.users) {
      if (absl::EqualsIgnoreCase(u.username, username))
        user = &u;
    }
    bool ok = false;
    if (user != nullptr) {
      if (absl::EqualsIgnoreCase(m.Get("AuthType"), "MD5")) {
        ok = !challenge_.empty() && m.Get("Key") == Md5Hex(challenge_ + user->secret);
      } else {
        ok = !m.Get("Secret").empty() && m.Get("Secret") == user->secret;
      }
    }
    if (!ok) {
      OMNI_LOG(kInfo, kLog, "session ", id_, ": authentication failed for ", username);
      // Asterisk sleeps a second before answering a failed login, then drops the session.
      closing_ = true;
      AmiMessage resp = MakeResponse(m, "Error", "Authentication failed");
      auto self = shared_from_this();
      delay_timer_.expires_after(absl::ToChronoMilliseconds(server_->options_.auth_fail_delay));
      delay_timer_.async_wait([self, resp](const boost::system::error_code& ec) {
        if (ec || self->closed_)
          return;
        self->Enqueue(resp.Serialize());
        self->close_after_flush_ = true;
        if (!self->writing_)
          self->Close();
      });
      return;
    }
    authenticated_ = true;
    auth_timer_.cancel();
    read_ = std::set<std::string>(user->read.begin(), user->read.end());
    if (m.Has("Events"))
      SetEventMask(m.Get("Events"));
    OMNI_LOG(kInfo, kLog, "session ", id_, ": ", user->username, " logged in");
    Send(MakeResponse(m, "Success", "Authentication accepted"));
    if (server_->booted_)
      SendFullyBooted();
  }

  void Challenge(const AmiMessage& m) {
    if (!absl::EqualsIgnoreCase(m.Get("AuthType"), "MD5")) {
      Send(MakeResponse(m, "Error", "Must specify AuthType"));
      return;
    }
    if (challenge_.empty()) {
      std::random_device rd;
      challenge_ = absl::StrCat(rd() % 2147483647u);
    }
    AmiMessage resp = MakeResponse(m, "Success");
    resp.Add("Challenge", challenge_);
    Send(resp);
  }

  // Returns whether events are now on.
  bool SetEventMask(absl::string_view mask) {
    mask = absl::StripAsciiWhitespace(mask);
    events_.clear();
    if (absl::EqualsIgnoreCase(mask, "on") || AmiTrue(mask)) {
      events_all_ = true;
      return true;
    }
    events_all_ = false;
    if (absl::EqualsIgnoreCase(mask, "off") || mask.empty())
      return false;
    for (absl::string_view part : absl::StrSplit(mask, ',', absl::SkipWhitespace())) {
      std::string c = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
      if (c == "all") {
        events_all_ = true;
        return true;
      }
      events_.insert(c);
    }
    return !events_.empty();
  }

  void Events(const AmiMessage& m) {
    bool on = SetEventMask(m.Get("EventMask"));
    AmiMessage resp = MakeResponse(m, "Success");
    resp.Add("Events", on ? "On" : "Off");
    Send(resp);
  }

  void Filter(const AmiMessage& m) {
    std::string operation = m.Get("Operation");
    std::string filter = m.Get("Filter");
    if (!absl::EqualsIgnoreCase(operation, "Add")) {
      Send(MakeResponse(m, "Error", "Unknown operation"));
      return;
    }
    if (filter.empty()) {
      // MatchCriteria (Asterisk 22.1+ advanced filters) is not simulated.
      Send(MakeResponse(m, "Error", "Filter Not Added"));
      return;
    }
    bool exclude = !filter.empty() && filter.front() == '!';
    auto re = Regex::Compile(exclude ? filter.substr(1) : filter);
    if (re == nullptr) {
      Send(MakeResponse(m, "Error", "Filter Not Added"));
      return;
    }
    (exclude ? excludes_ : includes_).push_back(std::move(re));
    Send(MakeResponse(m, "Success", "Success"));
  }

  void Send(const AmiMessage& m) { Enqueue(m.Serialize()); }

  void CloseAfterFlush() {
    closing_ = true;
    close_after_flush_ = true;
    if (!writing_ && out_.empty())
      Close();
  }

  void Enqueue(std::string data) {
    if (closed_)
      return;
    pending_bytes_ += data.size();
    if (pending_bytes_ > server_->options_.max_backlog_bytes) {
      OMNI_LOG(kWarning, kLog, "session ", id_, ": client does not read (", pending_bytes_,
               " bytes queued), disconnecting");
      Close();
      return;
    }
    out_.push_back(std::move(data));
    if (!writing_)
      DoWrite();
  }

  void DoWrite() {
    if (closed_)
      return;
    if (out_.empty()) {
      if (close_after_flush_)
        Close();
      return;
    }
    writing_ = true;
    chunk_.clear();
    while (!out_.empty() && chunk_.size() < kWriteChunk) {
      chunk_ += out_.front();
      out_.pop_front();
    }
    auto self = shared_from_this();
    write_timer_.expires_after(absl::ToChronoMilliseconds(server_->options_.write_timeout));
    write_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->closed_)
        return;
      OMNI_LOG(kWarning, kLog, "session ", self->id_,
               ": write timed out (slow reader), disconnecting");
      self->Close();
    });
    asio::async_write(socket_, asio::buffer(chunk_),
                      [self](const boost::system::error_code& ec, size_t n) {
                        self->write_timer_.cancel();
                        self->writing_ = false;
                        if (self->closed_)
                          return;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->pending_bytes_ -= n;
                        self->DoWrite();
                      });
  }

  AmiServer* server_;
  tcp::socket socket_;
  asio::steady_timer write_timer_;
  asio::steady_timer auth_timer_;
  asio::steady_timer delay_timer_;
  uint64_t id_;
  std::array<char, 4096> read_buf_{};
  AmiParser parser_;
  bool authenticated_ = false;
  bool closing_ = false;  // no more input is handled
  bool close_after_flush_ = false;
  bool closed_ = false;
  bool writing_ = false;
  std::string challenge_;
  bool events_all_ = true;
  std::set<std::string> events_;
  std::set<std::string> read_;
  std::vector<std::unique_ptr<Regex>> includes_;
  std::vector<std::unique_ptr<Regex>> excludes_;
  std::deque<std::string> out_;
  std::string chunk_;
  size_t pending_bytes_ = 0;
};

AmiServer::AmiServer(asio::io_context& io, const SimConfig& config, const base::Clock* clock,
                     ActionLog* action_log, AmiServerOptions options)
    : io_(io), config_(config), clock_(clock), action_log_(action_log), options_(options) {}

AmiServer::~AmiServer() { Stop(); }

absl::StatusOr<uint16_t> AmiServer::Listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec)
    return absl::InvalidArgumentError(absl::StrCat("bad bind address ", address));
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  tcp::endpoint endpoint(addr, port);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec)
    acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_->bind(endpoint, ec);
  if (!ec)
    acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for AMI on ", address, ":", port, ": ", ec.message()));
  }
  uint16_t bound = acceptor_->local_endpoint(ec).port();
  Accept();
  return bound;
}

void AmiServer::Accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_ || !acceptor_->is_open())
        return;
      Accept();
      return;
    }
    if (clock_->Now() < refuse_until_) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(this, std::move(socket), next_session_id_++);
      sessions_.insert(session);
      session->Start();
    }
    Accept();
  });
}

void AmiServer::Stop() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  DisconnectAll();
}

void AmiServer::Remove(Session* session) {
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->get() == session) {
      sessions_.erase(it);
      return;
    }
  }
}

size_t AmiServer::DisconnectAll() {
  std::vector<std::shared_ptr<Session>> all(sessions_.begin(), sessions_.end());
  for (auto& s : all)
    s->Close();
  return all.size();
}

void AmiServer::RefuseConnectionsFor(absl::Duration duration) {
  refuse_until_ = clock_->Now() + duration;
}

AmiMessage AmiServer::FullyBootedEvent() const {
  // No Timestamp on FullyBooted, even with timestampevents (quirk 10).
  AmiMessage m;
  m.Add("Event", "FullyBooted");
  m.Add("Privilege", "system,all");
  int64_t uptime = pbx_ ? absl::ToInt64Seconds(clock_->Now() - pbx_->start_time()) : 0;
  m.Add("Uptime", absl::StrCat(uptime));
  m.Add("LastReload", absl::StrCat(uptime));
  m.Add("Status", "Fully Booted");
  return m;
}

void AmiServer::SetBooted(bool booted) {
  bool was = booted_;
  booted_ = booted;
  if (booted && !was) {
    std::vector<std::shared_ptr<Session>> all(sessions_.begin(), sessions_.end());
    for (auto& s : all)
      s->SendFullyBooted();
  }
}

void AmiServer::Publish(const AmiMessage& event, absl::string_view event_class) {
  if (action_depth_ > 0) {
    deferred_.emplace_back(event, std::string(event_class));
    return;
  }
  std::string text = event.Serialize();
  std::vector<std::shared_ptr<Session>> all(sessions_.begin(), sessions_.end());
  for (auto& s : all)
    s->DeliverEvent(text, event_class);
}

void AmiServer::EndAction() {
  if (--action_depth_ > 0)
    return;
  std::vector<std::pair<AmiMessage, std::string>> events = std::move(deferred_);
  deferred_.clear();
  for (auto& [event, event_class] : events)
    Publish(event, event_class);
}

}  // namespace omnibridge::pbxsim
