#include "media/siprec/sip_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "core/log.h"

namespace verbatim::media::siprec {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {

constexpr auto kFirstAcceptBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxAcceptBackoff = std::chrono::milliseconds(1000);

bool Wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

std::optional<IpAddress> ToIp(const asio::ip::address& a) {
  // v4-mapped IPv6 (a dual-stack socket) is IPv4 to the trunk table.
  return ParseIpAddress(a.to_string());
}

bool OutOfDescriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

}  // namespace

SipServer::SipServer(SipServerOptions opts, capture::MediaHub& hub)
    : opts_(std::move(opts)),
      media_work_(media_io_.get_executor()),
      udp_(io_),
      tcp_(io_),
      tls_(io_),
      hub_(hub),
      sweep_timer_(io_),
      accept_timer_(io_),
      tls_accept_timer_(io_) {
  std::string media =
      opts_.media_address.empty() ? (Wildcard(opts_.host) ? "127.0.0.1" : opts_.host) : opts_.media_address;
  streams_ = std::make_unique<UdpStreamOpener>(media_io_, Wildcard(opts_.host) ? opts_.host : media, opts_.rtp_first,
                                               opts_.rtp_last);
  uas_ = MakeUas("", "");
}

SipServer::~SipServer() { Stop(); }

std::unique_ptr<SiprecUas> SipServer::MakeUas(const std::string& contact, const std::string& contact_tls) const {
  UasOptions uo;
  const std::string contact_host = Wildcard(opts_.host) ? "127.0.0.1" : opts_.host;
  uo.media_address = opts_.media_address.empty() ? contact_host : opts_.media_address;
  uo.contact = contact;
  uo.contact_tls = contact_tls;
  uo.rtp_timeout = opts_.rtp_timeout;
  uo.min_se = opts_.min_se;
  uo.nonce_lifetime = opts_.nonce_lifetime;
  auto uas = std::make_unique<SiprecUas>(uo, hub_, *streams_, opts_.events);
  MutexLock lock(trunks_mu_);
  uas->SetTrunks(trunks_);
  return uas;
}

void SipServer::SetTrunks(std::shared_ptr<const TrunkTable> trunks) {
  {
    MutexLock lock(trunks_mu_);
    trunks_ = trunks;
  }
  uas_->SetTrunks(std::move(trunks));
}

Status SipServer::Listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(opts_.host, ec);
  if (ec)
    return Status::InvalidArgument("config.invalid", "SIP listen host '" + opts_.host + "' is not an IP address.");
  // UDP and TCP must share the port; with port 0, retry until both bind.
  for (int attempt = 0; attempt < 20; ++attempt) {
    boost::system::error_code e1, e2;
    if (udp_.is_open()) udp_.close(e1);
    if (tcp_.is_open()) tcp_.close(e1);
    udp_.open(address.is_v6() ? udp::v6() : udp::v4(), e1);
    if (!e1) udp_.bind(udp::endpoint(address, opts_.port), e1);
    if (e1) {
      if (opts_.port != 0)
        return Status::Unavailable("listen.failed", "Cannot bind SIP/UDP " + opts_.host + ":" +
                                                        std::to_string(opts_.port) + ": " + e1.message());
      continue;
    }
    uint16_t port = udp_.local_endpoint().port();
    tcp_.open(address.is_v6() ? tcp::v6() : tcp::v4(), e2);
    if (!e2) tcp_.set_option(asio::socket_base::reuse_address(true), e2);
    if (!e2) tcp_.bind(tcp::endpoint(address, port), e2);
    if (!e2) tcp_.listen(asio::socket_base::max_listen_connections, e2);
    if (!e2) {
      port_ = port;
      udp_.set_option(asio::socket_base::receive_buffer_size(1 << 20), e1);
      break;
    }
    if (opts_.port != 0)
      return Status::Unavailable("listen.failed", "Cannot bind SIP/TCP " + opts_.host + ":" +
                                                      std::to_string(opts_.port) + ": " + e2.message());
  }
  if (port_ == 0) return Status::Unavailable("listen.failed", "Cannot find a port free for both SIP/UDP and SIP/TCP.");
  auto uri_host = [](const std::string& host) {
    const std::string h = Wildcard(host) ? "127.0.0.1" : host;
    return h.find(':') != std::string::npos ? "[" + h + "]" : h;
  };
  std::string contact_tls;
  if (opts_.tls) {
    auto tls_address = asio::ip::make_address(opts_.tls_host, ec);
    if (ec)
      return Status::InvalidArgument("config.invalid",
                                     "SIP/TLS listen host '" + opts_.tls_host + "' is not an IP address.");
    tls_.open(tls_address.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) tls_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) tls_.bind(tcp::endpoint(tls_address, opts_.tls_port), ec);
    if (!ec) tls_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Status::Unavailable("listen.failed", "Cannot bind SIP/TLS " + opts_.tls_host + ":" +
                                                      std::to_string(opts_.tls_port) + ": " + ec.message());
    tls_port_ = tls_.local_endpoint().port();
    // RFC 5630: a sips: Contact asks for TLS on every hop to us.
    contact_tls = "sips:verbatim@" + uri_host(opts_.tls_host) + ":" + std::to_string(tls_port_);
  }
  uas_ = MakeUas("sip:verbatim@" + uri_host(opts_.host) + ":" + std::to_string(port_), contact_tls);
  return Status::Ok();
}

