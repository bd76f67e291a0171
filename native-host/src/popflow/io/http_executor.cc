// The HTTP executor: one Session per request (resolve, connect, TLS handshake with certificate
// and host-name checks, write, read with a body cap), bounded by one overall deadline. The
// credential is added here, from the host's configuration, and only for URLs under the
// credential's base URL.
#include <chrono>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "base/log.h"
#include "popflow/io/popflow_io.h"

namespace omnibridge::popflow {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

absl::StatusOr<ParsedUrl> ParseHttpUrl(std::string_view url) {
  ParsedUrl out;
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return absl::InvalidArgumentError("URL contains a space or control character");
    }
  }
  std::string_view rest;
  if (absl::StartsWithIgnoreCase(Av(url), "https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else if (absl::StartsWithIgnoreCase(Av(url), "http://")) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("URL must start with http:// or https://");
  }
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError("URL must not carry a user name or password");
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("bad IPv6 host");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError("bad host");
      }
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (out.host.empty()) {
    return absl::InvalidArgumentError("URL has no host");
  }
  for (char c : out.host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
        c != ':') {
      return absl::InvalidArgumentError("bad character in host");
    }
  }
  out.host = absl::AsciiStrToLower(out.host);
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    int p = 0;
    if (!absl::SimpleAtoi(Av(port), &p) || p < 1 || p > 65535) {
      return absl::InvalidArgumentError("bad port");
    }
    out.port = std::string(port);
  }
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) {
    tail = tail.substr(0, hash);
  }
  out.target = tail.empty() || tail[0] != '/' ? absl::StrCat("/", Av(tail)) : std::string(tail);
  return out;
}

namespace {

// Whether `url` lies under `base`: same scheme, host and port, and a path that continues the
// base path at a segment boundary (so https://api.example.com never matches
// https://api.example.com.evil.test or /v1 never matches /v10).
bool Under(const ParsedUrl& url, const ParsedUrl& base) {
  if (url.tls != base.tls || url.host != base.host || url.port != base.port) {
    return false;
  }
  std::string_view path = url.target;
  std::string_view prefix = base.target;
  if (size_t q = prefix.find('?'); q != std::string_view::npos) {
    prefix = prefix.substr(0, q);
  }
  if (!absl::StartsWith(Av(path), Av(prefix))) {
    return false;
  }
  if (path.size() == prefix.size() || prefix.back() == '/') {
    return true;
  }
  char next = path[prefix.size()];
  return next == '/' || next == '?';
}

}  // namespace

struct HttpExecutor::Impl {
  Impl(asio::io_context& io_in, std::map<std::string, Credential> creds, Options opts)
      : io(io_in),
        credentials(std::move(creds)),
        options(opts),
        tls(std::make_shared<ssl::context>(ssl::context::tls_client)) {
    boost::system::error_code ec;
    tls->set_default_verify_paths(ec);
    if (ec) {
      OMNI_LOG(kWarning, "popflow", "no system CA certificates: ", ec.message());
    }
    tls->set_verify_mode(ssl::verify_peer);
  }

  asio::io_context& io;
  std::map<std::string, Credential> credentials;
  Options options;
  std::shared_ptr<ssl::context> tls;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, std::shared_ptr<ssl::context> tls, ParsedUrl url,
          http::request<http::string_body> request, absl::Duration timeout, size_t max_body,
          uint64_t id, HttpExecutor::Done done)
      : tls_ctx_(std::move(tls)),
        url_(std::move(url)),
        request_(std::move(request)),
        resolver_(io),
        timer_(io),
        timeout_(timeout),
        max_body_(max_body),
        id_(id),
        done_(std::move(done)) {
    if (url_.tls) {
      secure_.emplace(io, *tls_ctx_);
    } else {
      plain_.emplace(io);
    }
  }

  void Start() {
    timer_.expires_after(std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout_)));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) {
        return;  // cancelled: the request finished first
      }
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      self->Lowest().socket().close(ignored);
    });
    resolver_.async_resolve(url_.host, url_.port,
                            [self = shared_from_this()](
                                beast::error_code ec, const tcp::resolver::results_type& results) {
                              self->OnResolve(ec, results);
                            });
  }

 private:
  beast::tcp_stream& Lowest() { return secure_ ? beast::get_lowest_layer(*secure_) : *plain_; }

  void Finish(HttpResult result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    timer_.cancel();
    beast::error_code ignored;
    Lowest().socket().close(ignored);
    done_(id_, std::move(result));
  }

  void Fail(std::string_view what, const beast::error_code& ec) {
    HttpResult r;
    r.error = timed_out_ ? std::string("timed out") : absl::StrCat(Av(what), ": ", ec.message());
    Finish(std::move(r));
  }

  void OnResolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (ec) {
      return Fail("resolving the host", ec);
    }
    Lowest().async_connect(results,
                           [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                             self->OnConnect(ec);
                           });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) {
      return Fail("connecting", ec);
    }
    if (!secure_) {
      return Write(*plain_);
    }
    // SNI and certificate checks: the peer must prove it is the host the URL names.
    if (!SSL_set_tlsext_host_name(secure_->native_handle(), url_.host.c_str())) {
      return Fail("TLS", beast::error_code(static_cast<int>(::ERR_get_error()),
                                           asio::error::get_ssl_category()));
    }
    secure_->set_verify_callback(ssl::host_name_verification(url_.host));
    secure_->async_handshake(ssl::stream_base::client,
                             [self = shared_from_this()](beast::error_code ec) {
                               if (ec) {
                                 return self->Fail("TLS handshake", ec);
                               }
                               self->Write(*self->secure_);
                             });
  }

  template <class Stream>
  void Write(Stream& stream) {
    http::async_write(stream, request_,
                      [self = shared_from_this(), &stream](beast::error_code ec, size_t) {
                        if (ec) {
                          return self->Fail("sending the request", ec);
                        }
                        self->Read(stream);
                      });
  }

  template <class Stream>
  void Read(Stream& stream) {
    parser_.body_limit(max_body_);
    parser_.header_limit(64 * 1024);
    http::async_read(stream, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) {
                         HttpResult r;
                         r.error = absl::StrCat("response larger than ", self->max_body_, " bytes");
                         return self->Finish(std::move(r));
                       }
                       if (ec) {
                         return self->Fail("reading the response", ec);
                       }
                       auto& res = self->parser_.get();
                       HttpResult r;
                       r.status = static_cast<int>(res.result_int());
                       r.body = std::move(res.body());
                       r.content_type = std::string(res[http::field::content_type]);
                       self->Finish(std::move(r));
                     });
  }

  std::shared_ptr<ssl::context> tls_ctx_;
  ParsedUrl url_;
  http::request<http::string_body> request_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  absl::Duration timeout_;
  size_t max_body_;
  uint64_t id_;
  HttpExecutor::Done done_;
  bool finished_ = false;
  bool timed_out_ = false;
};

}  // namespace

