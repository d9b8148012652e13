#include "transports/http/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "transports/http/http_session.h"
#include "service/metrics.h"
#include "transports/http/tls_context.h"
#include "core/log.h"
#include "core/mutex.h"

namespace verbatim::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
// Refused connections being answered at once; beyond, they are closed at
// accept (an answer must cost less than the connection it refuses).
constexpr size_t kMaxRefusalsInFlight = 64;
}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  auto it = raw.find(beast::string_view(name.data(), name.size()));
  if (it == raw.end()) return {};
  return {it->value().data(), it->value().size()};
}

HttpServer::HttpServer(HttpServerOptions opts, RequestHandler handler, ErrorRenderer errors, UpgradeHandler upgrade)
    : opts_(opts),
      core_(std::make_shared<Core>(std::move(opts), std::move(handler), std::move(errors), std::move(upgrade))),
      acceptor_(ioc_),
      accept_timer_(ioc_),
      backoff_(opts_.accept_backoff) {}

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

void HttpServer::AttachMetrics(service::Metrics& metrics) {
  core_->metrics = &metrics;
  metrics.AddGauge("verbatim_http_connections", "Open HTTP connections (WebSocket connections included).",
                   [weak = std::weak_ptr<Core>(core_)] {
                     auto core = weak.lock();
                     return core ? static_cast<double>(core->limiter.total()) : 0.0;
                   });
}

void HttpServer::Start() {
  Accept();
  int n = opts_.threads > 0 ? opts_.threads : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

size_t HttpServer::active_connections() const { return core_->limiter.total(); }

HttpServer::Stats HttpServer::stats() const {
  return {core_->accept_errors.load(), core_->accept_backoffs.load(), core_->refused_total_cap.load(),
          core_->refused_per_address.load()};
}

void HttpServer::Accept() {
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void HttpServer::OnAccept(beast::error_code ec, tcp::socket socket) {
  Core& core = *core_;
  if (core.stopping.load() || !acceptor_.is_open()) return;
  if (ec) {
    ++core.accept_errors;
    core.Count("verbatim_http_accept_errors_total", {{"error", AcceptErrorLabel(ec)}});
    if (!AcceptBackoff::IsResourceExhaustion(ec)) return Accept();  // one connection's problem
    // Out of fds or memory: the connection stays queued and an immediate
    // retry fails the same way. Wait (docs/decisions.md "Accept errors back off").
    ++core.accept_backoffs;
    if (!backoff_.in_burst()) {
      Log(LogLevel::kWarn, "accept failed: the process is out of file descriptors or memory; backing off",
          {{"error", ec.message()}, {"openConnections", core.limiter.total()},
           {"maxConnections", opts_.max_connections}});
    }
    accept_timer_.expires_after(backoff_.OnExhausted());
    accept_timer_.async_wait([this](beast::error_code wait_ec) {
      if (wait_ec || core_->stopping.load()) return;
      Accept();
    });
    return;
  }
  if (uint64_t failed = backoff_.OnAccepted())
    Log(LogLevel::kWarn, "accepting connections again", {{"failedAccepts", failed}});

  beast::error_code peer_ec;
  const tcp::endpoint ep = socket.remote_endpoint(peer_ec);
  if (peer_ec) return Accept();  // gone already
  const IpAddress peer = CanonicalAddress(ep.address());
  // A trusted proxy carries many clients: only the global cap applies to it.
  auto admission = core.limiter.TryAcquire(peer, opts_.trusted_proxies.Contains(peer));
  if (!admission.slot) {
    const bool total = admission.refusal == ConnectionLimiter::Refusal::kTotal;
    ++(total ? core.refused_total_cap : core.refused_per_address);
    core.Count("verbatim_http_connections_refused_total", {{"reason", ToString(admission.refusal)}});
    if (!refusing_) {  // once per burst; the counter has every refusal
      refusing_ = true;
      Log(LogLevel::kWarn, "connection refused: over the connection cap",
          {{"reason", ToString(admission.refusal)}, {"remote", peer.to_string()},
           {"maxConnections", opts_.max_connections}, {"maxConnectionsPerAddress", opts_.max_connections_per_address}});
    }
    // Plain HTTP: a short 503 that says why. TLS: closed at accept, because
    // answering would cost a handshake (docs/decisions.md "Connection caps").
    if (!opts_.tls && core.refusals_in_flight.load() < kMaxRefusalsInFlight) {
      const std::string limit = total ? std::to_string(opts_.max_connections) + " open connections in total"
                                      : std::to_string(opts_.max_connections_per_address) +
                                            " open connections per client address";
      HttpResponse res = core.errors(503, "connection.limit",
                                     "The server is at its limit of " + limit +
                                         "; close idle connections or retry after Retry-After seconds.");
      res.set(http::field::retry_after, std::to_string(opts_.refusal_retry_after.count()));
      RefuseConnection(core_, std::move(socket), std::move(res));
    } else {
      beast::error_code ignored;
      socket.close(ignored);
    }
    return Accept();
  }
  refusing_ = false;
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  StartSession(core_, std::move(socket), peer, std::move(admission.slot), opts_.tls ? opts_.tls->Current() : nullptr);
  Accept();
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (threads_.empty()) return;
  core_->stopping = true;
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    accept_timer_.cancel();
  });
  auto deadline = std::chrono::steady_clock::now() + grace;
  do {
    std::vector<std::shared_ptr<SessionBase>> live;  // released outside the lock: ~Session takes it
    {
      MutexLock lock(core_->mu);
      for (auto& [raw, weak] : core_->sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->CloseIfIdle();
    const bool none = live.empty();
    live.clear();
    if (none) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // drain poll during shutdown only
  } while (std::chrono::steady_clock::now() < deadline);
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace verbatim::api
