// SipServer: SIP over UDP and TCP on one port, for the SIPREC recording
// server. Frames and parses messages, hands requests to SiprecUas, sends its
// responses back, retransmits 2xx over UDP until the ACK (RFC 3261 §13.3.1.4).
//
// Two io_context threads. Signalling (SIP sockets, timers, the dialog logic)
// runs on one; RTP reception of every call runs on the other and does nothing
// but hand packets to their sessions. An INVITE waits for the store (create or
// join the conversation, autoStart: its 200 OK depends on the outcome) and a
// BYE for the disconnect; on their own thread that delays other SIP
// transactions at worst, never another call's audio. (File finalization and
// catalog rows do not run on either: see capture/hub.h.)
// Thread-safe: Start/Stop from the controlling thread.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "media/capture/hub.h"
#include "media/siprec/streams.h"
#include "media/siprec/uas.h"

namespace verbatim::media::siprec {

struct SipServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 5060;         // 0 = pick a free port (the same for UDP and TCP)
  std::string media_address;    // c= in answers; "" = host (127.0.0.1 if host is a wildcard)
  uint16_t rtp_first = 20000;
  uint16_t rtp_last = 29999;
  size_t max_tcp_connections = 1024;
};

struct SipServerStats {
  uint64_t received = 0;   // messages parsed
  uint64_t malformed = 0;  // dropped or answered 400
  uint64_t sent = 0;
  uint64_t retransmissions = 0;
};

class SipServer {
 public:
  SipServer(SipServerOptions opts, capture::MediaHub& hub);
  ~SipServer();

  Status Listen();
  void Start();
  void Stop();

  uint16_t port() const { return port_; }
  const std::string& host() const { return opts_.host; }
  // The control API disconnected a conversation: stop its media.
  void ConversationEnded(const std::string& conversation_id) { uas_->ConversationEnded(conversation_id); }
  SipServerStats Stats() const;
  UasStats DialogStats() const { return uas_->Stats(); }
  const RtpCounters& RtpStats() const { return streams_->counters(); }

 private:
  class TcpConnection;
  void ReceiveUdp();
  void AcceptTcp();
  // Parses and handles one message; returns the bytes to send back.
  std::vector<std::string> Process(std::string_view raw, bool stream, bool& reliable_2xx, std::string& call_id,
                                   Peer peer = {});
  void SendUdp(const std::string& bytes, const boost::asio::ip::udp::endpoint& to);
  void Retransmit(const std::string& call_id, std::string bytes, boost::asio::ip::udp::endpoint to,
                  std::chrono::milliseconds interval, std::chrono::steady_clock::time_point give_up);

  const SipServerOptions opts_;
  boost::asio::io_context io_;        // signalling
  boost::asio::io_context media_io_;  // RTP reception only
  // Keeps media_io_ running while no call has a stream.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> media_work_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  std::unique_ptr<UdpStreamOpener> streams_;
  std::unique_ptr<SiprecUas> uas_;
  capture::MediaHub& hub_;
  std::thread thread_;        // runs io_
  std::thread media_thread_;  // runs media_io_
  uint16_t port_ = 0;

  // io thread only:
  std::array<char, 65536> udp_buffer_;
  boost::asio::ip::udp::endpoint udp_from_;
  std::map<std::string, std::shared_ptr<boost::asio::steady_timer>> retransmits_;  // by Call-ID
  size_t tcp_connections_ = 0;

  std::atomic<uint64_t> received_{0}, malformed_{0}, sent_{0}, retransmissions_{0};
};

}  // namespace verbatim::media::siprec
