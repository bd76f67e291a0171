#include "connect/http_server.h"

#include <algorithm>
#include <cstring>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include <libwebsockets.h>

#include "base/log.h"
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace omnibridge::connect {

namespace {

constexpr char kModule[] = "http";
// Passes per loop turn before yielding to the rest of the io_context.
constexpr int kMaxPassesPerTurn = 32;
// lws timeouts have one-second granularity; a half-second tick keeps them on time.
constexpr std::chrono::milliseconds kTick{500};
constexpr size_t kBodyChunk = size_t{16} * 1024;
// Lingering drain after an early answer (413, 401…) to a request whose body is still coming: the
// rest is read and dropped for at most this long, so the client reads the answer instead of a
// connection reset.
constexpr int kDrainSeconds = 5;

void LwsLog(int level, const char* line) {
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (level & LLL_ERR) {
    OMNI_LOG(kError, kModule, "lws: ", text);
  } else {
    OMNI_LOG(kDebug, kModule, "lws: ", text);
  }
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool SafeHeader(const std::string& name, const std::string& value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
    return false;
  }
  return value.find_first_of("\r\n", 0) == std::string::npos &&
         value.find('\0') == std::string::npos;
}

std::string CopyHeader(lws* wsi, lws_token_indexes token) {
  int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) {
    return {};
  }
  std::string value(static_cast<size_t>(len) + 1, '\0');
  int n = lws_hdr_copy(wsi, value.data(), len + 1, token);
  value.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return value;
}

// Reads method, path, query and headers of the request being parsed on `wsi`.
void CollectRequestHead(lws* wsi, const std::vector<std::string>& extra_headers,
                        HttpRequest* request) {
  struct MethodToken {
    lws_token_indexes token;
    const char* method;
  };

  constexpr MethodToken kMethods[] = {
      {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
      {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
      {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
      {WSI_TOKEN_HEAD_URI, "HEAD"},
  };
  for (const MethodToken& m : kMethods) {
    if (lws_hdr_total_length(wsi, m.token) > 0) {
      request->method = m.method;
      request->path = CopyHeader(wsi, m.token);
      break;
    }
  }
  for (int i = 0;; ++i) {
    int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (len <= 0) {
      break;
    }
    std::string fragment(static_cast<size_t>(len) + 1, '\0');
    int n = lws_hdr_copy_fragment(wsi, fragment.data(), len + 1, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) {
      break;
    }
    fragment.resize(static_cast<size_t>(n));
    if (!request->query.empty()) {
      request->query += '&';
    }
    request->query += fragment;
  }
  for (int t = 0; t < WSI_TOKEN_COUNT; ++t) {
    auto token = static_cast<lws_token_indexes>(t);
    const char* name = reinterpret_cast<const char*>(lws_token_to_string(token));
    if (name == nullptr) {
      continue;
    }
    std::string_view n(name);
    // Only "name:" entries are headers; "get " and ":path" are the request line and h2 pseudo
    // headers.
    if (n.size() < 2 || n.back() != ':' || n.front() == ':') {
      continue;
    }
    if (lws_hdr_total_length(wsi, token) <= 0) {
      continue;
    }
    n.remove_suffix(1);
    request->headers.emplace_back(ToLower(n), CopyHeader(wsi, token));
  }
  for (const std::string& extra : extra_headers) {
    std::string name = ToLower(extra) + ":";
    int len = lws_hdr_custom_length(wsi, name.c_str(), static_cast<int>(name.size()));
    if (len <= 0) {
      continue;
    }
    std::string value(static_cast<size_t>(len) + 1, '\0');
    int n = lws_hdr_custom_copy(wsi, value.data(), len + 1, name.c_str(),
                                static_cast<int>(name.size()));
    if (n < 0) {
      continue;
    }
    value.resize(static_cast<size_t>(n));
    name.pop_back();
    request->headers.emplace_back(std::move(name), std::move(value));
  }
}

// Parses a Content-Length value: digits only, no sign, no overflow.
bool ParseContentLength(const std::string& text, int64_t* out) {
  if (text.empty() || text.size() > 18) {
    return false;
  }
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

HttpResponse ErrorResponse(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = base::Cat(R"({"error":")", message, R"("})");
  return r;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(absl::string_view(key.data(), key.size()),
                               absl::string_view(name.data(), name.size()))) {
      return &value;
    }
  }
  return nullptr;
}

// One client connection (HTTP, then possibly WebSocket). Owned by the server's map; responders
// hold weak references.
struct HttpConnection {
  HttpServer::Impl* server = nullptr;
  lws* wsi = nullptr;  // null once libwebsockets destroyed it
  uint64_t id = 0;
  std::string peer;
  // A dup of the socket, watched by asio; lws owns and closes the original.
  std::unique_ptr<boost::asio::posix::stream_descriptor> watch;
  bool read_armed = false;
  bool write_armed = false;
  bool wants_write = false;  // asked lws for a WRITEABLE callback that has not come yet

  // HTTP: the request being received, then its answer.
  uint64_t request_seq = 0;
  HttpRequest request;
  bool expect_body = false;
  bool body_done = false;
  bool discard_body = false;  // answered before the body: read and drop it
  bool close_after_response = false;
  std::optional<HttpResponse> response;
  bool headers_sent = false;
  size_t body_sent = 0;
  bool response_done = false;
  bool send_continue = false;  // the client sent "Expect: 100-continue"

  // WebSocket.
  bool is_ws = false;
  std::deque<std::string> ws_out;  // each message prefixed by LWS_PRE bytes of headroom
  size_t ws_out_bytes = 0;
  std::string ws_in;
  bool close_requested = false;
  int close_code = 1000;
  std::string close_reason;
};

class HttpServer::Impl {
 public:
  Impl(boost::asio::io_context& io, HttpServerOptions options, HttpHandler* handler,
       std::string websocket_path)
      : io_(io),
        options_(std::move(options)),
        handler_(handler),
        ws_path_(std::move(websocket_path)),
        acceptor_(io),
        tick_(io),
        alive_(std::make_shared<char>(0)) {}

  ~Impl() {
    // Nothing here throws in practice (error_code overloads); the guard keeps it so.
    try {
      Shutdown();
    } catch (...) {
    }
  }

  void Shutdown() {
    destroying_ = true;
    alive_.reset();
    boost::system::error_code ec;
    acceptor_.close(ec);
    tick_.cancel();
    if (context_ != nullptr) {
      lws_context_destroy(context_);
    }
    context_ = nullptr;
    for (auto& [id, connection] : connections_) {
      connection->wsi = nullptr;
      if (connection->watch) {
        connection->watch->close(ec);
      }
    }
    connections_.clear();
  }

  absl::Status Start() {
    if (handler_ == nullptr) {
      return absl::InvalidArgumentError("http server: no handler");
    }
    if (options_.max_body_bytes < 0 || options_.max_connections < 1 ||
        options_.max_header_bytes < 1024 || options_.max_header_bytes > 65535 ||
        options_.idle_timeout_seconds < 1 || options_.max_ws_queue_messages < 1) {
      return absl::InvalidArgumentError("http server: bad limits");
    }
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(options_.bind_address, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          base::Cat("http server: bad bind address '", options_.bind_address, "'"));
    }
    boost::asio::ip::tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return absl::UnavailableError(base::Cat("http server: cannot listen on ",
                                              options_.bind_address, ":", options_.port, ": ",
                                              ec.message()));
    }
    port_ = acceptor_.local_endpoint(ec).port();

    // Process-wide in lws; every server sets the same.
    lws_set_log_level(LLL_ERR | LLL_WARN, &LwsLog);
    protocols_[0] = {};
    protocols_[0].name = "omnibridge";
    protocols_[0].callback = &Impl::Callback;
    protocols_[0].rx_buffer_size = 4096;
    protocols_[1] = {};

    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.user = this;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.max_http_header_data = static_cast<unsigned short>(options_.max_header_bytes);
    info.max_http_header_pool = static_cast<unsigned short>(options_.max_connections);
    info.timeout_secs = static_cast<unsigned int>(options_.idle_timeout_seconds);
    info.keepalive_timeout = options_.idle_timeout_seconds;
    info.pt_serv_buf_size = 16 * 1024;
    info.count_threads = 1;
    // lws sizes its per-fd tables by this (default: the process's fd limit, often 20000+), which
    // alone would double the host's resident memory. The host keeps few descriptors open.
    info.fd_limit_per_thread = 1024;
    context_ = lws_create_context(&info);
    if (context_ == nullptr) {
      return absl::InternalError("http server: lws_create_context failed");
    }
    info.protocols = protocols_;
    info.vhost_name = "omnibridge";
    vhost_ = lws_create_vhost(context_, &info);
    if (vhost_ == nullptr) {
      return absl::InternalError("http server: lws_create_vhost failed");
    }

    Accept();
    Tick();
    return absl::OkStatus();
  }

  uint16_t port() const { return port_; }

  HttpServerStats stats() const {
    HttpServerStats s = stats_;
    s.open_connections = connections_.size();
    s.open_websockets = 0;
    for (const auto& [id, c] : connections_) {
      s.open_websockets += c->is_ws ? 1 : 0;
    }
    return s;
  }

  absl::Status SendText(WebSocketId id, std::string_view message) {
    HttpConnection* c = FindWebSocket(id);
    if (c == nullptr) {
      return absl::NotFoundError("websocket not open");
    }
    if (c->close_requested) {
      return absl::FailedPreconditionError("websocket closing");
    }
    if (c->ws_out.size() >= options_.max_ws_queue_messages ||
        c->ws_out_bytes + message.size() > options_.max_ws_queue_bytes) {
      return absl::ResourceExhaustedError("websocket output queue full");
    }
    std::string framed;
    framed.reserve(LWS_PRE + message.size());
    framed.append(LWS_PRE, '\0');
    framed.append(message);
    c->ws_out_bytes += message.size();
    c->ws_out.push_back(std::move(framed));
    RequestWritable(*c);
    return absl::OkStatus();
  }

  void Close(WebSocketId id, int code, std::string_view reason) {
    HttpConnection* c = FindWebSocket(id);
    if (c == nullptr || c->close_requested) {
      return;
    }
    c->close_requested = true;
    c->close_code = code;
    c->close_reason = std::string(reason.substr(0, 120));
    RequestWritable(*c);
  }

  std::vector<WebSocketId> WebSockets() const {
    std::vector<WebSocketId> ids;
    for (const auto& [id, c] : connections_) {
      if (c->is_ws && !c->close_requested) {
        ids.push_back(id);
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  void Respond(HttpConnection& c, uint64_t seq, HttpResponse response) {
    if (c.wsi == nullptr || seq != c.request_seq || c.response || c.response_done) {
      return;
    }
    QueueResponse(c, std::move(response));
  }

 private:
  HttpConnection* FindWebSocket(WebSocketId id) {
    auto it = connections_.find(id);
    if (it == connections_.end() || !it->second->is_ws || it->second->wsi == nullptr) {
      return nullptr;
    }
    return it->second.get();
  }

  // ---- accepting --------------------------------------------------------------------------

  void Accept() {
    acceptor_.async_accept(
        [this, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec,
                                                    boost::asio::ip::tcp::socket socket) {
          if (alive.expired() || ec == boost::asio::error::operation_aborted) {
            return;
          }
          if (ec) {
            // EMFILE and friends: back off a little instead of spinning on the listen socket.
            OMNI_LOG(kWarning, kModule, "accept failed: ", ec.message());
            auto timer =
                std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(100));
            timer->async_wait([this, timer, alive](const boost::system::error_code&) {
              if (!alive.expired()) {
                Accept();
              }
            });
            return;
          }
          Adopt(std::move(socket));
          Accept();
        });
  }

  void Adopt(boost::asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      ++stats_.connections_refused;
      socket.close(ec);
      return;
    }
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    socket.non_blocking(true, ec);
    auto remote = socket.remote_endpoint(ec);
    std::string peer = ec ? std::string("?") : remote.address().to_string();
    int fd = socket.release(ec);
    if (ec || fd < 0) {
      return;
    }
    int watch_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (watch_fd < 0) {
      ::close(fd);
      return;
    }
    auto connection = std::make_shared<HttpConnection>();
    connection->server = this;
    connection->id = next_id_++;
    connection->peer = std::move(peer);
    connection->watch = std::make_unique<boost::asio::posix::stream_descriptor>(io_);
    connection->watch->assign(watch_fd, ec);
    if (ec) {
      ::close(watch_fd);
      ::close(fd);
      return;
    }
    connections_[connection->id] = connection;
    ++stats_.connections_accepted;

    lws_adopt_desc_t desc;
    std::memset(&desc, 0, sizeof desc);
    desc.vh = vhost_;
    desc.type = static_cast<lws_adoption_type>(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP);
    desc.fd.sockfd = fd;
    desc.opaque = connection.get();
    lws* wsi = lws_adopt_descriptor_vhost_via_info(&desc);
    if (wsi == nullptr) {  // lws closed fd
      OMNI_LOG(kWarning, kModule, "lws refused a connection");
      DropConnection(connection->id);
      return;
    }
    connection->wsi = wsi;
    ScheduleService();
  }

  void DropConnection(uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;
    }
    boost::system::error_code ec;
    if (it->second->watch) {
      it->second->watch->close(ec);
    }
    connections_.erase(it);
  }

  // ---- driving lws from asio ----------------------------------------------------------------

  void ScheduleService() {
    if (service_posted_ || destroying_) {
      return;
    }
    service_posted_ = true;
    boost::asio::post(io_, [this, alive = std::weak_ptr<char>(alive_)] {
      if (alive.expired()) {
        return;
      }
      service_posted_ = false;
      RunPasses();
    });
  }

  // True when any connection is readable, or writable while a write is wanted. Level-triggered
  // (poll), unlike asio's edge-triggered epoll registration.
  bool AnyReady() {
    pollfds_.clear();
    for (const auto& [id, c] : connections_) {
      if (c->wsi == nullptr || !c->watch || !c->watch->is_open()) {
        continue;
      }
      short events = POLLIN;
      if (c->wants_write || lws_partial_buffered(c->wsi)) {
        events |= POLLOUT;
      }
      pollfds_.push_back({c->watch->native_handle(), events, 0});
    }
    if (pollfds_.empty()) {
      return false;
    }
    return ::poll(pollfds_.data(), pollfds_.size(), 0) > 0;
  }

  // Services lws until it has nothing left to do right now: each pass is lws's own zero-timeout
  // poll() over its sockets plus its ripe timers. A pass that saw ready sockets is followed by
  // one more, because lws queues internal writes (pong, close echo) while reading.
  void RunPasses() {
    if (context_ == nullptr || destroying_) {
      return;
    }
    if (in_service_) {
      ScheduleService();
      return;
    }
    in_service_ = true;
    bool yielded = true;
    int idle_streak = 0;
    for (int i = 0; i < kMaxPassesPerTurn; ++i) {
      bool ready = AnyReady();
      callbacks_ = 0;
      lws_service(context_, -1);
      ++stats_.service_passes;
      // lws reports "pending" while a connection holds buffered input, including pipelined
      // requests it will not parse before the current answer is out: that must not keep us busy.
      bool pending = lws_service_adjust_timeout(context_, 1, 0) == 0;
      if (callbacks_ > 0) {
        idle_streak = 0;
        continue;
      }
      // Readiness or pending input lws did not act on twice running (e.g. a socket it is not
      // reading now) must not turn into a busy loop: leave it to the watches and the tick.
      if ((!ready && !pending) || ++idle_streak >= 2) {
        yielded = false;
        break;
      }
    }
    in_service_ = false;
    if (yielded) {
      ScheduleService();
    }
    ArmWaits();
  }

  void ArmWaits() {
    std::weak_ptr<char> alive(alive_);
    for (auto& [id, cp] : connections_) {
      HttpConnection& c = *cp;
      if (c.wsi == nullptr || !c.watch || !c.watch->is_open()) {
        continue;
      }
      if (!c.read_armed) {
        c.read_armed = true;
        c.watch->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [this, alive, id = c.id](const boost::system::error_code& ec) {
                              OnWatch(alive, id, ec, /*write=*/false);
                            });
      }
      if (!c.write_armed && (c.wants_write || lws_partial_buffered(c.wsi))) {
        c.write_armed = true;
        c.watch->async_wait(boost::asio::posix::stream_descriptor::wait_write,
                            [this, alive, id = c.id](const boost::system::error_code& ec) {
                              OnWatch(alive, id, ec, /*write=*/true);
                            });
      }
    }
  }

  void OnWatch(const std::weak_ptr<char>& alive, uint64_t id, const boost::system::error_code& ec,
               bool write) {
    if (alive.expired()) {
      return;
    }
    auto it = connections_.find(id);
    if (it != connections_.end()) {
      (write ? it->second->write_armed : it->second->read_armed) = false;
    }
    if (ec == boost::asio::error::operation_aborted) {
      return;
    }
    ScheduleService();
  }

  void Tick() {
    tick_.expires_after(kTick);
    tick_.async_wait(
        [this, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec) {
          if (alive.expired() || ec) {
            return;
          }
          RunPasses();
          Tick();
        });
  }

  void RequestWritable(HttpConnection& c) {
    if (c.wsi == nullptr) {
      return;
    }
    lws_callback_on_writable(c.wsi);
    c.wants_write = true;
    if (!in_service_) {
      ScheduleService();
    }
  }

  // ---- lws callbacks --------------------------------------------------------------------------

  static int Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    lws_context* context = lws_get_context(wsi);
    auto* self = context ? static_cast<Impl*>(lws_context_user(context)) : nullptr;
    if (self == nullptr) {
      return 0;
    }
    ++self->callbacks_;
    auto* connection = static_cast<HttpConnection*>(lws_get_opaque_user_data(wsi));
    if (connection == nullptr) {
      return 0;
    }
    connection->wsi = reason == LWS_CALLBACK_WSI_DESTROY ? nullptr : wsi;
    return self->OnCallback(*connection, wsi, reason, in, len);
  }

  int OnCallback(HttpConnection& c, lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
    switch (reason) {
      case LWS_CALLBACK_HTTP:
        return OnHttpHead(c, wsi);
      case LWS_CALLBACK_HTTP_BODY:
        return OnHttpBody(c, static_cast<const char*>(in), len);
      case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return OnHttpBodyDone(c);
      case LWS_CALLBACK_HTTP_WRITEABLE:
        c.wants_write = false;
        return WriteHttp(c, wsi);
      case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return OnUpgrade(c, wsi, static_cast<const char*>(in));
      case LWS_CALLBACK_ESTABLISHED:
        c.is_ws = true;
        if (!destroying_) {
          handler_->OnWebSocketOpen(c.id);
        }
        return 0;
      case LWS_CALLBACK_RECEIVE:
        return OnWsReceive(c, wsi, static_cast<const char*>(in), len);
      case LWS_CALLBACK_SERVER_WRITEABLE:
        c.wants_write = false;
        return WriteWs(c, wsi);
      case LWS_CALLBACK_WSI_DESTROY:
        OnDestroyed(c);
        return 0;
      default:
        return 0;
    }
  }

  int OnHttpHead(HttpConnection& c, lws* wsi) {
    ++c.request_seq;
    c.request = HttpRequest{};
    c.expect_body = false;
    c.body_done = false;
    c.discard_body = false;
    c.close_after_response = false;
    c.response.reset();
    c.headers_sent = false;
    c.body_sent = 0;
    c.response_done = false;
    c.send_continue = false;
    ++stats_.requests;
    CollectRequestHead(wsi, options_.extra_headers, &c.request);
    c.request.peer = c.peer;

    const std::string* length_header = c.request.Header("content-length");
    int64_t length = 0;
    if (length_header == nullptr) {
      if (c.request.Header("transfer-encoding") != nullptr) {
        c.close_after_response = true;
        QueueResponse(c, ErrorResponse(411, "a Content-Length is required"));
        return 0;
      }
    } else if (!ParseContentLength(*length_header, &length)) {
      c.close_after_response = true;
      QueueResponse(c, ErrorResponse(400, "bad Content-Length"));
      return 0;
    }
    c.expect_body = length > 0;
    if (length > options_.max_body_bytes) {
      c.discard_body = true;
      c.close_after_response = true;
      QueueResponse(c, ErrorResponse(413, base::Cat("request body over ", options_.max_body_bytes,
                                                    " bytes")));
      return 0;
    }
    if (std::optional<HttpResponse> early = handler_->OnHeaders(c.request)) {
      c.discard_body = c.expect_body;
      c.close_after_response = c.expect_body;
      QueueResponse(c, std::move(*early));
      return 0;
    }
    if (!c.expect_body) {
      Dispatch(c);
    } else if (const std::string* expect = c.request.Header("expect");
               expect != nullptr && absl::EqualsIgnoreCase(*expect, "100-continue")) {
      // libwebsockets does not answer Expect; without it curl and .NET clients wait ~1 s.
      c.send_continue = true;
      RequestWritable(c);
    }
    return 0;
  }

  int OnHttpBody(HttpConnection& c, const char* data, size_t len) {
    if (c.discard_body) {
      return 0;
    }
    if (c.request.body.size() + len > static_cast<size_t>(options_.max_body_bytes)) {
      // Content-Length lied (lws would not deliver more than it): answer 413 and drop the rest.
      c.discard_body = true;
      c.close_after_response = true;
      c.request.body.clear();
      QueueResponse(c, ErrorResponse(413, "request body too large"));
      return 0;
    }
    c.request.body.append(data, len);
    return 0;
  }

  int OnHttpBodyDone(HttpConnection& c) {
    if (c.body_done) {
      // libwebsockets 4.1.6 calls BODY_COMPLETION again and again when more pipelined bytes
      // follow a request body in the same read (it consumes nothing in that state). Closing is
      // the only way out; the request was not acted on yet (see below), so a retry is safe.
      OMNI_LOG(kWarning, kModule, "pipelined request after a body: closing the connection");
      return -1;
    }
    c.body_done = true;
    if (c.discard_body) {
      // The early answer is out (or going out); the connection closes after it.
      return c.response_done ? -1 : 0;
    }
    // Dispatched from the loop, after lws returns: if lws loops as above, the connection is gone
    // by then and the handler never sees the request.
    boost::asio::post(io_,
                      [this, alive = std::weak_ptr<char>(alive_), id = c.id, seq = c.request_seq] {
                        if (alive.expired()) {
                          return;
                        }
                        auto it = connections_.find(id);
                        if (it == connections_.end() || it->second->wsi == nullptr ||
                            it->second->request_seq != seq) {
                          return;
                        }
                        Dispatch(*it->second);
                      });
    return 0;
  }

  void Dispatch(HttpConnection& c) {
    auto it = connections_.find(c.id);
    if (it == connections_.end()) {
      return;
    }
    HttpResponder responder(std::weak_ptr<HttpConnection>(it->second), c.request_seq);
    handler_->OnRequest(std::move(c.request), std::move(responder));
  }

  void QueueResponse(HttpConnection& c, HttpResponse response) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (auto& [name, value] : response.headers) {
      std::string lower = ToLower(name);
      if (!SafeHeader(name, value) || lower == "content-length" || lower == "connection" ||
          lower == "transfer-encoding") {
        OMNI_LOG(kWarning, kModule, "dropped response header '", lower, "'");
        continue;
      }
      headers.emplace_back(std::move(lower), std::move(value));
    }
    response.headers = std::move(headers);
    c.response = std::move(response);
    RequestWritable(c);
  }

  // Writes the answer from the WRITEABLE callback: the head first, then the body in chunks,
  // one lws_write per callback.
  int WriteHttp(HttpConnection& c, lws* wsi) {
    if (c.send_continue) {
      c.send_continue = false;
      if (!c.response) {
        constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        unsigned char buffer[LWS_PRE + sizeof kContinue];
        std::memcpy(buffer + LWS_PRE, kContinue, sizeof kContinue);
        if (lws_write(wsi, buffer + LWS_PRE, sizeof kContinue - 1, LWS_WRITE_HTTP) <
            static_cast<int>(sizeof kContinue - 1)) {
          return -1;
        }
        return 0;
      }
    }
    if (!c.response) {
      return 0;
    }
    HttpResponse& r = *c.response;
    if (!c.headers_sent) {
      size_t room = 512;
      for (const auto& [name, value] : r.headers) {
        room += name.size() + value.size() + 4;
      }
      std::vector<unsigned char> buffer(LWS_PRE + room);
      unsigned char* start = buffer.data() + LWS_PRE;
      unsigned char* p = start;
      unsigned char* end = buffer.data() + buffer.size();
      std::string content_type = "application/json";
      for (const auto& [name, value] : r.headers) {
        if (name == "content-type") {
          content_type = value;
        }
      }
      if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(r.status),
                                      content_type.c_str(), r.body.size(), &p, end)) {
        return -1;
      }
      for (const auto& [name, value] : r.headers) {
        if (name == "content-type") {
          continue;
        }
        std::string key = name + ":";
        if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                        reinterpret_cast<const unsigned char*>(value.data()),
                                        static_cast<int>(value.size()), &p, end)) {
          return -1;
        }
      }
      if (c.close_after_response) {
        constexpr char kClose[] = "close";
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                         reinterpret_cast<const unsigned char*>(kClose),
                                         sizeof kClose - 1, &p, end)) {
          return -1;
        }
      }
      if (lws_finalize_write_http_header(wsi, start, &p, end)) {
        return -1;
      }
      c.headers_sent = true;
      if (!r.body.empty()) {
        RequestWritable(c);
        return 0;
      }
    } else {
      size_t n = std::min(kBodyChunk, r.body.size() - c.body_sent);
      bool last = c.body_sent + n == r.body.size();
      std::vector<unsigned char> buffer(LWS_PRE + n);
      std::copy_n(r.body.data() + c.body_sent, n, buffer.data() + LWS_PRE);
      int written =
          lws_write(wsi, buffer.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
      if (written < static_cast<int>(n)) {
        return -1;
      }
      c.body_sent += n;
      if (!last) {
        RequestWritable(c);
        return 0;
      }
    }
    // The whole answer is written.
    c.response.reset();
    c.response_done = true;
    if (c.expect_body && !c.body_done) {
      // Answered before the body: keep reading and dropping it for a while, then close.
      lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, kDrainSeconds);
      return 0;
    }
    if (c.close_after_response) {
      return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }

  int OnUpgrade(HttpConnection& c, lws* wsi, const char* upgrade) {
    HttpRequest request;
    CollectRequestHead(wsi, options_.extra_headers, &request);
    request.peer = c.peer;
    ++stats_.requests;
    std::optional<HttpResponse> refusal;
    if (upgrade == nullptr || !absl::EqualsIgnoreCase(upgrade, "websocket")) {
      refusal = ErrorResponse(400, "unsupported upgrade");
    } else if (ws_path_.empty() || request.path != ws_path_) {
      refusal = ErrorResponse(404, "not found");
    } else {
      refusal = handler_->OnWebSocketUpgrade(request);
    }
    if (!refusal) {
      return 0;
    }
    // lws's upgrade path wants the refusal written from this callback (as lws_return_http_status
    // does); it is small and the connection is fresh, then the connection closes.
    std::vector<unsigned char> buffer(LWS_PRE + 1024 + refusal->body.size());
    unsigned char* start = buffer.data() + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buffer.data() + buffer.size();
    if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(refusal->status),
                                    "application/json", refusal->body.size(), &p, end)) {
      return -1;
    }
    constexpr char kClose[] = "close";
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     reinterpret_cast<const unsigned char*>(kClose),
                                     sizeof kClose - 1, &p, end) ||
        lws_finalize_http_header(wsi, &p, end)) {
      return -1;
    }
    p = std::copy_n(reinterpret_cast<const unsigned char*>(refusal->body.data()),
                    refusal->body.size(), p);
    lws_write(wsi, start, static_cast<size_t>(p - start), LWS_WRITE_HTTP_HEADERS);
    return -1;
  }

  int OnWsReceive(HttpConnection& c, lws* wsi, const char* data, size_t len) {
    if (lws_frame_is_binary(wsi)) {
      constexpr char kReason[] = "text only";
      lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                       reinterpret_cast<unsigned char*>(const_cast<char*>(kReason)),
                       sizeof kReason - 1);
      return -1;
    }
    if (c.ws_in.size() + len > options_.max_ws_message_bytes) {
      constexpr char kReason[] = "message too large";
      lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                       reinterpret_cast<unsigned char*>(const_cast<char*>(kReason)),
                       sizeof kReason - 1);
      return -1;
    }
    c.ws_in.append(data, len);
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
      std::string message = std::move(c.ws_in);
      c.ws_in.clear();
      if (!destroying_) {
        handler_->OnWebSocketMessage(c.id, message);
      }
    }
    return 0;
  }

  int WriteWs(HttpConnection& c, lws* wsi) {
    if (!c.ws_out.empty()) {
      std::string& message = c.ws_out.front();
      size_t n = message.size() - LWS_PRE;
      int written = lws_write(wsi, reinterpret_cast<unsigned char*>(message.data()) + LWS_PRE, n,
                              LWS_WRITE_TEXT);
      if (written < static_cast<int>(n)) {
        return -1;
      }
      c.ws_out_bytes -= n;
      c.ws_out.pop_front();
    }
    if (!c.ws_out.empty()) {
      RequestWritable(c);
    } else if (c.close_requested) {
      lws_close_reason(wsi, static_cast<lws_close_status>(c.close_code),
                       reinterpret_cast<unsigned char*>(c.close_reason.data()),
                       c.close_reason.size());
      return -1;
    }
    return 0;
  }

  void OnDestroyed(HttpConnection& c) {
    auto it = connections_.find(c.id);
    if (it == connections_.end()) {
      return;
    }
    std::shared_ptr<HttpConnection> keep = it->second;  // `c` lives until we return
    connections_.erase(it);
    boost::system::error_code ec;
    if (c.watch) {
      c.watch->close(ec);
    }
    if (c.is_ws && !destroying_) {
      handler_->OnWebSocketClosed(c.id);
    }
  }

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  HttpHandler* handler_;
  std::string ws_path_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer tick_;
  // Asio handlers hold weak copies: a handler that runs after the server is gone does nothing.
  std::shared_ptr<char> alive_;
  lws_protocols protocols_[2];
  lws_context* context_ = nullptr;
  lws_vhost* vhost_ = nullptr;
  uint16_t port_ = 0;
  absl::flat_hash_map<uint64_t, std::shared_ptr<HttpConnection>> connections_;
  std::vector<pollfd> pollfds_;
  uint64_t next_id_ = 1;
  bool service_posted_ = false;
  bool in_service_ = false;
  bool destroying_ = false;
  int callbacks_ = 0;
  HttpServerStats stats_;
};

void HttpResponder::Respond(HttpResponse response) {
  std::shared_ptr<HttpConnection> connection = connection_.lock();
  connection_.reset();
  if (connection == nullptr || connection->server == nullptr) {
    return;
  }
  connection->server->Respond(*connection, request_seq_, std::move(response));
}

bool HttpResponder::Connected() const {
  std::shared_ptr<HttpConnection> connection = connection_.lock();
  return connection != nullptr && connection->wsi != nullptr;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(boost::asio::io_context& io,
                                                               HttpServerOptions options,
                                                               HttpHandler* handler,
                                                               std::string websocket_path) {
  auto impl = std::make_unique<Impl>(io, std::move(options), handler, std::move(websocket_path));
  absl::Status status = impl->Start();
  if (!status.ok()) {
    return status;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::port() const { return impl_->port(); }

absl::Status HttpServer::SendText(WebSocketId id, std::string_view message) {
  return impl_->SendText(id, message);
}

void HttpServer::Close(WebSocketId id, int code, std::string_view reason) {
  impl_->Close(id, code, reason);
}

std::vector<WebSocketId> HttpServer::WebSockets() const { return impl_->WebSockets(); }

HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace omnibridge::connect
