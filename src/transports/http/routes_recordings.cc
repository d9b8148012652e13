// Recording control (docs/api.md §4): start/stop/pause/resume, state, metadata.
// Every transition commits, with its audit event, before the response.
#include <algorithm>

#include "transports/http/app.h"
#include "transports/http/views.h"
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
  const std::string why = reason->value_or("");
  if (auto bad = service::Recordings::CheckReason(why)) return app.Refuse(ctx, *bad);

  auto outcome = app.recordings().Apply(*ctx.decision, *ctx.principal, *id, action, why, ctx.context_id,
                                        [&](const authz::Decision&) { return app.AuditEventFor(ctx, 200); });
  if (!outcome.ok()) return app.Refuse(ctx, outcome.refusal());
  ctx.audit_committed = true;
  const auto& o = *outcome;
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
  service::MetadataPatch patch;
  auto labels = GetStringArray(*body, "labels");
  if (!labels.ok()) return app.BadRequest(ctx, labels.status().message(), "labels", "array of strings");
  if (*labels) patch.labels = **labels;
  if (auto it = body->find("retentionDays"); it != body->end()) {
    if (it->value().is_null()) {
      patch.retention_days.emplace(std::nullopt);
    } else {
      auto days = GetInt(*body, "retentionDays");
      if (!days.ok())
        return app.BadRequest(ctx, "Field 'retentionDays' must be an integer from 1 to 36500, or null.", "retentionDays");
      patch.retention_days.emplace(**days);
    }
  }
  auto notes = GetString(*body, "notes");
  if (!notes.ok()) return app.BadRequest(ctx, notes.status().message(), "notes", "string");
  if (*notes) patch.notes = **notes;
  auto updated = app.recordings().UpdateMetadata(*ctx.decision, *id, patch);
  if (!updated.ok()) return app.Refuse(ctx, updated.refusal());
  return JsonResponse(200, RecordingJson(*updated, MediaUrl(*id), updated->conversation_ended));
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
