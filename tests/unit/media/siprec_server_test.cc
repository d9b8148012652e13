// SipServer over real loopback sockets: SIP signalling and RTP reception run
// on separate threads, so a call setup waiting for the store (creating the
// conversation, autoStart) never stalls the audio of the calls already up.
#include "media/siprec/sip_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include "media/sdp/sdp.h"
#include "media/sip/message.h"
#include "support/fd_exhaustion.h"
#include "unit/media/audio_test_util.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::siprec {
namespace {

using testing::Crlf;
using testing::TempDir;

// The store as the hub sees it; Attach for one Call-ID hangs until released,
// like a conversation INSERT waiting behind a slow commit.
class GatedControl final : public capture::ConversationControl {
 public:
  std::string gated_call;
  std::promise<void> gate_reached;
  std::shared_future<void> gate_open;

  Result<capture::Attachment> Attach(const capture::SessionSpec& spec) override {
    if (spec.external_id == gated_call) {
      gate_reached.set_value();
      gate_open.wait();
    }
    capture::Attachment a;
    a.conversation_id = "conv-" + std::to_string(++attached_);  // the signalling thread only
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
  int attached_ = 0;
};

// A loopback UDP socket with a receive deadline.
class UdpSocket {
 public:
  UdpSocket() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    timeval tv{10, 0};  // a deadline for a lost answer, not synchronization
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~UdpSocket() { ::close(fd_); }
  void SendTo(uint16_t port, const void* data, size_t n) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    ::sendto(fd_, data, n, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  void SendTo(uint16_t port, const std::string& s) { SendTo(port, s.data(), s.size()); }
  std::string Receive() {
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_;
};

std::shared_ptr<const TrunkTable> LoopbackTrunks() {
  Trunk t;
  t.id = "7a7a7a7a-0000-4000-8000-00000000000a";
  t.name = "loopback";
  t.networks = {*ParseCidr("127.0.0.0/8")};
  return std::make_shared<TrunkTable>(std::vector<Trunk>{t});
}

std::string Invite(const std::string& call_id) {
  // The offer names the loopback address: RTP is accepted only from there.
  std::string body = testing::SiprecBody();
  for (size_t at; (at = body.find("198.51.100.1")) != std::string::npos;) body.replace(at, 12, "127.0.0.1");
  return Crlf("INVITE sip:srs@127.0.0.1 SIP/2.0\n"
              "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-" + call_id + "\n"
              "From: <sip:src@example.com>;tag=src\n"
              "To: <sip:srs@example.com>\n"
              "Call-ID: " + call_id + "\n"
              "CSeq: 1 INVITE\n"
              "Max-Forwards: 70\n"
              "Require: siprec\n"
              "Contact: <sip:src@127.0.0.1>;+sip.src\n"
              "Content-Type: multipart/mixed;boundary=foobar\n"
              "Content-Length: " + std::to_string(body.size()) + "\n\n") +
         body;
}

std::string Ack(const sip::Message& ok) {
  return Crlf("ACK sip:verbatim@127.0.0.1 SIP/2.0\n"
              "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-ack-" + std::string(ok.call_id()) + "\n"
              "From: <sip:src@example.com>;tag=src\n"
              "To: <sip:srs@example.com>;tag=" + ok.to_tag().value_or("") + "\n"
              "Call-ID: " + std::string(ok.call_id()) + "\n"
              "CSeq: 1 ACK\n"
              "Max-Forwards: 70\n"
              "Content-Length: 0\n\n");
}

// Sends the INVITE, returns the final response (ACKed if 2xx).
sip::Message Call(UdpSocket& sip, uint16_t server_port, const std::string& call_id) {
  sip.SendTo(server_port, Invite(call_id));
  auto res = sip::ParseMessage(sip.Receive());
  EXPECT_TRUE(res.ok()) << res.status().ToString();
  if (!res.ok()) return {};
  if (res->status_code == 200) sip.SendTo(server_port, Ack(*res));
  return *res;
}

TEST(SipServer, RtpIsReadWhileACallSetupWaitsForTheStore) {
  TempDir dir;
  GatedControl control;
  control.gated_call = "slow-setup";
  std::promise<void> open_gate;
  control.gate_open = open_gate.get_future().share();
  capture::HubOptions ho;
  ho.media_root = dir.path();
  capture::MediaHub hub(ho, control);
  SipServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.rtp_first = 47610;
  so.rtp_last = 47699;
  SipServer server(so, hub);
  ASSERT_TRUE(server.Listen().ok());
  server.SetTrunks(LoopbackTrunks());
  server.Start();

  UdpSocket sip, rtp;
  sip::Message up = Call(sip, server.port(), "live-call");
  ASSERT_EQ(up.status_code, 200);
  auto answer = sdp::ParseSdp(up.body);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  const auto& m = answer->media.at(0);
  ASSERT_NE(m.port, 0);
  const uint8_t pt = static_cast<uint8_t>(std::stoi(m.formats.at(0)));

  // The next call's setup hangs in the store, on the signalling thread.
  auto reached = control.gate_reached.get_future();
  sip.SendTo(server.port(), Invite("slow-setup"));
  ASSERT_EQ(reached.wait_for(std::chrono::seconds(10)), std::future_status::ready);

  // Meanwhile the live call's audio keeps arriving, and is read.
  constexpr uint64_t kPackets = 50;
  for (uint16_t seq = 0; seq < kPackets; ++seq) {
    unsigned char p[12 + 160];
    std::fill(std::begin(p), std::end(p), 0xFF);
    const uint32_t ts = seq * 160u, ssrc = 0x1234;
    p[0] = 0x80;
    p[1] = pt;
    p[2] = static_cast<unsigned char>(seq >> 8);
    p[3] = static_cast<unsigned char>(seq);
    for (int i = 0; i < 4; ++i) {
      p[4 + i] = static_cast<unsigned char>(ts >> (24 - 8 * i));
      p[8 + i] = static_cast<unsigned char>(ssrc >> (24 - 8 * i));
    }
    rtp.SendTo(m.port, p, sizeof p);
  }
  // A counter, nothing to wait on: poll it until a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.RtpStats().packets.load() < kPackets && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_EQ(server.RtpStats().packets.load(), kPackets) << "RTP was not read while a call setup waited for the store";

  open_gate.set_value();
  sip::Message slow = sip::ParseMessage(sip.Receive()).value();
  EXPECT_EQ(slow.status_code, 200) << "the held-up INVITE is still answered";
  EXPECT_EQ(slow.call_id(), "slow-setup");
  if (slow.status_code == 200) sip.SendTo(server.port(), Ack(slow));
  server.Stop();
  hub.Stop();
}

// Out of file descriptors, accept() fails at once for every queued
// connection: the accept loop must pause, not spin, and resume once
// descriptors are free again. Runs in a death-test child: the fd limit is
// per process (support/fd_exhaustion.h).
void AcceptBacksOffWhenOutOfFileDescriptors() {
  TempDir dir;
  GatedControl control;
  capture::HubOptions ho;
  ho.media_root = dir.path();
  capture::MediaHub hub(ho, control);
  SipServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.rtp_first = 47700;
  so.rtp_last = 47709;
  SipServer server(so, hub);
  ASSERT_TRUE(server.Listen().ok());
  server.SetTrunks(LoopbackTrunks());
  server.Start();

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int probe = ::dup(0);  // the lowest free descriptor ≈ how many are open
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  // Client sockets use up the rest; their connections wait in the backlog.
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(server.port());
  std::vector<int> clients;
  for (;;) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    clients.push_back(fd);
    ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  ASSERT_FALSE(clients.empty());
  // Counters, nothing to wait on: poll them until a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.Stats().accept_backoffs < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  const SipServerStats st = server.Stats();
  EXPECT_GE(st.accept_backoffs, 3u);
  EXPECT_EQ(st.accept_failures, st.accept_backoffs) << "every failed accept paused the loop instead of retrying at once";

  // Descriptors free again: the waiting connections are accepted.
  for (int fd : clients) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  const std::string options = Crlf("OPTIONS sip:srs@127.0.0.1 SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-o\n"
                                   "From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: after-emfile@x\nCSeq: 1 OPTIONS\n"
                                   "Content-Length: 0\n\n");
  ASSERT_EQ(::send(fd, options.data(), options.size(), 0), static_cast<ssize_t>(options.size()));
  timeval tv{10, 0};  // a deadline for a lost answer, not synchronization
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[2048];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  ASSERT_GT(n, 0) << "accepting again after the pause";
  EXPECT_EQ(std::string(buf, 12), "SIP/2.0 200 ");
  server.Stop();
  hub.Stop();
}

TEST(SipServerDeathTest, AcceptBacksOffWhenOutOfFileDescriptors) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no other test's threads or fds
  EXPECT_EXIT(
      {
        AcceptBacksOffWhenOutOfFileDescriptors();
        verbatim::testing::ExitChildWithTestResult("accepting again after the back-off");
      },
      ::testing::ExitedWithCode(0), "accepting again after the back-off");
}

}  // namespace
}  // namespace verbatim::media::siprec
