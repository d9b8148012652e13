#include "service/audit_event.h"

#include "core/json.h"
#include "service/client_address.h"

namespace verbatim::service {

std::string AuditExplanation(const authz::Decision& d, int status, std::string_view transport) {
  json::object expl;
  if (d.allowed) {
    expl["decision"] = "allow";
    expl["action"] = d.action;
    expl["resource"] = d.resource;
    if (d.principal) expl["principal"] = json::object{{"type", d.principal->type}, {"id", d.principal->id}, {"name", d.principal->name}};
    const auto& scope = d.layer(authz::Layer::kScope).granted_by;
    const auto& role = d.layer(authz::Layer::kPermission).granted_by;
    if (!scope.empty() || !role.empty()) expl["grantedBy"] = json::object{{"scope", scope}, {"role", role}};
  } else {
    expl = authz::ExplanationJson(d);
    expl["message"] = d.message;
  }
  expl["status"] = status;
  if (transport != "http") expl["transport"] = transport;
  return ToValidUtf8(json::serialize(expl));  // ids in paths may be any bytes
}

store::Actor ActorOf(const authz::Principal& p) {
  return {p.type, p.id, p.name, p.via_client_id.empty() ? p.id : p.via_client_id};
}

store::ChangeAuthor AuthorOf(const authz::Principal& p, std::string_view context_id, TimePoint at) {
  return {ActorOf(p), std::string(context_id), at};
}

store::AuditEvent AuditEventOf(const CallRecord& call, const std::optional<authz::Principal>& principal,
                               const authz::TokenCheck& token, const authz::Decision* decision, int status,
                               TimePoint at, std::string explanation_json) {
  store::AuditEvent e;
  e.context_id = std::string(call.context_id);
  e.at = at;
  if (principal) {
    e.actor = ActorOf(*principal);
  } else if (!token.client_id.empty()) {
    e.actor = {"client", token.client_id, "", token.client_id};
  }
  e.method = TruncateForAudit(call.method, 32);  // any token is a method
  e.path = TruncateForAudit(call.path, kAuditPathMaxBytes);
  e.conversation_id = std::string(call.conversation_id);
  e.status = status;
  e.client_address = std::string(call.remote_ip);
  if (decision) {
    const auto& d = *decision;
    e.action = d.action;
    e.resource = d.resource;
    e.decision = d.allowed ? "allow" : "deny";
    e.code = d.code;
    if (const authz::LayerResult* failed = authz::FirstFailure(d)) e.layer = authz::ToString(failed->layer);
    e.explanation_json =
        explanation_json.empty() ? AuditExplanation(d, status, call.transport) : std::move(explanation_json);
  }
  return e;
}

void RecordAuditEvent(AuditLog& log, store::AuditEvent e, const std::optional<authz::Principal>& principal,
                      const authz::Decision* decision, std::string_view remote_ip) {
  // Nobody proved an identity: no token, a bad one, or refused before checking.
  const bool unauthenticated = e.decision == "deny" && !principal &&
                               (!decision || decision->layer(authz::Layer::kToken).outcome == authz::Outcome::kFail);
  if (unauthenticated) {
    log.RecordUnauthenticated(std::move(e), AddressKey(remote_ip));
  } else {
    log.Record(std::move(e));
  }
}

}  // namespace verbatim::service
