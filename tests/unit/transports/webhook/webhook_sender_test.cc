// One webhook delivery attempt (transports/webhook/webhook_sender.h) against a
// real receiver on a loopback socket: what arrives, how every failure reads
// (HTTP status, redirect, timeout, refused, TLS), that a large response does
// not fail a 200, and that a forbidden target is never connected to.
#include "transports/webhook/webhook_sender.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/version.h"
#include "unit/transports/http/tls_test_util.h"

namespace verbatim::webhook {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Headers = std::vector<std::pair<std::string, std::string>>;

// What the receiver got.
struct ReceivedRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string sni;                             // TLS server name, "" when none was sent
};

struct ReceiverOptions {
  std::string response;  // sent as is; "{port}" becomes the receiver's port
  bool silent = false;   // read the request, never answer, keep the connection open
  std::string bind = "127.0.0.1";
  const testing::TestCert* tls = nullptr;  // serve HTTPS with this certificate
};

// A receiver on a loopback port: one thread that takes connections one at a
// time, reads one request from each, records it and answers. Counters are read
// by the test after PostWebhook returns, which is after the receiver counted.
class TestReceiver {
 public:
  explicit TestReceiver(ReceiverOptions o) : opts_(std::move(o)), acceptor_(ioc_) {
    const tcp::endpoint at(asio::ip::make_address(opts_.bind), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    for (size_t p; (p = opts_.response.find("{port}")) != std::string::npos;)
      opts_.response.replace(p, 6, std::to_string(port_));
    if (opts_.tls) {
      tls_.emplace(ssl::context::tls_server);
      tls_->use_certificate_chain_file(opts_.tls->cert_file);
      tls_->use_private_key_file(opts_.tls->key_file, ssl::context::pem);
    }
    thread_ = std::thread([this] { Serve(); });
  }

  ~TestReceiver() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket wake(ioc_);  // one last connection ends the blocking accept
    wake.connect(tcp::endpoint(asio::ip::make_address(opts_.bind), port_), ec);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return std::string(opts_.tls ? "https" : "http") + "://" + opts_.bind + ":" + std::to_string(port_) + path;
  }
  std::vector<ReceivedRequest> requests() const {
    MutexLock lock(mu_);
    return requests_;
  }

  std::atomic<int> connections{0};

 private:
  void Serve() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (stopping_ || ec) return;
      ++connections;
      if (!tls_) {
        Handle(*socket, socket, "");
        continue;
      }
      auto stream = std::make_shared<ssl::stream<tcp::socket>>(std::move(*socket), *tls_);
      stream->handshake(ssl::stream_base::server, ec);
      if (ec) continue;  // e.g. the client refused our certificate
      const char* sni = SSL_get_servername(stream->native_handle(), TLSEXT_NAMETYPE_host_name);
      Handle(*stream, stream, sni ? sni : "");
    }
  }

  template <class Stream>
  void Handle(Stream& stream, std::shared_ptr<void> keep, const std::string& sni) {
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    boost::system::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) return;
    const auto& req = parser.get();
    ReceivedRequest got{std::string(req.method_string()), std::string(req.target()), req.body(), {}, sni};
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      got.headers[name] = std::string(f.value());
    }
    {
      MutexLock lock(mu_);
      requests_.push_back(std::move(got));
    }
    if (opts_.silent) {
      held_.push_back(std::move(keep));
      return;
    }
    asio::write(stream, asio::buffer(opts_.response), ec);  // fails when the client stops reading early
  }

  // Constant after construction
  ReceiverOptions opts_;
  uint16_t port_ = 0;
  // Used by the server thread only (and `wake`, a separate socket, by the destructor)
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  std::vector<std::shared_ptr<void>> held_;  // silent connections, open until the end
  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  std::vector<ReceivedRequest> requests_ GUARDED_BY(mu_);
  std::thread thread_;  // last: starts after everything above exists
};

