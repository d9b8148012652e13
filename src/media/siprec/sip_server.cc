#include "media/siprec/sip_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"

namespace verbatim::media::siprec {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {
constexpr size_t kMaxTcpBuffer = 2 * sip::kMaxMessageBytes;
constexpr auto kTcpIdle = std::chrono::minutes(10);

bool Wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }
}  // namespace

// One SIP-over-TCP connection: read, frame (Content-Length), handle, answer.
class SipServer::TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(SipServer& server, tcp::socket socket) : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {}
  ~TcpConnection() { --server_.tcp_connections_; }

  void Start() { Read(); }

 private:
  void Read() {
    timer_.expires_after(kTcpIdle);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.append(self->chunk_.data(), n);
      self->Drain();
    });
  }

  void Drain() {
    for (;;) {
      auto len = sip::FrameLength(buffer_);
      if (!len.ok()) {
        // Framing is lost (no Content-Length, oversized): answer once if we can, then close.
        ++server_.malformed_;
        bool reliable = false;
        std::string call_id;
        auto out = server_.Process(buffer_.substr(0, std::min(buffer_.size(), sip::kMaxMessageBytes)), true, reliable, call_id);
        return WriteThenClose(std::move(out));
      }
      if (!*len) break;  // need more bytes
      std::string frame = buffer_.substr(0, **len);
      buffer_.erase(0, **len);
      bool reliable = false;
      std::string call_id;
      Peer peer{"TCP", [weak = weak_from_this()](std::string bytes) {
                  if (auto self = weak.lock())
                    asio::post(self->socket_.get_executor(), [self, bytes = std::move(bytes)]() mutable {
                      self->Write(std::move(bytes));
                    });
                }};
      for (auto& bytes : server_.Process(frame, true, reliable, call_id, std::move(peer))) Write(std::move(bytes));
    }
    if (buffer_.size() > kMaxTcpBuffer) return Close();
    Read();
  }

  void Write(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    ++server_.sent_;
    asio::async_write(socket_, asio::buffer(*data), [self = shared_from_this(), data](boost::system::error_code, size_t) {});
  }

  void WriteThenClose(std::vector<std::string> out) {
    if (out.empty()) return Close();
    auto data = std::make_shared<std::string>(std::move(out.front()));
    ++server_.sent_;
    asio::async_write(socket_, asio::buffer(*data),
                      [self = shared_from_this(), data](boost::system::error_code, size_t) { self->Close(); });
  }

  void Close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  SipServer& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::array<char, 16384> chunk_;
  std::string buffer_;
};

SipServer::SipServer(SipServerOptions opts, capture::MediaHub& hub)
    : opts_(std::move(opts)), media_work_(media_io_.get_executor()), udp_(io_), tcp_(io_), hub_(hub) {
  std::string media = opts_.media_address.empty() ? (Wildcard(opts_.host) ? "127.0.0.1" : opts_.host) : opts_.media_address;
  streams_ = std::make_unique<UdpStreamOpener>(media_io_, Wildcard(opts_.host) ? opts_.host : media, opts_.rtp_first, opts_.rtp_last);
  UasOptions uo;
  uo.media_address = media;
  uas_ = std::make_unique<SiprecUas>(uo, hub_, *streams_);
}

SipServer::~SipServer() { Stop(); }