void SipServer::Start() {
  ReceiveUdp();
  AcceptTcp();
  if (tls_.is_open()) AcceptTls();
  ScheduleSweep();
  media_thread_ = std::thread([this] { media_io_.run(); });
  thread_ = std::thread([this] { io_.run(); });
}

void SipServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    udp_.close(ignored);
    tcp_.close(ignored);
    tls_.close(ignored);
    sweep_timer_.cancel();
    accept_timer_.cancel();
    tls_accept_timer_.cancel();
    for (auto& [id, t] : retransmits_) t->cancel();
  });
  io_.stop();
  thread_.join();
  uas_.reset();  // closes RTP streams; their pending handlers die with media_io_
  media_work_.reset();
  media_io_.stop();
  media_thread_.join();
}

SipServerStats SipServer::Stats() const {
  SipServerStats s;
  s.received = received_.load();
  s.malformed = malformed_.load();
  s.sent = sent_.load();
  s.retransmissions = retransmissions_.load();
  s.tcp_write_overflows = tcp_write_overflows_.load();
  s.tcp_refused = tcp_refused_.load();
  s.accept_failures = accept_failures_.load();
  s.accept_backoffs = accept_backoffs_.load();
  s.tcp_connections = tcp_connections_->load();
  s.tls_handshakes = tls_handshakes_.load();
  s.tls_handshake_failures = tls_handshake_failures_.load();
  s.tls_refused = tls_refused_.load();
  s.tls_connections = tls_connections_->load();
  return s;
}

SipServer::Processed SipServer::Process(std::string_view raw, bool stream, Peer peer) {
  Processed p;
  if (raw.find_first_not_of("\r\n") == std::string_view::npos) return p;  // keep-alive (RFC 5626 §3.5.1)
  sip::ParseOptions po;
  po.stream = stream;
  auto msg = sip::ParseMessage(raw, po);
  if (!msg.ok()) {
    ++malformed_;
    if (auto res = uas_->RejectMalformed(raw, msg.status(), peer)) p.out.push_back(sip::Serialize(*res));
    Log(LogLevel::kWarn, "sip message rejected", {{"error", msg.status().code()}, {"bytes", raw.size()}});
    return p;
  }
  ++received_;
  p.call_id = std::string(msg->call_id());
  UasOutput result = uas_->Handle(*msg, std::move(peer));
  if (result.ack_matched) {
    // Only an ACK inside the dialog ends the retransmission: a stranger's ACK cannot silence it.
    auto it = retransmits_.find(p.call_id);
    if (it != retransmits_.end()) {
      it->second->cancel();
      retransmits_.erase(it);
    }
  }
  p.reliable_2xx = result.reliable_2xx;
  for (const auto& r : result.responses) p.out.push_back(sip::Serialize(r));
  return p;
}

