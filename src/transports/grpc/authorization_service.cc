// verbatim.v1.Authorization: the simulator and tokens/me over gRPC (docs/api.md §6).
#include "authz/permission.h"
#include "core/ids.h"
#include "service/console_client.h"
#include "service/insight.h"
#include "transports/grpc/services.h"
#include "transports/grpc/status_details.h"

namespace verbatim::transports::grpc {
namespace {

constexpr char kRpcPrefix[] = "/verbatim.v1.Authorization/";

std::vector<std::string> Strings(const json::value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& s : v.as_array())
    if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

}  // namespace

::grpc::Status AuthorizationService::Check(::grpc::ServerContext* c, const v1::CheckRequest* q, v1::CheckResponse* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "Check");
  if (!call.Authorize("", "authorization/check")) return call.status();
  const bool principal = !q->client_id().empty() || !q->user_id().empty();
  if (!q->token().empty() && principal)
    return call.Refuse(service::Refusal::Invalid("Give either 'token' or 'client_id'/'user_id', not both.", "client_id"));
  const std::string& perm = q->action();
  if (!authz::IsValidPermission(perm) || perm.find('*') != std::string::npos)
    return call.Refuse(service::Refusal::Invalid(
        "Field 'action' must be a concrete permission such as recording:recording:start.", "action"));
  // Checking anything but the caller's own token needs the admin simulator permission.
  std::string_view own;
  const auto& md = c->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) own = std::string_view(it->second.data(), it->second.size());
  const bool own_token = !principal &&
                         (q->token().empty() || (own.size() > 7 && own.substr(own.find(' ') + 1) == q->token()));
  if (!own_token && !call.AlsoRequire("authorization:decision:simulate", "authorization/check")) return call.status();

  auto& core = call.core();
  authz::Request req;
  if (principal) {
    // As REST's {"principal": "<client id>"} or {"userId", "clientId"?}.
    std::string client_id = q->client_id();
    std::string user_id;
    if (!q->user_id().empty()) {
      auto user = core.directory.FindUser(q->user_id());
      if (!user) return call.Refuse(service::Refusal::Invalid("No user '" + q->user_id().substr(0, 64) + "'.", "user_id"));
      user_id = user->id;
      if (client_id.empty()) client_id = service::kConsoleClientId;
    }
    auto client = core.directory.FindClient(client_id);
    if (!client)
      return call.Refuse(service::Refusal::Invalid("No client '" + client_id.substr(0, 64) + "'.", "client_id"));
    std::optional<std::vector<std::string>> scopes;
    if (q->scopes_size()) scopes.emplace(q->scopes().begin(), q->scopes().end());
    req = core.authorizer.MakeRequest(service::SimulatedToken(*client, user_id, scopes, core.clock.Now()), perm,
                                      q->resource());
  } else {
    authz::TokenCheck check = q->token().empty() ? call.token() : core.tokens.CheckToken(q->token());
    req = core.authorizer.MakeRequest(check, perm, q->resource());
  }
  auto catalog = core.directory.Roles();
  req.role_catalog = *catalog;
  authz::Decision d = authz::Evaluate(req);
  const std::string& res = q->resource();
  if (d.allowed && res.rfind("conversation/", 0) == 0 && IsUuid(res.substr(13)))
    service::SimulateResource(core.store, d, res.substr(13));
  if (!d.allowed) core.authorizer.AnnotateHistory(d, req.principal, req.token);  // docs/changes.md

  r->set_decision(d.allowed ? "allow" : "deny");
  r->set_http_status(d.allowed ? 200 : d.status);
  r->set_code(d.code);
  r->set_message(d.allowed ? "The request would be allowed." : d.message);
  // The same explanation a refused call carries in its details.
  *r->mutable_explanation() = ExplanationOf(d, call.context_id());
  return call.Ok();
}

::grpc::Status AuthorizationService::TokensMe(::grpc::ServerContext* c, const v1::TokensMeRequest*,
                                              v1::TokensMeResponse* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "TokensMe");
  if (!call.Authorize("", "tokens/me")) return call.status();
  const json::object doc = service::TokenSummaryJson(call.principal(), call.token(), call.core().clock.Now());
  const auto& p = call.principal();
  r->mutable_principal()->set_type(p.type);
  r->mutable_principal()->set_id(p.id);
  r->mutable_principal()->set_name(p.name);
  r->set_client_id(call.token().client_id);
  for (const auto& s : call.token().scopes) r->add_scopes(s);
  for (const auto& role : p.roles) r->add_roles(role.name);
  auto strings = [&](const char* key) { return doc.contains(key) ? Strings(doc.at(key)) : std::vector<std::string>{}; };
  for (const auto& s : strings("effectivePermissions")) r->add_effective_permissions(s);
  for (const auto& s : strings("grantedByRolesButNotByScopes")) r->add_granted_by_roles_but_not_by_scopes(s);
  for (const auto& s : strings("unlockedByScopesButNotByRoles")) r->add_unlocked_by_scopes_but_not_by_roles(s);
  r->set_jti(call.token().jti);
  r->set_issued_at(FormatRfc3339(call.token().issued_at));
  r->set_expires_at(FormatRfc3339(call.token().expires_at));
  r->set_json(json::serialize(doc));
  return call.Ok();
}

}  // namespace verbatim::transports::grpc
