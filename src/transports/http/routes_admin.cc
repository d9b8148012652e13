// Administration API (docs/api.md §8): OAuth clients, roles, organization settings,
// signing-key rotation. Needs scope `admin` and the matching permission, and
// every write that hands out authority stays within the caller's own
// (transports/http/delegation_guard.h).
#include <algorithm>

#include "transports/http/admin_common.h"
#include "transports/http/app.h"
#include "transports/http/delegation_guard.h"
#include "transports/http/views.h"
#include "authz/permission.h"
#include "authz/role_names.h"
#include "core/ids.h"
#include "oauth/client_secret.h"
#include "oauth/pkce.h"

namespace verbatim::api {
namespace {

constexpr int kMinValidity = 60;
constexpr int kMaxValidity = 86400;

// Applies client fields from `body` onto `c`. Returns an error message naming the field.
// What clients and roles share: no unknown fields, `name` (1 to 128
// characters, required on create) and `description` (cut at 1024). Returns
// (message, field) on the first problem.
std::optional<std::pair<std::string, std::string>> ApplyNamedFields(const json::object& body,
                                                                    std::initializer_list<std::string_view> known,
                                                                    bool creating, std::string& name,
                                                                    std::string& description) {
  if (auto unknown = UnknownField(body, known))
    return std::make_pair("Unknown field '" + unknown->substr(0, 64) + "'. Known fields: " + JoinList(known) + ".",
                          *unknown);
  auto new_name = GetString(body, "name");
  if (!new_name.ok()) return std::make_pair(new_name.status().message(), std::string("name"));
  if (*new_name) {
    if ((*new_name)->empty() || (*new_name)->size() > 128)
      return std::make_pair(std::string("Field 'name' must be 1 to 128 characters."), std::string("name"));
    name = **new_name;
  } else if (creating) {
    return std::make_pair(std::string("Field 'name' is required."), std::string("name"));
  }
  auto desc = GetString(body, "description");
  if (!desc.ok()) return std::make_pair(desc.status().message(), std::string("description"));
  if (*desc) description = (*desc)->substr(0, 1024);
  return std::nullopt;
}

constexpr size_t kMaxRedirectUris = 16;

// `clientType`: chosen at creation, then fixed (a public client has no secret
// to start from, and a confidential one's secret would silently stop counting).
std::optional<std::pair<std::string, std::string>> ApplyClientType(const json::object& body, store::OAuthClient& c,
                                                                   bool creating) {
  auto type = GetString(body, "clientType");
  if (!type.ok()) return std::make_pair(type.status().message(), std::string("clientType"));
  if (!*type) return std::nullopt;
  if (**type != "confidential" && **type != "public")
    return std::make_pair(std::string("Field 'clientType' must be 'confidential' or 'public'."),
                          std::string("clientType"));
  if (!creating && **type != c.client_type)
    return std::make_pair("Field 'clientType' cannot change (this client is " + c.client_type +
                              "); create a new client instead.",
                          std::string("clientType"));
  c.client_type = **type;
  return std::nullopt;
}

// The combinations the token endpoint can serve (docs/users.md "Clients that sign people in").
std::optional<std::pair<std::string, std::string>> GrantTypesProblem(const store::OAuthClient& c) {
  auto has = [&c](std::string_view g) {
    return std::find(c.allowed_grant_types.begin(), c.allowed_grant_types.end(), g) != c.allowed_grant_types.end();
  };
  if (c.client_type == "public" && has("client_credentials"))
    return std::make_pair(std::string("A public client has no secret, so it cannot use client_credentials."),
                          std::string("allowedGrantTypes"));
  if (has("refresh_token") && !has("authorization_code"))
    return std::make_pair(std::string("Grant type 'refresh_token' needs 'authorization_code' (refresh tokens are "
                                      "issued only to people who signed in)."),
                          std::string("allowedGrantTypes"));
  if (has("authorization_code") && c.redirect_uris.empty())
    return std::make_pair(std::string("Grant type 'authorization_code' needs at least one redirect URI in "
                                      "'redirectUris'."),
                          std::string("redirectUris"));
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> ApplyClientFields(App& app, const json::object& body,
                                                                     store::OAuthClient& c, bool creating) {
  static const std::initializer_list<std::string_view> kFields = {
      "name",  "description",  "allowedScopes", "allowedGrantTypes", "roles", "accessTokenValiditySeconds",
      "enabled", "redirectUris", "clientType"};
  if (auto problem = ApplyNamedFields(body, kFields, creating, c.name, c.description)) return problem;

  auto scopes = GetStringArray(body, "allowedScopes");
  if (!scopes.ok()) return std::make_pair(scopes.status().message(), std::string("allowedScopes"));
  if (*scopes) {
    std::vector<std::string> out;
    for (const auto& s : **scopes) {
      if (!authz::FindScope(s)) {
        std::string known;
        for (const auto& k : authz::AllScopes()) known += (known.empty() ? "" : ", ") + k.name;
        return std::make_pair("Scope '" + s.substr(0, 64) + "' does not exist. Known scopes: " + known + ".",
                              std::string("allowedScopes"));
      }
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    c.allowed_scopes = std::move(out);
  }
  if (auto problem = ApplyClientType(body, c, creating)) return problem;
  auto grants = GetStringArray(body, "allowedGrantTypes");
  if (!grants.ok()) return std::make_pair(grants.status().message(), std::string("allowedGrantTypes"));
  if (*grants) {
    std::vector<std::string> out;
    for (const auto& g : **grants) {
      if (g != "client_credentials" && g != "authorization_code" && g != "refresh_token")
        return std::make_pair("Grant type '" + g.substr(0, 64) +
                                  "' is not supported; supported: client_credentials, authorization_code, refresh_token.",
                              std::string("allowedGrantTypes"));
      if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    }
    c.allowed_grant_types = std::move(out);
  } else if (creating) {
    c.allowed_grant_types = c.client_type == "public"
                                ? std::vector<std::string>{"authorization_code", "refresh_token"}
                                : std::vector<std::string>{"client_credentials"};
  }
  auto redirects = GetStringArray(body, "redirectUris");
  if (!redirects.ok()) return std::make_pair(redirects.status().message(), std::string("redirectUris"));
  if (*redirects) {
    if ((*redirects)->size() > kMaxRedirectUris)
      return std::make_pair("At most " + std::to_string(kMaxRedirectUris) + " redirect URIs.",
                            std::string("redirectUris"));
    std::vector<std::string> out;
    for (const auto& u : **redirects) {
      if (auto problem = oauth::RedirectUriProblem(u))
        return std::make_pair("Redirect URI '" + u.substr(0, 128) + "': " + *problem, std::string("redirectUris"));
      if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
    }
    c.redirect_uris = std::move(out);
  }
  if (auto problem = ApplyRoleRefs(app, body, c.role_ids)) return problem;
  auto validity = GetInt(body, "accessTokenValiditySeconds");
  if (!validity.ok()) return std::make_pair(validity.status().message(), std::string("accessTokenValiditySeconds"));
  if (*validity) {
    if (**validity < kMinValidity || **validity > kMaxValidity)
      return std::make_pair("Field 'accessTokenValiditySeconds' must be between " + std::to_string(kMinValidity) +
                                " and " + std::to_string(kMaxValidity) + ".",
                            std::string("accessTokenValiditySeconds"));
    c.access_token_validity_seconds = static_cast<int>(**validity);
  }
  auto enabled = GetBool(body, "enabled");
  if (!enabled.ok()) return std::make_pair(enabled.status().message(), std::string("enabled"));
  if (*enabled) c.enabled = **enabled;
  return GrantTypesProblem(c);
}

HttpResponse ClientResponse(App& app, int status, const store::OAuthClient& c, const std::string* secret = nullptr) {
  json::object o = ClientJson(c, *app.directory().Roles());
  if (secret) o["clientSecret"] = *secret;
  return JsonResponse(status, o);
}

std::optional<store::OAuthClient> ClientFromPath(App& app, RequestContext& ctx, HttpResponse& out) {
  return FromPath(app, ctx, "clientId", "client", out, [&app](const std::string& id) { return app.directory().FindClient(id); });
}

void RegisterClientRoutes(App& app, Router& r) {
  r.Add({"POST", "/api/v2/oauth/clients", Access::kPermission, "oauth:client:add", [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "clients")) return app.Deny(ctx);
           HttpResponse err;
           auto body = app.JsonBody(ctx, err);
           if (!body) return err;
           store::OAuthClient c;
           if (auto problem = ApplyClientFields(app, *body, c, true))
             return app.BadRequest(ctx, problem->first, problem->second);
           if (auto denied = DenyBeyondCeiling(app, ctx, ClientGrant(c, nullptr, *app.directory().Roles())))
             return *denied;
           c.id = NewUuid();
           // A public client holds no secret: nothing to show, nothing to hash.
           const std::string secret = c.client_type == "public" ? std::string() : oauth::NewClientSecret();
           if (!secret.empty()) c.secret_hash = oauth::HashClientSecret(secret);
           c.created_at = c.updated_at = app.clock().Now();
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status s = app.directory().CreateClient(c, &by); !s.ok()) return app.Fail(ctx, s);
           HttpResponse res = ClientResponse(app, 201, c, secret.empty() ? nullptr : &secret);
           res.set(http::field::location, "/api/v2/oauth/clients/" + c.id);
           return res;
         }});
  r.Add({"GET", "/api/v2/oauth/clients", Access::kPermission, "oauth:client:view", [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "clients")) return app.Deny(ctx);
           json::array entities;
           auto roles = app.directory().Roles();
           for (const auto& c : app.directory().Clients()) entities.emplace_back(ClientJson(c, *roles));
           json::object o;
           o["total"] = entities.size();
           o["entities"] = std::move(entities);
           return JsonResponse(200, o);
         }});
  r.Add({"GET", "/api/v2/oauth/clients/{clientId}", Access::kPermission, "oauth:client:view",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto c = ClientFromPath(app, ctx, out);
           return c ? ClientResponse(app, 200, *c) : out;
         }});
  r.Add({"PATCH", "/api/v2/oauth/clients/{clientId}", Access::kPermission, "oauth:client:edit",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto c = ClientFromPath(app, ctx, out);
           if (!c) return out;
           auto body = app.JsonBody(ctx, out);
           if (!body) return out;
           store::OAuthClient after = *c;
           if (auto problem = ApplyClientFields(app, *body, after, false))
             return app.BadRequest(ctx, problem->first, problem->second);
           if (auto denied = DenyBeyondCeiling(app, ctx, ClientGrant(after, &*c, *app.directory().Roles())))
             return *denied;
           after.updated_at = app.clock().Now();
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           auto stored = app.directory().UpdateClient(std::move(after), &by);
           if (!stored.ok()) return FailWrite(app, ctx, stored.status());
           return ClientResponse(app, 200, *stored);
         }});
  r.Add({"DELETE", "/api/v2/oauth/clients/{clientId}", Access::kPermission, "oauth:client:delete",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto c = ClientFromPath(app, ctx, out);
           if (!c) return out;
           if (auto denied = DenyBeyondCeiling(app, ctx, ClientGrant(*c, nullptr, *app.directory().Roles())))
             return *denied;
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status s = app.directory().DeleteClient(c->id, &by); !s.ok()) return FailWrite(app, ctx, s);
           return EmptyResponse(204);
         }});
  r.Add({"POST", "/api/v2/oauth/clients/{clientId}/secret", Access::kPermission, "oauth:client:edit",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto c = ClientFromPath(app, ctx, out);
           if (!c) return out;
           if (c->client_type == "public")
             return app.BadRequest(ctx, "Client '" + c->name + "' is public: it has no secret to rotate.", "clientId");
           // The new secret is shown to the caller: it may act as this client from now on.
           if (auto denied = DenyBeyondCeiling(app, ctx, ClientGrant(*c, nullptr, *app.directory().Roles())))
             return *denied;
           const std::string secret = oauth::NewClientSecret();
           c->secret_hash = oauth::HashClientSecret(secret);
           c->updated_at = app.clock().Now();
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           auto stored = app.directory().UpdateClient(*c, &by);
           if (!stored.ok()) return FailWrite(app, ctx, stored.status());
           return ClientResponse(app, 200, *stored, &secret);
         }});
  auto role_assignment = [&app](bool assign) {
    return [&app, assign](RequestContext& ctx) {
      HttpResponse out;
      auto c = ClientFromPath(app, ctx, out);
      if (!c) return out;
      // {roleId} is an id, never a name (authz/role_names.h).
      if (auto bad = app.RequireUuid(ctx, ctx.Param("roleId"), "role")) return *bad;
      auto role = app.directory().FindRoleById(ctx.Param("roleId"));
      if (!role) return app.BadRequest(ctx, "No role has id '" + ctx.Param("roleId") + "'.", "roleId");
      store::OAuthClient after = *c;
      auto it = std::find(after.role_ids.begin(), after.role_ids.end(), role->id);
      if (assign && it == after.role_ids.end()) after.role_ids.push_back(role->id);
      if (!assign && it != after.role_ids.end()) after.role_ids.erase(it);
      if (auto denied = DenyBeyondCeiling(app, ctx, ClientGrant(after, &*c, *app.directory().Roles())))
        return *denied;
      after.updated_at = app.clock().Now();
      const store::ChangeAuthor by = app.AuthorOf(ctx);
      auto stored = app.directory().UpdateClient(std::move(after), &by);
      if (!stored.ok()) return FailWrite(app, ctx, stored.status());
      return ClientResponse(app, 200, *stored);
    };
  };
  r.Add({"PUT", "/api/v2/oauth/clients/{clientId}/roles/{roleId}", Access::kPermission, "oauth:client:edit",
         role_assignment(true)});
  r.Add({"DELETE", "/api/v2/oauth/clients/{clientId}/roles/{roleId}", Access::kPermission, "oauth:client:edit",
         role_assignment(false)});
  r.Add({"DELETE", "/api/v2/oauth/clients/{clientId}/tokens", Access::kPermission, "oauth:client:edit",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto c = ClientFromPath(app, ctx, out);
           if (!c) return out;
           if (auto denied = DenyBeyondCeiling(app, ctx, ClientGrant(*c, nullptr, *app.directory().Roles())))
             return *denied;
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           auto stored = app.directory().RevokeTokens(c->id, "an administrator revoked all its tokens", &by);
           if (!stored.ok()) return FailWrite(app, ctx, stored.status());
           return ClientResponse(app, 200, *stored);
         }});
  r.Add({"POST", "/api/v2/oauth/keys/rotate", Access::kPermission, "oauth:key:rotate", [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "keys")) return app.Deny(ctx);
           auto kid = app.tokens().RotateKey();
           if (!kid.ok()) return app.Fail(ctx, kid.status());
           json::object o;
           o["kid"] = *kid;
           o["jwks"] = app.tokens().Jwks();
           return JsonResponse(200, o);
         }});
}

