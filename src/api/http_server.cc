#include "api/http_server.h"

#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "api/file_slice.h"

namespace verbatim::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string_view HttpRequest::header(std::string_view name) const {
  auto it = raw.find(beast::string_view(name.data(), name.size()));
  if (it == raw.end()) return {};
  return {it->value().data(), it->value().size()};
}

namespace {

class Session;

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

// Live sessions, so Stop() can close the idle ones. Guarded by mu.
struct Registry {
  std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServerOptions& opts, const RequestHandler& handler,
          const ErrorRenderer& errors, const UpgradeHandler& upgrade, std::shared_ptr<Registry> registry,
          std::atomic<size_t>& active, std::atomic<bool>& stopping)
      : stream_(std::move(socket)),
        opts_(opts),
        handler_(handler),
        errors_(errors),
        upgrade_(upgrade),
        registry_(std::move(registry)),
        active_(active),
        stopping_(stopping) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ip_ = ep.address().to_string();
    ++active_;
  }

  ~Session() {
    {
      std::lock_guard lock(registry_->mu);
      registry_->sessions.erase(this);
    }
    --active_;
  }

  void Run() {
    {
      std::lock_guard lock(registry_->mu);
      registry_->sessions.emplace(this, weak_from_this());
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Called from Stop(): closes the connection if no request is being handled.
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(opts_.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(opts_.max_header_bytes));
    stream_.expires_after(opts_.idle_timeout);
    busy_ = false;
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    busy_ = true;
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return Close();
    }
    if (ec) {
      // A request we cannot read: answer once, then close (the rest of the
      // stream is in an unknown state).
      if (ec == http::error::body_limit) {
        return WriteError(413, "payload.too.large",
                          "The request body is larger than the limit of " + std::to_string(opts_.max_body_bytes) +
                              " bytes.");
      }
      if (ec == http::error::header_limit) {
        // RFC 9110 §15.5.15: when it is the request line itself that is too
        // long, say 414 (a client shortens the URL, not its headers).
        const auto data = buffer_.cdata();
        const std::string_view seen(static_cast<const char*>(data.data()), data.size());
        const size_t eol = seen.find("\r\n");
        if (eol == std::string_view::npos || eol > opts_.max_header_bytes / 2) {
          return WriteError(414, "uri.too.long",
                            "The request target is longer than this server accepts (" +
                                std::to_string(opts_.max_header_bytes / 2) +
                                " bytes); send long filters in a request body or page through results.");
        }
        return WriteError(431, "bad.request",
                          "The request headers are larger than the limit of " +
                              std::to_string(opts_.max_header_bytes) + " bytes.");
      }
      if (buffer_.size() == 0 && !parser_->got_some()) return Close();
      return WriteError(400, "bad.request", "The request is not valid HTTP/1.1 (" + ec.message() + ").");
    }

    RawRequest req = parser_->release();
    auto target = std::string(req.target());
    if (upgrade_.wants_upgrade && beast::websocket::is_upgrade(req)) {
      auto q = target.find('?');
      if (upgrade_.wants_upgrade(std::string_view(target).substr(0, q))) {
        stream_.expires_never();
        upgrade_.accept(std::move(stream_), std::move(req), remote_ip_);
        return;
      }
    }
    auto q = target.find('?');
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto owned = std::make_shared<const OwnedRequest>(std::move(req), target.substr(0, q),
                                                      q == std::string::npos ? std::string() : target.substr(q + 1),
                                                      remote_ip_);
    handler_(std::move(owned), [self = shared_from_this(), version, keep_alive](HttpResponse res) {
      // The handler may answer from a worker thread: write on our strand.
      asio::dispatch(self->stream_.get_executor(), [self, version, keep_alive, res = std::move(res)]() mutable {
        res.version(version);
        res.keep_alive(keep_alive && !self->stopping_.load());
        self->Write(std::move(res));
      });
    });
  }

  void WriteError(int status, std::string code, std::string message) {
    HttpResponse res = errors_(status, std::move(code), std::move(message));
    res.keep_alive(false);
    linger_ = true;
    Write(std::move(res));
  }

  // After an early error (e.g. 413 while the client is still uploading),
  // closing at once would reset the connection and the client would never
  // read our answer. Half-close, then discard what still arrives for a
  // bounded time and size (RFC 9112 §9.6).
  void LingeringClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    Drain(0);
  }

  void Drain(size_t drained) {
    if (drained > (8u << 20)) return Close();
    auto buf = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(asio::buffer(*buf), [self = shared_from_this(), buf, drained](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->Drain(drained + n);
    });
  }

  void Write(HttpResponse res) {
    if (auto slice = DetachFileSlice(res)) return WriteWithFile(std::move(res), std::move(*slice));
    res.prepare_payload();
    auto sp = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(opts_.idle_timeout);
    http::async_write(stream_, *sp, [self = shared_from_this(), sp](beast::error_code ec, size_t) {
      if (!ec && self->linger_) return self->LingeringClose();
      if (ec || !sp->keep_alive()) return self->Close();
      self->Read();
    });
  }

  // Sends res's headers and body, then the slice, reading at most one chunk
  // at a time (pread on this thread: the slice is usually in the page cache).
  void WriteWithFile(HttpResponse res, FileSlice slice) {
    auto send = std::make_shared<FileSend>();
    send->fd = OpenFileSlice(slice);
    if (send->fd < 0) {
      HttpResponse err = errors_(500, "internal", "The file to send could not be opened.");
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
    stream_.expires_after(opts_.idle_timeout);
    http::async_write_header(stream_, *send->serializer, [self = shared_from_this(), send](beast::error_code ec, size_t) {
      if (ec) return self->Close();
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
      if (n <= 0) return Close();  // the file shrank: the promised Content-Length cannot be met
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
    stream_.expires_after(opts_.idle_timeout);
    http::async_write(stream_, *send->serializer, [self = shared_from_this(), send, last](beast::error_code ec, size_t) {
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return self->Close();
      if (!last) return self->WriteFileChunk(send);
      if (!send->res.keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpServerOptions& opts_;
  const RequestHandler& handler_;
  const ErrorRenderer& errors_;
  const UpgradeHandler& upgrade_;
  std::shared_ptr<Registry> registry_;
  std::atomic<size_t>& active_;
  std::atomic<bool>& stopping_;
  std::string remote_ip_;
  bool busy_ = false;    // a request is being handled or answered (strand-local)
  bool linger_ = false;  // close gracefully after an early error response
};

}  // namespace

HttpServer::HttpServer(HttpServerOptions opts, RequestHandler handler, ErrorRenderer errors, UpgradeHandler upgrade)
    : opts_(std::move(opts)),
      handler_(std::move(handler)),
      errors_(std::move(errors)),
      upgrade_(std::move(upgrade)),
      acceptor_(ioc_),
      sessions_(std::make_shared<Registry>()) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Status HttpServer::Listen() {
  beast::error_code ec;
  auto address = asio::ip::make_address(opts_.host, ec);
  if (ec) return Status::InvalidArgument("config.invalid", "HTTP listen host '" + opts_.host + "' is not an IP address.");
  tcp::endpoint ep(address, opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("listen.failed", "Cannot listen on " + opts_.host + ":" + std::to_string(opts_.port) +
                                                    ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Start() {
  Accept();
  int n = opts_.threads > 0 ? opts_.threads : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

void HttpServer::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping_.load() || !acceptor_.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), opts_, handler_, errors_, upgrade_,
                                std::static_pointer_cast<Registry>(sessions_), active_connections_, stopping_)
          ->Run();
    }
    Accept();
  });
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (threads_.empty()) return;
  stopping_ = true;
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + grace;
  auto registry = std::static_pointer_cast<Registry>(sessions_);
  do {
    std::vector<std::shared_ptr<Session>> live;  // released outside the lock: ~Session takes it
    {
      std::lock_guard lock(registry->mu);
      for (auto& [raw, weak] : registry->sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->CloseIfIdle();
    live.clear();
    if (active_connections_.load() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // drain poll during shutdown only
  } while (std::chrono::steady_clock::now() < deadline);
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace verbatim::api