std::string Response(int status, const std::string& reason, const std::string& body,
                     const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

SendOptions Loopback(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  SendOptions o;
  o.allow_private = true;
  o.timeout = timeout;
  return o;
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(PostWebhook, DeliversTheExactBodyAndHeadersAndSucceedsOnA200) {
  TestReceiver receiver({Response(200, "OK", "thanks")});
  const std::string body = "{\"type\":\"recording.started\",\"data\":{\"name\":\"Caf\xc3\xa9\",\"n\":1}}\n";
  const Headers headers = {{"webhook-id", "msg_2a"},
                           {"webhook-timestamp", "1700000000"},
                           {"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}};

  SendResult r = PostWebhook(receiver.url("/hook?tenant=a"), headers, body, Loopback());

  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.response_excerpt, "thanks");
  ASSERT_EQ(receiver.requests().size(), 1u);
  ReceivedRequest got = receiver.requests()[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook?tenant=a");
  EXPECT_EQ(got.body, body);
  EXPECT_EQ(got.headers["webhook-id"], "msg_2a");
  EXPECT_EQ(got.headers["webhook-timestamp"], "1700000000");
  EXPECT_EQ(got.headers["webhook-signature"], "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=");
  EXPECT_EQ(got.headers["content-type"], "application/json");
  EXPECT_EQ(got.headers["content-length"], std::to_string(body.size()));
  EXPECT_EQ(got.headers["user-agent"], std::string("verbatim-webhooks/") + kVersion);
  EXPECT_EQ(got.headers["host"], "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(receiver.connections, 1);
}

TEST(PostWebhook, KeepsHostUserAgentAndContentTypeItsOwn) {
  TestReceiver receiver({Response(204, "No Content", "")});
  SendResult r = PostWebhook(receiver.url(),
                             {{"Host", "evil.test"},
                              {"User-Agent", "other"},
                              {"Content-Type", "text/plain"},
                              {"Content-Length", "1"},
                              {"X-Extra", "kept"}},
                             "{}", Loopback());
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.response_excerpt, "");
  ASSERT_EQ(receiver.requests().size(), 1u);
  auto headers = receiver.requests()[0].headers;
  EXPECT_EQ(headers["host"], "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(headers["user-agent"], std::string("verbatim-webhooks/") + kVersion);
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers["content-length"], "2");
  EXPECT_EQ(headers["x-extra"], "kept");
}

TEST(PostWebhook, ReportsAServerErrorByItsStatusWithAnExcerpt) {
  TestReceiver receiver({Response(500, "Internal Server Error", "database down")});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.error, "HTTP 500");
  EXPECT_EQ(r.response_excerpt, "database down");
}

TEST(PostWebhook, NeverFollowsARedirect) {
  TestReceiver receiver({Response(302, "Found", "", "Location: http://127.0.0.1:{port}/elsewhere\r\n")});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.error,
            "redirect not followed (302 to http://127.0.0.1:" + std::to_string(receiver.port()) + "/elsewhere)");
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].target, "/hook");
  EXPECT_EQ(receiver.connections, 1);
}

TEST(PostWebhook, CountsAHugeResponseByItsStatusAndKeepsOnlyAShortExcerpt) {
  const std::string huge(10 << 20, 'x');
  TestReceiver receiver({Response(200, "OK", huge)});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.response_excerpt, std::string(kResponseExcerptBytes, 'x'));
}

TEST(PostWebhook, MakesTheExcerptPrintableAndKeepsValidUtf8) {
  // A control byte, a lone continuation byte, a valid é, a newline, a truncated 3-byte sequence.
  TestReceiver receiver({Response(400, "Bad Request", "no\x01pe\x80 caf\xc3\xa9\nend\xe2\x82")});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error, "HTTP 400");
  EXPECT_EQ(r.response_excerpt, "no?pe? caf\xc3\xa9 end??");
}

TEST(PostWebhook, TimesOutOnAReceiverThatNeverAnswers) {
  TestReceiver receiver({"", /*silent=*/true});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback(std::chrono::milliseconds(300)));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "timed out after 300 ms waiting for the response");
  EXPECT_EQ(receiver.requests().size(), 1u);  // the request did arrive
}

TEST(PostWebhook, ReportsARefusedConnection) {
  uint16_t closed_port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  SendResult r = PostWebhook("http://127.0.0.1:" + std::to_string(closed_port) + "/hook", {}, "{}", Loopback());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "connection refused");
}

TEST(PostWebhook, RefusesALoopbackTargetWithoutConnecting) {
  TestReceiver receiver({Response(200, "OK", "")});
  SendOptions opts;  // allow_private = false
  SendResult refused = PostWebhook(receiver.url(), {}, "{}", opts);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status, 0);
  // The origin only: a receiver's path or query may carry a secret, and errors are logged.
  EXPECT_EQ(refused.error.rfind(receiver.url("") + " resolves to 127.0.0.1, a loopback address; ", 0), 0u)
      << refused.error;
  EXPECT_TRUE(Contains(refused.error, "--webhook-allow-private")) << refused.error;

  // A control request that may connect: afterwards, the receiver has seen exactly one connection.
  SendResult allowed = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_TRUE(allowed.ok()) << allowed.error;
  EXPECT_EQ(receiver.connections, 1);
  EXPECT_EQ(receiver.requests().size(), 1u);
}

