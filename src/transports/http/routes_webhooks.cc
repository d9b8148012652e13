// Webhooks (docs/webhooks.md): POST/GET/PATCH/DELETE /api/v2/webhooks and
// the delivery log. Needs scope `admin` and organization:webhook:*; a
// webhook's kinds must also be visible to its creator (the view permission of
// each kind's subject type, as for GET /api/v2/events), so nobody subscribes
// to more than they may read. The target is checked before it is stored (an
// http(s) URL whose addresses are public unless --webhook-allow-private), and
// again on every attempt. The signing secret is shown once, in the 201.
#include "service/change_visibility.h"
#include "service/event_hub.h"
#include "transports/http/app.h"
#include "transports/http/views.h"
#include "transports/webhook/webhook_signature.h"
#include "transports/webhook/webhook_target.h"
#include "core/ids.h"

namespace verbatim::api {
namespace {

constexpr int kMaxWebhooks = 100;
constexpr size_t kMaxKinds = 32;
constexpr std::chrono::milliseconds kResolveTimeout{5000};

json::object WebhookJson(const store::Webhook& w) {
  json::object o;
  o["id"] = w.id;
  o["url"] = w.url;
  o["description"] = w.description;
  o["kinds"] = ToJsonArray(w.kinds);
  o["enabled"] = w.enabled;
  o["disabledReason"] = w.enabled ? json::value(nullptr) : json::value(w.disabled_reason);
  o["dateDisabled"] = OptionalTime(w.disabled_at);
  o["lastDelivered"] = OptionalTime(w.last_delivered_at);
  o["createdBy"] = ActorJson(w.created_by);
  o["dateCreated"] = FormatRfc3339(w.created_at);
  return o;
}

json::object DeliveryJson(const store::WebhookDelivery& d) {
  json::object o;
  o["id"] = d.id;
  o["changeId"] = d.change_id;
  o["kind"] = d.kind;
  o["status"] = store::DeliveryStatusName(d.status);
  o["attempts"] = d.attempts;
  o["dateCreated"] = FormatRfc3339(d.created_at);
  o["lastAttempt"] = OptionalTime(d.last_attempt_at);
  o["lastStatus"] = d.last_status == 0 ? json::value(nullptr) : json::value(d.last_status);
  o["lastError"] = d.last_error.empty() ? json::value(nullptr) : json::value(d.last_error);
  o["nextAttempt"] =
      d.status == store::DeliveryStatus::kPending ? json::value(FormatRfc3339(d.next_attempt_at)) : json::value(nullptr);
  o["dateFinished"] = OptionalTime(d.finished_at);
  return o;
}

HttpResponse Create(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "webhooks")) return app.Deny(ctx);
  HttpResponse err;
  auto body = app.JsonBody(ctx, err);
  if (!body) return err;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "url" && k != "kinds" && k != "description")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) + "'. Known fields: url, kinds, description.",
                            k.substr(0, 64));
  }
  auto url = GetString(*body, "url");
  if (!url.ok()) return app.BadRequest(ctx, url.status().message(), "url");
  if (!*url) return app.BadRequest(ctx, "Field 'url' is required: the http(s) URL deliveries are POSTed to.", "url",
                                   "https://crm.example.com/hooks/verbatim");
  auto parsed = webhook::ParseWebhookUrl(**url);
  if (!parsed.ok()) return app.BadRequest(ctx, parsed.status().message(), "url", "https://crm.example.com/hooks/verbatim");
  auto description = GetString(*body, "description");
  if (!description.ok() || (*description && (*description)->size() > 256))
    return app.BadRequest(ctx, "Field 'description' must be a string of at most 256 characters.", "description");
  auto kinds = GetStringArray(*body, "kinds");
  if (!kinds.ok()) return app.BadRequest(ctx, kinds.status().message(), "kinds");
  if (!*kinds || (*kinds)->empty() || (*kinds)->size() > kMaxKinds)
    return app.BadRequest(ctx,
                          "Field 'kinds' is required: 1 to 32 change kinds (recording.paused) or families "
                          "(recording.) to deliver (docs/changes.md lists them).",
                          "kinds", "[\"recording.\", \"media.ready\"]");
  for (const auto& kind : **kinds) {
    auto type = service::IsKindFilter(kind) ? service::SubjectTypeOfKind(kind) : std::nullopt;
    if (!type)
      return app.BadRequest(ctx,
                            "'" + kind.substr(0, 64) +
                                "' is not a change kind or family of recording, media, client, user, role, settings, "
                                "integration, trunk or webhook.",
                            "kinds", "recording.");
    // Nobody subscribes to what they may not read.
    for (const auto& v : service::ChangeVisibilities()) {
      if (v.subject_type != *type) continue;
      authz::Decision d = app.DecideFor(ctx.token, v.permission, "webhooks");
      if (!d.allowed) {
        *ctx.decision = std::move(d);
        return app.Deny(ctx);
      }
    }
  }
  auto existing = app.store().ListWebhooks();
  if (!existing.ok()) return app.Fail(ctx, existing.status());
  if (existing->size() >= kMaxWebhooks)
    return app.Fail(ctx, Status::FailedPrecondition("webhook.limit", "At most 100 webhooks; delete one first."));
  // The SSRF check, before anything is stored (and again on every attempt).
  auto target = webhook::ResolveWebhookTarget(*parsed, app.config().webhook_allow_private, kResolveTimeout);
  if (!target.ok())
    return app.Fail(ctx, Status::InvalidArgument(target.status().code(), target.status().message()));
  auto last = app.store().LastChangeId();
  if (!last.ok()) return app.Fail(ctx, last.status());

  const std::string secret = webhook::NewWebhookSecret();
  store::Webhook w;
  w.id = NewUuid();
  w.url = **url;
  w.description = description->value_or("");
  w.kinds = std::move(**kinds);
  w.secret_encrypted = app.secrets().Seal(secret, store::SealedContext(store::SealedKind::kWebhookSecret, w.id));
  w.cursor = *last;  // what happens from now on
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  w.created_by = by.actor;
  w.created_at = app.clock().Now();
  if (Status s = app.store().CreateWebhook(w, &by); !s.ok()) return app.Fail(ctx, s);
  authz::ResourceFound(*ctx.decision);
  json::object o = WebhookJson(w);
  o["secret"] = secret;  // shown once; verbatim keeps it sealed
  return JsonResponse(201, o);
}

