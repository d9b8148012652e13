// Introspection for humans (docs/api.md §6): what can my token do, why would this
// request be denied (the simulator), and the audit log that replays past
// decisions by contextId.
#include <algorithm>

#include "transports/http/app.h"
#include "transports/http/audit_unavailable.h"
#include "transports/http/planned_principal.h"
#include "transports/http/views.h"
#include "service/insight.h"
#include "authz/permission.h"
#include "core/ids.h"

namespace verbatim::api {
namespace {

// How long an audit query waits for the writer (it waits only when the store fails).
constexpr std::chrono::seconds kAuditFlushWait{2};

HttpResponse Check(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "authorization/check")) return app.Deny(ctx);
  HttpResponse err;
  auto body = app.JsonBody(ctx, err);
  if (!body) return err;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "token" && k != "principal" && k != "scopes" && k != "action" && k != "method" && k != "path" &&
        k != "resource")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) +
                                     "'. Fields: token | principal (+ scopes), action | method + path, resource.", k);
  }
  auto token = GetString(*body, "token");
  auto action = GetString(*body, "action");
  auto method = GetString(*body, "method");
  auto path = GetString(*body, "path");
  auto resource = GetString(*body, "resource");
  auto scopes = GetStringArray(*body, "scopes");
  for (const auto* r : {&token, &action, &method, &path, &resource})
    if (!r->ok()) return app.BadRequest(ctx, r->status().message());
  if (!scopes.ok()) return app.BadRequest(ctx, scopes.status().message(), "scopes");

  std::optional<std::string> principal_id;
  const json::value* person = nullptr;   // a user through a client (transports/http/planned_principal.h)
  const json::value* planned = nullptr;  // a planned client
  if (auto it = body->find("principal"); it != body->end() && IsPlannedPrincipal(it->value())) {
    planned = &it->value();
  } else if (it != body->end() && IsUserPrincipal(it->value())) {
    person = &it->value();
  } else if (it != body->end()) {
    if (it->value().is_string()) principal_id = std::string(it->value().as_string());
    else if (it->value().is_object()) {
      auto id = GetString(it->value().as_object(), "clientId");
      if (!id.ok() || !*id) id = GetString(it->value().as_object(), "id");
      if (id.ok() && *id) principal_id = **id;
    }
    if (!principal_id)
      return app.BadRequest(ctx,
                            "Field 'principal' must be a client id, {\"clientId\": \"…\"}, a user {\"userId\": \"…\"}, or a planned client "
                            "{\"name\", \"scopes\", \"roles\"}.",
                            "principal");
  }
  if (*token && (principal_id || planned || person))
    return app.BadRequest(ctx, "Give either 'token' or 'principal', not both.", "principal");

  // Checking anything but the caller's own token needs the admin simulator permission.
  std::string_view own = ctx.http.header("Authorization");
  bool own_token = !principal_id && !planned && !person && (!*token || (own.size() > 7 && own.substr(own.find(' ') + 1) == **token));
  if (!own_token) {
    ctx.decision = app.DecideFor(ctx.token, "authorization:decision:simulate", "authorization/check");
    if (!ctx.decision->allowed) return app.Deny(ctx);
  }

  // What is being asked.
  std::string perm, res = resource->value_or("");
  std::string conversation_id;
  if (*method || *path) {
    if (!*method || !*path) return app.BadRequest(ctx, "'method' and 'path' go together.", "method");
    auto m = app.router().Match(**method, (**path).substr(0, (**path).find('?')));
    if (!m.route)
      return app.BadRequest(ctx, "There is no endpoint " + (**method).substr(0, 10) + " " + (**path).substr(0, 200) + ".",
                            "path");
    if (m.route->access == Access::kPublic) {
      json::object o;
      o["decision"] = "allow";
      o["status"] = 200;
      o["message"] = "This endpoint is public: no token is needed.";
      return JsonResponse(200, o);
    }
    perm = m.route->access == Access::kToken ? "" : m.route->action;
    for (const auto& [k, v] : m.params) {
      if (k == "conversationId") {
        conversation_id = v;
        res = "conversation/" + v;
      } else if (res.empty()) {
        res = k.substr(0, k.size() - 2) + "/" + v;
      }
    }
  } else if (*action) {
    perm = **action;
    if (!authz::IsValidPermission(perm) || perm.find('*') != std::string::npos)
      return app.BadRequest(ctx, "Field 'action' must be a concrete permission such as recording:recording:start.",
                            "action");
    if (res.rfind("conversation/", 0) == 0) conversation_id = res.substr(13);
  } else {
    return app.BadRequest(ctx, "Say what to check: 'action', or 'method' and 'path'.", "action");
  }

  // Who is being asked about.
  authz::Request req;
  if (planned) {
    HttpResponse err;
    auto sp = ResolvePrincipal(app, ctx, *planned, err);
    if (!sp) return err;
    authz::TokenCheck synthetic;
    synthetic.client_id = synthetic.subject = sp->client_id;
    synthetic.scopes = *scopes ? **scopes : sp->principal.allowed_scopes;
    synthetic.expires_at = app.clock().Now() + std::chrono::seconds(sp->token_validity_seconds);
    req.action = perm;
    req.resource = res;
    req.token = std::move(synthetic);
    req.principal = std::move(sp->principal);
  } else if (person || principal_id) {
    // A token as the client (or the person through it) would get now.
    std::optional<SimulatedPrincipal> sp;
    std::optional<store::OAuthClient> client;
    if (person) {
      HttpResponse err;
      sp = ResolveUser(app, ctx, person->as_object(), err);
      if (!sp) return err;
      client = app.directory().FindClient(sp->client_id);
    } else {
      client = app.directory().FindClient(*principal_id);
    }
    if (!client)
      return app.BadRequest(ctx, "No client '" + (sp ? sp->client_id : *principal_id).substr(0, 64) + "'.", "principal");
    req = app.MakeAuthzRequest(service::SimulatedToken(*client, sp ? sp->user_id : std::string(), *scopes, app.clock().Now()),
                               perm, res);
  } else {
    authz::TokenCheck check = *token ? app.tokens().CheckToken(**token) : ctx.token;
    req = app.MakeAuthzRequest(check, perm, res);
  }
  auto catalog = app.directory().Roles();
  req.role_catalog = *catalog;
  authz::Decision d = perm.empty() ? authz::EvaluateTokenOnly(req) : authz::Evaluate(req);
  if (d.allowed && IsUuid(conversation_id)) service::SimulateResource(app.store(), d, conversation_id);
  // A principal that exists may have lost what it needs recently: say what changed (docs/changes.md).
  if (!d.allowed && !planned) app.authorizer().AnnotateHistory(d, req.principal, req.token);

  json::object o;
  o["decision"] = d.allowed ? "allow" : "deny";
  o["status"] = d.allowed ? 200 : d.status;
  o["code"] = d.code.empty() ? json::value(nullptr) : json::value(d.code);
  o["message"] = d.allowed ? "The request would be allowed." : d.message;
  o["explanation"] = authz::ExplanationJson(d);
  return JsonResponse(200, o);
}

