// Call: one gRPC call's trip through the shared core, the gRPC twin of the
// HTTP App's request flow (transports/http/app.cc): context id → audit available? →
// service::Authorizer → the use case → status and audit event. The services
// (recordings.cc, conversations.cc, authorization.cc) stay thin: parse the
// message → call.Authorize → a service:: use case → render or call.Refuse.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <grpcpp/server_context.h>

#include "service/audit_event.h"
#include "service/outcome.h"
#include "service/services.h"

namespace verbatim::transports::grpc {

// What every service is given.
struct Deps {
  service::Services core;
  std::string issuer;  // the REST base URL, for Help links in error details
};

class Call {
 public:
  // `rpc` is the method path, "/verbatim.v1.Recordings/Start".
  Call(Deps& deps, ::grpc::ServerContext* ctx, std::string_view rpc);
  ~Call();  // records the audit event if a decision was made and nothing recorded it yet

  // Authorizes `action` on `resource` (token only when `action` is empty).
  // On false, the call is refused: return status().
  bool Authorize(std::string action, std::string resource);
  // After Authorize: this call needs `action` on `resource` too (the
  // simulator asking about someone else). On false, return status().
  bool AlsoRequire(std::string action, std::string resource);
  // Authorize for "conversation/<id>", then require a UUID.
  bool AuthorizeConversation(std::string_view action, const std::string& id);

  // A use case refused: the status for it (and the audit event says so).
  ::grpc::Status Refuse(const service::Refusal& r);
  // Done: the audit event records an allow.
  ::grpc::Status Ok();
  // The status of a refused Authorize.
  const ::grpc::Status& status() const { return status_; }

  // The audit event of the successful call, committed by the use case in its
  // own transaction (Recordings::Apply); the destructor then records nothing.
  store::AuditEvent SuccessEvent(const authz::Decision& d);

  authz::Decision& decision() { return auth_.decision; }
  const authz::Principal& principal() const { return *auth_.principal; }
  const authz::TokenCheck& token() const { return auth_.token; }
  const service::Authorization& auth() const { return auth_; }
  const std::string& context_id() const { return context_id_; }
  service::Services& core() { return deps_.core; }
  ::grpc::ServerContext* context() { return ctx_; }
  bool authorized() const { return decided_; }

 private:
  service::CallRecord Record() const;
  void RecordAudit(int http_status);

  Deps& deps_;
  ::grpc::ServerContext* ctx_;
  std::string rpc_;
  std::string context_id_;
  std::string remote_ip_;
  std::string conversation_id_;
  service::Authorization auth_;
  bool decided_ = false;          // auth_ holds a decision
  bool audit_done_ = false;       // recorded, or committed by the use case
  int http_status_ = 200;         // what the audit event says
  ::grpc::Status status_;
};

// "ipv4:127.0.0.1:5000" → "127.0.0.1"; "ipv6:[::1]:5000" → "::1".
std::string PeerAddress(std::string_view peer);

}  // namespace verbatim::transports::grpc
