#include "transports/http/delegation_guard.h"

namespace verbatim::api {
namespace {

void AddRoles(authz::Grant& g, const std::vector<std::string>& role_ids, const std::vector<authz::RoleDef>& roles,
              std::string_view note = {}) {
  for (const auto& id : role_ids)
    for (const auto& r : roles)
      if (r.id == id) g.AddRole(r, note);
}

}  // namespace

authz::Grant ClientGrant(const store::OAuthClient& after, const store::OAuthClient* before,
                         const std::vector<authz::RoleDef>& roles) {
  authz::Grant g;
  g.target = "client '" + after.name + "'";
  AddRoles(g, after.role_ids, roles);
  g.AddScopes(after.allowed_scopes);
  if (before) {
    AddRoles(g, before->role_ids, roles, "(held now)");
    g.AddScopes(before->allowed_scopes);
  }
  return g;
}

authz::Grant UserGrant(const store::User& after, const store::User* before, const std::vector<authz::RoleDef>& roles) {
  authz::Grant g;
  g.target = "user '" + after.username + "'";
  AddRoles(g, after.role_ids, roles);
  if (before) AddRoles(g, before->role_ids, roles, "(held now)");
  return g;
}

authz::Grant RoleGrant(const std::string& name, const std::vector<std::string>& permissions,
                       const std::vector<std::string>* current) {
  authz::Grant g;
  g.target = "role '" + name + "'";
  g.AddRole({"", name, "", permissions, false});
  if (current) g.AddRole({"", name, "", *current, false}, "(granted now)");
  return g;
}

authz::Grant IntegrationGrant(const std::string& name, const std::vector<std::string>& role_ids,
                              const std::vector<authz::RoleDef>& roles) {
  authz::Grant g;
  g.target = "integration '" + name + "'";
  AddRoles(g, role_ids, roles);
  const std::vector<std::string> scopes = {"media:ingest"};
  g.AddScopes(scopes);
  return g;
}

std::optional<HttpResponse> DenyBeyondCeiling(App& app, RequestContext& ctx, const authz::Grant& grant) {
  authz::Grantor grantor{*ctx.principal, ctx.token.scopes};
  authz::CeilingCheck check = authz::CheckCeiling(grantor, grant);
  if (check.within()) return std::nullopt;
  auto catalog = app.directory().Roles();
  authz::DenyBeyondCeiling(*ctx.decision, grantor, grant, check, *catalog);
  return app.Deny(ctx);
}

HttpResponse FailWrite(App& app, RequestContext& ctx, const Status& s) {
  if (s.code() == "admin.last" && ctx.decision) {
    ctx.decision->fix = {
        "First make another client a full administrator: role System Administrator and every scope in "
        "allowedScopes (POST /api/v2/oauth/clients, or PATCH an existing one); then retry. `verbatim init --force` "
        "creates one offline if none is left."};
  }
  return app.Fail(ctx, s);
}

}  // namespace verbatim::api
