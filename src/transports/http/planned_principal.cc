#include "transports/http/planned_principal.h"

#include <algorithm>

#include "transports/http/views.h"
#include "authz/access_summary.h"
#include "authz/permission.h"
#include "service/console_client.h"

namespace verbatim::api {
namespace {

constexpr const char* kPlannedName = "planned client";

std::optional<std::string> ExistingClientId(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (!v.is_object()) return std::nullopt;
  for (const char* key : {"clientId", "id"}) {
    auto id = GetString(v.as_object(), key);
    if (id.ok() && *id) return **id;
  }
  return std::nullopt;
}

std::string KnownScopesText() {
  std::string known;
  for (const auto& k : authz::AllScopes()) known += (known.empty() ? "" : ", ") + k.name;
  return known;
}

}  // namespace

bool IsUserPrincipal(const json::value& principal) {
  return principal.is_object() && principal.as_object().contains("userId") && !IsPlannedPrincipal(principal);
}

std::optional<SimulatedPrincipal> ResolveUser(App& app, RequestContext& ctx, const json::object& o, HttpResponse& out) {
  for (const auto& kv : o)
    if (kv.key() != "userId" && kv.key() != "clientId") {
      out = app.BadRequest(ctx, "A user principal has: userId, and the clientId the user signs in through.",
                           "principal");
      return std::nullopt;
    }
  auto uid = GetString(o, "userId");
  auto cid = GetString(o, "clientId");
  if (!uid.ok() || !*uid || !cid.ok()) {
    out = app.BadRequest(ctx, "Field 'principal.userId' must be a user id (and 'principal.clientId' a client id).",
                         "principal.userId");
    return std::nullopt;
  }
  auto user = app.directory().FindUser(**uid);
  if (!user) {
    out = app.BadRequest(ctx, "No user '" + (**uid).substr(0, 64) + "'.", "principal.userId");
    return std::nullopt;
  }
  const std::string client_id = *cid ? **cid : std::string(service::kConsoleClientId);
  auto client = app.directory().FindClient(client_id);
  if (!client) {
    out = app.BadRequest(ctx, "No client '" + client_id.substr(0, 64) + "'.", "principal.clientId");
    return std::nullopt;
  }
  SimulatedPrincipal sp;
  sp.principal = app.directory().PrincipalOf(*user, *client);
  sp.client_id = client->id;
  sp.user_id = user->id;
  sp.token_validity_seconds = client->access_token_validity_seconds;
  return sp;
}

bool IsPlannedPrincipal(const json::value& principal) {
  if (!principal.is_object()) return false;
  const auto& o = principal.as_object();
  return o.contains("scopes") || o.contains("roles") || o.contains("name");
}

std::optional<SimulatedPrincipal> ResolvePrincipal(App& app, RequestContext& ctx, const json::value& principal,
                                                   HttpResponse& out) {
  SimulatedPrincipal sp;
  if (IsUserPrincipal(principal)) return ResolveUser(app, ctx, principal.as_object(), out);
  if (principal.is_object()) {
    for (const auto& kv : principal.as_object()) {
      std::string_view k(kv.key().data(), kv.key().size());
      if (k != "clientId" && k != "id" && k != "name" && k != "scopes" && k != "roles") {
        out = app.BadRequest(ctx,
                             "Unknown field 'principal." + std::string(k.substr(0, 64)) +
                                 "'. A principal has: clientId, or a planned client's name, scopes, roles.",
                             "principal");
        return std::nullopt;
      }
    }
  }
  std::optional<store::OAuthClient> client;
  if (auto id = ExistingClientId(principal)) {
    client = app.directory().FindClient(*id);
    if (!client) {
      out = app.BadRequest(ctx, "No client '" + id->substr(0, 64) + "'.", "principal");
      return std::nullopt;
    }
    sp.principal = app.directory().PrincipalOf(*client);
    sp.client_id = client->id;
    sp.token_validity_seconds = client->access_token_validity_seconds;
  } else if (!IsPlannedPrincipal(principal)) {
    out = app.BadRequest(ctx,
                         "Field 'principal' must be a client id, {\"clientId\": \"…\"}, or a planned client "
                         "{\"name\", \"scopes\", \"roles\"}.",
                         "principal");
    return std::nullopt;
  }
  if (!IsPlannedPrincipal(principal)) return sp;

  // A planned client: what the request says replaces what is stored.
  const auto& o = principal.as_object();
  sp.planned = true;
  sp.principal.type = "client";
  sp.principal.id = sp.client_id;
  auto name = GetString(o, "name");
  if (!name.ok() || (*name && ((*name)->empty() || (*name)->size() > 128))) {
    out = app.BadRequest(ctx, "Field 'principal.name' must be a string of 1 to 128 characters.", "principal.name");
    return std::nullopt;
  }
  if (*name) sp.principal.name = **name;
  else if (!client) sp.principal.name = kPlannedName;

  auto scopes = GetStringArray(o, "scopes");
  if (!scopes.ok()) {
    out = app.BadRequest(ctx, scopes.status().message(), "principal.scopes");
    return std::nullopt;
  }
  if (*scopes) {
    std::vector<std::string> unique;
    for (const auto& s : **scopes) {
      if (!authz::FindScope(s)) {
        out = app.BadRequest(ctx, "Scope '" + s.substr(0, 64) + "' does not exist. Known scopes: " + KnownScopesText() + ".",
                             "principal.scopes");
        return std::nullopt;
      }
      if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
    }
    sp.principal.allowed_scopes = std::move(unique);
  } else if (!client) {
    sp.principal.allowed_scopes.clear();
  }

  auto roles = GetStringArray(o, "roles");
  if (!roles.ok()) {
    out = app.BadRequest(ctx, roles.status().message(), "principal.roles");
    return std::nullopt;
  }
  if (*roles) {
    sp.principal.roles.clear();
    for (const auto& r : **roles) {
      auto role = app.directory().ResolveRoleRef(r);
      if (!role) {
        out = app.BadRequest(ctx,
                             "Role '" + r.substr(0, 128) +
                                 "' does not exist (roles are given by id or name; GET /api/v2/authorization/roles "
                                 "lists them).",
                             "principal.roles");
        return std::nullopt;
      }
      bool dup = std::any_of(sp.principal.roles.begin(), sp.principal.roles.end(),
                             [&](const authz::RoleDef& d) { return d.id == role->id; });
      if (!dup) sp.principal.roles.push_back(std::move(*role));
    }
  } else if (!client) {
    sp.principal.roles.clear();
  }
  return sp;
}

namespace {

json::object EffectiveAccessJson(const SimulatedPrincipal& sp, const std::vector<std::string>& token_scopes,
                                 const std::vector<authz::RoleDef>& catalog) {
  const auto& p = sp.principal;
  json::object o;
  json::object who;
  who["type"] = p.type;
  const std::string& id = sp.user_id.empty() ? sp.client_id : sp.user_id;
  who["id"] = id.empty() ? json::value(nullptr) : json::value(id);
  who["name"] = p.name;
  who["planned"] = sp.planned;
  o["principal"] = std::move(who);
  o["allowedScopes"] = ToJsonArray(p.allowed_scopes);
  o["scopes"] = ToJsonArray(token_scopes);
  std::vector<std::string> role_ids;
  for (const auto& r : p.roles) role_ids.push_back(r.id);
  o["roles"] = RoleRefsJson(role_ids, catalog);
  o["effectivePermissions"] = ToJsonArray(authz::EffectivePermissions(p.roles, token_scopes));

  json::array role_only, scope_only;
  for (const auto& k : authz::KnownPermissions()) {
    bool by_scope = std::any_of(token_scopes.begin(), token_scopes.end(),
                                [&](const std::string& s) { return authz::ScopeUnlocks(s, k.permission); });
    bool by_role = std::any_of(p.roles.begin(), p.roles.end(), [&](const authz::RoleDef& r) {
      return std::any_of(r.permissions.begin(), r.permissions.end(),
                         [&](const std::string& g) { return authz::Covers(g, k.permission); });
    });
    if (by_role && !by_scope) role_only.emplace_back(k.permission);
    if (by_scope && !by_role) scope_only.emplace_back(k.permission);
  }
  o["grantedByRolesButNotByScopes"] = std::move(role_only);
  o["unlockedByScopesButNotByRoles"] = std::move(scope_only);

  json::array uses, unusable;
  for (const auto& u : authz::ScopeUses(p.roles, token_scopes, catalog, p.name)) {
    json::object uo;
    uo["scope"] = u.scope;
    uo["unlocks"] = ToJsonArray(u.unlocks);
    uo["usable"] = ToJsonArray(u.usable);
    uo["fix"] = u.fix.empty() ? json::value(nullptr) : json::value(u.fix);
    if (u.usable.empty()) unusable.emplace_back(u.scope);
    uses.emplace_back(std::move(uo));
  }
  o["scopeUse"] = std::move(uses);
  o["unusableScopes"] = std::move(unusable);
  return o;
}

HttpResponse EffectiveAccess(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "authorization/effective-access")) return app.Deny(ctx);
  HttpResponse out;
  auto body = app.JsonBody(ctx, out);
  if (!body) return out;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "principal" && k != "scopes")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) + "'. Fields: principal, scopes.", k);
  }
  auto it = body->find("principal");
  if (it == body->end())
    return app.BadRequest(ctx, "Field 'principal' is required: a client id or a planned client {name, scopes, roles}.",
                          "principal");
  auto scopes = GetStringArray(*body, "scopes");
  if (!scopes.ok()) return app.BadRequest(ctx, scopes.status().message(), "scopes");
  if (*scopes)
    for (const auto& s : **scopes)
      if (!authz::FindScope(s))
        return app.BadRequest(ctx, "Scope '" + s.substr(0, 64) + "' does not exist. Known scopes: " + KnownScopesText() + ".",
                              "scopes");
  auto sp = ResolvePrincipal(app, ctx, it->value(), out);
  if (!sp) return out;
  authz::ResourceFound(*ctx.decision);
  auto catalog = app.directory().Roles();
  return JsonResponse(200, EffectiveAccessJson(*sp, *scopes ? **scopes : sp->principal.allowed_scopes, *catalog));
}

}  // namespace

void RegisterEffectiveAccessRoute(App& app, Router& r) {
  r.Add({"POST", "/api/v2/authorization/effective-access", Access::kPermission, "authorization:decision:simulate",
         [&app](RequestContext& c) { return EffectiveAccess(app, c); }});
}

}  // namespace verbatim::api
