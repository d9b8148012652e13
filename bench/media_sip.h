// The SIPREC client (SRC) side of media_load: one UDP socket to the server,
// the INVITE of a call (an SDP offer for two PCMU streams plus RFC 7865
// rs-metadata) and the INVITE and BYE client transactions of many calls at
// once. Only what a load generator needs: the server is expected to send no
// requests, and a response finds its call by Call-ID ("<index>.<run>@…") and
// CSeq method.
#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

enum class CallState { kNew, kInviting, kUp, kFailed, kByeing, kDone, kByeFailed };

struct Call {
  int index = 0;
  std::string call_id, from_tag, to_tag, conv_id, request_uri, remote_target, invite_branch, invite, ack;
  CallState state = CallState::kNew;
  int invite_status = 0, bye_status = 0;  // final statuses; -1 = no answer in time
  uint16_t rtp_port[2] = {0, 0};          // the server's, from its SDP answer
  uint16_t src_port[2] = {0, 0};          // ours, in the offer
  Clock::time_point t_invite, t_up, t_bye, t_done;
};

// A non-blocking UDP socket on 127.0.0.1, connected to the server: every
// call's signaling goes through it.
class SipClient {
 public:
  SipClient() = default;
  SipClient(const SipClient&) = delete;
  SipClient& operator=(const SipClient&) = delete;
  ~SipClient();

  bool Open(const std::string& host, uint16_t port);
  int fd() const { return fd_; }
  uint16_t local_port() const { return local_port_; }
  const std::string& server() const { return server_; }  // "host:port", for the To and Request-URI
  void Send(const std::string& bytes) {
    if (send(fd_, bytes.data(), bytes.size(), 0) < 0) ++send_errors;
  }
  // Every datagram waiting on the socket, to `f(std::string_view)`.
  template <class F>
  void Drain(F&& f) {
    for (;;) {
      ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
      if (n < 0) return;  // EAGAIN (or ECONNREFUSED from an earlier send: nothing to read)
      f(std::string_view(buf_.data(), static_cast<size_t>(n)));
    }
  }
  uint64_t send_errors = 0;

 private:
  int fd_ = -1;
  uint16_t local_port_ = 0;
  std::string server_;
  std::array<char, 65536> buf_;
};

// The SIPREC INVITE of `c`: an SDP offer (two sendonly PCMU streams from
// c.src_port, labels 1 and 2) and RFC 7865 metadata (caller and agent, each
// sending one stream; the conversationId makes the recording's path known),
// as tests/e2e/lib/sip_client.mjs builds them. Sets c.invite_branch.
std::string SiprecInvite(const SipClient& sip, Call& c);

// INVITE and BYE client transactions (RFC 3261 §17.1) for many calls at once,
// over one UDP socket; responses are matched by Call-ID and CSeq method.
class Signaling {
 public:
  // At most `window` transactions in flight; each given up after `timeout_s`
  // (timer B / F, shortened).
  Signaling(SipClient& sip, std::vector<Call>& calls, int window, double timeout_s);

  // Runs the INVITE (or BYE) transaction of every call in `todo`, at most
  // `window` at once; returns when each has a final response or timed out.
  void Run(const std::vector<int>& todo, bool invite);

  // One datagram from the server.
  void OnMessage(std::string_view raw);

  std::map<std::string, uint64_t> invite_failures, bye_failures;
  uint64_t invite_retransmissions = 0, bye_retransmissions = 0, acks_resent = 0, stray = 0;

 private:
  struct Tx {
    bool invite = true;
    bool proceeding = false;
    std::string wire;
    Clock::time_point next, deadline;
    std::chrono::nanoseconds interval{0};
  };
  SipClient& sip_;
  std::vector<Call>& calls_;
  const int window_;
  const double timeout_s_;
  std::unordered_map<int, Tx> inflight_;
};

}  // namespace bench