TEST(PostWebhook, RefusesAnInvalidUrlOrAHeaderThatWouldSplitTheRequestWithoutConnecting) {
  TestReceiver receiver({Response(200, "OK", "")});
  SendResult bad_url = PostWebhook("ftp://127.0.0.1/hook", {}, "{}", Loopback());
  EXPECT_EQ(bad_url.status, 0);
  EXPECT_TRUE(Contains(bad_url.error, "https://")) << bad_url.error;
  SendResult split = PostWebhook(receiver.url(), {{"webhook-id", "a\r\nX-Injected: 1"}}, "{}", Loopback());
  EXPECT_FALSE(split.ok());
  EXPECT_TRUE(Contains(split.error, "webhook-id")) << split.error;
  SendResult bad_name = PostWebhook(receiver.url(), {{"bad name", "x"}}, "{}", Loopback());
  EXPECT_FALSE(bad_name.ok());

  EXPECT_TRUE(PostWebhook(receiver.url(), {}, "{}", Loopback()).ok());
  EXPECT_EQ(receiver.connections, 1);
}

TEST(PostWebhook, IsSafeToCallFromSeveralThreadsAtOnce) {
  TestReceiver receiver({Response(200, "OK", "ok")});
  constexpr int kThreads = 4, kEach = 5;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string body = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        if (PostWebhook(receiver.url(), {}, body, Loopback()).ok()) ++ok;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, kThreads * kEach);
  EXPECT_EQ(receiver.requests().size(), static_cast<size_t>(kThreads * kEach));
}

// HTTPS against a receiver with a self-signed certificate for 127.0.0.1 and
// localhost, trusted or not through SSL_CERT_FILE (read by OpenSSL's defaults).
class PostWebhookTls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-webhook-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cert_ = testing::WriteSelfSignedCert(dir_, "receiver", "localhost");
    if (const char* old = getenv("SSL_CERT_FILE")) saved_cert_file_ = old;
  }
  void TearDown() override {
    if (saved_cert_file_)
      setenv("SSL_CERT_FILE", saved_cert_file_->c_str(), 1);
    else
      unsetenv("SSL_CERT_FILE");
    std::filesystem::remove_all(dir_);
  }
  void Trust(bool trust) {
    if (trust)
      setenv("SSL_CERT_FILE", cert_.cert_file.c_str(), 1);
    else
      setenv("SSL_CERT_FILE", (dir_ / "no-such-bundle.pem").c_str(), 1);
  }

  std::filesystem::path dir_;
  testing::TestCert cert_;
  std::optional<std::string> saved_cert_file_;
};

TEST_F(PostWebhookTls, DeliversOverHttpsToATrustedCertificateWithSni) {
  Trust(true);
  TestReceiver receiver({Response(200, "OK", "secure"), false, "127.0.0.1", &cert_});
  const std::string url = "https://localhost:" + std::to_string(receiver.port()) + "/hook";
  SendResult r = PostWebhook(url, {{"webhook-id", "msg_tls"}}, "{\"a\":1}", Loopback());
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.response_excerpt, "secure");
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].body, "{\"a\":1}");
  EXPECT_EQ(receiver.requests()[0].sni, "localhost");
  EXPECT_EQ(receiver.requests()[0].headers["host"], "localhost:" + std::to_string(receiver.port()));

  // An IP address is verified against the certificate's IP names, and sends no SNI.
  SendResult by_ip = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_TRUE(by_ip.ok()) << by_ip.error;
  ASSERT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(receiver.requests()[1].sni, "");
}

TEST_F(PostWebhookTls, RefusesAnUntrustedCertificate) {
  Trust(false);
  TestReceiver receiver({Response(200, "OK", ""), false, "127.0.0.1", &cert_});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error.rfind("TLS: certificate verify failed (", 0), 0u) << r.error;
  EXPECT_TRUE(receiver.requests().empty());
}

TEST_F(PostWebhookTls, RefusesACertificateForAnotherAddress) {
  Trust(true);
  // Every 127.x.y.z is local on Linux; the certificate names 127.0.0.1 only.
  TestReceiver receiver({Response(200, "OK", ""), false, "127.0.0.2", &cert_});
  SendResult r = PostWebhook(receiver.url(), {}, "{}", Loopback());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "TLS: certificate verify failed (IP address mismatch)");
  EXPECT_TRUE(receiver.requests().empty());
}

}  // namespace
}  // namespace verbatim::webhook
