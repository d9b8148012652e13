#include "media/siprec/streams.h"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <array>

#include "media/capture/hub.h"
#include "media/rtp/packet.h"

namespace verbatim::media::siprec {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {
constexpr int kMaxQueuedReads = 4096;  // more than a 256 KiB socket buffer holds

IpAddress ToIpAddress(const asio::ip::address& a) {
  IpAddress out;
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    out.v4 = true;
    return out;
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return ToIpAddress(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
  const auto b = v6.to_bytes();
  std::copy(b.begin(), b.end(), out.bytes.begin());
  out.v4 = false;
  return out;
}
}  // namespace

bool RtpSourcePolicy::Allows(const IpAddress& a) const {
  switch (mode) {
    case RtpSource::kOffer: return address && *address == a;
    case RtpSource::kLatch:
      return std::any_of(networks.begin(), networks.end(), [&](const IpNetwork& n) { return n.Contains(a); });
  }
  return false;
}

// One RTP socket. Reception runs on the io_context; the session is
// thread-safe. Lifetime: the handle owns a shared state that the pending
// receive also holds, so closing never races a completion.
class UdpStream final : public StreamHandle {
 public:
  struct State : std::enable_shared_from_this<State> {
    State(asio::io_context& io, StreamSpec s, std::shared_ptr<RtpCounters> c)
        : socket(io), spec(std::move(s)), counters(std::move(c)) {}
    udp::socket socket;
    StreamSpec spec;  // spec.source changes only on the socket's executor (SetSource posts there)
    std::shared_ptr<RtpCounters> counters;
    std::array<std::byte, 2048> buffer;
    udp::endpoint from;
    std::optional<udp::endpoint> latched;  // sender of the first accepted packet; others are dropped
    std::atomic<int64_t> last_packet_ns{0};  // read by the signalling thread (inactivity timeout)
    std::shared_ptr<srtp::InboundSrtp> srtp;  // set for SRTP streams; used and replaced on the socket's executor only

    void Receive() {
      socket.async_receive_from(asio::buffer(buffer), from,
                                [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                                  if (ec == asio::error::operation_aborted || !self->socket.is_open()) return;
                                  if (!ec) self->OnDatagram(n);
                                  self->Receive();
                                });
    }

    // Reads what the socket holds without waiting, into its own buffer (the
    // pending receive owns `buffer`).
    void ReadQueued() {
      boost::system::error_code ec;
      socket.non_blocking(true, ec);
      std::array<std::byte, 2048> queued;
      for (int i = 0; i < kMaxQueuedReads && !ec; ++i) {
        const size_t n = socket.receive_from(asio::buffer(queued), from, 0, ec);
        if (!ec) OnDatagram(std::span<const std::byte>(queued.data(), n));
      }
    }

    void OnDatagram(size_t n) { OnDatagram(std::span<const std::byte>(buffer.data(), n)); }
    void OnDatagram(std::span<const std::byte> datagram) {
      if (srtp) {
        // Strangers first, before any cryptography is spent on them.
        if (latched ? from != *latched : !spec.source.Allows(ToIpAddress(from.address()))) {
          counters->wrong_source++;
          return;
        }
        // RFC 5761 §4: RTCP multiplexed on the RTP port has packet types 200-204 (the RTP "marker+PT" byte).
        const bool rtcp = datagram.size() >= 2 && static_cast<uint8_t>(datagram[1]) >= 200 &&
                          static_cast<uint8_t>(datagram[1]) <= 204;
        const srtp::Unprotected u = rtcp ? srtp->UnprotectRtcp(datagram) : srtp->UnprotectRtp(datagram);
        if (u.error) {
          switch (*u.error) {
            case srtp::UnprotectError::kAuthFailed: counters->srtp_auth_failed++; break;
            case srtp::UnprotectError::kReplayed: counters->srtp_replayed++; break;
            case srtp::UnprotectError::kKeyExpired: counters->srtp_key_expired++; break;
            case srtp::UnprotectError::kMalformed: counters->not_rtp++; break;
          }
          return;
        }
        datagram = u.packet;  // authentic: from here on it is plain RTP (or RTCP)
      }
      auto parsed = rtp::ParsePacket(datagram);
      if (!parsed.ok()) {
        (parsed.error() == rtp::ParseError::kRtcp ? counters->rtcp : counters->not_rtp)++;
        return;
      }
      // Strangers first: nothing from an address the signalling did not name
      // reaches the session, and nobody can take the stream by sending first.
      if (latched ? from != *latched : !spec.source.Allows(ToIpAddress(from.address()))) {
        counters->wrong_source++;
        return;
      }
      const rtp::Packet& p = *parsed;
      const codec::Decoder* d = nullptr;
      if (p.payload_type == spec.audio.payload_type()) d = &spec.audio;
      else if (spec.events && p.payload_type == spec.events->payload_type()) d = &*spec.events;
      if (!d) {
        counters->wrong_payload++;
        return;
      }
      // Latch on the first packet the stream accepts, so that a stray datagram
      // that merely parses as RTP cannot capture the port for the whole call.
      if (!latched) latched = from;
      counters->packets++;
      const capture::Nanos now = capture::SteadyNow();
      last_packet_ns.store(now.count(), std::memory_order_relaxed);
      spec.session->PushRtp(spec.channel, p, *d, now);
    }
  };

