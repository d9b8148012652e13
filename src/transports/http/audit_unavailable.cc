#include "transports/http/audit_unavailable.h"

#include <algorithm>
#include <string>

#include "transports/http/respond.h"

namespace verbatim::api {

HttpResponse AuditUnavailableResponse(const service::AuditLog::Health& h, std::string_view context_id) {
  const std::string reason(service::AuditUnavailableReason(h));
  const std::string secs = std::to_string(service::AuditRetryAfter(h).count());
  json::object expl;
  expl["decision"] = "unavailable";
  expl["reason"] = reason;
  json::array layers;
  for (const char* layer : {"token", "scope", "permission", "resource"})
    layers.emplace_back(json::object{{"layer", layer}, {"result", "not-evaluated"}});
  expl["layers"] = std::move(layers);
  expl["fix"] = json::array{
      json::value("Retry after Retry-After seconds: nothing was done for this request."),
      json::value("If it persists, an operator should read GET /readyz and the server log: the audit log "
                  "cannot be written (docs/decisions.md, \"Audit fails closed\").")};
  const std::string message = service::AuditUnavailableMessage(h);
  HttpResponse res = ErrorResponse(
      503, "audit.unavailable", message, context_id, std::move(expl),
      "The audit log cannot record requests ({reason}); this one was refused before anything was done. "
      "Retry in {retryAfterSeconds} s.",
      {{"reason", reason}, {"retryAfterSeconds", secs}});
  res.set(http::field::retry_after, secs);
  return res;
}

}  // namespace verbatim::api
