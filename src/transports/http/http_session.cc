#include "transports/http/http_session.h"

#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>
#include <sstream>
#include <optional>
#include <type_traits>

#include "transports/http/file_slice.h"
#include "service/metrics.h"
#include "core/log.h"

namespace verbatim::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

void HttpServer::Core::Count(const std::string& name,
                             const std::vector<std::pair<std::string, std::string>>& labels) const {
  if (metrics) metrics->Inc(name, labels);
}

namespace {

// After an early error (e.g. 413 while the client is still uploading),
// closing at once would reset the connection and the client would never read
// our answer: we read and discard what still arrives, bounded in bytes and
// (by the stream's deadline) in time (RFC 9112 §9.6).
constexpr size_t kMaxDrainBytes = 8u << 20;
constexpr auto kDrainTime = std::chrono::seconds(2);
// How long a TLS close waits for the client's close_notify.
constexpr auto kTlsShutdownTime = std::chrono::seconds(1);

bool IsConnectionGone(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

// A response whose body ends with a FileSlice, written chunk by chunk.
struct FileSend {
  static constexpr size_t kChunk = 64 << 10;
  http::response<http::buffer_body> res;
  std::optional<http::response_serializer<http::buffer_body>> serializer;
  std::string prefix;  // the handler's own body bytes, sent before the file's
  bool prefix_sent = false;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t remaining = 0;
  std::vector<char> chunk;
  ~FileSend() {
    if (fd >= 0) ::close(fd);
  }
};

enum class Phase { kHeader, kBody };

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(std::shared_ptr<HttpServer::Core> core, tcp::socket socket, IpAddress peer, ConnectionLimiter::Slot slot,
          std::shared_ptr<ssl::context> tls)
      : executor_(socket.get_executor()),
        core_(std::move(core)),
        opts_(core_->opts),
        tls_(std::move(tls)),
        peer_(peer),
        peer_ip_(peer.to_string()),
        stream_(MakeStream(std::move(socket), tls_.get())),
        slot_(std::move(slot)) {}

  ~Session() override {
    MutexLock lock(core_->mu);
    core_->sessions.erase(this);
  }

  void Start() {
    {
      MutexLock lock(core_->mu);
      core_->sessions.emplace(this, this->weak_from_this());
    }
    asio::dispatch(executor_, [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->DetectTls();
      } else {
        self->Read();
      }
    });
  }

  void CloseIfIdle() override {
    // Not through stream_: it is gone once the connection is upgraded.
    asio::post(executor_, [self = this->shared_from_this()] {
      if (!self->busy_ && !self->upgraded_) self->CloseNow();
    });
  }

 private:
  static Stream MakeStream(tcp::socket socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }

  PlainStream& tcp_stream() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // ---- TLS start: a TLS ClientHello, or plain HTTP sent to the TLS port.

  void DetectTls() {
    tcp_stream().expires_after(opts_.handshake_timeout);
    beast::async_detect_ssl(tcp_stream(), buffer_, [self = this->shared_from_this()](beast::error_code ec, bool tls) {
      if (ec) return self->HandshakeFailed(ec);
      if (!tls) return self->RefusePlainHttp();
      if constexpr (kTls) {
        // `used` has a default: Boost 1.81 checks this handler against the
        // unbuffered signature void(error_code) before calling it with two.
        self->stream_.async_handshake(ssl::stream_base::server, self->buffer_.data(),
                                      [self](beast::error_code ec, size_t used = 0) {
                                        if (ec) return self->HandshakeFailed(ec);
                                        self->buffer_.consume(used);
                                        self->Read();
                                      });
      }
    });
  }

  void HandshakeFailed(const beast::error_code& ec) {
    const bool timeout = ec == beast::error::timeout;
    // A port scanner or a client that gave up is not worth a log line; a
    // client that speaks TLS badly (old versions, no common cipher) is.
    const bool gone = IsConnectionGone(ec) && !timeout;
    if (!gone) {
      core_->Count("verbatim_tls_handshake_failures_total", {{"reason", timeout ? "timeout" : "error"}});
      Log(LogLevel::kDebug, "TLS handshake failed", {{"remote", peer_ip_}, {"error", ec.message()}});
    }
    CloseNow();
  }

