// A small HTTP/1.1 server on Boost.Beast: keep-alive, bounded headers and
// bodies, a fixed thread pool, graceful stop. It knows nothing about routes or
// JSON: it hands each complete request to a RequestHandler and writes back the
// response it returns. WebSocket upgrades are passed to an UpgradeHandler,
// which takes over the connection.
//
// Safe on a hostile network (docs/decisions.md "The HTTP listener on a hostile
// network"): optional TLS (1.2+, ALPN http/1.1, a handshake deadline, plain
// HTTP on the TLS port refused), caps on concurrent connections in total and
// per client address, deadlines for each phase of a request (slowloris),
// accept errors (EMFILE...) that back off instead of spinning, and the client
// address taken from trusted proxies' forwarding headers only
// (transports/http/forwarded.h).
//
// Thread-safety: Listen/AttachMetrics/Start/Stop from one controlling thread;
// handlers run on pool threads concurrently and must be thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "transports/http/accept_backoff.h"
#include "transports/http/connection_limiter.h"
#include "transports/http/forwarded.h"
#include "core/status.h"

namespace verbatim::service {
class Metrics;
}

namespace verbatim::api {

class TlsCredentials;

namespace http = boost::beast::http;
using RawRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct HttpRequest {
  const RawRequest& raw;
  std::string path;       // raw path before '?', exactly as sent (not percent-decoded)
  std::string query;      // after '?', raw
  std::string remote_ip;  // the client: the TCP peer, or what trusted proxies say (transports/http/forwarded.h)
  std::chrono::steady_clock::time_point received_at;
  std::string peer_ip;  // the TCP peer; differs from remote_ip behind a trusted proxy ("" in tests)

  std::string_view method() const { return {raw.method_string().data(), raw.method_string().size()}; }
  std::string_view header(std::string_view name) const;  // "" if absent
  const std::string& body() const { return raw.body(); }
};

// A request that owns its bytes, so a handler may answer it later from
// another thread. Not copyable: `view` refers to `raw`.
struct OwnedRequest {
  OwnedRequest(RawRequest r, std::string path, std::string query, std::string remote_ip, std::string peer_ip = {})
      : raw(std::move(r)),
        view{raw, std::move(path), std::move(query), std::move(remote_ip), std::chrono::steady_clock::now(),
             std::move(peer_ip)} {}
  OwnedRequest(const OwnedRequest&) = delete;
  OwnedRequest& operator=(const OwnedRequest&) = delete;
  RawRequest raw;
  HttpRequest view;
};

// Sends the response to one request; call exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;
// Called for every request. Keep-alive and Content-Length are handled by the
// server; the next request on the connection is read after the response.
using RequestHandler = std::function<void(std::shared_ptr<const OwnedRequest>, Responder)>;

// A connection handed over for a WebSocket upgrade: the stream (plain or TLS,
// handshake done), the upgrade request, and the connection's place under the
// connection caps, which the new owner keeps for as long as the connection lives.
struct UpgradedConnection {
  std::variant<PlainStream, TlsStream> stream;
  RawRequest request;
  std::string remote_ip;  // as HttpRequest::remote_ip
  ConnectionLimiter::Slot slot;
  // An event stream instead of a WebSocket: the handler's response named it
  // (kEventStreamHeader); `head` is that response's header, still to be
  // written, and `request` is empty.
  std::string event_stream;
  std::string head;
};

// Internal header, never sent: a handler that answers with a stream of
// server-sent events names it (any id of its own). The server does not write
// the response: it hands the connection, with the response's header, to
// UpgradeHandler::accept, whose owner writes the header and then the events
// until either side closes (docs/changes.md "Events").
inline constexpr std::string_view kEventStreamHeader = "X-Verbatim-Event-Stream";

// Called for a WebSocket upgrade request on a path the handler claims
// (`wants_upgrade`), and for a response that is an event stream. It owns the
// connection afterwards.
struct UpgradeHandler {
  std::function<bool(std::string_view path)> wants_upgrade;
  std::function<void(UpgradedConnection)> accept;
};

// Called when the server answers without a handler: a request it cannot read
// (too large, malformed, too slow), plain HTTP on the TLS port, a connection
// over the caps. Renders the error body the API uses everywhere.
using ErrorRenderer = std::function<HttpResponse(int status, std::string code, std::string message)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = pick a free port
  int threads = 0;       // 0 = hardware concurrency
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;       // request line + header fields (beyond: 431)
  size_t max_request_line_bytes = 8 << 10;  // beyond: 414
  // Deadlines, one per phase (a client too slow for one is dropped).
  std::chrono::seconds idle_timeout{60};      // waiting for the first byte of the next request
  std::chrono::seconds header_timeout{10};    // from that byte to the end of the header (slowloris)
  std::chrono::seconds body_timeout{60};      // reading the body
  std::chrono::seconds write_timeout{30};     // each write of the response (a client that does not read)
  std::chrono::seconds handshake_timeout{10};  // TLS handshake
  // Concurrent connections (0 = no cap); WebSocket connections count too.
  size_t max_connections = 10000;
  size_t max_connections_per_address = 1000;
  std::chrono::seconds refusal_retry_after{2};  // Retry-After of a refused connection's 503
  // Client address (transports/http/forwarded.h).
  TrustedProxies trusted_proxies;
  ForwardedHeader forwarded_header = ForwardedHeader::kXForwardedFor;
  // TLS: null = plain HTTP. Read at each accept, so a reload applies to new connections.
  std::shared_ptr<TlsCredentials> tls;
  AcceptBackoff::Options accept_backoff;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions opts, RequestHandler handler, ErrorRenderer errors, UpgradeHandler upgrade = {});
  ~HttpServer();

  // Binds and listens; after OK, `port()` is the bound port.
  Status Listen();
  // Counts refusals, timeouts, accept errors and TLS failures there (and adds
  // the connection gauge). Before Start(); `metrics` must outlive the server.
  void AttachMetrics(service::Metrics& metrics);
  // Starts the accept loop and the worker threads.
  void Start();
  // Stops accepting, closes idle connections, waits up to `grace` for
  // in-flight requests, then stops the threads.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  uint16_t port() const { return port_; }
  const std::string& host() const { return opts_.host; }
  bool tls() const { return opts_.tls != nullptr; }
  boost::asio::io_context& io_context() { return ioc_; }
  size_t active_connections() const;

  // Counters, for tests and metrics.
  struct Stats {
    uint64_t accept_errors = 0;          // failed accept() calls, any reason
    uint64_t accept_backoffs = 0;        // of which were resource exhaustion (EMFILE...): waited
    uint64_t refused_total_cap = 0;      // connections refused by the global cap
    uint64_t refused_per_address = 0;    // ... by the per-address cap
  };
  Stats stats() const;

  struct Core;  // state shared with the connections (transports/http/http_session.h)

 private:
  void Accept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  // Constant after construction.
  const HttpServerOptions opts_;
  std::shared_ptr<Core> core_;  // outlives the server while connections hold it

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_timer_;  // accept back-off
  // Touched by the accept loop only (one accept at a time).
  AcceptBackoff backoff_;
  bool refusing_ = false;  // in a burst of refused connections (logged once)
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
};

}  // namespace verbatim::api
