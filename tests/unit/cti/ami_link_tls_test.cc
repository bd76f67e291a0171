// AmiLink over TLS against an in-process TLS peer with a certificate made for the test.
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "cti/ami/ami_link.h"

namespace omnibridge::cti::ami {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

// A self-signed certificate for 127.0.0.1, written as PEM files into a scratch directory.
struct TestCertificate {
  std::filesystem::path dir;
  std::string cert_file, key_file;

  TestCertificate() {
    dir = std::filesystem::temp_directory_path() /
          ("omni-ami-tls-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
    cert_file = (dir / "cert.pem").string();
    key_file = (dir / "key.pem").string();
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("omnibridge test"), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "CA:TRUE");
    X509_add_ext(cert, bc, -1);
    X509_EXTENSION_free(bc);
    X509_sign(cert, key, EVP_sha256());
    FILE* f = std::fopen(cert_file.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_file.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  ~TestCertificate() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Just enough of Asterisk over TLS: banner, login, FullyBooted, empty resync lists.
class TlsPeer {
 public:
  TlsPeer(asio::io_context& io, const TestCertificate& cert)
      : io_(io), ssl_(asio::ssl::context::tls_server), acceptor_(io) {
    ssl_.use_certificate_chain_file(cert.cert_file);
    ssl_.use_private_key_file(cert.key_file, asio::ssl::context::pem);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    Accept();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  int logins = 0;

 private:
  struct Conn {
    Conn(asio::io_context& io, asio::ssl::context& ctx) : stream(io, ctx) {}

    asio::ssl::stream<tcp::socket> stream;
    char buf[4096];
    std::string inbox;
    std::deque<std::string> queue;
    bool writing = false;
  };

  void Accept() {
    auto conn = std::make_shared<Conn>(io_, ssl_);
    acceptor_.async_accept(conn->stream.next_layer(), [this, conn](boost::system::error_code ec) {
      if (ec)
        return;
      Accept();
      conn->stream.async_handshake(asio::ssl::stream_base::server,
                                   [this, conn](boost::system::error_code ec) {
                                     if (ec)
                                       return;
                                     Write(conn, "Asterisk Call Manager/11.0.0\r\n");
                                     Read(conn);
                                   });
    });
  }

  void Read(std::shared_ptr<Conn> conn) {
    conn->stream.async_read_some(
        asio::buffer(conn->buf), [this, conn](boost::system::error_code ec, size_t n) {
          if (ec)
            return;
          conn->inbox.append(conn->buf, n);
          size_t end;
          while ((end = conn->inbox.find("\r\n\r\n")) != std::string::npos) {
            std::string packet = conn->inbox.substr(0, end);
            conn->inbox.erase(0, end + 4);
            auto header = [&](const std::string& name) {
              size_t p = packet.find(name + ": ");
              if (p == std::string::npos)
                return std::string();
              p += name.size() + 2;
              return packet.substr(p, packet.find("\r\n", p) - p);
            };
            const std::string id = header("ActionID");
            const std::string action = header("Action");
            if (action == "Login") {
              ++logins;
              Write(conn, "Response: Success\r\nActionID: " + id +
                              "\r\nMessage: Authentication accepted\r\n\r\n"
                              "Event: FullyBooted\r\nUptime: 1\r\nStatus: Fully Booted\r\n\r\n");
            } else if (action == "QueueStatus" || action == "CoreShowChannels") {
              Write(conn, "Response: Success\r\nActionID: " + id +
                              "\r\nEventList: start\r\n\r\nEvent: " + action +
                              "Complete\r\nActionID: " + id +
                              "\r\nEventList: Complete\r\nListItems: 0\r\n\r\n");
            } else {
              Write(conn, "Response: Success\r\nActionID: " + id + "\r\n\r\n");
            }
          }
          Read(conn);
        });
  }

  // One write at a time on a TLS stream: queue the rest.
  void Write(const std::shared_ptr<Conn>& conn, std::string bytes) {
    conn->queue.push_back(std::move(bytes));
    Flush(conn);
  }

  void Flush(const std::shared_ptr<Conn>& conn) {
    if (conn->writing || conn->queue.empty())
      return;
    conn->writing = true;
    asio::async_write(conn->stream, asio::buffer(conn->queue.front()),
                      [this, conn](boost::system::error_code ec, size_t) {
                        conn->writing = false;
                        if (ec)
                          return;
                        conn->queue.pop_front();
                        Flush(conn);
                      });
  }

  asio::io_context& io_;
  asio::ssl::context ssl_;
  tcp::acceptor acceptor_;
};

class StatusSink : public CtiEventSink {
 public:
  void OnLinkStatus(const LinkStatus& s) override { statuses.push_back(s); }

  void OnEvent(const CtiEvent&) override {}

  std::vector<LinkStatus> statuses;
};

bool RunUntil(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

AmiLinkOptions TlsOptions(uint16_t port) {
  AmiLinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.tls = true;
  o.username = "harmony";
  o.secret = "harmony-secret";
  o.backoff_initial = absl::Milliseconds(20);
  o.backoff_max = absl::Milliseconds(50);
  return o;
}

TEST(AmiLinkTlsTest, LogsInOverVerifiedTls) {
  base::SetLogToStderr(false);
  TestCertificate cert;
  asio::io_context io;
  TlsPeer peer(io, cert);
  AmiLinkOptions o = TlsOptions(peer.port());
  o.tls_ca_file = cert.cert_file;
  auto link = AmiLink::Create(io, o);
  ASSERT_TRUE(link.ok());
  StatusSink sink;
  ASSERT_TRUE((*link)->Start(&sink).ok());
  ASSERT_TRUE(RunUntil(io, [&] { return (*link)->status().state == LinkState::kUp; }));
  EXPECT_EQ(peer.logins, 1);
  EXPECT_EQ((*link)->stats().banner, "Asterisk Call Manager/11.0.0");
}

TEST(AmiLinkTlsTest, UntrustedCertificateIsRefused) {
  base::SetLogToStderr(false);
  TestCertificate cert;
  TestCertificate other;  // a different self-signed CA: the peer's certificate is not trusted
  asio::io_context io;
  TlsPeer peer(io, cert);
  AmiLinkOptions o = TlsOptions(peer.port());
  o.tls_ca_file = other.cert_file;
  auto link = AmiLink::Create(io, o);
  ASSERT_TRUE(link.ok());
  StatusSink sink;
  ASSERT_TRUE((*link)->Start(&sink).ok());
  ASSERT_TRUE(RunUntil(io, [&] {
    for (const auto& s : sink.statuses) {
      if (s.state == LinkState::kDown)
        return true;
    }
    return false;
  }));
  bool handshake_failed = false;
  for (const auto& s : sink.statuses) {
    if (s.detail.find("TLS handshake failed") != std::string::npos)
      handshake_failed = true;
  }
  EXPECT_TRUE(handshake_failed);
  EXPECT_EQ(peer.logins, 0);
  (*link)->Stop();
}

}  // namespace
}  // namespace omnibridge::cti::ami
