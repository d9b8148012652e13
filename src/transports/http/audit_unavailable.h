// The refusal of a protected request while the audit log cannot record it
// (docs/decisions.md "Audit fails closed"): 503 audit.unavailable with
// Retry-After, in the usual error body, answered before anything is done.
#pragma once

#include <string_view>

#include "service/audit_log.h"
#include "transports/http/http_server.h"

namespace verbatim::api {

HttpResponse AuditUnavailableResponse(const service::AuditLog::Health& h, std::string_view context_id);

}  // namespace verbatim::api
