// The HTTP server with TLS (transports/http/tls_context.h), over real sockets with an
// OpenSSL client: TLS 1.2+ only, ALPN http/1.1, plain HTTP on the TLS port
// refused without reading the request (no downgrade), a handshake deadline,
// and a certificate reload that new connections see.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "transports/http/tls_context.h"
#include "unit/transports/http/http_test_util.h"
#include "unit/transports/http/tls_test_util.h"

namespace verbatim::api {
namespace {

namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using testing::Client;
using testing::EchoServer;

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cert_ = testing::WriteSelfSignedCert(dir_, "server", "first.test");
    auto creds = TlsCredentials::Load(cert_.cert_file, cert_.key_file);
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    creds_ = *creds;
    HttpServerOptions o;
    o.tls = creds_;
    o.handshake_timeout = std::chrono::seconds(1);
    server_ = std::make_unique<EchoServer>(o);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A TLS client that trusts `ca_file` (the server's self-signed certificate).
  struct TlsClient {
    TlsClient(uint16_t port, const std::string& ca_file, int max_version = 0, const char* alpn = "\x02h2\x08http/1.1")
        : ctx(ssl::context::tls_client), stream(ioc, ctx) {
      ctx.load_verify_file(ca_file);
      ctx.set_verify_mode(ssl::verify_peer);
      SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client offer old versions: the server must refuse
      if (max_version) SSL_set_max_proto_version(stream.native_handle(), max_version);
      SSL_set1_host(stream.native_handle(), "localhost");
      SSL_set_alpn_protos(stream.native_handle(), reinterpret_cast<const unsigned char*>(alpn),
                          static_cast<unsigned>(std::char_traits<char>::length(alpn)));
      stream.lowest_layer().connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    }
    boost::system::error_code Handshake() {
      boost::system::error_code ec;
      stream.handshake(ssl::stream_base::client, ec);
      return ec;
    }
    std::string Alpn() {
      const unsigned char* p = nullptr;
      unsigned n = 0;
      SSL_get0_alpn_selected(stream.native_handle(), &p, &n);
      return std::string(reinterpret_cast<const char*>(p), n);
    }
    std::string PeerCommonName() {
      X509* cert = SSL_get1_peer_certificate(stream.native_handle());
      if (!cert) return {};
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
      X509_free(cert);
      return cn;
    }
    HttpResponse Get(const std::string& target) {
      http::request<http::string_body> req{http::verb::get, target, 11};
      req.set(http::field::host, "localhost");
      http::write(stream, req);
      HttpResponse res;
      http::read(stream, buffer, res);
      return res;
    }
    boost::asio::io_context ioc;
    ssl::context ctx;
    ssl::stream<tcp::socket> stream;
    boost::beast::flat_buffer buffer;
  };

  std::filesystem::path dir_;
  testing::TestCert cert_;
  std::shared_ptr<TlsCredentials> creds_;
  std::unique_ptr<EchoServer> server_;
};

TEST_F(HttpServerTlsTest, ServesOverTls12PlusWithAlpnHttp11) {
  for (int version : {TLS1_2_VERSION, 0 /* the best both have: 1.3 */}) {
    TlsClient c(server_->port(), cert_.cert_file, version);
    ASSERT_FALSE(c.Handshake()) << "TLS version " << version;
    EXPECT_EQ(c.Alpn(), "http/1.1") << "offered h2 and http/1.1";
    auto res = c.Get("/x");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "127.0.0.1");
    EXPECT_EQ(c.Get("/again").result_int(), 200u) << "keep-alive over TLS";
  }
}

TEST_F(HttpServerTlsTest, RefusesTls11AndClientsThatOnlySpeakH2) {
  TlsClient old(server_->port(), cert_.cert_file, TLS1_1_VERSION);
  EXPECT_TRUE(old.Handshake()) << "TLS 1.1 must fail";
  TlsClient h2(server_->port(), cert_.cert_file, 0, "\x02h2");
  EXPECT_TRUE(h2.Handshake()) << "ALPN without http/1.1 gets no_application_protocol";
  EXPECT_EQ(server_->requests.load(), 0);
}

TEST_F(HttpServerTlsTest, PlainHttpOnTheTlsPortIsRefusedWithoutReadingTheRequest) {
  Client plain(server_->port());
  auto res = plain.Get("/x");
  EXPECT_EQ(res.result_int(), 400u) << res.body();
  EXPECT_EQ(res.body().substr(0, res.body().find(':')), "tls.required");
  EXPECT_TRUE(plain.ClosedByServer());
  EXPECT_EQ(server_->requests.load(), 0) << "no downgrade: the handler never saw it";
  EXPECT_EQ(server_->metrics.CounterValue("verbatim_tls_handshake_failures_total", {{"reason", "plain_http"}}), 1u);
}

TEST_F(HttpServerTlsTest, AClientThatNeverHandshakesIsDroppedAtTheDeadline) {
  Client silent(server_->port());                // connects, sends nothing
  EXPECT_TRUE(silent.ClosedByServer());          // returns once the server gives up (1 s here)
  // The stream closes the socket at the deadline, then the server counts it.
  EXPECT_TRUE(testing::WaitUntil([&] {
    return server_->metrics.CounterValue("verbatim_tls_handshake_failures_total", {{"reason", "timeout"}}) == 1;
  }));
}

TEST_F(HttpServerTlsTest, AReloadedCertificateServesNewConnectionsAndABrokenOneIsRefused) {
  {
    TlsClient before(server_->port(), cert_.cert_file);
    ASSERT_FALSE(before.Handshake());
    EXPECT_EQ(before.PeerCommonName(), "first.test");
  }
  testing::TestCert second = testing::WriteSelfSignedCert(dir_, "server", "second.test");  // same files, new pair
  ASSERT_TRUE(creds_->Reload().ok());
  EXPECT_NE(creds_->Describe().find("second.test"), std::string::npos) << creds_->Describe();
  {
    TlsClient after(server_->port(), second.cert_file);
    ASSERT_FALSE(after.Handshake());
    EXPECT_EQ(after.PeerCommonName(), "second.test");
  }
  // A key that does not match: the reload fails and the current pair stays.
  testing::WriteSelfSignedCert(dir_, "other", "other.test");
  std::filesystem::copy_file(dir_ / "other.key", dir_ / "server.key", std::filesystem::copy_options::overwrite_existing);
  Status broken = creds_->Reload();
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.message().find("does not match"), std::string::npos) << broken.message();
  TlsClient still(server_->port(), second.cert_file);
  ASSERT_FALSE(still.Handshake());
  EXPECT_EQ(still.PeerCommonName(), "second.test");
}

TEST(TlsCredentials, SayWhichFileIsWrong) {
  auto missing = TlsCredentials::Load("/nonexistent/cert.pem", "/nonexistent/key.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), "tls.certificate");
  EXPECT_NE(missing.status().message().find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace verbatim::api
