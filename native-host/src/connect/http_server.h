// A small HTTP/1.1 + WebSocket server on libwebsockets, driven by the host's one Boost.Asio
// io_context (no thread of its own). Used by the Connect API (connect/) and by the route-mode
// webhook intake (routing/).
//
// Threads: every method, every handler call and every HttpResponder call happens on the thread
// that runs the io_context. Handlers run inside libwebsockets' service pass: they may call
// Respond(), SendText() and Close(), but must not destroy the server.
//
// Loop integration: Debian's libwebsockets 4.1.6 is built without LWS_WITH_EXTERNAL_POLL, so the
// ADD/DEL/CHANGE_MODE_POLL_FD callbacks never fire. Instead the server accepts connections
// itself (an asio acceptor, which also gives the ephemeral port), hands each socket to lws with
// lws_adopt_descriptor_vhost_via_info(), watches a dup of it with posix::stream_descriptor and,
// when anything is ready, runs lws_service(ctx, -1): lws's own zero-timeout poll() over its fds
// and the ripe timers. A steady_timer tick services lws's timers (timeouts are whole seconds).
//
// Process-wide side effects of libwebsockets: SIGPIPE is ignored (lws does it at context
// creation) and lws's log level/emitter are set (to ours: errors only, into base/log.h).
// Known limit of lws 4.1.6: a request pipelined behind a request body in the same read makes lws
// loop; the server closes such a connection without acting on the request (retry-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"

namespace omnibridge::connect {

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";  // an IPv4 or IPv6 literal
  uint16_t port = 0;                       // 0: an ephemeral port, see HttpServer::port()
  // Request bodies larger than this are answered 413 as soon as Content-Length shows it (or the
  // running total passes it); no byte past the cap is kept.
  int64_t max_body_bytes = int64_t{1024} * 1024;
  int max_header_bytes = 8192;    // whole request head; more → lws answers 431 / closes
  int max_connections = 64;       // beyond this, new connections are closed at once
  int idle_timeout_seconds = 30;  // keep-alive and unanswered-request bound
  // WebSocket: per-connection output queue bound (SendText() beyond it → ResourceExhausted) and
  // the largest incoming message (more → the connection is closed with 1009).
  size_t max_ws_queue_messages = 256;
  size_t max_ws_queue_bytes = size_t{4} * 1024 * 1024;
  size_t max_ws_message_bytes = size_t{64} * 1024;
  // Request headers are collected from libwebsockets' table of known headers (Host,
  // Authorization, Origin, Content-Type, …). Other headers are only captured when named here,
  // e.g. "X-Omnibridge-Signature" (libwebsockets cannot enumerate unknown headers).
  std::vector<std::string> extra_headers;
};

struct HttpRequest {
  std::string method;  // upper case: GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD
  std::string path;    // percent-decoded and normalised by libwebsockets, e.g. "/v1/events"
  std::string query;   // the arguments after '?', each decoded, joined by '&'; "" when none
  // Header names lower case, values as received (repeated headers joined by libwebsockets).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty until the whole body is in; never longer than max_body_bytes
  std::string peer;  // remote address, for logs

  // Case-insensitive lookup; nullptr when absent.
  const std::string* Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  // Extra headers (no CR/LF; such headers are dropped). "Content-Type" here replaces the
  // default "application/json"; Content-Length is always set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class HttpServer;
struct HttpConnection;

// Answers one request. Movable, cheap; call Respond() once, now or later. Calls after the client
// went away, or a second call, are ignored. A responder must not outlive the server.
class HttpResponder {
 public:
  HttpResponder() = default;
  void Respond(HttpResponse response);
  // False once the connection closed (the answer would go nowhere).
  bool Connected() const;

 private:
  friend class HttpServer;

  HttpResponder(std::weak_ptr<HttpConnection> connection, uint64_t request_seq)
      : connection_(std::move(connection)), request_seq_(request_seq) {}

  std::weak_ptr<HttpConnection> connection_;
  uint64_t request_seq_ = 0;
};

// Identifies one open WebSocket; never reused within a server's life.
using WebSocketId = uint64_t;

// What the owner of a server implements. Not owned by the server; must outlive it.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // Sees the request line and headers (body empty) before any body byte is read. Returning a
  // response answers with it and discards the body unread-into-memory (e.g. 401/403/404).
  virtual std::optional<HttpResponse> OnHeaders(const HttpRequest& request) { return std::nullopt; }

  // The complete request, body included.
  virtual void OnRequest(HttpRequest request, HttpResponder responder) = 0;

  // A WebSocket upgrade on HttpServer's websocket_path (others are refused with 404).
  // nullopt accepts; a response refuses with it.
  virtual std::optional<HttpResponse> OnWebSocketUpgrade(const HttpRequest& request) {
    return HttpResponse{404, {}, R"({"error":"not found"})"};
  }

  virtual void OnWebSocketOpen(WebSocketId id) {}

  virtual void OnWebSocketMessage(WebSocketId id, std::string_view text) {}

  virtual void OnWebSocketClosed(WebSocketId id) {}
};

struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t requests = 0;
  uint64_t service_passes = 0;  // lws_service() calls: shows the server is not spinning
  size_t open_connections = 0;
  size_t open_websockets = 0;
};

class HttpServer {
 public:
  // Binds and starts accepting. `websocket_path` ("" for none) is the one path where WebSocket
  // upgrades are offered to the handler. Errors: InvalidArgument (bad address/options),
  // Unavailable (bind failed, e.g. port in use), Internal (libwebsockets refused to start).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(boost::asio::io_context& io,
                                                            HttpServerOptions options,
                                                            HttpHandler* handler,
                                                            std::string websocket_path = "");
  // Closes every connection (handlers are not called during destruction).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const;

  // Queues a text message. ResourceExhausted when the connection's queue bound is reached (the
  // message is dropped; the caller decides whether to Close()), NotFound when `id` is not open.
  absl::Status SendText(WebSocketId id, std::string_view message);
  // Closes after the queued messages are sent (status 1000, or `code` with `reason`).
  void Close(WebSocketId id, int code = 1000, std::string_view reason = "");
  std::vector<WebSocketId> WebSockets() const;

  HttpServerStats stats() const;

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class HttpResponder;
  friend struct HttpConnection;
};

}  // namespace omnibridge::connect
