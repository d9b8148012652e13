// How a refused call reads over gRPC (docs/grpc.md "Errors"): the status code
// for the REST status the same call gets, `grpc-message` = the human message,
// and google.rpc.Status details in the `grpc-status-details-bin` trailer:
// ErrorInfo (reason = our code in UPPER_SNAKE_CASE, the facts as metadata),
// RequestInfo (the context id), RetryInfo, BadRequest, PreconditionFailure,
// Help, and verbatim.v1.Explanation (the REST explanation, typed and as JSON).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "authz/decision.h"
#include "core/status.h"
#include "service/audit_log.h"
#include "service/outcome.h"
#include "verbatim/v1/verbatim.pb.h"

namespace verbatim::transports::grpc {

// 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 FAILED_PRECONDITION,
// 400 INVALID_ARGUMENT, 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, else INTERNAL.
::grpc::StatusCode CodeForHttpStatus(int http_status);
// "conversation.ended" → "CONVERSATION_ENDED".
std::string UpperSnake(std::string_view code);

struct DetailsContext {
  std::string_view context_id;
  std::string_view issuer;  // the REST base URL, for Help links
  std::chrono::seconds retry_after{0};
};

// The decision as verbatim.v1.Explanation: the REST explanation, typed and as JSON.
v1::Explanation ExplanationOf(const authz::Decision& d, std::string_view context_id);
// A denial by any layer (the decision says which).
::grpc::Status DenialStatus(const authz::Decision& d, const DetailsContext& c);
// Malformed input (Refusal::Kind::kInvalid).
::grpc::Status InvalidStatus(const service::Refusal& r, const DetailsContext& c);
// A store failure; 500s say only where to find the log line.
::grpc::Status FailureStatus(const Status& s, const DetailsContext& c);
// The audit log cannot record: refused before anything was done.
::grpc::Status AuditUnavailableStatus(const service::AuditLog::Health& h, const DetailsContext& c);

}  // namespace verbatim::transports::grpc