Status SipServer::Listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(opts_.host, ec);
  if (ec) return Status::InvalidArgument("config.invalid", "SIP listen host '" + opts_.host + "' is not an IP address.");
  // UDP and TCP must share the port; with port 0, retry until both bind.
  for (int attempt = 0; attempt < 20; ++attempt) {
    boost::system::error_code e1, e2;
    if (udp_.is_open()) udp_.close(e1);
    if (tcp_.is_open()) tcp_.close(e1);
    udp_.open(address.is_v6() ? udp::v6() : udp::v4(), e1);
    if (!e1) udp_.bind(udp::endpoint(address, opts_.port), e1);
    if (e1) {
      if (opts_.port != 0) return Status::Unavailable("listen.failed", "Cannot bind SIP/UDP " + opts_.host + ":" + std::to_string(opts_.port) + ": " + e1.message());
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
      std::string contact_host = Wildcard(opts_.host) ? "127.0.0.1" : opts_.host;
      UasOptions uo;
      uo.media_address = opts_.media_address.empty() ? contact_host : opts_.media_address;
      uo.contact = "sip:verbatim@" + (contact_host.find(':') != std::string::npos ? "[" + contact_host + "]" : contact_host) +
                   ":" + std::to_string(port_);
      uas_ = std::make_unique<SiprecUas>(uo, hub_, *streams_);
      return Status::Ok();
    }
    if (opts_.port != 0)
      return Status::Unavailable("listen.failed", "Cannot bind SIP/TCP " + opts_.host + ":" + std::to_string(opts_.port) + ": " + e2.message());
  }
  return Status::Unavailable("listen.failed", "Cannot find a port free for both SIP/UDP and SIP/TCP.");
}

void SipServer::Start() {
  ReceiveUdp();
  AcceptTcp();
  media_thread_ = std::thread([this] { media_io_.run(); });
  thread_ = std::thread([this] { io_.run(); });
}

void SipServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    udp_.close(ignored);
    tcp_.close(ignored);
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
  return {received_.load(), malformed_.load(), sent_.load(), retransmissions_.load()};
}

std::vector<std::string> SipServer::Process(std::string_view raw, bool stream, bool& reliable_2xx, std::string& call_id,
                                           Peer peer) {
  std::vector<std::string> out;
  if (raw.find_first_not_of("\r\n") == std::string_view::npos) return out;  // keep-alive (RFC 5626 §3.5.1)
  sip::ParseOptions po;
  po.stream = stream;
  auto msg = sip::ParseMessage(raw, po);
  if (!msg.ok()) {
    ++malformed_;
    if (auto res = uas_->RejectMalformed(raw, msg.status())) out.push_back(sip::Serialize(*res));
    Log(LogLevel::kWarn, "sip message rejected", {{"error", msg.status().code()}, {"bytes", raw.size()}});
    return out;
  }
  ++received_;
  call_id = std::string(msg->call_id());
  if (msg->is_request() && msg->method == "ACK") {
    auto it = retransmits_.find(call_id);
    if (it != retransmits_.end()) {
      it->second->cancel();
      retransmits_.erase(it);
    }
  }
  UasOutput result = uas_->Handle(*msg, std::move(peer));
  reliable_2xx = result.reliable_2xx;
  for (const auto& r : result.responses) out.push_back(sip::Serialize(r));
  return out;
}

void SipServer::ReceiveUdp() {
  udp_.async_receive_from(asio::buffer(udp_buffer_), udp_from_, [this](boost::system::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted || !udp_.is_open()) return;
    if (!ec) {
      bool reliable = false;
      std::string call_id;
      udp::endpoint from = udp_from_;
      Peer peer{"UDP", [this, from](std::string bytes) {
                  asio::post(io_, [this, from, bytes = std::move(bytes)] { SendUdp(bytes, from); });
                }};
      auto out = Process(std::string_view(udp_buffer_.data(), n), false, reliable, call_id, std::move(peer));
      for (size_t i = 0; i < out.size(); ++i) {
        SendUdp(out[i], udp_from_);
        if (reliable && i + 1 == out.size())
          Retransmit(call_id, out[i], udp_from_, std::chrono::milliseconds(500),
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
  timer->async_wait([this, timer, call_id, bytes = std::move(bytes), to, interval, give_up](boost::system::error_code ec) {
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

void SipServer::AcceptTcp() {
  tcp_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !tcp_.is_open()) return;
    if (!ec) {
      if (tcp_connections_ >= opts_.max_tcp_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        ++tcp_connections_;
        std::make_shared<TcpConnection>(*this, std::move(socket))->Start();
      }
    }
    AcceptTcp();
  });
}

}  // namespace verbatim::media::siprec