  // No downgrade: nothing of the request is read or served; the client is
  // told in plain text to use https.
  void RefusePlainHttp() {
    core_->Count("verbatim_tls_handshake_failures_total", {{"reason", "plain_http"}});
    HttpResponse res = core_->errors(400, "tls.required",
                                     "This port speaks HTTPS only: send the request over TLS (https:// or wss://).");
    res.keep_alive(false);
    res.prepare_payload();
    auto sp = std::make_shared<HttpResponse>(std::move(res));
    tcp_stream().expires_after(opts_.write_timeout);
    http::async_write(tcp_stream(), *sp, [self = this->shared_from_this(), sp](beast::error_code ec, size_t) {
      if (ec) return self->CloseNow();
      beast::error_code ignored;
      self->tcp_stream().socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->tcp_stream().expires_after(kDrainTime);
      self->DrainPlain(0);
    });
  }

  void DrainPlain(size_t drained) {
    if (drained > kMaxDrainBytes) return CloseNow();
    auto buf = std::make_shared<std::array<char, 16384>>();
    tcp_stream().async_read_some(asio::buffer(*buf),
                                 [self = this->shared_from_this(), buf, drained](beast::error_code ec, size_t n) {
                                   if (ec) return self->CloseNow();
                                   self->DrainPlain(drained + n);
                                 });
  }

  // ---- reading a request: wait for its first byte (idle), then the header
  // (header deadline: slowloris), then the body (body deadline).

