// AudioHook integrations (docs/api.md §7): POST/GET/DELETE /api/v2/media/integrations.
// An integration is what a Genesys-style AudioHook client authenticates as: an
// API key plus a client secret (shown once, kept encrypted: the signature
// check needs it), and roles (default Media Ingest). Needs scope `admin` and
// oauth:integration:add/view/delete, and the caller must hold what the
// integration gets (transports/http/delegation_guard.h). Order as everywhere: authorize,
// then validate the id, then look it up.
#include <algorithm>

#include "transports/http/app.h"
#include "transports/http/delegation_guard.h"
#include "transports/http/integration_secrets.h"
#include "transports/http/views.h"
#include "authz/catalog.h"
#include "core/ids.h"

namespace verbatim::api {
namespace {

constexpr const char* kDefaultRole = "Media Ingest";

json::object IntegrationJson(const store::MediaIntegration& m, const std::vector<authz::RoleDef>& roles) {
  json::object o;
  o["id"] = m.id;
  o["name"] = m.name;
  // Enough to tell keys apart; the full key, like the secret, is shown once.
  o["apiKeyPrefix"] = m.api_key.substr(0, 6);
  o["roles"] = RoleRefsJson(m.role_ids, roles);
  o["dateCreated"] = FormatRfc3339(m.created_at);
  return o;
}

HttpResponse Create(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "integrations")) return app.Deny(ctx);
  HttpResponse err;
  auto body = app.JsonBody(ctx, err);
  if (!body) return err;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "name" && k != "roles")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) + "'. Known fields: name, roles.",
                            k.substr(0, 64));
  }
  auto name = GetString(*body, "name");
  if (!name.ok()) return app.BadRequest(ctx, name.status().message(), "name");
  if (!*name || (*name)->empty() || (*name)->size() > 128)
    return app.BadRequest(ctx, "Field 'name' is required: 1 to 128 characters.", "name", "string");
  auto roles = GetStringArray(*body, "roles");
  if (!roles.ok()) return app.BadRequest(ctx, roles.status().message(), "roles");
  std::vector<std::string> role_ids;
  for (const auto& r : roles.value().value_or(std::vector<std::string>{kDefaultRole})) {
    auto role = app.directory().ResolveRoleRef(r);
    if (!role)
      return app.BadRequest(ctx,
                            (IsUuid(r) ? "No role has id '" : "No role is named '") + r.substr(0, 128) +
                                "' (roles are given by id or name; GET /api/v2/authorization/roles lists them).",
                            "roles");
    if (std::find(role_ids.begin(), role_ids.end(), role->id) == role_ids.end()) role_ids.push_back(role->id);
  }
  if (auto denied = DenyBeyondCeiling(app, ctx, IntegrationGrant(**name, role_ids, *app.directory().Roles())))
    return *denied;
  auto existing = app.store().ListIntegrations();
  if (!existing.ok()) return app.Fail(ctx, existing.status());
  for (const auto& m : *existing) {
    if (authz::EqualsIgnoreCase(m.name, **name))
      return app.Fail(ctx, Status::AlreadyExists("integration.name.taken",
                                                 "A media integration named '" + m.name + "' exists (id " + m.id +
                                                     "); delete it or choose another name."));
  }
  NewIntegration n = MakeIntegration(app.secrets(), **name, std::move(role_ids), app.clock().Now());
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  if (Status s = app.store().CreateIntegration(n.record, &by); !s.ok()) return app.Fail(ctx, s);
  json::object o = IntegrationJson(n.record, *app.directory().Roles());
  o["apiKey"] = n.record.api_key;
  o["clientSecret"] = n.client_secret;
  o["path"] = "/api/v2/media/audiohook";
  return JsonResponse(201, o);
}

HttpResponse List(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "integrations")) return app.Deny(ctx);
  auto all = app.store().ListIntegrations();
  if (!all.ok()) return app.Fail(ctx, all.status());
  auto roles = app.directory().Roles();
  json::array entities;
  for (const auto& m : *all) entities.emplace_back(IntegrationJson(m, *roles));
  json::object o;
  o["total"] = entities.size();
  o["entities"] = std::move(entities);
  return JsonResponse(200, o);
}

HttpResponse Delete(App& app, RequestContext& ctx) {
  std::string id = ctx.Param("integrationId");
  if (!app.Authorize(ctx, "integration/" + id.substr(0, 64))) return app.Deny(ctx);
  if (auto bad = app.RequireUuid(ctx, id, "integration")) return *bad;
  auto all = app.store().ListIntegrations();
  if (!all.ok()) return app.Fail(ctx, all.status());
  auto it = std::find_if(all->begin(), all->end(), [&](const store::MediaIntegration& m) { return m.id == id; });
  if (it == all->end()) {
    authz::ResourceNotFound(*ctx.decision, "integration", id);
    return app.Deny(ctx);
  }
  authz::ResourceFound(*ctx.decision);
  // Deleting takes authority away from a principal: only one within the caller's own.
  if (auto denied = DenyBeyondCeiling(app, ctx, IntegrationGrant(it->name, it->role_ids, *app.directory().Roles())))
    return *denied;
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  Status s = app.store().DeleteIntegration(id, &by);
  if (s.code() == "integration.not.found") {  // deleted meanwhile
    authz::ResourceNotFound(*ctx.decision, "integration", id);
    return app.Deny(ctx);
  }
  if (!s.ok()) return app.Fail(ctx, s);
  return EmptyResponse(204);
}

}  // namespace

void RegisterIntegrationRoutes(App& app, Router& r) {
  r.Add({"POST", "/api/v2/media/integrations", Access::kPermission, "oauth:integration:add",
         [&app](RequestContext& c) { return Create(app, c); }});
  r.Add({"GET", "/api/v2/media/integrations", Access::kPermission, "oauth:integration:view",
         [&app](RequestContext& c) { return List(app, c); }});
  r.Add({"DELETE", "/api/v2/media/integrations/{integrationId}", Access::kPermission, "oauth:integration:delete",
         [&app](RequestContext& c) { return Delete(app, c); }});
}

}  // namespace verbatim::api