std::vector<std::string> SipServer::OnStreamMessage(std::string_view raw, bool framed, Peer peer) {
  if (!framed) ++malformed_;
  return Process(raw, true, std::move(peer)).out;
}

void SipServer::ReceiveUdp() {
  udp_.async_receive_from(asio::buffer(udp_buffer_), udp_from_, [this](boost::system::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted || !udp_.is_open()) return;
    if (!ec) {
      udp::endpoint from = udp_from_;
      Peer peer;
      peer.transport = SipTransport::kUdp;
      peer.address = ToIp(from.address());
      peer.port = from.port();
      peer.send = [this, from](std::string bytes) {
        asio::post(io_, [this, from, bytes = std::move(bytes)] { SendUdp(bytes, from); });
      };
      Processed p = Process(std::string_view(udp_buffer_.data(), n), false, std::move(peer));
      for (size_t i = 0; i < p.out.size(); ++i) {
        SendUdp(p.out[i], from);
        if (p.reliable_2xx && i + 1 == p.out.size())
          Retransmit(p.call_id, p.out[i], from, std::chrono::milliseconds(500),
                     std::chrono::steady_clock::now() + std::chrono::seconds(32));
      }
    }
    ReceiveUdp();
  });
}

void SipServer::SendUdp(const std::string& bytes, const udp::endpoint& to) {
  boost::system::error_code ec;
  udp_.send_to(asio::buffer(bytes), to, 0, ec);
  if (!ec) ++sent_;
}

void SipServer::Retransmit(const std::string& call_id, std::string bytes, udp::endpoint to,
                           std::chrono::milliseconds interval, std::chrono::steady_clock::time_point give_up) {
  auto timer = std::make_shared<asio::steady_timer>(io_);
  retransmits_[call_id] = timer;
  timer->expires_after(interval);
  timer->async_wait(
      [this, timer, call_id, bytes = std::move(bytes), to, interval, give_up](boost::system::error_code ec) {
        auto it = retransmits_.find(call_id);
        if (ec || it == retransmits_.end() || it->second != timer) return;  // ACKed or replaced
        if (std::chrono::steady_clock::now() >= give_up) {
          retransmits_.erase(it);
          return;
        }
        ++retransmissions_;
        SendUdp(bytes, to);
        Retransmit(call_id, bytes, to, std::min(interval * 2, std::chrono::milliseconds(4000)), give_up);
      });
}

void SipServer::ScheduleSweep() {
  sweep_timer_.expires_after(opts_.sweep_interval);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    uas_->Sweep();
    ScheduleSweep();
  });
}

void SipServer::AcceptTcp() {
  tcp_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !tcp_.is_open()) return;
    if (ec) {
      ++accept_failures_;
      // Out of descriptors: the pending connection stays in the backlog and
      // accept() would fail again at once. Pause instead of spinning.
      if (OutOfDescriptors(ec)) return BackOffAccept(tcp_);
      Log(LogLevel::kWarn, "sip tcp accept failed", {{"error", ec.message()}});
      return AcceptTcp();
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    if (tcp_connections_->load() >= opts_.max_tcp_connections) {
      ++tcp_refused_;
      boost::system::error_code ignored;
      socket.close(ignored);
      return AcceptTcp();
    }
    boost::system::error_code ep_ec;
    const auto remote = socket.remote_endpoint(ep_ec);
    // SIP answers are small: a fixed kernel send buffer (no autotuning to MBs)
    // keeps what a non-reading peer can hold us to near max_tcp_write_queue.
    boost::system::error_code ignored;
    socket.set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
    ++*tcp_connections_;
    StreamLimits limits;
    limits.max_write_queue = opts_.max_tcp_write_queue;
    StreamHost& host = *this;
    std::make_shared<SipStreamConnection<tcp::socket>>(
        host, std::move(socket), SipTransport::kTcp, ep_ec ? std::nullopt : ToIp(remote.address()),
        static_cast<uint16_t>(ep_ec ? 0 : remote.port()), limits, tcp_connections_)
        ->Start();
    AcceptTcp();
  });
}