// A name that could be read as an id, or as another role, is refused here;
// a custom role's name taken case-insensitively is the store's 409 role.name.taken.
std::optional<std::string> RoleNameRefusal(const std::string& name, const std::string& own_id,
                                           const std::vector<authz::RoleDef>& roles) {
  auto check = authz::CheckRoleName(name, own_id, roles);
  switch (check.problem) {
    case authz::RoleNameProblem::kNone:
    case authz::RoleNameProblem::kTaken: return std::nullopt;
    case authz::RoleNameProblem::kUuidShaped:
      return "Role name '" + name.substr(0, 128) +
             "' looks like a UUID; role ids are UUIDs, so a name may not look like one.";
    case authz::RoleNameProblem::kIsRoleId:
      return "Role name '" + name.substr(0, 128) + "' is the id of role '" + check.other->name + "'.";
    case authz::RoleNameProblem::kBuiltinName:
      return "Role name '" + name.substr(0, 128) + "' belongs to a built-in role.";
  }
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> ApplyRoleFields(App& app, const json::object& body,
                                                                   store::Role& r, bool creating) {
  static const std::initializer_list<std::string_view> kFields = {"name", "description", "permissions"};
  if (auto problem = ApplyNamedFields(body, kFields, creating, r.name, r.description)) return problem;
  if (body.contains("name"))
    if (auto refusal = RoleNameRefusal(r.name, r.id, *app.directory().Roles()))
      return std::make_pair(*refusal, std::string("name"));
  auto perms = GetStringArray(body, "permissions");
  if (!perms.ok()) return std::make_pair(perms.status().message(), std::string("permissions"));
  if (*perms) {
    for (const auto& p : **perms)
      if (!authz::IsValidPermission(p))
        return std::make_pair("Permission '" + p.substr(0, 128) +
                                  "' is not of the form domain:entity:action (lowercase, '*' allowed as a whole part).",
                              std::string("permissions"));
    r.permissions = **perms;
  } else if (creating) {
    return std::make_pair(std::string("Field 'permissions' is required."), std::string("permissions"));
  }
  return std::nullopt;
}

std::optional<authz::RoleDef> RoleFromPath(App& app, RequestContext& ctx, HttpResponse& out) {
  return FromPath(app, ctx, "roleId", "role", out,
                  [&app](const std::string& id) { return app.directory().FindRoleById(id); });
}

HttpResponse BuiltinIsReadOnly(RequestContext& ctx, const authz::RoleDef& role) {
  return ErrorResponse(403, "role.builtin",
                       "Role '" + role.name + "' is built in and read-only; create a custom role instead.",
                       ctx.context_id,
                       InputProblem("roleId", "a custom role",
                                    "POST /api/v2/authorization/roles with the permissions you need."));
}

void RegisterRoleRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/authorization/roles", Access::kPermission, "authorization:role:view",
         [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "roles")) return app.Deny(ctx);
           json::array entities;
           for (const auto& role : *app.directory().Roles()) entities.emplace_back(RoleJson(role));
           json::object o;
           o["total"] = entities.size();
           o["entities"] = std::move(entities);
           return JsonResponse(200, o);
         }});
  r.Add({"POST", "/api/v2/authorization/roles", Access::kPermission, "authorization:role:add",
         [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "roles")) return app.Deny(ctx);
           HttpResponse err;
           auto body = app.JsonBody(ctx, err);
           if (!body) return err;
           store::Role role;
           if (auto problem = ApplyRoleFields(app, *body, role, true))
             return app.BadRequest(ctx, problem->first, problem->second);
           if (auto denied = DenyBeyondCeiling(app, ctx, RoleGrant(role.name, role.permissions, nullptr)))
             return *denied;
           role.id = NewUuid();
           role.created_at = role.updated_at = app.clock().Now();
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status s = app.directory().CreateRole(role, &by); !s.ok()) return app.Fail(ctx, s);
           HttpResponse res = JsonResponse(201, RoleJson({role.id, role.name, role.description, role.permissions, false}));
           res.set(http::field::location, "/api/v2/authorization/roles/" + role.id);
           return res;
         }});
  r.Add({"GET", "/api/v2/authorization/roles/{roleId}", Access::kPermission, "authorization:role:view",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto role = RoleFromPath(app, ctx, out);
           return role ? JsonResponse(200, RoleJson(*role)) : out;
         }});
  r.Add({"PUT", "/api/v2/authorization/roles/{roleId}", Access::kPermission, "authorization:role:edit",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto role = RoleFromPath(app, ctx, out);
           if (!role) return out;
           if (role->builtin) return BuiltinIsReadOnly(ctx, *role);
           auto body = app.JsonBody(ctx, out);
           if (!body) return out;
           store::Role updated{role->id, role->name, role->description, role->permissions, {}, app.clock().Now()};
           if (auto problem = ApplyRoleFields(app, *body, updated, false))
             return app.BadRequest(ctx, problem->first, problem->second);
           // Every client holding the role gets the new permissions: no more than the caller holds.
           auto grant = RoleGrant(updated.name, updated.permissions, &role->permissions);
           if (auto denied = DenyBeyondCeiling(app, ctx, grant)) return *denied;
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status s = app.directory().UpdateRole(updated, &by); !s.ok()) return FailWrite(app, ctx, s);
           return JsonResponse(200, RoleJson({updated.id, updated.name, updated.description, updated.permissions, false}));
         }});
  r.Add({"DELETE", "/api/v2/authorization/roles/{roleId}", Access::kPermission, "authorization:role:delete",
         [&app](RequestContext& ctx) {
           HttpResponse out;
           auto role = RoleFromPath(app, ctx, out);
           if (!role) return out;
           if (role->builtin) return BuiltinIsReadOnly(ctx, *role);
           if (auto denied = DenyBeyondCeiling(app, ctx, RoleGrant(role->name, role->permissions, nullptr)))
             return *denied;
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status s = app.directory().DeleteRole(role->id, &by); !s.ok()) return FailWrite(app, ctx, s);
           return EmptyResponse(204);
         }});
}

