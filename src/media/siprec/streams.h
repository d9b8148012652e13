// RTP streams of SIPREC sessions: one UDP socket per offered audio stream,
// bound to a port from a configured range, feeding one channel of a
// RecordingSession. StreamOpener is the seam that keeps the SIPREC dialog
// logic (uas.h) free of sockets; UdpStreamOpener is the real one.
#pragma once

#include <boost/asio/io_context.hpp>
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/mutex.h"
#include "core/status.h"
#include "media/capture/session.h"
#include "media/codec/decoder.h"
#include "media/siprec/trunks.h"
#include "media/srtp/inbound_srtp.h"

namespace verbatim::media::siprec {

// Who may send a stream its RTP (docs/sip-trunks.md "RTP sources"). Packets
// from anyone else are dropped and counted (RtpCounters::wrong_source); the
// first accepted packet fixes the sender's address and port for the call.
struct RtpSourcePolicy {
  RtpSource mode = RtpSource::kOffer;
  std::optional<IpAddress> address;  // kOffer: the only address accepted (unset: accept nothing)
  std::vector<IpNetwork> networks;   // kLatch: any address in these (the trunk's)

  bool Allows(const IpAddress& a) const;
};

// A live stream; closing it (destructor) stops reception and frees the port.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  virtual uint16_t port() const = 0;
  // Steady-clock time of the last packet the stream accepted; 0 = none yet.
  virtual capture::Nanos LastPacket() const { return capture::Nanos{0}; }
  // A re-INVITE named another source: accept that from now on (and latch anew).
  virtual void SetSource(RtpSourcePolicy) {}
  // A re-INVITE changed the SRTP keys of the stream (RFC 4568 §7.1.4):
  // packets are unprotected with the new ones from now on.
  // InvalidArgument "srtp.keying" when libsrtp2 refuses them (the old stay).
  virtual Status Rekey(const srtp::SrtpKeying&) { return Status::Ok(); }
  // Has the thread that reads RTP deliver to the session every datagram
  // already waiting in the socket (what the SRC sent before its BYE). The
  // future is ready once that is done; do not wait for it on that thread.
  virtual std::future<void> DeliverPending() {
    std::promise<void> done;
    done.set_value();
    return done.get_future();
  }
};

struct StreamSpec {
  std::shared_ptr<capture::RecordingSession> session;
  size_t channel = 0;
  codec::Decoder audio;
  std::optional<codec::Decoder> events;  // telephone-event: recognised, never written
  RtpSourcePolicy source;
  // Set: the stream is SRTP (SDES keys of the SRC, docs/sip-trunks.md "SRTP");
  // every packet is authenticated and decrypted before anything reads it.
  std::optional<srtp::SrtpKeying> srtp;
};

class StreamOpener {
 public:
  virtual ~StreamOpener() = default;
  // ResourceExhausted "rtp.ports.exhausted" when the range is used up.
  virtual Result<std::unique_ptr<StreamHandle>> Open(StreamSpec spec) = 0;
  // How many more streams Open() can be expected to serve (ports not in use),
  // so that a call can be refused before anything is created for it.
  virtual size_t Available() const { return SIZE_MAX; }
};

struct RtpCounters {
  std::atomic<uint64_t> packets{0};       // delivered to a session
  std::atomic<uint64_t> not_rtp{0};       // parse errors (counted, dropped)
  std::atomic<uint64_t> rtcp{0};          // RTCP on the RTP port (rtcp-mux), dropped
  std::atomic<uint64_t> wrong_payload{0}; // payload type not negotiated, dropped
  std::atomic<uint64_t> wrong_source{0};  // from a stranger (not the allowed or latched source), dropped
  std::atomic<uint64_t> srtp_auth_failed{0};  // SRTP/SRTCP whose authentication tag did not verify, dropped
  std::atomic<uint64_t> srtp_replayed{0};     // SRTP/SRTCP seen before or older than the replay window, dropped
  std::atomic<uint64_t> srtp_key_expired{0};  // SRTP past its key's lifetime, dropped
};

class UdpStreamOpener final : public StreamOpener {
 public:
  // Ports [first, last], even ports only (RTP convention; RTCP would be +1).
  UdpStreamOpener(boost::asio::io_context& io, std::string bind_address, uint16_t first_port, uint16_t last_port);
  Result<std::unique_ptr<StreamHandle>> Open(StreamSpec spec) override;
  size_t Available() const override;
  const RtpCounters& counters() const { return *counters_; }
  size_t ports_in_use() const;

 private:
  friend class UdpStream;
  void Release(uint16_t port);

  boost::asio::io_context& io_;
  const std::string bind_address_;
  const uint16_t first_port_;
  const uint16_t last_port_;
  std::shared_ptr<RtpCounters> counters_ = std::make_shared<RtpCounters>();
  mutable Mutex mu_;
  std::set<uint16_t> used_ GUARDED_BY(mu_);
  uint16_t next_ GUARDED_BY(mu_);
};

}  // namespace verbatim::media::siprec
