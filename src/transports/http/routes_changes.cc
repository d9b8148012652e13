// The change log (docs/changes.md): GET /api/v2/changes pages forward through
// every administrative change, recording transition and media file that
// became ready, oldest first, by id.
#include <charconv>

#include "service/change_visibility.h"
#include "service/event_hub.h"
#include "transports/http/app.h"
#include "transports/http/views.h"

namespace verbatim::api {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

HttpResponse ListChanges(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "changes")) return app.Deny(ctx);
  store::ChangeFilter f;
  f.limit = kDefaultPageSize;
  if (auto v = ctx.Query("after")) {
    auto id = ParseChangeId(*v);
    if (!id) return app.BadRequest(ctx, "'after' must be a change id (a non-negative integer).", "after", "42");
    f.after_id = *id;
  }
  if (auto v = ctx.Query("since")) {
    auto t = ParseRfc3339(*v);
    if (!t) return app.BadRequest(ctx, "'since' must be an RFC 3339 time.", "since", "2026-12-01T00:00:00Z");
    f.since = *t;
  }
  if (auto v = ctx.Query("principal")) f.principal_id = *v;
  if (auto v = ctx.Query("kind")) {
    if (!service::IsKindFilter(*v))
      return app.BadRequest(ctx, "'kind' must be a change kind such as client.updated, or a family such as client.",
                            "kind", "recording.");
    f.kind = *v;
  }
  if (auto v = ctx.Query("subjectType")) {
    if (!service::IsSubjectType(*v))
      return app.BadRequest(ctx,
                            "'subjectType' must be one of client, user, role, settings, integration, trunk, "
                            "webhook, conversation.",
                            "subjectType");
    f.subject_type = *v;
  }
  if (auto v = ctx.Query("subjectId")) f.subject_id = *v;
  if (auto v = ctx.Query("pageSize")) {
    auto n = ParseIntParam(*v, 1, kMaxPageSize);
    if (!n) return app.BadRequest(ctx, "'pageSize' must be 1 to 1000.", "pageSize");
    f.limit = static_cast<int>(*n);
  }
  auto entries = app.store().ListChanges(f);
  if (!entries.ok()) return app.Fail(ctx, entries.status());
  authz::ResourceFound(*ctx.decision);
  json::array entities;
  for (const auto& e : *entries) entities.emplace_back(ChangeEntryJson(e));
  json::object o;
  o["entities"] = std::move(entities);
  o["pageSize"] = f.limit;
  // A full page may have more after it; a short one is the end for now (poll
  // again with the same `after`, or follow GET /api/v2/events).
  const bool full = static_cast<int>(entries->size()) == f.limit;
  o["nextAfter"] = full ? json::value(entries->back().id) : json::value(nullptr);
  return JsonResponse(200, o);
}

}  // namespace

std::optional<int64_t> ParseIntParam(std::string_view s, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseChangeId(std::string_view s) { return ParseIntParam(s, 0, INT64_MAX); }

void RegisterChangeRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/changes", Access::kPermission, "audit:event:view",
         [&app](RequestContext& c) { return ListChanges(app, c); }});
}

}  // namespace verbatim::api
