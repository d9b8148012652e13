#include "transports/http/metrics_listener.h"

#include "transports/http/respond.h"
#include "core/ids.h"

namespace verbatim::api {

HttpResponse MetricsResponse(const service::Metrics& metrics) {
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = metrics.Render();
  return res;
}

namespace {

HttpResponse Answer(const service::Metrics& metrics, const HttpRequest& req) {
  const std::string context_id = NewContextId();
  HttpResponse res;
  if (req.path != "/metrics") {
    res = ErrorResponse(404, "not.found", "This listener serves GET /metrics only.", context_id,
                        InputProblem("path", "/metrics", "Scrape GET /metrics; the API is on the HTTP listener."));
  } else if (req.method() != "GET") {
    res = ErrorResponse(405, "method.not.allowed", "Use GET on /metrics.", context_id,
                        InputProblem("method", "GET", "Use GET."));
    res.set(http::field::allow, "GET");
  } else {
    res = MetricsResponse(metrics);
  }
  res.set("X-Context-Id", context_id);
  return res;
}

}  // namespace

MetricsListener::MetricsListener(std::string host, uint16_t port, service::Metrics& metrics) {
  HttpServerOptions o;
  o.host = std::move(host);
  o.port = port;
  o.threads = 1;
  o.max_body_bytes = 0;
  o.max_connections = 64;
  o.max_connections_per_address = 16;
  server_ = std::make_unique<HttpServer>(
      o,
      [&metrics](std::shared_ptr<const OwnedRequest> req, Responder respond) { respond(Answer(metrics, req->view)); },
      [](int status, std::string code, std::string message) {
        const std::string context_id = NewContextId();
        HttpResponse res = ErrorResponse(status, code, message, context_id, InputProblem("", "", "Send GET /metrics."));
        res.set("X-Context-Id", context_id);
        return res;
      });
}

Status MetricsListener::Listen() { return server_->Listen(); }
void MetricsListener::Start() { server_->Start(); }
void MetricsListener::Stop() { server_->Stop(std::chrono::milliseconds(1000)); }

}  // namespace verbatim::api
