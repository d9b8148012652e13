// The --metrics-listen listener: GET /metrics without a token, plain HTTP, on
// its own address, meant for a private network (Prometheus scrapes it). On
// the API listener /metrics needs organization:metrics:view
// (transports/http/routes_system.cc). Its own HttpServer: one thread, small caps, no
// trusted proxies; every other path is a 404 in the API's error format.
#pragma once

#include <memory>
#include <string>

#include "transports/http/http_server.h"
#include "service/metrics.h"

namespace verbatim::api {

class MetricsListener {
 public:
  MetricsListener(std::string host, uint16_t port, service::Metrics& metrics);
  Status Listen();
  void Start();
  void Stop();
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<HttpServer> server_;
};

// The Prometheus text response (shared with the API route).
HttpResponse MetricsResponse(const service::Metrics& metrics);

}  // namespace verbatim::api
