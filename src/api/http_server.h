// A small HTTP/1.1 server on Boost.Beast: keep-alive, bounded headers and
// bodies, a fixed thread pool, graceful stop. It knows nothing about routes or
// JSON: it hands each complete request to a RequestHandler and writes back the
// response it returns. WebSocket upgrades are passed to an UpgradeHandler,
// which takes over the connection.
//
// Thread-safety: Start/Stop from one controlling thread; handlers run on pool
// threads concurrently and must be thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace verbatim::api {

namespace http = boost::beast::http;
using RawRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

struct HttpRequest {
  const RawRequest& raw;
  std::string path;   // percent-decoded? no: raw path before '?', exactly as sent
  std::string query;  // after '?', raw
  std::string remote_ip;
  std::chrono::steady_clock::time_point received_at;

  std::string_view method() const { return {raw.method_string().data(), raw.method_string().size()}; }
  std::string_view header(std::string_view name) const;  // "" if absent
  const std::string& body() const { return raw.body(); }
};

// A request that owns its bytes, so a handler may answer it later from
// another thread. Not copyable: `view` refers to `raw`.
struct OwnedRequest {
  OwnedRequest(RawRequest r, std::string path, std::string query, std::string remote_ip)
      : raw(std::move(r)), view{raw, std::move(path), std::move(query), std::move(remote_ip),
                                std::chrono::steady_clock::now()} {}
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

// Called for a WebSocket upgrade request on a path the handler claims
// (`wants_upgrade`). It owns the stream afterwards.
struct UpgradeHandler {
  std::function<bool(std::string_view path)> wants_upgrade;
  std::function<void(boost::beast::tcp_stream stream, RawRequest req, std::string remote_ip)> accept;
};

// Called when the server fails to read a request (too large, malformed) to
// render the error body the API uses everywhere.
using ErrorRenderer = std::function<HttpResponse(int status, std::string code, std::string message)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = pick a free port
  int threads = 0;       // 0 = hardware concurrency
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions opts, RequestHandler handler, ErrorRenderer errors, UpgradeHandler upgrade = {});
  ~HttpServer();

  // Binds and listens; after OK, `port()` is the bound port.
  Status Listen();
  // Starts the accept loop and the worker threads.
  void Start();
  // Stops accepting, closes idle connections, waits up to `grace` for
  // in-flight requests, then stops the threads.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  uint16_t port() const { return port_; }
  const std::string& host() const { return opts_.host; }
  boost::asio::io_context& io_context() { return ioc_; }
  size_t active_connections() const { return active_connections_.load(); }

 private:
  void Accept();

  // Constant after construction.
  const HttpServerOptions opts_;
  const RequestHandler handler_;
  const ErrorRenderer errors_;
  const UpgradeHandler upgrade_;

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_connections_{0};
  std::shared_ptr<void> sessions_;  // registry of live sessions, for Stop()
};

}  // namespace verbatim::api
