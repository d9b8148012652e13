// SipServer: SIP over UDP and TCP on one port, and over TLS on another
// (optional), for the SIPREC recording server. Frames and parses messages, hands requests to SiprecUas with where
// they came from, sends its responses back, retransmits 2xx over UDP until the
// ACK (RFC 3261 §13.3.1.4), and sweeps the dialogs' timers (RTP inactivity,
// session timers) every 200 ms.
//
// Two io_context threads. Signalling (SIP sockets, timers, the dialog logic)
// runs on one; RTP reception of every call runs on the other and does nothing
// but hand packets to their sessions. An INVITE waits for the store (create or
// join the conversation, autoStart: its 200 OK depends on the outcome) and a
// BYE for the disconnect; on their own thread that delays other SIP
// transactions at worst, never another call's audio. (File finalization and
// catalog rows do not run on either: see capture/hub.h.)
//
// Hostile-network bounds: TCP connections (max_tcp_connections; beyond,
// closed at accept), each connection's unread input and unsent output
// (sip_stream_connection.h), and an accept loop that backs off when the
// process is out of file descriptors instead of spinning.
// Thread-safe: Start/Stop from the controlling thread; SetTrunks from any.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "core/tls_server.h"
#include "media/capture/hub.h"
#include "media/siprec/sip_stream_connection.h"
#include "media/siprec/streams.h"
#include "media/siprec/uas.h"

namespace verbatim::media::siprec {

struct SipServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 5060;       // 0 = pick a free port (the same for UDP and TCP)
  std::string media_address;  // c= in answers; "" = host (127.0.0.1 if host is a wildcard)
  uint16_t rtp_first = 20000;
  uint16_t rtp_last = 29999;
  size_t max_tcp_connections = 1024;
  size_t max_tcp_write_queue = 256 * 1024;   // bytes of answers a TCP peer may leave unread
  std::chrono::seconds rtp_timeout{60};      // UasOptions::rtp_timeout
  uint32_t min_se = 90;                      // UasOptions::min_se
  std::chrono::seconds nonce_lifetime{300};  // UasOptions::nonce_lifetime
  std::chrono::milliseconds sweep_interval{200};
  // SIP over TLS on its own port (docs/sip-trunks.md "SIP over TLS"): off
  // without credentials. Port 0 = a free port. The same caps as SIP/TCP
  // (max_tcp_connections counts TCP and TLS apart, each up to the cap).
  std::shared_ptr<tls::ServerCredentials> tls;
  std::string tls_host = "0.0.0.0";
  uint16_t tls_port = 5061;
  std::chrono::milliseconds tls_handshake_timeout{10000};  // a peer that stalls the handshake is closed
  UasEventSink events;  // counted refusals and session ends (metrics)
};

struct SipServerStats {
  uint64_t received = 0;   // messages parsed
  uint64_t malformed = 0;  // dropped or answered 400
  uint64_t sent = 0;
  uint64_t retransmissions = 0;
  uint64_t tcp_write_overflows = 0;  // connections closed: their peer did not read our answers
  uint64_t tcp_refused = 0;          // connections closed at accept: max_tcp_connections reached
  uint64_t accept_failures = 0;      // accept() errors (EMFILE, ENFILE, ...)
  uint64_t accept_backoffs = 0;      // pauses of the accept loop after such an error
  size_t tcp_connections = 0;
  uint64_t tls_handshakes = 0;          // completed on the SIP/TLS port
  uint64_t tls_handshake_failures = 0;  // failed or timed out (plain SIP on the TLS port, bad clients, scanners)
  uint64_t tls_refused = 0;             // TLS connections closed at accept: max_tcp_connections reached
  size_t tls_connections = 0;
};

class SipServer final : private StreamHost {
 public:
  SipServer(SipServerOptions opts, capture::MediaHub& hub);
  ~SipServer() override;

  Status Listen();
  void Start();
  void Stop();

  uint16_t port() const { return port_; }
  uint16_t tls_port() const { return tls_port_; }  // 0 = no TLS listener
  const std::string& host() const { return opts_.host; }
  void SetTrunks(std::shared_ptr<const TrunkTable> trunks);
  // The control API disconnected a conversation: stop its media.
  void ConversationEnded(const std::string& conversation_id) { uas_->ConversationEnded(conversation_id); }
  SipServerStats Stats() const;
  UasStats DialogStats() const { return uas_->Stats(); }
  std::vector<std::pair<std::string, size_t>> SessionsPerTrunk() const { return uas_->SessionsPerTrunk(); }
  const RtpCounters& RtpStats() const { return streams_->counters(); }
  size_t RtpPortsInUse() const { return streams_->ports_in_use(); }
  size_t RtpPortsFree() const { return streams_->Available(); }

 private:
  struct Processed {
    std::vector<std::string> out;
    bool reliable_2xx = false;
    std::string call_id;
  };
  void ReceiveUdp();
  void AcceptTcp();
  void AcceptTls();
  void Handshake(boost::asio::ip::tcp::socket socket);
  void BackOffAccept(boost::asio::ip::tcp::acceptor& acceptor);
  void ScheduleSweep();
  std::unique_ptr<SiprecUas> MakeUas(const std::string& contact, const std::string& contact_tls) const;
  // Parses and handles one message; returns the bytes to send back.
  Processed Process(std::string_view raw, bool stream, Peer peer);
  void SendUdp(const std::string& bytes, const boost::asio::ip::udp::endpoint& to);
  void Retransmit(const std::string& call_id, std::string bytes, boost::asio::ip::udp::endpoint to,
                  std::chrono::milliseconds interval, std::chrono::steady_clock::time_point give_up);
  // StreamHost
  std::vector<std::string> OnStreamMessage(std::string_view raw, bool framed, Peer peer) override;
  void OnStreamSent() override { ++sent_; }
  void OnWriteQueueOverflow() override { ++tcp_write_overflows_; }

  const SipServerOptions opts_;
  boost::asio::io_context io_;        // signalling
  boost::asio::io_context media_io_;  // RTP reception only
  // Keeps media_io_ running while no call has a stream.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> media_work_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  boost::asio::ip::tcp::acceptor tls_;
  std::unique_ptr<UdpStreamOpener> streams_;
  std::unique_ptr<SiprecUas> uas_;
  capture::MediaHub& hub_;
  std::thread thread_;        // runs io_
  std::thread media_thread_;  // runs media_io_
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  mutable Mutex trunks_mu_;  // the UAS has its own copy of trunks_; this one survives MakeUas
  std::shared_ptr<const TrunkTable> trunks_ GUARDED_BY(trunks_mu_) = std::make_shared<TrunkTable>();

  // io thread only:
  std::array<char, 65536> udp_buffer_;
  boost::asio::ip::udp::endpoint udp_from_;
  std::map<std::string, std::shared_ptr<boost::asio::steady_timer>> retransmits_;  // by Call-ID
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer accept_timer_;
  boost::asio::steady_timer tls_accept_timer_;
  std::chrono::milliseconds accept_backoff_{0};

  std::shared_ptr<std::atomic<size_t>> tcp_connections_ = std::make_shared<std::atomic<size_t>>(0);
  std::shared_ptr<std::atomic<size_t>> tls_connections_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<uint64_t> tls_handshakes_{0}, tls_handshake_failures_{0}, tls_refused_{0};
  std::atomic<uint64_t> received_{0}, malformed_{0}, sent_{0}, retransmissions_{0}, tcp_write_overflows_{0},
      tcp_refused_{0}, accept_failures_{0}, accept_backoffs_{0};
};

}  // namespace verbatim::media::siprec