  UdpStream(std::shared_ptr<State> state, uint16_t port, UdpStreamOpener& owner)
      : state_(std::move(state)), port_(port), owner_(owner) {}
  ~UdpStream() override {
    auto st = state_;
    asio::post(st->socket.get_executor(), [st] {
      boost::system::error_code ignored;
      st->socket.close(ignored);
    });
    owner_.Release(port_);
  }
  uint16_t port() const override { return port_; }
  capture::Nanos LastPacket() const override {
    return capture::Nanos{state_->last_packet_ns.load(std::memory_order_relaxed)};
  }
  Status Rekey(const srtp::SrtpKeying& keying) override {
    auto next = srtp::InboundSrtp::Create(keying);
    if (!next.ok()) return next.status();
    asio::post(state_->socket.get_executor(),
               [st = state_, inbound = std::shared_ptr<srtp::InboundSrtp>(std::move(*next))]() mutable {
                 st->srtp = std::move(inbound);
               });
    return Status::Ok();
  }

  void SetSource(RtpSourcePolicy policy) override {
    asio::post(state_->socket.get_executor(), [st = state_, policy = std::move(policy)]() mutable {
      st->spec.source = std::move(policy);
      st->latched.reset();
    });
  }

  std::future<void> DeliverPending() override {
    auto done = std::make_shared<std::promise<void>>();
    auto delivered = done->get_future();
    asio::post(state_->socket.get_executor(), [st = state_, done] {
      st->ReadQueued();
      done->set_value();
    });
    return delivered;
  }

 private:
  std::shared_ptr<State> state_;
  uint16_t port_;
  UdpStreamOpener& owner_;
};

UdpStreamOpener::UdpStreamOpener(asio::io_context& io, std::string bind_address, uint16_t first_port,
                                 uint16_t last_port)
    : io_(io),
      bind_address_(std::move(bind_address)),
      first_port_(static_cast<uint16_t>(first_port + (first_port % 2))),
      last_port_(last_port),
      next_(first_port_) {}

size_t UdpStreamOpener::ports_in_use() const {
  MutexLock lock(mu_);
  return used_.size();
}

size_t UdpStreamOpener::Available() const {
  MutexLock lock(mu_);
  const size_t slots = last_port_ >= first_port_ ? (last_port_ - first_port_) / 2 + 1 : 0;
  return slots > used_.size() ? slots - used_.size() : 0;
}

void UdpStreamOpener::Release(uint16_t port) {
  MutexLock lock(mu_);
  used_.erase(port);
}

Result<std::unique_ptr<StreamHandle>> UdpStreamOpener::Open(StreamSpec spec) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(bind_address_, ec);
  if (ec) return Status::InvalidArgument("rtp.bad.address", "RTP bind address '" + bind_address_ + "' is invalid");
  MutexLock lock(mu_);
  const size_t slots = last_port_ >= first_port_ ? (last_port_ - first_port_) / 2 + 1 : 0;
  for (size_t tried = 0; tried < slots; ++tried) {
    uint16_t port = next_;
    next_ = static_cast<uint16_t>(next_ + 2 > last_port_ ? first_port_ : next_ + 2);
    if (used_.count(port)) continue;
    auto state = std::make_shared<UdpStream::State>(io_, spec, counters_);
    if (spec.srtp) {
      auto inbound = srtp::InboundSrtp::Create(*spec.srtp);
      if (!inbound.ok()) return inbound.status();
      state->srtp = std::move(*inbound);
    }
    state->socket.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (ec) return Status::Internal("cannot open an RTP socket: " + ec.message());
    state->socket.set_option(asio::socket_base::receive_buffer_size(256 * 1024), ec);
    state->socket.bind(udp::endpoint(address, port), ec);
    if (ec) continue;  // in use by someone else: try the next port
    used_.insert(port);
    asio::post(io_, [state] { state->Receive(); });
    return std::unique_ptr<StreamHandle>(new UdpStream(state, port, *this));
  }
  return Status::ResourceExhausted("rtp.ports.exhausted", "No free RTP port in " + std::to_string(first_port_) + "-" +
                                                              std::to_string(last_port_) + ".");
}

}  // namespace verbatim::media::siprec
