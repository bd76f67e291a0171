// The Connect API server: authentication, routes and subscribers over omni_http.
#include <utility>

#include "boost/json.hpp"

#include "base/log.h"
#include "config/config.h"
#include "connect/connect.h"
#include "connect/http_server.h"

namespace omnibridge::connect {

namespace {

constexpr char kModule[] = "connect";
constexpr char kEventsPath[] = "/v1/events";
constexpr char kInteractionsPath[] = "/v1/interactions";

HttpResponse Json(int status, const boost::json::value& body) {
  return HttpResponse{status, {{"Cache-Control", "no-store"}}, boost::json::serialize(body)};
}

HttpResponse Error(int status, std::string_view message) {
  boost::json::object body;
  body["error"] = boost::json::string_view(message.data(), message.size());
  return Json(status, body);
}

int StatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

ConnectOptions OptionsFromConfig(const config::Config& config) {
  ConnectOptions options;
  options.port = static_cast<uint16_t>(config.connect.port);
  options.max_body_bytes = config.connect.max_body_bytes;
  options.token_dir = config::UserConfigDir();
  return options;
}

class ConnectServer::Impl : public HttpHandler {
 public:
  Impl(ConnectOptions options, ConnectBackend* backend, std::string token)
      : options_(std::move(options)), backend_(backend), token_(std::move(token)) {}

  absl::Status Start(boost::asio::io_context& io) {
    HttpServerOptions http;
    http.bind_address = "127.0.0.1";  // loopback only, whatever the configuration says
    http.port = options_.port;
    http.max_body_bytes = options_.max_body_bytes;
    http.max_connections = options_.max_connections;
    http.max_ws_queue_messages = options_.max_subscriber_queue;
    http.extra_headers = {"Sec-Fetch-Site", "Sec-Fetch-Mode"};
    auto server = HttpServer::Create(io, std::move(http), this, kEventsPath);
    if (!server.ok()) {
      return server.status();
    }
    server_ = std::move(*server);
    OMNI_LOG(kInfo, kModule, "Connect API on 127.0.0.1:", server_->port());
    return absl::OkStatus();
  }

  // Browser and token checks, then routing; all before any body byte is read.
  std::optional<HttpResponse> Gate(const HttpRequest& request) {
    if (request.Header("origin") != nullptr || request.Header("sec-fetch-site") != nullptr ||
        request.Header("sec-fetch-mode") != nullptr) {
      return Error(403, "requests from web pages are refused");
    }
    const std::string* authorization = request.Header("authorization");
    std::optional<std::string_view> presented =
        authorization ? BearerToken(*authorization) : std::nullopt;
    if (!presented || !TokenMatches(token_, *presented)) {
      HttpResponse r = Error(401, "missing or wrong bearer token (see connect-token)");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    return std::nullopt;
  }

  std::optional<HttpResponse> OnHeaders(const HttpRequest& request) override {
    if (std::optional<HttpResponse> refused = Gate(request)) {
      return refused;
    }
    if (request.path == kEventsPath) {
      if (request.method == "POST") {
        return std::nullopt;
      }
      if (request.method == "GET") {
        return Error(426, "GET /v1/events is a WebSocket");
      }
      return MethodNotAllowed("POST, GET");
    }
    if (request.path == kInteractionsPath) {
      if (request.method == "GET") {
        return std::nullopt;
      }
      return MethodNotAllowed("GET");
    }
    return Error(404, "no such endpoint");
  }

  void OnRequest(HttpRequest request, HttpResponder responder) override {
    if (request.path == kInteractionsPath) {
      boost::json::object body;
      body["interactions"] = backend_->Interactions();
      responder.Respond(Json(200, body));
      return;
    }
    absl::StatusOr<ConnectEvent> event = ParseEventBody(request.body);
    if (!event.ok()) {
      responder.Respond(Error(400, std::string(event.status().message())));
      return;
    }
    absl::Status status = backend_->OnEvent(*event);
    if (!status.ok()) {
      OMNI_LOG(kInfo, kModule, "event refused: ", status.ToString());
      responder.Respond(Error(StatusFor(status), std::string(status.message())));
      return;
    }
    boost::json::object body;
    body["status"] = "accepted";
    responder.Respond(Json(202, body));
  }

  std::optional<HttpResponse> OnWebSocketUpgrade(const HttpRequest& request) override {
    return Gate(request);
  }

  void Broadcast(const boost::json::value& message) {
    if (server_ == nullptr) {
      return;
    }
    std::string text = boost::json::serialize(message);
    for (WebSocketId id : server_->WebSockets()) {
      absl::Status sent = server_->SendText(id, text);
      if (absl::IsResourceExhausted(sent)) {
        OMNI_LOG(kWarning, kModule, "dropping a Connect API subscriber that does not keep up");
        server_->Close(id, 1008, "too slow");
      }
    }
  }

  size_t subscribers() const { return server_ ? server_->WebSockets().size() : 0; }

  uint16_t port() const { return server_ ? server_->port() : 0; }

 private:
  static HttpResponse MethodNotAllowed(std::string allow) {
    HttpResponse r = Error(405, "method not allowed");
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  }

  ConnectOptions options_;
  ConnectBackend* backend_;
  std::string token_;
  std::unique_ptr<HttpServer> server_;

  friend class ConnectServer;
};

absl::StatusOr<std::unique_ptr<ConnectServer>> ConnectServer::Create(boost::asio::io_context& io,
                                                                     ConnectOptions options,
                                                                     ConnectBackend* backend) {
  if (backend == nullptr) {
    return absl::InvalidArgumentError("connect: no backend");
  }
  absl::StatusOr<std::string> token = LoadOrCreateToken(options.token_dir);
  if (!token.ok()) {
    return token.status();
  }
  auto impl = std::make_unique<Impl>(std::move(options), backend, std::move(*token));
  absl::Status started = impl->Start(io);
  if (!started.ok()) {
    return started;
  }
  return std::unique_ptr<ConnectServer>(new ConnectServer(std::move(impl)));
}

ConnectServer::ConnectServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConnectServer::~ConnectServer() = default;

uint16_t ConnectServer::port() const { return impl_->port(); }

std::string ConnectServer::token_path() const {
  return impl_->options_.token_dir + "/" + kTokenFileName;
}

void ConnectServer::Broadcast(const boost::json::value& message) { impl_->Broadcast(message); }

size_t ConnectServer::subscribers() const { return impl_->subscribers(); }

}  // namespace omnibridge::connect
