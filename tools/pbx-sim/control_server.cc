#include "control_server.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/read_until.hpp"
#include "boost/asio/streambuf.hpp"
#include "boost/asio/write.hpp"
#include "boost/json.hpp"

#include "base/log.h"
#include "json_util.h"
#include "scenario.h"

namespace omnibridge::pbxsim {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;

constexpr size_t kMaxLine = 1 << 20;

json::object Error(absl::string_view message) {
  return json::object{{"ok", false}, {"error", J(message)}};
}

json::object Ok() { return json::object{{"ok", true}}; }

json::value FromStatus(const absl::Status& status) {
  if (status.ok())
    return Ok();
  return Error(status.message());
}

}  // namespace

class ControlServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ControlServer* server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), buf_(kMaxLine) {}

  void Start() { Read(); }

  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    auto self = shared_from_this();
    server_->connections_.erase(self);
  }

 private:
  void Read() {
    auto self = shared_from_this();
    asio::async_read_until(socket_, buf_, '\n',
                           [self](const boost::system::error_code& ec, size_t n) {
                             if (ec) {
                               if (ec == asio::error::not_found) {
                                 self->Reply(Error("request line over 1 MiB"));
                               }
                               self->Close();
                               return;
                             }
                             std::string line(asio::buffers_begin(self->buf_.data()),
                                              asio::buffers_begin(self->buf_.data()) + n);
                             self->buf_.consume(n);
                             while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
                               line.pop_back();
                             }
                             if (!line.empty())
                               self->Reply(self->server_->Handle(line));
                             self->Read();
                           });
  }

  void Reply(const json::value& v) {
    out_.push_back(json::serialize(v) + "\n");
    if (out_.size() == 1)
      Write();
  }

  void Write() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self](const boost::system::error_code& ec, size_t) {
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->out_.pop_front();
                        if (!self->out_.empty())
                          self->Write();
                      });
  }

  ControlServer* server_;
  tcp::socket socket_;
  asio::streambuf buf_;
  std::deque<std::string> out_;
};

ControlServer::ControlServer(asio::io_context& io, Pbx* pbx, AmiServer* ami, ActionLog* actions,
                             QueueLog* queue_log)
    : io_(io), pbx_(pbx), ami_(ami), actions_(actions), queue_log_(queue_log) {}

ControlServer::~ControlServer() { Stop(); }

absl::StatusOr<uint16_t> ControlServer::Listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec)
    return absl::InvalidArgumentError(absl::StrCat("bad bind address ", address));
  if (!addr.is_loopback()) {
    return absl::InvalidArgumentError("the control port listens on loopback addresses only");
  }
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
        absl::StrCat("cannot listen for control on ", address, ":", port, ": ", ec.message()));
  }
  uint16_t bound = acceptor_->local_endpoint(ec).port();
  Accept();
  return bound;
}

void ControlServer::Accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_ || !acceptor_->is_open())
        return;
      Accept();
      return;
    }
    auto c = std::make_shared<Connection>(this, std::move(socket));
    connections_.insert(c);
    c->Start();
    Accept();
  });
}

void ControlServer::Stop() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  std::vector<std::shared_ptr<Connection>> all(connections_.begin(), connections_.end());
  for (auto& c : all)
    c->Close();
}

json::value ControlServer::Handle(absl::string_view line) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(J(line), ec, {}, options);
  if (ec)
    return Error(absl::StrCat("malformed JSON: ", ec.message()));
  const json::object* req = v.if_object();
  if (req == nullptr)
    return Error("request must be a JSON object");
  const json::value* cmd_value = req->if_contains("cmd");
  if (cmd_value == nullptr || !cmd_value->is_string()) {
    return Error("request needs a string \"cmd\"");
  }
  std::string cmd(cmd_value->as_string());
  auto str = [&](absl::string_view key) -> std::string {
    const json::value* f = req->if_contains(J(key));
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
  };

  if (cmd == "ping")
    return Ok();
  if (cmd == "call") {
    auto request = ParseCallRequest(*req, "call");
    if (!request.ok())
      return Error(request.status().message());
    auto info = pbx_->PlaceCall(*request);
    if (!info.ok())
      return Error(info.status().message());
    json::object out = Ok();
    out["uniqueid"] = info->uniqueid;
    out["linkedid"] = info->linkedid;
    out["channel"] = info->channel;
    out["queueChannel"] = info->queue_channel;
    return out;
  }
  if (cmd == "hangup") {
    if (!str("linkedid").empty())
      return FromStatus(pbx_->HangupLinkedid(str("linkedid")));
    if (!str("channel").empty())
      return FromStatus(pbx_->HangupChannelByName(str("channel")));
    return Error("hangup needs \"linkedid\" or \"channel\"");
  }
  if (cmd == "answer" || cmd == "hold" || cmd == "unhold") {
    std::string agent = str("agent");
    if (agent.empty())
      return Error(absl::StrCat(cmd, " needs \"agent\""));
    if (cmd == "answer")
      return FromStatus(pbx_->AnswerAgent(agent));
    return FromStatus(pbx_->HoldAgent(agent, cmd == "hold"));
  }
  if (cmd == "members") {
    json::object out = Ok();
    out["members"] = pbx_->MembersJson();
    return out;
  }
  if (cmd == "calls") {
    json::object out = Ok();
    out["channels"] = pbx_->ChannelsJson();
    return out;
  }
  if (cmd == "actions") {
    uint64_t since = 0;
    if (const json::value* s = req->if_contains("since")) {
      if (!s->is_int64() || s->as_int64() < 0)
        return Error("\"since\" must be an index >= 0");
      since = static_cast<uint64_t>(s->as_int64());
    }
    std::string only = str("action");
    json::array list;
    uint64_t next = since;
    for (const ActionLog::Entry& e : actions_->entries()) {
      next = e.index + 1;
      if (e.index < since)
        continue;
      if (!only.empty() && e.action.Get("Action") != only)
        continue;
      json::array headers;
      for (const auto& [k, val] : e.action.headers())
        headers.push_back(json::array{k, val});
      list.push_back(json::object{{"index", e.index},
                                  {"session", e.session},
                                  {"time", absl::ToUnixMillis(e.time)},
                                  {"action", e.action.Get("Action")},
                                  {"headers", std::move(headers)}});
    }
    json::object out = Ok();
    out["actions"] = std::move(list);
    out["next"] = next;
    return out;
  }
  if (cmd == "queueLog") {
    json::array lines;
    for (const std::string& l : queue_log_->lines())
      lines.push_back(json::string(l));
    json::object out = Ok();
    out["lines"] = std::move(lines);
    return out;
  }
  if (cmd == "disconnectClients") {
    json::object out = Ok();
    out["closed"] = ami_->DisconnectAll();
    return out;
  }
  if (cmd == "refuseConnections") {
    const json::value* ms = req->if_contains("ms");
    if (ms == nullptr || !ms->is_int64() || ms->as_int64() < 0) {
      return Error("refuseConnections needs \"ms\" >= 0");
    }
    ami_->RefuseConnectionsFor(absl::Milliseconds(ms->as_int64()));
    return Ok();
  }
  if (cmd == "reset") {
    pbx_->Reset();
    actions_->Clear();
    queue_log_->ClearMemory();
    return Ok();
  }
  return Error(absl::StrCat("unknown cmd \"", cmd, "\""));
}

}  // namespace omnibridge::pbxsim