json::object SettingsJson(const store::OrgSettings& s) {
  json::object o;
  o["autoStart"] = s.auto_start;
  o["pauseBehavior"] = s.pause_behavior;
  o["retentionDays"] = s.retention_days;
  return o;
}

void RegisterSettingsRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/organization/settings", Access::kPermission, "organization:settings:view",
         [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "organization/settings")) return app.Deny(ctx);
           auto s = app.store().GetSettings();
           if (!s.ok()) return app.Fail(ctx, s.status());
           return JsonResponse(200, SettingsJson(*s));
         }});
  r.Add({"PATCH", "/api/v2/organization/settings", Access::kPermission, "organization:settings:edit",
         [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "organization/settings")) return app.Deny(ctx);
           HttpResponse err;
           auto body = app.JsonBody(ctx, err);
           if (!body) return err;
           static const std::initializer_list<std::string_view> kFields = {"autoStart", "pauseBehavior", "retentionDays"};
           if (auto unknown = UnknownField(*body, kFields))
             return app.BadRequest(ctx, "Unknown field '" + unknown->substr(0, 64) + "'. Known fields: " + JoinList(kFields) + ".", *unknown);
           auto s = app.store().GetSettings();
           if (!s.ok()) return app.Fail(ctx, s.status());
           auto auto_start = GetBool(*body, "autoStart");
           if (!auto_start.ok()) return app.BadRequest(ctx, auto_start.status().message(), "autoStart");
           if (*auto_start) s->auto_start = **auto_start;
           auto pause = GetString(*body, "pauseBehavior");
           if (!pause.ok()) return app.BadRequest(ctx, pause.status().message(), "pauseBehavior");
           if (*pause) {
             if (**pause != "silence" && **pause != "skip")
               return app.BadRequest(ctx, "Field 'pauseBehavior' must be 'silence' or 'skip'.", "pauseBehavior",
                                     "silence | skip");
             s->pause_behavior = **pause;
           }
           auto retention = GetInt(*body, "retentionDays");
           if (!retention.ok()) return app.BadRequest(ctx, retention.status().message(), "retentionDays");
           if (*retention) {
             if (**retention < 1 || **retention > 36500)
               return app.BadRequest(ctx, "Field 'retentionDays' must be between 1 and 36500.", "retentionDays");
             s->retention_days = static_cast<int>(**retention);
           }
           const store::ChangeAuthor by = app.AuthorOf(ctx);
           if (Status st = app.store().PutSettings(*s, &by); !st.ok()) return app.Fail(ctx, st);
           return JsonResponse(200, SettingsJson(*s));
         }});
}

}  // namespace

void RegisterAdminRoutes(App& app, Router& r) {
  RegisterClientRoutes(app, r);
  RegisterRoleRoutes(app, r);
  RegisterSettingsRoutes(app, r);
}

}  // namespace verbatim::api