  void Read() {
    busy_ = false;
    if (buffer_.size() > 0) return ReadHeader();  // pipelined bytes already here
    tcp_stream().expires_after(opts_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->CloseNow();  // idle timeout, or the client closed
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(opts_.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(opts_.max_header_bytes));
    tcp_stream().expires_after(opts_.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec, Phase::kHeader);
    if (parser_->get().target().size() > opts_.max_request_line_bytes) return RequestLineTooLong();
    if (parser_->is_done()) return OnRequest();
    tcp_stream().expires_after(opts_.body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec, Phase::kBody);
      self->OnRequest();
    });
  }

  void RequestLineTooLong() {
    // RFC 9110 §15.5.15: a client shortens the URL, not its headers.
    WriteError(414, "uri.too.long",
               "The request target is longer than this server accepts (" +
                   std::to_string(opts_.max_request_line_bytes) +
                   " bytes); send long filters in a request body or page through results.");
  }

  void OnReadError(beast::error_code ec, Phase phase) {
    busy_ = true;
    if (ec == beast::error::timeout) {
      // The client sent part of a request and stalled (slowloris, or a
      // network that lost it). The stream closed the socket at the deadline,
      // so there is no 408 to send: count it and go.
      core_->Count("verbatim_http_timeouts_total", {{"phase", phase == Phase::kHeader ? "header" : "body"}});
      return CloseNow();
    }
    if (IsConnectionGone(ec)) return CloseNow();
    // A request we cannot read: answer once, then close (the rest of the
    // stream is in an unknown state).
    if (ec == http::error::body_limit) {
      return WriteError(413, "payload.too.large",
                        "The request body is larger than the limit of " + std::to_string(opts_.max_body_bytes) +
                            " bytes.");
    }
    if (ec == http::error::header_limit) {
      // The parser stores the request line as soon as it has all of it: no
      // target means it is the request line that did not fit.
      if (parser_->get().target().empty()) return RequestLineTooLong();
      return WriteError(431, "header.too.large",
                        "The request header fields are larger than the limit of " +
                            std::to_string(opts_.max_header_bytes) + " bytes (request line included).");
    }
    if (buffer_.size() == 0 && !parser_->got_some()) return CloseNow();
    WriteError(400, "bad.request", "The request is not valid HTTP/1.1 (" + ec.message() + ").");
  }

  void OnRequest() {
    busy_ = true;
    RawRequest req = parser_->release();
    const std::string remote_ip = ClientAddressOf(req);
    auto target = std::string(req.target());
    const auto q = target.find('?');
    if (core_->upgrade.wants_upgrade && beast::websocket::is_upgrade(req) &&
        core_->upgrade.wants_upgrade(std::string_view(target).substr(0, q))) {
      upgraded_ = true;
      tcp_stream().expires_never();
      // The new owner keeps the connection's place under the caps.
      core_->upgrade.accept(UpgradedConnection{std::variant<PlainStream, TlsStream>(std::in_place_type<Stream>,
                                                                                    std::move(stream_)),
                                               std::move(req), remote_ip, std::move(slot_)});
      return;
    }
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto owned = std::make_shared<const OwnedRequest>(std::move(req), target.substr(0, q),
                                                      q == std::string::npos ? std::string() : target.substr(q + 1),
                                                      remote_ip, peer_ip_);
    core_->handler(std::move(owned), [self = this->shared_from_this(), version, keep_alive](HttpResponse res) {
      // The handler may answer from a worker thread: write on our strand.
      asio::dispatch(self->executor_,
                     [self, version, keep_alive, res = std::move(res)]() mutable {
                       res.version(version);
                       res.keep_alive(keep_alive && !self->core_->stopping.load());
                       self->Write(std::move(res));
                     });
    });
  }

  // Per request: a proxy carries many clients over one connection.
  std::string ClientAddressOf(const RawRequest& req) const {
    if (opts_.trusted_proxies.empty()) return peer_ip_;
    const char* name = ToString(opts_.forwarded_header);
    std::vector<std::string_view> lines;
    auto [first, last] = req.equal_range(name);
    for (auto it = first; it != last; ++it) lines.emplace_back(it->value().data(), it->value().size());
    ClientAddress client = ResolveClientAddress(peer_, lines, opts_.forwarded_header, opts_.trusted_proxies);
    return client.forwarded ? client.address.to_string() : peer_ip_;
  }

  // ---- writing a response

  void WriteError(int status, std::string code, std::string message) {
    HttpResponse res = core_->errors(status, std::move(code), std::move(message));
    res.keep_alive(false);
    linger_ = true;
    Write(std::move(res));
  }

  void Write(HttpResponse res) {
    if (auto slice = DetachFileSlice(res)) return WriteWithFile(std::move(res), std::move(*slice));
    if (res.find(kEventStreamHeader) != res.end()) return HandOverEventStream(std::move(res));
    res.prepare_payload();
    auto sp = std::make_shared<HttpResponse>(std::move(res));
    tcp_stream().expires_after(opts_.write_timeout);
    http::async_write(stream_, *sp, [self = this->shared_from_this(), sp](beast::error_code ec, size_t) {
      if (ec) return self->WriteFailed(ec);
      if (self->linger_) return self->LingeringClose();
      if (!sp->keep_alive()) return self->CloseGracefully();
      self->Read();
    });
  }

  // The response opens a stream of server-sent events: its owner writes the
  // header and the events; the connection ends with the stream.
  void HandOverEventStream(HttpResponse res) {
    std::string id(res[kEventStreamHeader]);
    res.erase(kEventStreamHeader);
    if (!core_->upgrade.accept) {
      HttpResponse err = core_->errors(500, "internal", "This server cannot stream events.");
      err.version(res.version());
      err.keep_alive(false);
      return Write(std::move(err));
    }
    res.keep_alive(false);  // the stream ends when the connection does
    res.body().clear();
    std::ostringstream head;
    head << res.base();
    upgraded_ = true;
    tcp_stream().expires_never();
    core_->upgrade.accept(UpgradedConnection{std::variant<PlainStream, TlsStream>(std::in_place_type<Stream>,
                                                                                  std::move(stream_)),
                                             RawRequest{}, peer_ip_, std::move(slot_), std::move(id), head.str()});
  }

  // Sends res's headers and body, then the slice, reading at most one chunk
  // at a time (pread on this thread: the slice is usually in the page cache).
  void WriteWithFile(HttpResponse res, FileSlice slice) {
    auto send = std::make_shared<FileSend>();
    send->fd = OpenFileSlice(slice);
    if (send->fd < 0) {
      HttpResponse err = core_->errors(500, "internal", "The file to send could not be opened.");
      err.version(res.version());
      err.keep_alive(res.keep_alive());
      return Write(std::move(err));
    }
    send->res.result(res.result_int());
    send->res.version(res.version());
    for (const auto& field : res) send->res.insert(field.name_string(), field.value());
    send->res.keep_alive(res.keep_alive());
    send->prefix = std::move(res.body());
    send->offset = slice.offset;
    send->remaining = slice.length;
    send->res.content_length(send->prefix.size() + slice.length);
    send->res.body().data = nullptr;
    send->res.body().more = true;
    send->serializer.emplace(send->res);
    tcp_stream().expires_after(opts_.write_timeout);
    http::async_write_header(stream_, *send->serializer,
                             [self = this->shared_from_this(), send](beast::error_code ec, size_t) {
                               if (ec) return self->WriteFailed(ec);
                               self->WriteFileChunk(send);
                             });
  }

  void WriteFileChunk(const std::shared_ptr<FileSend>& send) {
    auto& body = send->res.body();
    if (!send->prefix_sent && !send->prefix.empty()) {
      send->prefix_sent = true;
      body.data = send->prefix.data();
      body.size = send->prefix.size();
      body.more = true;
    } else if (send->remaining > 0) {
      send->chunk.resize(static_cast<size_t>(std::min<uint64_t>(FileSend::kChunk, send->remaining)));
      ssize_t n = ::pread(send->fd, send->chunk.data(), send->chunk.size(), static_cast<off_t>(send->offset));
      if (n <= 0) return CloseNow();  // the file shrank: the promised Content-Length cannot be met
      send->offset += static_cast<uint64_t>(n);
      send->remaining -= static_cast<uint64_t>(n);
      body.data = send->chunk.data();
      body.size = static_cast<size_t>(n);
      body.more = true;
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    const bool last = !body.more;
    // Each chunk has its own deadline: a slow reader of a long file is fine,
    // a reader that stops is not.
    tcp_stream().expires_after(opts_.write_timeout);
    http::async_write(stream_, *send->serializer,
                      [self = this->shared_from_this(), send, last](beast::error_code ec, size_t) {
                        if (ec == http::error::need_buffer) ec = {};
                        if (ec) return self->WriteFailed(ec);
                        if (!last) return self->WriteFileChunk(send);
                        if (!send->res.keep_alive()) return self->CloseGracefully();
                        self->Read();
                      });
  }

  void WriteFailed(const beast::error_code& ec) {
    if (ec == beast::error::timeout) core_->Count("verbatim_http_timeouts_total", {{"phase", "write"}});
    CloseNow();
  }

  // ---- closing

  void LingeringClose() {
    if constexpr (!kTls) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    // Over TLS a TCP half-close would cut the record stream: keep it open and
    // read (and discard) until the client closes or the deadline passes.
    tcp_stream().expires_after(kDrainTime);
    Drain(0);
  }

  void Drain(size_t drained) {
    if (drained > kMaxDrainBytes) return CloseNow();
    auto buf = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(asio::buffer(*buf),
                            [self = this->shared_from_this(), buf, drained](beast::error_code ec, size_t n) {
                              if (ec) return self->CloseNow();
                              self->Drain(drained + n);
                            });
  }

  // We end a healthy connection: over TLS, say so with close_notify first
  // (bounded wait for the client's), so the client can tell it from a cut.
  void CloseGracefully() {
    if constexpr (kTls) {
      tcp_stream().expires_after(kTlsShutdownTime);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->CloseNow(); });
    } else {
      CloseNow();
    }
  }

  void CloseNow() {
    beast::error_code ec;
    tcp_stream().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp_stream().close();
  }

  // Constant after construction.
  const asio::any_io_executor executor_;     // the connection's strand: every handler of it runs there
  const std::shared_ptr<HttpServer::Core> core_;
  const HttpServerOptions& opts_;            // core_->opts
  const std::shared_ptr<ssl::context> tls_;  // the context stream_ was made with (a reload swaps the server's)
  const IpAddress peer_;
  const std::string peer_ip_;
  // Used on the strand only.
  Stream stream_;  // moved out when the connection is upgraded
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ConnectionLimiter::Slot slot_;  // this connection's place under the caps
  bool busy_ = false;             // a request is being handled or answered
  bool linger_ = false;           // close gracefully after an early error response
  bool upgraded_ = false;         // the stream was handed to the UpgradeHandler
};

