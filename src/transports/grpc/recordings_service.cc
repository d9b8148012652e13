// verbatim.v1.Recordings: recording control over gRPC, through the same
// service::Recordings use cases as POST /api/v2/recordings/conversations/{id}/actions/*.
#include <condition_variable>
#include <deque>

#include "core/mutex.h"
#include "transports/grpc/messages.h"
#include "transports/grpc/services.h"

namespace verbatim::transports::grpc {
namespace {

constexpr char kRpcPrefix[] = "/verbatim.v1.Recordings/";
// A Watch whose client reads slower than transitions happen gets this many
// events queued, then ends with RESOURCE_EXHAUSTED (it may watch again).
constexpr size_t kWatchQueueMax = 256;
// How often a Watch with nothing to send checks for a cancelled call or a
// server shutdown.
constexpr auto kWatchPoll = std::chrono::milliseconds(200);

void FillEvent(v1::RecordingEvent& e, v1::RecordingEvent::Kind kind, const store::Recording& r, bool with_transition) {
  e.set_kind(kind);
  e.set_conversation_id(r.conversation_id);
  e.set_state(ToString(r.state));
  if (with_transition && !r.timeline.empty()) Fill(*e.mutable_transition(), r.timeline.back());
  if (!r.conversation_ended)
    for (auto a : AllowedActions(r.state)) e.add_allowed_actions(ToString(a));
  e.set_version(r.version);
}

// The events of one Watch, filled by the feed on the publishing thread.
struct WatchQueue {
  Mutex mu;
  std::condition_variable wake;
  std::deque<store::Recording> events GUARDED_BY(mu);
  bool overflow GUARDED_BY(mu) = false;
};

}  // namespace

::grpc::Status RecordingsService::Act(::grpc::ServerContext* c, RecordingAction action,
                                      const v1::RecordingActionRequest* q, v1::RecordingActionResponse* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + (action == RecordingAction::kStart   ? "Start"
                                                 : action == RecordingAction::kStop  ? "Stop"
                                                 : action == RecordingAction::kPause ? "Pause"
                                                                                     : "Resume"));
  if (!call.AuthorizeConversation(std::string("recording:recording:") + ToString(action), q->conversation_id()))
    return call.status();
  if (auto bad = service::Recordings::CheckReason(q->reason())) return call.Refuse(*bad);
  auto outcome = call.core().recordings.Apply(call.decision(), call.principal(), q->conversation_id(), action,
                                              q->reason(), call.context_id(),
                                              [&](const authz::Decision& d) { return call.SuccessEvent(d); });
  if (!outcome.ok()) return call.Refuse(outcome.refusal());
  const auto& o = *outcome;
  r->set_conversation_id(q->conversation_id());
  r->set_state(ToString(o.recording.state));
  r->set_changed(o.changed);
  if (!o.recording.segments.empty()) Fill(*r->mutable_segment(), o.recording.segments.back());
  Fill(*r->mutable_transition(), o.transition);
  for (auto a : AllowedActions(o.recording.state)) r->add_allowed_actions(ToString(a));
  return call.Ok();
}

::grpc::Status RecordingsService::Start(::grpc::ServerContext* c, const v1::RecordingActionRequest* q,
                                        v1::RecordingActionResponse* r) {
  return Act(c, RecordingAction::kStart, q, r);
}
::grpc::Status RecordingsService::Stop(::grpc::ServerContext* c, const v1::RecordingActionRequest* q,
                                       v1::RecordingActionResponse* r) {
  return Act(c, RecordingAction::kStop, q, r);
}
::grpc::Status RecordingsService::Pause(::grpc::ServerContext* c, const v1::RecordingActionRequest* q,
                                        v1::RecordingActionResponse* r) {
  return Act(c, RecordingAction::kPause, q, r);
}
::grpc::Status RecordingsService::Resume(::grpc::ServerContext* c, const v1::RecordingActionRequest* q,
                                         v1::RecordingActionResponse* r) {
  return Act(c, RecordingAction::kResume, q, r);
}

::grpc::Status RecordingsService::Get(::grpc::ServerContext* c, const v1::GetRecordingRequest* q, v1::Recording* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "Get");
  if (!call.AuthorizeConversation("recording:recording:view", q->conversation_id())) return call.status();
  auto rec = call.core().recordings.Get(call.decision(), q->conversation_id());
  if (!rec.ok()) return call.Refuse(rec.refusal());
  Fill(*r, *rec, rec->conversation_ended);
  return call.Ok();
}