HttpResponse List(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "webhooks")) return app.Deny(ctx);
  auto all = app.store().ListWebhooks();
  if (!all.ok()) return app.Fail(ctx, all.status());
  json::array entities;
  for (const auto& w : *all) entities.emplace_back(WebhookJson(w));
  json::object o;
  o["total"] = entities.size();
  o["entities"] = std::move(entities);
  return JsonResponse(200, o);
}

// Authorizes /webhooks/{webhookId}..., then loads it (404 through the decision).
std::optional<store::Webhook> Load(App& app, RequestContext& ctx, HttpResponse& out) {
  auto id = app.AuthorizePathId(ctx, "webhookId", "webhook", out);
  if (!id) return std::nullopt;
  auto w = app.store().GetWebhook(*id);
  if (w.status().code() == "webhook.not.found") {
    authz::ResourceNotFound(*ctx.decision, "webhook", *id);
    out = app.Deny(ctx);
    return std::nullopt;
  }
  if (!w.ok()) {
    out = app.Fail(ctx, w.status());
    return std::nullopt;
  }
  authz::ResourceFound(*ctx.decision);
  return std::move(*w);
}

HttpResponse Get(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto w = Load(app, ctx, out);
  if (!w) return out;
  return JsonResponse(200, WebhookJson(*w));
}