HttpExecutor::HttpExecutor(asio::io_context& io, std::map<std::string, Credential> credentials,
                           Options options)
    : impl_(std::make_unique<Impl>(io, std::move(credentials), options)) {}

HttpExecutor::~HttpExecutor() = default;

void HttpExecutor::Execute(const HttpRequest& request, Done done) {
  auto refuse = [&](std::string error) {
    HttpResult r;
    r.error = std::move(error);
    OMNI_LOG(kWarning, "popflow", "flow '", request.flow, "' node '", request.node,
             "': request refused: ", r.error);
    asio::post(impl_->io, [done = std::move(done), id = request.id, r = std::move(r)]() mutable {
      done(id, std::move(r));
    });
  };
  auto url = ParseHttpUrl(request.url);
  if (!url.ok()) {
    return refuse(std::string(url.status().message()));
  }
  http::verb verb = request.method == "POST" ? http::verb::post : http::verb::get;
  http::request<http::string_body> req{verb, url->target, 11};
  bool default_port = url->port == (url->tls ? "443" : "80");
  req.set(http::field::host, default_port ? url->host : absl::StrCat(url->host, ":", url->port));
  req.set(http::field::user_agent, "omnibridge-popflow/1");
  req.set(http::field::accept, "application/json, text/plain;q=0.9, */*;q=0.1");
  for (const auto& [name, value] : request.headers) {
    if (value.find_first_of("\r\n") != std::string::npos) {
      return refuse("header value with a line break");
    }
    req.set(name, value);
  }
  if (!request.credential.empty()) {
    auto it = impl_->credentials.find(request.credential);
    if (it == impl_->credentials.end()) {
      return refuse(absl::StrCat("no credential '", request.credential, "' is configured"));
    }
    const Credential& c = it->second;
    auto base = ParseHttpUrl(c.base_url);
    if (!base.ok() || !Under(*url, *base)) {
      return refuse(absl::StrCat("credential '", request.credential, "' is only for ", c.base_url));
    }
    switch (c.type) {
      case Credential::Type::kBearer:
        req.set(http::field::authorization, absl::StrCat("Bearer ", c.secret));
        break;
      case Credential::Type::kHeader:
        req.set(c.header, c.secret);
        break;
      case Credential::Type::kBasic: {
        std::string plain = absl::StrCat(c.username, ":", c.secret);
        std::string encoded(beast::detail::base64::encoded_size(plain.size()), '\0');
        encoded.resize(beast::detail::base64::encode(encoded.data(), plain.data(), plain.size()));
        req.set(http::field::authorization, absl::StrCat("Basic ", encoded));
        break;
      }
    }
  }
  if (verb == http::verb::post) {
    req.body() = request.body;
    if (req[http::field::content_type].empty()) {
      req.set(http::field::content_type, "application/json");
    }
  }
  req.prepare_payload();
  absl::Duration timeout = std::clamp(request.timeout, absl::Seconds(1), absl::Seconds(60));
  std::make_shared<Session>(impl_->io, impl_->tls, *std::move(url), std::move(req), timeout,
                            impl_->options.max_body, request.id, std::move(done))
      ->Start();
}

}  // namespace omnibridge::popflow
