// Internal to the HTTP server (transports/http/http_server.h): the state its connections
// share, and how a connection is served once accepted. One Session template
// serves plain and TLS connections alike; only the start (TLS detection and
// handshake) and the end (close_notify) differ.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "transports/http/http_server.h"
#include "core/mutex.h"

namespace verbatim::api {

// A live connection, as HttpServer::Stop sees it.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection unless a request is being handled or answered.
  virtual void CloseIfIdle() = 0;
};

struct HttpServer::Core {
  Core(HttpServerOptions o, RequestHandler h, ErrorRenderer e, UpgradeHandler u)
      : opts(std::move(o)),
        handler(std::move(h)),
        errors(std::move(e)),
        upgrade(std::move(u)),
        limiter(opts.max_connections, opts.max_connections_per_address) {}

  // Counts into the attached Metrics, if any.
  void Count(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels) const;

  // Constant after HttpServer::Start.
  const HttpServerOptions opts;
  const RequestHandler handler;
  const ErrorRenderer errors;
  const UpgradeHandler upgrade;
  service::Metrics* metrics = nullptr;
  ConnectionLimiter limiter;  // thread-safe itself

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> accept_errors{0};
  std::atomic<uint64_t> accept_backoffs{0};
  std::atomic<uint64_t> refused_total_cap{0};
  std::atomic<uint64_t> refused_per_address{0};
  std::atomic<size_t> refusals_in_flight{0};  // 503s being written to refused connections

  Mutex mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions GUARDED_BY(mu);
};

// Serves an accepted connection: TLS (detect, handshake) first when `tls` is
// set, then requests until the connection ends or is upgraded.
void StartSession(std::shared_ptr<HttpServer::Core> core, boost::asio::ip::tcp::socket socket, IpAddress peer,
                  ConnectionLimiter::Slot slot, std::shared_ptr<boost::asio::ssl::context> tls);

// Answers a connection over the caps with `response` (a short 503) without
// reading its request, then closes it after a bounded drain.
void RefuseConnection(std::shared_ptr<HttpServer::Core> core, boost::asio::ip::tcp::socket socket,
                      HttpResponse response);

}  // namespace verbatim::api