::grpc::Status RecordingsService::UpdateMetadata(::grpc::ServerContext* c, const v1::UpdateMetadataRequest* q,
                                                 v1::Recording* r) {
  Call call(deps_, c, std::string(kRpcPrefix) + "UpdateMetadata");
  if (!call.AuthorizeConversation("recording:recording:edit", q->conversation_id())) return call.status();
  // An empty mask replaces all three, as a full PUT would.
  bool labels = q->update_mask().paths_size() == 0, days = labels, notes = labels;
  for (const auto& path : q->update_mask().paths()) {
    if (path == "labels") labels = true;
    else if (path == "retention_days" || path == "retentionDays") days = true;
    else if (path == "notes") notes = true;
    else
      return call.Refuse(service::Refusal::Invalid(
          "Unknown update_mask path '" + path.substr(0, 64) + "'. Paths are: labels, retention_days, notes.",
          "update_mask", "labels, retention_days, notes"));
  }
  service::MetadataPatch patch;
  const auto& m = q->metadata();
  if (labels) patch.labels = std::vector<std::string>(m.labels().begin(), m.labels().end());
  if (days) patch.retention_days = m.has_retention_days() ? std::optional<int64_t>(m.retention_days()) : std::nullopt;
  if (notes) patch.notes = m.notes();
  auto updated = call.core().recordings.UpdateMetadata(call.decision(), q->conversation_id(), patch);
  if (!updated.ok()) return call.Refuse(updated.refusal());
  Fill(*r, *updated, updated->conversation_ended);
  return call.Ok();
}

::grpc::Status RecordingsService::Watch(::grpc::ServerContext* c, const v1::WatchRequest* q,
                                        ::grpc::ServerWriter<v1::RecordingEvent>* w) {
  Call call(deps_, c, std::string(kRpcPrefix) + "Watch");
  if (!call.AuthorizeConversation("recording:recording:view", q->conversation_id())) return call.status();
  // Bounded: each Watch holds a server thread while it lasts.
  struct Slot {
    std::atomic<size_t>& n;
    ~Slot() { n.fetch_sub(1); }
  } slot{watches_};
  if (watches_.fetch_add(1) >= max_watches_)
    return call.Refuse(service::Refusal::Failed(Status::ResourceExhausted(
        "too.many.watches", "This server already serves " + std::to_string(max_watches_) +
                                " Watch streams; close one, or retry later.")));

  // Subscribe before the snapshot, so no transition falls between the two.
  const std::string id = q->conversation_id();
  auto queue = std::make_shared<WatchQueue>();
  auto& feed = call.core().feed;
  const uint64_t sub = feed.Subscribe([queue, id](const std::string& conversation_id, const store::Recording& after) {
    if (conversation_id != id) return;
    MutexLock lock(queue->mu);
    if (queue->events.size() >= kWatchQueueMax) {
      queue->overflow = true;
    } else {
      queue->events.push_back(after);
    }
    queue->wake.notify_one();
  });
  // Several nodes: changes committed through another node reach this Watch too.
  feed.AddInterest(id);
  struct Unsubscribe {
    service::RecordingFeed& feed;
    uint64_t sub;
    const std::string& id;
    ~Unsubscribe() {
      feed.RemoveInterest(id);
      feed.Unsubscribe(sub);
    }
  } unsubscribe{feed, sub, id};

  auto rec = call.core().recordings.Get(call.decision(), id);
  if (!rec.ok()) return call.Refuse(rec.refusal());
  call.Ok();  // the audit event records the allowed Watch when the stream ends
  {
    v1::RecordingEvent first;
    FillEvent(first, v1::RecordingEvent::SNAPSHOT, *rec, /*with_transition=*/false);
    if (!w->Write(first)) return ::grpc::Status::CANCELLED;
  }
  if (rec->conversation_ended) {
    v1::RecordingEvent end;
    FillEvent(end, v1::RecordingEvent::ENDED, *rec, false);
    w->Write(end);
    return ::grpc::Status::OK;
  }
  int64_t seen = rec->version;
  for (;;) {
    std::deque<store::Recording> batch;
    bool overflow = false;
    {
      MutexLock lock(queue->mu);
      queue->wake.wait_for(lock.native(), kWatchPoll, [&] {
        queue->mu.AssertHeld();
        return !queue->events.empty() || queue->overflow;
      });
      batch.swap(queue->events);
      overflow = queue->overflow;
    }
    if (c->IsCancelled() || stopping_.load()) return ::grpc::Status::CANCELLED;
    for (const auto& after : batch) {
      if (after.version != 0 && after.version <= seen && !after.conversation_ended) continue;  // in the snapshot already
      seen = std::max(seen, after.version);
      v1::RecordingEvent e;
      const bool ended = after.conversation_ended;
      FillEvent(e, ended ? v1::RecordingEvent::ENDED : v1::RecordingEvent::TRANSITION, after, true);
      if (!w->Write(e)) return ::grpc::Status::CANCELLED;
      if (ended) return ::grpc::Status::OK;
    }
    if (overflow)
      return ::grpc::Status(::grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "This Watch fell more than " + std::to_string(kWatchQueueMax) +
                                " events behind; watch again (the first event is the current state).");
  }
}

}  // namespace verbatim::transports::grpc
