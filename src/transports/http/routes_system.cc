// Health, readiness, metrics and the OpenAPI document. /healthz and /readyz
// stay open: load balancers probe them without credentials.
#include "transports/http/app.h"
#include "transports/http/audit_unavailable.h"
#include "transports/http/metrics_listener.h"
#include "transports/http/openapi_doc.h"
#include "core/version.h"

namespace verbatim::api {

void RegisterSystemRoutes(App& app, Router& r) {
  r.Add({"GET", "/healthz", Access::kPublic, "", [](RequestContext&) {
           json::object o;
           o["status"] = "ok";
           return JsonResponse(200, o);
         }});
  r.Add({"GET", "/readyz", Access::kPublic, "", [&app](RequestContext& ctx) {
           json::object o;
           // Ready means: store reachable and listeners bound.
           auto org = app.store().GetOrganization();
           bool ready = app.ready() && org.ok();
           o["status"] = ready ? "ready" : "not-ready";
           o["version"] = kVersion;
           if (!ready)
             return ErrorResponse(503, "not.ready", "The server is starting or cannot reach its store.", ctx.context_id);
           // Not ready either while protected requests are refused for want of audit.
           if (auto audit = app.audit().health(); !audit.available)
             return AuditUnavailableResponse(audit, ctx.context_id);
           return JsonResponse(200, o);
         }});
  // Metrics tell an attacker what the server does and how busy it is: on the
  // API listener they need a permission; --metrics-listen serves them without
  // one on a private address (transports/http/metrics_listener.h).
  r.Add({"GET", "/metrics", Access::kPermission, "organization:metrics:view", [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "metrics")) return app.Deny(ctx);
           return MetricsResponse(app.metrics());
         }});
  r.Add({"GET", "/api/v2/openapi.json", Access::kPublic, "", [](RequestContext&) {
           HttpResponse res{http::status::ok, 11};
           res.set(http::field::content_type, "application/json");
           res.body() = std::string(OpenApiDocument());
           return res;
         }});
}

}  // namespace verbatim::api
