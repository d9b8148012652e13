// UdpStreamOpener with SRTP over a real loopback socket: packets that libsrtp2
// protected with the SRC's key reach the session; a tampered copy, a replay
// and a packet under another key are dropped and counted, never delivered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <thread>

#include "media/rtp/packet.h"
#include "media/siprec/streams.h"
#include "unit/media/siprec_uas_fixture.h"

namespace verbatim::media::siprec {
namespace {

std::string Key(int seed) {
  std::string k(30, '\0');
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<char>(i * 11 + seed);
  return k;
}

// The SRC's side: libsrtp2 directly, AES_CM_128_HMAC_SHA1_80.
class Protector {
 public:
  explicit Protector(std::string key) : key_(std::move(key)) {
    EXPECT_TRUE(srtp::InitSrtpLibrary().ok());
    srtp_policy_t p;
    std::memset(&p, 0, sizeof p);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    p.key = reinterpret_cast<unsigned char*>(key_.data());
    p.ssrc.type = ssrc_any_outbound;
    p.window_size = 128;
    EXPECT_EQ(srtp_create(&ctx_, &p), srtp_err_status_ok);
  }
  ~Protector() { srtp_dealloc(ctx_); }
  std::vector<std::byte> Rtp(uint16_t seq) {
    rtp::PacketSpec s;
    s.payload_type = 0;
    s.sequence = seq;
    s.timestamp = 160u * seq;
    s.ssrc = 0x51525354;
    s.payload.assign(160, std::byte(0x55));
    auto pkt = rtp::BuildPacket(s);
    const size_t plain = pkt.size();
    pkt.resize(plain + SRTP_MAX_TRAILER_LEN);
    int len = static_cast<int>(plain);
    EXPECT_EQ(srtp_protect(ctx_, pkt.data(), &len), srtp_err_status_ok);
    pkt.resize(static_cast<size_t>(len));
    return pkt;
  }

 private:
  std::string key_;
  srtp_t ctx_ = nullptr;
};

void SendTo(int fd, uint16_t port, const std::vector<std::byte>& d) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

TEST(UdpStreamSrtp, DeliversAuthenticPacketsAndCountsTamperedReplayedAndForeignOnes) {
  testing_uas::Fixture f;
  capture::SessionSpec spec;
  spec.source = "siprec";
  spec.external_id = "srtp-stream";
  spec.owner = "trunk:x";
  spec.participants.resize(1);
  auto session = f.hub->Open(spec);
  ASSERT_TRUE(session.ok()) << session.status().ToString();

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    UdpStreamOpener opener(io, "127.0.0.1", 47900, 47909);
    StreamSpec ss{*session, 0, *codec::Decoder::Select(0, "PCMU", 8000, 1), std::nullopt, {}};
    ss.source.address = ParseIpAddress("127.0.0.1");
    srtp::SrtpKeying keying;
    keying.key.key_salt = Key(1);
    ss.srtp = keying;
    auto stream = opener.Open(ss);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    const uint16_t port = (*stream)->port();

    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in self{};
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self);
    Protector src(Key(1)), other(Key(2));
    for (uint16_t seq = 100; seq < 110; ++seq) {
      auto p = src.Rtp(seq);
      if (seq == 103) {
        auto bad = p;
        bad[20] ^= std::byte{1};
        SendTo(fd, port, bad);  // tampered first: its tag fails, the real one still counts
      }
      SendTo(fd, port, p);
      if (seq == 105) SendTo(fd, port, p);  // a replay
    }
    SendTo(fd, port, other.Rtp(110));  // well-formed SRTP under another key
    const auto& c = opener.counters();
    // Counters, nothing to wait on: poll them until a deadline.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((c.packets.load() < 10 || c.srtp_auth_failed.load() < 2 || c.srtp_replayed.load() < 1) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(c.packets.load(), 10u);
    EXPECT_EQ(c.srtp_auth_failed.load(), 2u) << "the tampered copy and the foreign key";
    EXPECT_EQ(c.srtp_replayed.load(), 1u);
    EXPECT_EQ(c.wrong_payload.load(), 0u) << "nothing undecrypted reached the RTP parser as audio";
    ::close(fd);
  }
  work.reset();
  io.stop();
  runner.join();
  f.hub->Close(*session, "test");
}

}  // namespace
}  // namespace verbatim::media::siprec
