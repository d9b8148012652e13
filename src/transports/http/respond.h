// Rendering: JSON bodies, the explainable error body of docs/api.md §3 and RFC 6749
// §5.2 OAuth errors. Every response carries X-Context-Id (added by App).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transports/http/http_server.h"
#include "authz/decision.h"
#include "core/json.h"
#include "core/status.h"

namespace verbatim::api {

using Params = std::vector<std::pair<std::string, std::string>>;

HttpResponse JsonResponse(int status, const json::value& body);
HttpResponse EmptyResponse(int status);

// The docs/api.md §3 body: status, code, message, messageWithParams, messageParams,
// contextId, explanation.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message, std::string_view context_id,
                           std::optional<json::object> explanation = std::nullopt,
                           std::string_view message_template = {}, const Params& params = {});

// A denial (or the resource/state failure after an allow) with its headers:
// WWW-Authenticate on 401 and on 403 missing scope.
HttpResponse DecisionResponse(const authz::Decision& d, std::string_view context_id);

// An explanation for input problems: which field, what was expected, the fix.
json::object InputProblem(std::string_view field, std::string_view expected, std::string_view fix);

// RFC 6749 §5.2 {"error","error_description"} (+ contextId). invalid_client
// gets 401 and WWW-Authenticate: Basic.
// `history` (docs/changes.md): the recent changes behind the error, if any.
HttpResponse OAuthError(int status, std::string_view error, std::string_view description, std::string_view context_id,
                        json::array history = {});

}  // namespace verbatim::api
