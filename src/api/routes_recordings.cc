// Recording control (docs/api.md §4): start/stop/pause/resume, state, metadata.
// Every transition commits, with its audit event, before the response.
#include <algorithm>

#include "api/app.h"
#include "api/views.h"
#include "core/ids.h"

namespace verbatim::api {

namespace {

std::string MediaUrl(const std::string& id) { return "/api/v2/recordings/conversations/" + id + "/media"; }

HttpResponse Action(App& app, RequestContext& ctx, RecordingAction action) {
  HttpResponse out;
  auto id = app.AuthorizePathId(ctx, "conversationId", "conversation", out);
  if (!id) return out;
  auto body = app.JsonBody(ctx, out);
  if (!body) return out;
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "reason")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) + "'. The only field is 'reason'.", k);
  }
  auto reason = GetString(*body, "reason");
  if (!reason.ok()) return app.BadRequest(ctx, reason.status().message(), "reason", "string");
  if (*reason && (*reason)->size() > 512) return app.BadRequest(ctx, "Field 'reason' must be at most 512 characters.", "reason");

  // The audit event commits in the transition's transaction; it describes the
  // success, and is replaced below if the store refuses.
  authz::ResourceFound(*ctx.decision);
  store::AuditEvent audit = app.AuditEventFor(ctx, 200);
  const auto& p = *ctx.principal;
  auto outcome = app.store().ApplyRecordingAction(*id, action, app.clock().Now(), {p.type, p.id, p.name, p.id},
                                                  reason->value_or(""), ctx.context_id, &audit);
  if (!outcome.ok()) {
    const Status& s = outcome.status();
    if (s.code() == "conversation.not.found") {
      authz::ResourceNotFound(*ctx.decision, "conversation", *id);
      return app.Deny(ctx);
    }
    if (s.code() == "conversation.ended") {
      auto conv = app.store().GetConversation(*id);
      if (conv.ok() && conv->ended_at) {
        authz::ConversationEnded(*ctx.decision, *id, *conv->ended_at);
        return app.Deny(ctx);
      }
    }
    if (s.code() == "recording.invalid.transition") {
      auto rec = app.store().GetRecording(*id);
      if (rec.ok()) {
        authz::InvalidTransition(*ctx.decision, rec->state, action);
        return app.Deny(ctx);
      }
    }
    return app.Fail(ctx, s);
  }
  ctx.audit_committed = true;
  const auto& o = *outcome;
  if (o.changed) {
    app.metrics().Inc("verbatim_recording_transitions_total", {{"action", ToString(action)}});
    app.NotifyRecordingChanged(*id, o.recording);
  }
  json::object res;
  res["conversationId"] = *id;
  res["state"] = ToString(o.recording.state);
  res["changed"] = o.changed;
  res["segment"] = o.recording.segments.empty() ? json::value(nullptr) : json::value(SegmentJson(o.recording.segments.back()));
  res["transition"] = TransitionJson(o.transition);
  json::array allowed;
  for (auto a : AllowedActions(o.recording.state)) allowed.emplace_back(ToString(a));
  res["allowedActions"] = std::move(allowed);
  return JsonResponse(200, res);
}

HttpResponse Get(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto id = app.AuthorizePathId(ctx, "conversationId", "conversation", out);
  if (!id) return out;
  auto rec = app.LoadRecording(ctx, *id, out);
  if (!rec) return out;
  authz::ResourceFound(*ctx.decision);
  // GetRecording read the conversation already: no second read transaction.
  return JsonResponse(200, RecordingJson(*rec, MediaUrl(*id), rec->conversation_ended));
}

HttpResponse Patch(App& app, RequestContext& ctx) {
  HttpResponse out;
  auto id = app.AuthorizePathId(ctx, "conversationId", "conversation", out);
  if (!id) return out;
  auto body = app.JsonBody(ctx, out);
  if (!body) return out;
  if (body->contains("state") || body->contains("action")) {
    return ErrorResponse(
        400, "bad.request",
        "The recording state cannot be changed with PATCH. Use POST /api/v2/recordings/conversations/" + *id +
            "/actions/{start|stop|pause|resume} (scope recording:control).",
        ctx.context_id,
        InputProblem("state", "labels, retentionDays, notes",
                     "POST /api/v2/recordings/conversations/" + *id + "/actions/start (or stop, pause, resume)."));
  }
  for (const auto& kv : *body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "labels" && k != "retentionDays" && k != "notes")
      return app.BadRequest(ctx, "Unknown field '" + std::string(k.substr(0, 64)) +
                                     "'. Recording metadata fields are: labels, retentionDays, notes.", k);
  }
  auto rec = app.LoadRecording(ctx, *id, out);
  if (!rec) return out;
  authz::ResourceFound(*ctx.decision);
  store::RecordingMetadata m = rec->metadata;
  auto labels = GetStringArray(*body, "labels");
  if (!labels.ok()) return app.BadRequest(ctx, labels.status().message(), "labels", "array of strings");
  if (*labels) {
    if ((*labels)->size() > 50) return app.BadRequest(ctx, "At most 50 labels.", "labels");
    for (const auto& l : **labels)
      if (l.empty() || l.size() > 64) return app.BadRequest(ctx, "Each label must be 1 to 64 characters.", "labels");
    m.labels = **labels;
  }
  if (auto it = body->find("retentionDays"); it != body->end()) {
    if (it->value().is_null()) {
      m.retention_days.reset();
    } else {
      auto days = GetInt(*body, "retentionDays");
      if (!days.ok() || **days < 1 || **days > 36500)
        return app.BadRequest(ctx, "Field 'retentionDays' must be an integer from 1 to 36500, or null.", "retentionDays");
      m.retention_days = static_cast<int>(**days);
    }
  }
  auto notes = GetString(*body, "notes");
  if (!notes.ok()) return app.BadRequest(ctx, notes.status().message(), "notes", "string");
  if (*notes) {
    if ((*notes)->size() > 4096) return app.BadRequest(ctx, "Field 'notes' must be at most 4096 characters.", "notes");
    m.notes = **notes;
  }
  auto updated = app.store().UpdateRecordingMetadata(*id, m);
  if (!updated.ok()) return app.Fail(ctx, updated.status());
  auto conv = app.store().GetConversation(*id);
  return JsonResponse(200, RecordingJson(*updated, MediaUrl(*id), conv.ok() && conv->ended_at.has_value()));
}

}  // namespace

void RegisterRecordingRoutes(App& app, Router& r) {
  const std::string base = "/api/v2/recordings/conversations/{conversationId}";
  for (auto action : {RecordingAction::kStart, RecordingAction::kStop, RecordingAction::kPause, RecordingAction::kResume}) {
    r.Add({"POST", base + "/actions/" + ToString(action), Access::kPermission,
           std::string("recording:recording:") + ToString(action),
           [&app, action](RequestContext& c) { return Action(app, c, action); }});
  }
  r.Add({"GET", base, Access::kPermission, "recording:recording:view", [&app](RequestContext& c) { return Get(app, c); }});
  r.Add({"PATCH", base, Access::kPermission, "recording:recording:edit",
         [&app](RequestContext& c) { return Patch(app, c); }});
}

}  // namespace verbatim::api