HttpResponse ListAudit(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "audit")) return app.Deny(ctx);
  store::AuditFilter f;
  if (auto v = ctx.Query("conversationId")) {
    if (auto bad = app.RequireUuid(ctx, *v, "conversation")) return *bad;
    f.conversation_id = *v;
  }
  if (auto v = ctx.Query("principal")) f.principal_id = *v;
  if (auto v = ctx.Query("decision")) {
    if (*v != "allow" && *v != "deny") return app.BadRequest(ctx, "'decision' must be allow or deny.", "decision");
    f.decision = *v;
  }
  for (auto [name, target] : {std::pair{"since", &f.since}, std::pair{"until", &f.until}}) {
    if (auto v = ctx.Query(name)) {
      auto t = ParseRfc3339(*v);
      if (!t) return app.BadRequest(ctx, std::string("'") + name + "' must be an RFC 3339 time.", name, "2026-11-25T18:00:00Z");
      *target = *t;
    }
  }
  if (auto v = ctx.Query("cursor")) f.cursor = *v;
  if (auto v = ctx.Query("pageSize")) {
    char* end = nullptr;
    long n = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end || n < 1 || n > 200) return app.BadRequest(ctx, "'pageSize' must be 1 to 200.", "pageSize");
    f.limit = static_cast<int>(n);
  }
  // Read your own requests; a store that fails meanwhile is a 503, never a silently short page.
  if (!app.audit().Flush(kAuditFlushWait)) return AuditUnavailableResponse(app.audit().health(), ctx.context_id);
  auto page = app.store().ListAudit(f);
  if (!page.ok()) return app.Fail(ctx, page.status());
  json::array entities;
  for (const auto& e : page->events) entities.emplace_back(AuditEventJson(e));
  json::object o;
  o["entities"] = std::move(entities);
  o["pageSize"] = f.limit;
  o["nextCursor"] = page->next_cursor ? json::value(*page->next_cursor) : json::value(nullptr);
  return JsonResponse(200, o);
}

HttpResponse GetAudit(App& app, RequestContext& ctx) {
  std::string id = ctx.Param("contextId");
  if (!app.Authorize(ctx, "audit/" + id.substr(0, 64))) return app.Deny(ctx);
  if (auto bad = app.RequireUuid(ctx, id, "context")) return *bad;
  if (!app.audit().Flush(kAuditFlushWait)) return AuditUnavailableResponse(app.audit().health(), ctx.context_id);
  auto e = app.store().GetAudit(id);
  if (!e.ok()) {
    if (e.status().kind() == Status::Kind::kNotFound) {
      authz::ResourceNotFound(*ctx.decision, "audit", id);
      return app.Deny(ctx);
    }
    return app.Fail(ctx, e.status());
  }
  authz::ResourceFound(*ctx.decision);
  return JsonResponse(200, AuditEventJson(*e));
}

}  // namespace

void RegisterInsightRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/tokens/me", Access::kToken, "", [&app](RequestContext& ctx) {
           if (!app.Authorize(ctx, "token/self")) return app.Deny(ctx);
           authz::ResourceFound(*ctx.decision);
           return JsonResponse(200, service::TokenSummaryJson(*ctx.principal, ctx.token, app.clock().Now()));
         }});
  r.Add({"POST", "/api/v2/authorization/check", Access::kToken, "", [&app](RequestContext& c) { return Check(app, c); }});
  RegisterEffectiveAccessRoute(app, r);
  r.Add({"GET", "/api/v2/audit/events", Access::kPermission, "audit:event:view",
         [&app](RequestContext& c) { return ListAudit(app, c); }});
  r.Add({"GET", "/api/v2/audit/events/{contextId}", Access::kPermission, "audit:event:view",
         [&app](RequestContext& c) { return GetAudit(app, c); }});
}

}  // namespace verbatim::api