HttpResponse Update(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto w = Load(app, ctx, out);
  if (!w) return out;
  auto body = app.JsonBody(ctx, out);
  if (!body) return out;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "enabled")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) +
                                     "'. Only 'enabled' can change; to change the URL or kinds, create a new webhook.",
                            k.substr(0, 64));
  }
  auto enabled = GetBool(*body, "enabled");
  if (!enabled.ok() || !*enabled) return app.BadRequest(ctx, "Field 'enabled' is required: true or false.", "enabled");
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  if (w->enabled != **enabled) {
    const std::string reason = **enabled ? "" : "disabled by " + by.actor.principal_name;
    Status s = app.store().SetWebhookEnabled(w->id, **enabled, reason, app.clock().Now(), &by);
    if (!s.ok()) return app.Fail(ctx, s);
  }
  auto after = app.store().GetWebhook(w->id);
  if (!after.ok()) return app.Fail(ctx, after.status());
  return JsonResponse(200, WebhookJson(*after));
}

HttpResponse Delete(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto w = Load(app, ctx, out);
  if (!w) return out;
  const store::ChangeAuthor by = app.AuthorOf(ctx);
  Status s = app.store().DeleteWebhook(w->id, &by);
  if (s.code() == "webhook.not.found") {  // deleted meanwhile
    authz::ResourceNotFound(*ctx.decision, "webhook", w->id);
    return app.Deny(ctx);
  }
  if (!s.ok()) return app.Fail(ctx, s);
  return EmptyResponse(204);
}

HttpResponse ListDeliveries(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto w = Load(app, ctx, out);
  if (!w) return out;
  store::DeliveryFilter f;
  f.webhook_id = w->id;
  if (auto v = ctx.Query("status")) {
    f.status = store::ParseDeliveryStatus(*v);
    if (!f.status) return app.BadRequest(ctx, "'status' must be pending, delivered or failed.", "status", "failed");
  }
  if (auto v = ctx.Query("before")) {
    f.before_seq = ParseIntParam(*v, 1, INT64_MAX);
    if (!f.before_seq) return app.BadRequest(ctx, "'before' must be the nextBefore of a previous page.", "before");
  }
  if (auto v = ctx.Query("pageSize")) {
    auto n = ParseIntParam(*v, 1, 500);
    if (!n) return app.BadRequest(ctx, "'pageSize' must be 1 to 500.", "pageSize");
    f.limit = static_cast<int>(*n);
  }
  auto page = app.store().ListDeliveries(f);
  if (!page.ok()) return app.Fail(ctx, page.status());
  json::array entities;
  for (const auto& d : *page) entities.emplace_back(DeliveryJson(d));
  json::object o;
  o["entities"] = std::move(entities);
  o["pageSize"] = f.limit;
  const bool full = static_cast<int>(page->size()) == f.limit;
  o["nextBefore"] = full ? json::value(page->back().seq) : json::value(nullptr);
  return JsonResponse(200, o);
}

}  // namespace

void RegisterWebhookRoutes(App& app, Router& r) {
  r.Add({"POST", "/api/v2/webhooks", Access::kPermission, "organization:webhook:add",
         [&app](RequestContext& c) { return Create(app, c); }});
  r.Add({"GET", "/api/v2/webhooks", Access::kPermission, "organization:webhook:view",
         [&app](RequestContext& c) { return List(app, c); }});
  r.Add({"GET", "/api/v2/webhooks/{webhookId}", Access::kPermission, "organization:webhook:view",
         [&app](RequestContext& c) { return Get(app, c); }});
  r.Add({"PATCH", "/api/v2/webhooks/{webhookId}", Access::kPermission, "organization:webhook:edit",
         [&app](RequestContext& c) { return Update(app, c); }});
  r.Add({"DELETE", "/api/v2/webhooks/{webhookId}", Access::kPermission, "organization:webhook:delete",
         [&app](RequestContext& c) { return Delete(app, c); }});
  r.Add({"GET", "/api/v2/webhooks/{webhookId}/deliveries", Access::kPermission, "organization:webhook:view",
         [&app](RequestContext& c) { return ListDeliveries(app, c); }});
}

}  // namespace verbatim::api
