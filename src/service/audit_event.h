// The audit event of one call, whichever transport served it: who (the
// principal, or the client id of a token that did not resolve), what (action,
// resource, the transport's method and path), the decision and its
// explanation (docs/api.md §6).
#pragma once

#include <string>
#include <string_view>

#include "service/audit_log.h"
#include "service/authorizer.h"
#include "store/model.h"

namespace verbatim::service {

// The transport's view of the call, for the audit row.
struct CallRecord {
  std::string_view context_id;
  std::string_view transport;        // "http" | "grpc"
  std::string_view method;           // HTTP method; "POST" for gRPC (the HTTP/2 request it is)
  std::string_view path;             // HTTP path; "/verbatim.v1.Recordings/Start" for gRPC
  std::string_view remote_ip;
  std::string_view conversation_id;  // the audit log's filter column; empty when none
};

// A denial keeps its whole explanation (support replays it from the
// contextId); an allow keeps who was allowed and by what, which is all there
// is to say, at a fifth of the bytes on the hottest path. Calls not made over
// HTTP say their transport.
std::string AuditExplanation(const authz::Decision& d, int status, std::string_view transport = "http");

// `explanation_json`: an explanation rendered already (a cached denial's), or empty to render one.
// Who acts, as recorded in transitions, audit events and the change log: a
// user acts through a client, and that client is the actor's client_id.
store::Actor ActorOf(const authz::Principal& p);
// The author of a change a principal makes in a request (docs/changes.md).
store::ChangeAuthor AuthorOf(const authz::Principal& p, std::string_view context_id, TimePoint at);

store::AuditEvent AuditEventOf(const CallRecord& call, const std::optional<authz::Principal>& principal,
                               const authz::TokenCheck& token, const authz::Decision* decision, int status,
                               TimePoint at, std::string explanation_json = {});

// Records `e`: a denial of a caller who proved no identity is aggregated per
// address (docs/decisions.md "Unauthenticated denials are aggregated").
void RecordAuditEvent(AuditLog& log, store::AuditEvent e, const std::optional<authz::Principal>& principal,
                      const authz::Decision* decision, std::string_view remote_ip);

}  // namespace verbatim::service