// A connection refused by the caps: one short 503, then a bounded drain.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(std::shared_ptr<HttpServer::Core> core, tcp::socket socket, HttpResponse res)
      : core_(std::move(core)), stream_(std::move(socket)), res_(std::move(res)) {
    ++core_->refusals_in_flight;
  }
  ~Refusal() { --core_->refusals_in_flight; }

  void Start() {
    res_.keep_alive(false);
    res_.prepare_payload();
    // The whole exchange, drain included, has one short deadline.
    stream_.expires_after(kDrainTime);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->Drain(0);
    });
  }

 private:
  void Drain(size_t drained) {
    if (drained > (64u << 10)) return Close();
    stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->Drain(drained + n);
    });
  }
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  const std::shared_ptr<HttpServer::Core> core_;
  PlainStream stream_;
  HttpResponse res_;
  std::array<char, 4096> buf_;
};

}  // namespace

void StartSession(std::shared_ptr<HttpServer::Core> core, tcp::socket socket, IpAddress peer,
                  ConnectionLimiter::Slot slot, std::shared_ptr<ssl::context> tls) {
  if (tls) {
    std::make_shared<Session<TlsStream>>(std::move(core), std::move(socket), peer, std::move(slot), std::move(tls))
        ->Start();
  } else {
    std::make_shared<Session<PlainStream>>(std::move(core), std::move(socket), peer, std::move(slot), nullptr)
        ->Start();
  }
}

void RefuseConnection(std::shared_ptr<HttpServer::Core> core, tcp::socket socket, HttpResponse response) {
  std::make_shared<Refusal>(std::move(core), std::move(socket), std::move(response))->Start();
}

}  // namespace verbatim::api
