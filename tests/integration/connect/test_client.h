// Tiny loopback HTTP/WebSocket clients for the connect tests (Boost.Beast, blocking, with socket
// timeouts so a broken server fails a test instead of hanging it), and a helper that runs an
// io_context on its own thread for the server under test.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/websocket.hpp"

namespace omnibridge::testing {

// Runs an io_context on a background thread; Run() executes a function on it and waits.
class LoopThread {
 public:
  LoopThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}

  ~LoopThread() { Stop(); }

  void Stop() {
    if (!thread_.joinable())
      return;
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  boost::asio::io_context& io() { return io_; }

  template <typename F>
  auto Run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto future = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return future.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Runs one asynchronous operation on `io` for at most `timeout`; on timeout the socket is closed
// and the operation ends with an error. (Asio's blocking calls ignore SO_RCVTIMEO: they poll.)
template <typename Socket, typename Start>
boost::system::error_code RunWithTimeout(boost::asio::io_context& io, Socket& socket,
                                         std::chrono::milliseconds timeout, Start start) {
  boost::system::error_code result = boost::asio::error::timed_out;
  bool done = false;
  start([&](boost::system::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  io.restart();
  io.run_for(timeout);
  if (!done) {
    boost::system::error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run();
    result = boost::asio::error::timed_out;
  }
  return result;
}

struct ClientResponse {
  int status = 0;                              // 0: no response (connection closed or error)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool keep_alive = false;
  std::string error;
};

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(io_), timeout_(timeout) {
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    connected_ = !ec;
  }

  bool connected() const { return connected_; }

  boost::asio::ip::tcp::socket& socket() { return socket_; }

  ClientResponse Request(const std::string& method, const std::string& target,
                         const std::map<std::string, std::string>& headers = {},
                         const std::string& body = "") {
    namespace http = boost::beast::http;
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers)
      request.set(name, value);
    if (!body.empty() || method == "POST") {
      request.body() = body;
      request.prepare_payload();
    }
    RunWithTimeout(io_, socket_, timeout_,
                   [&](auto handler) { http::async_write(socket_, request, handler); });
    // A server may answer (413) before the whole body is written; still read its answer.
    return ReadResponse();
  }

  // Sends raw bytes, then reads one response.
  ClientResponse Raw(const std::string& bytes) {
    Send(bytes);
    return ReadResponse();
  }

  bool Send(const std::string& bytes) {
    return !RunWithTimeout(io_, socket_, timeout_, [&](auto handler) {
      boost::asio::async_write(socket_, boost::asio::buffer(bytes), handler);
    });
  }

  ClientResponse ReadResponse() {
    namespace http = boost::beast::http;
    ClientResponse out;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code ec = RunWithTimeout(io_, socket_, timeout_, [&](auto handler) {
      http::async_read(socket_, buffer_, parser, handler);
    });
    if (ec) {
      out.error = ec.message();
      return out;
    }
    auto& response = parser.get();
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(field.value());
    }
    out.body = response.body();
    out.keep_alive = response.keep_alive();
    return out;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::chrono::milliseconds timeout_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

// A WebSocket client; Connect() returns the handshake's HTTP status (101 on success).
class WsClient {
 public:
  explicit WsClient(std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : ws_(io_), timeout_(timeout) {}

  int Connect(uint16_t port, const std::string& target,
              const std::map<std::string, std::string>& headers = {}) {
    namespace websocket = boost::beast::websocket;
    boost::system::error_code ec;
    ws_.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
      return 0;
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers)
        request.set(name, value);
    }));
    websocket::response_type response;
    ec = RunWithTimeout(io_, ws_.next_layer(), timeout_, [&](auto handler) {
      ws_.async_handshake(response, "127.0.0.1", target, handler);
    });
    return static_cast<int>(response.result_int());
  }

  // The next text message, or nullopt on close/timeout.
  std::optional<std::string> Read() {
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec = RunWithTimeout(
        io_, ws_.next_layer(), timeout_, [&](auto handler) { ws_.async_read(buffer, handler); });
    if (ec) {
      last_error_ = ec;
      return std::nullopt;
    }
    return boost::beast::buffers_to_string(buffer.data());
  }

  bool Write(const std::string& text) {
    ws_.text(true);
    return !RunWithTimeout(io_, ws_.next_layer(), timeout_, [&](auto handler) {
      ws_.async_write(boost::asio::buffer(text), handler);
    });
  }

  void Close() {
    RunWithTimeout(io_, ws_.next_layer(), timeout_, [&](auto handler) {
      ws_.async_close(boost::beast::websocket::close_code::normal, handler);
    });
  }

  boost::system::error_code last_error() const { return last_error_; }

  boost::beast::websocket::close_reason close_reason() const { return ws_.reason(); }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  std::chrono::milliseconds timeout_;
  boost::system::error_code last_error_;
};

}  // namespace omnibridge::testing
