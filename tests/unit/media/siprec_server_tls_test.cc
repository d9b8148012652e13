// SipServer's SIP over TLS listener over real loopback sockets: a trunk that
// admits only TLS is answered there (with a sips: Contact) and refused over
// TCP; plain SIP on the TLS port gets no answer; a client that never
// completes its handshake is closed at the deadline; every handshake and
// failure is counted.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "media/sip/message.h"
#include "media/siprec/sip_server.h"
#include "unit/transports/http/tls_test_util.h"
#include "unit/media/audio_test_util.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::siprec {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using testing::Crlf;
using testing::TempDir;

class AcceptAll final : public capture::ConversationControl {
 public:
  Result<capture::Attachment> Attach(const capture::SessionSpec&) override {
    capture::Attachment a;
    a.conversation_id = "conv-" + std::to_string(++n_);
    a.created = true;
    a.state = RecordingState::kActive;
    a.current_segment = 1;
    a.next_segment = 2;
    return a;
  }
  void Detach(const std::string&, bool, const std::string&) override {}
  Status RequestAction(const std::string&, RecordingAction, const std::string&) override { return Status::Ok(); }
  void MediaFileUpdated(const std::string&, const capture::MediaFileInfo&) override {}

 private:
  std::atomic<int> n_{0};
};

std::string Invite(const std::string& call_id, std::string_view transport) {
  std::string body = testing::SiprecBody();
  for (size_t at; (at = body.find("198.51.100.1")) != std::string::npos;) body.replace(at, 12, "127.0.0.1");
  return Crlf("INVITE sips:srs@127.0.0.1 SIP/2.0\n"
              "Via: SIP/2.0/" + std::string(transport) + " 127.0.0.1;branch=z9hG4bK-" + call_id + "\n"
              "From: <sips:src@example.com>;tag=src\n"
              "To: <sips:srs@example.com>\n"
              "Call-ID: " + call_id + "\n"
              "CSeq: 1 INVITE\n"
              "Max-Forwards: 70\n"
              "Contact: <sips:src@127.0.0.1>;+sip.src\n"
              "Content-Type: multipart/mixed;boundary=foobar\n"
              "Content-Length: " + std::to_string(body.size()) + "\n\n") +
         body;
}

// Reads one SIP message (headers + Content-Length body) from a stream.
template <class Stream>
std::string ReadMessage(Stream& s) {
  std::string buf;
  char chunk[4096];
  boost::system::error_code ec;
  for (;;) {
    auto len = sip::FrameLength(buf);
    if (len.ok() && *len) return buf.substr(0, **len);
    const size_t n = s.read_some(asio::buffer(chunk), ec);
    if (ec) return buf;
    buf.append(chunk, n);
  }
}

template <class Pred>
bool Eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a counter, with a deadline
  }
  return true;
}

struct TlsServer {
  TlsServer() {
    cert = verbatim::testing::WriteSelfSignedCert(dir.path(), "sip");
    capture::HubOptions ho;
    ho.media_root = dir.path();
    hub = std::make_unique<capture::MediaHub>(ho, control);
    SipServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.rtp_first = 47800;
    so.rtp_last = 47899;
    so.tls = *tls::ServerCredentials::Load(cert.cert_file, cert.key_file, {});
    so.tls_host = "127.0.0.1";
    so.tls_port = 0;
    so.tls_handshake_timeout = std::chrono::milliseconds(300);
    server = std::make_unique<SipServer>(so, *hub);
    EXPECT_TRUE(server->Listen().ok());
    Trunk t;
    t.id = "7a7a7a7a-0000-4000-8000-00000000000b";
    t.name = "tls-only";
    t.networks = {*ParseCidr("127.0.0.0/8")};
    t.transports = static_cast<uint8_t>(SipTransport::kTls);
    server->SetTrunks(std::make_shared<TrunkTable>(std::vector<Trunk>{t}));
    server->Start();
  }
  ~TlsServer() {
    server->Stop();
    hub->Stop();
  }
  TempDir dir;
  verbatim::testing::TestCert cert;
  AcceptAll control;
  std::unique_ptr<capture::MediaHub> hub;
  std::unique_ptr<SipServer> server;
};

TEST(SipServerTls, ATlsOnlyTrunkIsAnsweredOverTlsWithASipsContactAndRefusedOverTcp) {
  TlsServer s;
  ASSERT_NE(s.server->tls_port(), 0);
  ASSERT_NE(s.server->tls_port(), s.server->port());
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(s.cert.cert_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> tls(io, ctx);
  tls.lowest_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.server->tls_port()));
  tls.handshake(asio::ssl::stream_base::client);
  EXPECT_LE(SSL_version(tls.native_handle()), TLS1_3_VERSION);
  EXPECT_GE(SSL_version(tls.native_handle()), TLS1_2_VERSION);
  asio::write(tls, asio::buffer(Invite("tls-call", "TLS")));
  auto ok = sip::ParseMessage(ReadMessage(tls));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status_code, 200);
  EXPECT_EQ(std::string(ok->header("Contact").value_or("")),
            "<sips:verbatim@127.0.0.1:" + std::to_string(s.server->tls_port()) + ">");
  EXPECT_NE(std::string(ok->header("Via").value_or("")).find("SIP/2.0/TLS"), std::string::npos);
  EXPECT_EQ(s.server->Stats().tls_handshakes, 1u);
  EXPECT_EQ(s.server->Stats().tls_connections, 1u);

  // The same trunk over SIP/TCP: a bare 403 (the trunk admits TLS only).
  tcp::socket plain(io);
  plain.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.server->port()));
  asio::write(plain, asio::buffer(Invite("tcp-call", "TCP")));
  auto refused = sip::ParseMessage(ReadMessage(plain));
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status_code, 403);
  EXPECT_EQ(s.server->DialogStats().sessions, 1u);
}

TEST(SipServerTls, PlainSipOnTheTlsPortGetsNoAnswerAndAStalledHandshakeIsClosedAtTheDeadline) {
  TlsServer s;
  asio::io_context io;
  {
    tcp::socket plain(io);
    plain.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.server->tls_port()));
    asio::write(plain, asio::buffer(Invite("plain-on-tls", "TCP")));
    const std::string got = ReadMessage(plain);  // until the server closes
    EXPECT_EQ(got.find("SIP/2.0"), std::string::npos) << "no SIP answer on the TLS port: " << got;
    EXPECT_TRUE(Eventually([&] { return s.server->Stats().tls_handshake_failures == 1; }));
  }
  {
    // Connects and says nothing: closed after tls_handshake_timeout (300 ms).
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.server->tls_port()));
    char c;
    boost::system::error_code ec;
    silent.read_some(asio::buffer(&c, 1), ec);  // returns when the server closes
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    EXPECT_TRUE(Eventually([&] { return s.server->Stats().tls_handshake_failures == 2; }));
  }
  EXPECT_TRUE(Eventually([&] { return s.server->Stats().tls_connections == 0; })) << "failed handshakes free their slot";
  EXPECT_EQ(s.server->Stats().tls_handshakes, 0u);
  EXPECT_EQ(s.server->DialogStats().invites, 0u);
}

}  // namespace
}  // namespace verbatim::media::siprec
