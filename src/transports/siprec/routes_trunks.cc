// SIPREC trunks (docs/sip-trunks.md): POST/GET /api/v2/media/siprec/trunks,
// GET/PATCH/DELETE /api/v2/media/siprec/trunks/{trunkId}. Scope `admin` and
// organization:trunk:add/view/edit/delete. Order as everywhere: authorize,
// then validate the id, then look it up. The digest password is write-only.
// Trunks from the config file or --dev are listed but read-only here (409
// trunk.read.only). Every write republishes the trunks to the SIP server.
#include "transports/http/app.h"
#include "transports/siprec/trunk_config.h"
#include "core/ids.h"
#include "core/log.h"

namespace verbatim::api {
namespace {

constexpr const char* kCollection = "/api/v2/media/siprec/trunks";

HttpResponse BadInput(App& app, RequestContext& ctx, const TrunkInputError& e) {
  return app.BadRequest(ctx, e.message, e.field, e.expected);
}

// After a write: the SIP server must see it before the response says it is done.
void Republish(App& app, RequestContext& ctx) {
  if (Status s = app.sip_trunks().Reload(); !s.ok())
    Log(LogLevel::kError, "sip trunk reload failed", {{"contextId", ctx.context_id}, {"error", s.message()}});
}

Status ReadOnly(const TrunkEntry& e) {
  return Status::FailedPrecondition("trunk.read.only",
                                    "Trunk '" + e.trunk.name + "' is " +
                                        (e.origin == kTrunkOriginDev ? std::string("the implicit trunk of serve --dev")
                                                                     : std::string("declared in the config file")) +
                                        "; it can only be changed there (then restart).");
}

Status NameTakenByFixed(const TrunkEntry& e) {
  return Status::AlreadyExists("trunk.name.taken",
                               "A trunk named '" + e.trunk.name + "' is " +
                                   (e.origin == kTrunkOriginDev ? "the --dev trunk" : "declared in the config file") +
                                   "; choose another name.");
}

std::optional<json::object> Body(App& app, RequestContext& ctx, HttpResponse& err, TrunkInput& in) {
  auto body = app.JsonBody(ctx, err);
  if (!body) return std::nullopt;
  if (auto e = TrunkInputFromJson(*body, in)) {
    err = BadInput(app, ctx, *e);
    return std::nullopt;
  }
  return body;
}

HttpResponse Create(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "trunks")) return app.Deny(ctx);
  HttpResponse err;
  TrunkInput in;
  if (!Body(app, ctx, err, in)) return err;
  store::SipTrunk t;
  t.id = NewUuid();
  if (auto e = ApplyTrunkInput(in, true, app.clock().Now(), t)) return BadInput(app, ctx, *e);
  if (auto fixed = app.sip_trunks().FindFixedByName(t.name)) return app.Fail(ctx, NameTakenByFixed(*fixed));
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  if (Status s = app.store().CreateTrunk(t, &by); !s.ok()) return app.Fail(ctx, s);
  Republish(app, ctx);
  authz::ResourceFound(*ctx.decision);
  HttpResponse res = JsonResponse(201, TrunkJson(t, kTrunkOriginApi));
  res.set(http::field::location, std::string(kCollection) + "/" + t.id);
  return res;
}

HttpResponse List(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "trunks")) return app.Deny(ctx);
  // The store, not the registry's copy: a trunk added by the CLI a moment ago is listed.
  if (Status s = app.sip_trunks().Reload(); !s.ok()) return app.Fail(ctx, s);
  json::array entities;
  for (const auto& e : app.sip_trunks().All()) entities.emplace_back(TrunkJson(e.trunk, e.origin));
  json::object o;
  o["total"] = entities.size();
  o["entities"] = std::move(entities);
  return JsonResponse(200, o);
}

// Authorizes, validates {trunkId}, loads it (fixed trunks first, then the store).
std::optional<TrunkEntry> TrunkFromPath(App& app, RequestContext& ctx, HttpResponse& out) {
  auto id = app.AuthorizePathId(ctx, "trunkId", "trunk", out);
  if (!id) return std::nullopt;
  if (auto e = app.sip_trunks().Find(*id); e && e->origin != kTrunkOriginApi) {
    authz::ResourceFound(*ctx.decision);
    return e;
  }
  auto stored = app.store().GetTrunk(*id);
  if (!stored.ok()) {
    if (stored.status().code() == "trunk.not.found") {
      authz::ResourceNotFound(*ctx.decision, "trunk", *id);
      out = app.Deny(ctx);
    } else {
      out = app.Fail(ctx, stored.status());
    }
    return std::nullopt;
  }
  authz::ResourceFound(*ctx.decision);
  return TrunkEntry{std::move(*stored), std::string(kTrunkOriginApi)};
}

HttpResponse Get(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto e = TrunkFromPath(app, ctx, out);
  if (!e) return out;
  return JsonResponse(200, TrunkJson(e->trunk, e->origin));
}

HttpResponse Patch(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto e = TrunkFromPath(app, ctx, out);
  if (!e) return out;
  TrunkInput in;
  if (!Body(app, ctx, out, in)) return out;
  if (e->origin != kTrunkOriginApi) return app.Fail(ctx, ReadOnly(*e));
  store::SipTrunk t = e->trunk;
  if (auto problem = ApplyTrunkInput(in, false, app.clock().Now(), t)) return BadInput(app, ctx, *problem);
  if (auto fixed = app.sip_trunks().FindFixedByName(t.name)) return app.Fail(ctx, NameTakenByFixed(*fixed));
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  if (Status s = app.store().UpdateTrunk(t, &by); !s.ok()) return app.Fail(ctx, s);
  Republish(app, ctx);
  return JsonResponse(200, TrunkJson(t, kTrunkOriginApi));
}

HttpResponse Delete(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto e = TrunkFromPath(app, ctx, out);
  if (!e) return out;
  if (e->origin != kTrunkOriginApi) return app.Fail(ctx, ReadOnly(*e));
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  Status s = app.store().DeleteTrunk(e->trunk.id, &by);
  if (!s.ok()) return app.Fail(ctx, s);
  Republish(app, ctx);
  return EmptyResponse(204);
}

}  // namespace

void RegisterTrunkRoutes(App& app, Router& r) {
  r.Add({"POST", kCollection, Access::kPermission, "organization:trunk:add",
         [&app](RequestContext& c) { return Create(app, c); }});
  r.Add({"GET", kCollection, Access::kPermission, "organization:trunk:view",
         [&app](RequestContext& c) { return List(app, c); }});
  r.Add({"GET", std::string(kCollection) + "/{trunkId}", Access::kPermission, "organization:trunk:view",
         [&app](RequestContext& c) { return Get(app, c); }});
  r.Add({"PATCH", std::string(kCollection) + "/{trunkId}", Access::kPermission, "organization:trunk:edit",
         [&app](RequestContext& c) { return Patch(app, c); }});
  r.Add({"DELETE", std::string(kCollection) + "/{trunkId}", Access::kPermission, "organization:trunk:delete",
         [&app](RequestContext& c) { return Delete(app, c); }});
}

}  // namespace verbatim::api