void SipServer::BackOffAccept(tcp::acceptor& acceptor) {
  ++accept_backoffs_;
  accept_backoff_ = accept_backoff_.count() == 0
                        ? kFirstAcceptBackoff
                        : std::min(accept_backoff_ * 2, std::chrono::milliseconds(kMaxAcceptBackoff));
  if (accept_backoffs_ == 1 || accept_backoff_ == kMaxAcceptBackoff)
    Log(LogLevel::kWarn, "sip tcp accept paused: out of file descriptors", {{"pauseMs", accept_backoff_.count()}});
  // Each listener has its own timer: one pausing must not cancel the other's.
  asio::steady_timer& timer = &acceptor == &tls_ ? tls_accept_timer_ : accept_timer_;
  timer.expires_after(accept_backoff_);
  timer.async_wait([this, &acceptor](boost::system::error_code ec) {
    if (ec || !acceptor.is_open()) return;
    if (&acceptor == &tls_)
      AcceptTls();
    else
      AcceptTcp();
  });
}

void SipServer::AcceptTls() {
  tls_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !tls_.is_open()) return;
    if (ec) {
      ++accept_failures_;
      if (OutOfDescriptors(ec)) return BackOffAccept(tls_);
      Log(LogLevel::kWarn, "sip tls accept failed", {{"error", ec.message()}});
      return AcceptTls();
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    if (tls_connections_->load() >= opts_.max_tcp_connections) {
      ++tls_refused_;
      boost::system::error_code ignored;
      socket.close(ignored);
      return AcceptTls();
    }
    Handshake(std::move(socket));
    AcceptTls();
  });
}

void SipServer::Handshake(tcp::socket socket) {
  using TlsStream = asio::ssl::stream<tcp::socket>;
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
  boost::system::error_code ep_ec;
  const auto remote = socket.remote_endpoint(ep_ec);
  ++*tls_connections_;
  // Counted from accept: a connection stuck in its handshake holds a slot too.
  struct Pending {
    Pending(TlsStream s, asio::io_context& io, std::shared_ptr<std::atomic<size_t>> live)
        : stream(std::move(s)), deadline(io), live(std::move(live)) {}
    ~Pending() {
      if (live) --*live;  // never handed over to a connection
    }
    TlsStream stream;
    asio::steady_timer deadline;
    std::shared_ptr<std::atomic<size_t>> live;
  };
  auto pending = std::make_shared<Pending>(TlsStream(std::move(socket), *opts_.tls->Current()), io_, tls_connections_);
  pending->deadline.expires_after(opts_.tls_handshake_timeout);
  pending->deadline.async_wait([weak = std::weak_ptr<Pending>(pending)](boost::system::error_code ec) {
    if (ec) return;
    if (auto p = weak.lock()) {
      boost::system::error_code ignored;
      p->stream.lowest_layer().close(ignored);  // the handshake completes with an error
    }
  });
  std::optional<IpAddress> address = ep_ec ? std::nullopt : ToIp(remote.address());
  const uint16_t port = static_cast<uint16_t>(ep_ec ? 0 : remote.port());
  pending->stream.async_handshake(
      asio::ssl::stream_base::server, [this, pending, address, port](boost::system::error_code ec) {
        pending->deadline.cancel();
        if (ec) {
          ++tls_handshake_failures_;
          Log(LogLevel::kDebug, "sip tls handshake failed",
              {{"source", address ? address->ToString() : std::string("?")}, {"error", ec.message()}});
          boost::system::error_code ignored;
          pending->stream.lowest_layer().close(ignored);
          return;
        }
        ++tls_handshakes_;
        StreamLimits limits;
        limits.max_write_queue = opts_.max_tcp_write_queue;
        StreamHost& host = *this;
        pending->live.reset();  // the connection owns the count from here
        std::make_shared<SipStreamConnection<TlsStream>>(host, std::move(pending->stream), SipTransport::kTls,
                                                         address, port, limits, tls_connections_)
            ->Start();
      });
}

}  // namespace verbatim::media::siprec
