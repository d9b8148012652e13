#include "transports/grpc/call.h"

#include "core/ids.h"
#include "core/log.h"
#include "transports/grpc/status_details.h"

namespace verbatim::transports::grpc {

std::string PeerAddress(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.rfind(scheme, 0) != 0) continue;
    std::string_view rest = peer.substr(scheme.size());
    if (!rest.empty() && rest.front() == '[') {
      size_t close = rest.find(']');
      return std::string(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    }
    if (rest.rfind("%5B", 0) == 0) {  // percent-encoded brackets
      size_t close = rest.find("%5D");
      return std::string(rest.substr(3, close == std::string_view::npos ? std::string_view::npos : close - 3));
    }
    return std::string(rest.substr(0, rest.rfind(':')));
  }
  return std::string(peer.substr(0, 64));  // unix sockets and the like: kept as given
}

Call::Call(Deps& deps, ::grpc::ServerContext* ctx, std::string_view rpc)
    : deps_(deps), ctx_(ctx), rpc_(rpc), context_id_(NewContextId()), remote_ip_(PeerAddress(ctx->peer())) {
  ctx_->AddInitialMetadata("x-context-id", context_id_);
}

Call::~Call() {
  if (decided_ && !audit_done_) RecordAudit(http_status_);
}

service::CallRecord Call::Record() const {
  return {context_id_, "grpc", "POST", rpc_, remote_ip_, conversation_id_};
}

void Call::RecordAudit(int http_status) {
  audit_done_ = true;
  auto e = service::AuditEventOf(Record(), auth_.principal, auth_.token, &auth_.decision, http_status,
                                 deps_.core.clock.Now());
  service::RecordAuditEvent(deps_.core.audit, std::move(e), auth_.principal, &auth_.decision, remote_ip_);
}

store::AuditEvent Call::SuccessEvent(const authz::Decision& d) {
  audit_done_ = true;  // the use case commits it with its change
  return service::AuditEventOf(Record(), auth_.principal, auth_.token, &d, 200, deps_.core.clock.Now());
}

bool Call::Authorize(std::string action, std::string resource) {
  // Fail closed: a call the audit log could not record is refused before
  // anything is done (docs/decisions.md "Audit fails closed").
  if (!deps_.core.audit.available()) {
    status_ = AuditUnavailableStatus(deps_.core.audit.health(), {context_id_, deps_.issuer});
    Log(LogLevel::kInfo, "grpc call refused: audit unavailable", {{"contextId", context_id_}, {"rpc", rpc_}});
    return false;
  }
  std::string authorization;
  const auto& md = ctx_->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) authorization.assign(it->second.data(), it->second.size());
  const bool token_only = action.empty();
  auth_ = deps_.core.authorizer.Authorize({authorization, remote_ip_},
                                          {std::move(action), std::move(resource), token_only, rpc_});
  decided_ = true;
  if (auth_.allowed()) return true;
  http_status_ = auth_.decision.status;
  status_ = DenialStatus(auth_.decision, {context_id_, deps_.issuer, auth_.retry_after});
  return false;
}

bool Call::AlsoRequire(std::string action, std::string resource) {
  auth_.decision = deps_.core.authorizer.Decide(auth_.token, std::move(action), std::move(resource));
  if (auth_.allowed()) return true;
  http_status_ = auth_.decision.status;
  status_ = DenialStatus(auth_.decision, {context_id_, deps_.issuer, auth_.retry_after});
  return false;
}

bool Call::AuthorizeConversation(std::string_view action, const std::string& id) {
  // Denials are found by conversation in the audit log too.
  if (IsUuid(id)) conversation_id_ = id;
  if (!Authorize(std::string(action), "conversation/" + id.substr(0, 64))) return false;
  if (auto bad = service::RequireUuid(id, "conversation")) {
    status_ = Refuse(*bad);
    return false;
  }
  return true;
}

::grpc::Status Call::Refuse(const service::Refusal& r) {
  // A use case that refused committed nothing, its success event included:
  // the destructor records this refusal instead.
  audit_done_ = false;
  DetailsContext c{context_id_, deps_.issuer, auth_.retry_after};
  switch (r.kind) {
    case service::Refusal::Kind::kDenied:
      http_status_ = auth_.decision.status;
      return DenialStatus(auth_.decision, c);
    case service::Refusal::Kind::kInvalid:
      http_status_ = 400;
      return InvalidStatus(r, c);
    case service::Refusal::Kind::kFailed:
      break;
  }
  if (r.status.kind() == Status::Kind::kInternal)
    Log(LogLevel::kError, "internal error", {{"contextId", context_id_}, {"rpc", rpc_}, {"error", r.status.message()}});
  http_status_ = service::HttpStatusOf(r.status);
  return FailureStatus(r.status, c);
}

::grpc::Status Call::Ok() {
  http_status_ = 200;
  return ::grpc::Status::OK;
}

}  // namespace verbatim::transports::grpc
