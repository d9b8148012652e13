// GET /api/v2/events: the change log as server-sent events (docs/changes.md
// "Events"). Any valid token may open a stream; each event is sent only to a
// subscriber whose scopes and roles allow viewing its subject, checked again
// every second, so a stream follows its principal's access as it changes.
#include "service/change_visibility.h"
#include "transports/http/app.h"
#include "transports/http/event_streams.h"

namespace verbatim::api {
namespace {

// What the subscriber may see now, re-evaluated at most once a second on the
// hub's thread (its token may be revoked, its roles may change).
class StreamAccess {
 public:
  StreamAccess(App& app, authz::TokenCheck token) : app_(app), token_(std::move(token)) {}

  std::optional<bool> MaySee(const store::ChangeEntry& e) {
    const auto now = std::chrono::steady_clock::now();
    // Again after any change of clients, users or roles (a revocation
    // included), and at least once a second (a revoked jti).
    const uint64_t generation = app_.directory().Generation();
    if (generation != generation_ || now - checked_ >= std::chrono::seconds(1)) {
      checked_ = now;
      generation_ = generation;
      visible_.clear();
      for (const auto& v : service::ChangeVisibilities()) {
        authz::Decision d = app_.DecideFor(token_, v.permission, "events");
        if (d.layer(authz::Layer::kToken).outcome == authz::Outcome::kFail) return std::nullopt;  // revoked, expired
        if (d.allowed) visible_.emplace_back(v.subject_type);
      }
      if (visible_.empty()) return std::nullopt;
    }
    return std::find(visible_.begin(), visible_.end(), e.subject_type) != visible_.end();
  }

 private:
  App& app_;
  const authz::TokenCheck token_;
  std::chrono::steady_clock::time_point checked_{};
  uint64_t generation_ = 0;
  std::vector<std::string_view> visible_;
};

HttpResponse OpenStream(App& app, RequestContext& ctx) {
  if (!app.Authorize(ctx, "events")) return app.Deny(ctx);
  auto sub = std::make_shared<service::EventSubscription>();
  std::vector<std::string_view> wanted;  // subject types asked for
  if (auto v = ctx.Query("kinds")) {
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view kind = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      auto type = service::IsKindFilter(kind) ? service::SubjectTypeOfKind(kind) : std::nullopt;
      if (!type)
        return app.BadRequest(ctx,
                              "'kinds' must be a comma-separated list of change kinds (recording.paused) or families "
                              "(recording.), of recording, media, client, user, role, settings, integration, trunk or webhook.",
                              "kinds", "recording.,media.ready");
      sub->kinds.emplace_back(kind);
      wanted.push_back(*type);
    }
  }
  if (auto v = ctx.Query("conversationId")) {
    if (auto bad = app.RequireUuid(ctx, *v, "conversation")) return *bad;
    sub->conversation_id = *v;
    wanted.push_back("conversation");
  }
  // Where to start: after the last event the client saw, or at the end of the log.
  std::optional<std::string> from;
  if (auto last = ctx.http.header("Last-Event-ID"); !last.empty()) from = std::string(last);
  if (auto v = ctx.Query("after")) from = std::move(*v);
  if (from) {
    auto id = ParseChangeId(*from);
    if (!id) return app.BadRequest(ctx, "Last-Event-ID (or 'after') must be an event id: a non-negative integer.", "after", "42");
    sub->cursor = *id;
  } else {
    auto last = app.store().LastChangeId();
    if (!last.ok()) return app.Fail(ctx, last.status());
    sub->cursor = *last;
  }
  // Every subject type asked for must be visible; with no filter, at least one.
  bool any = false;
  for (const auto& v : service::ChangeVisibilities()) {
    const bool asked = std::find(wanted.begin(), wanted.end(), v.subject_type) != wanted.end();
    if (!asked && !wanted.empty()) continue;
    authz::Decision d = app.DecideFor(ctx.token, v.permission, "events");
    if (d.allowed) {
      any = true;
    } else if (asked) {
      *ctx.decision = std::move(d);
      return app.Deny(ctx);
    }
  }
  if (!any) {
    *ctx.decision = app.DecideFor(ctx.token, service::ChangeVisibilities()[0].permission, "events");
    return app.Deny(ctx);
  }
  auto access = std::make_shared<StreamAccess>(app, ctx.token);
  sub->may_see = [access](const store::ChangeEntry& e) { return access->MaySee(e); };
  const std::string id = app.events().Register(std::move(sub), ctx.token.expires_at);
  authz::ResourceFound(*ctx.decision);
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "text/event-stream; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Accel-Buffering", "no");  // nginx: pass each event through at once
  res.set(kEventStreamHeader, id);
  return res;
}

}  // namespace

void RegisterEventRoutes(App& app, Router& r) {
  r.Add({"GET", "/api/v2/events", Access::kToken, "", [&app](RequestContext& c) { return OpenStream(app, c); }});
}

}  // namespace verbatim::api
