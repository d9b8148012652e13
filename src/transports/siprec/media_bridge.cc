#include "transports/siprec/media_bridge.h"

#include <algorithm>

#include "core/ids.h"
#include "core/log.h"

namespace verbatim::api {
namespace {

store::Actor SystemActor(const std::string& source) {
  return {"system", source, source == "siprec" ? "SIPREC recorder" : "AudioHook ingest", ""};
}

// An allowed action the system took on a conversation, as the audit log keeps
// it; `details` follow the explanation's decision, action, resource and principal.
store::AuditEvent SystemAuditEvent(const store::Actor& actor, std::string method, std::string path, std::string action,
                                   const std::string& conversation_id, TimePoint at, json::object details) {
  store::AuditEvent e;
  e.context_id = NewContextId();
  e.at = at;
  e.actor = actor;
  e.method = std::move(method);
  e.path = std::move(path);
  e.action = std::move(action);
  e.resource = "conversation/" + conversation_id;
  e.conversation_id = conversation_id;
  e.decision = "allow";
  e.status = 200;
  json::object expl{{"decision", "allow"}, {"action", e.action}, {"resource", e.resource},
                    {"principal", json::object{{"type", "system"}, {"id", actor.principal_id},
                                               {"name", actor.principal_name}}}};
  for (auto& kv : details) expl[kv.key()] = std::move(kv.value());
  e.explanation_json = json::serialize(expl);
  return e;
}

}  // namespace

Result<store::Recording> MediaBridge::Act(const std::string& conversation_id, RecordingAction action,
                                          const std::string& source, const std::string& reason) {
  const store::AuditEvent audit =
      SystemAuditEvent(SystemActor(source), source == "siprec" ? "SIP" : "WS", "media/" + source,
                       std::string("recording:recording:") + ToString(action), conversation_id, app_.clock().Now(),
                       {{"reason", reason}});
  auto outcome = app_.store().ApplyRecordingAction(conversation_id, action, audit.at, audit.actor, reason,
                                                   audit.context_id, &audit);
  if (!outcome.ok()) return outcome.status();
  if (outcome->changed) {
    app_.metrics().Inc("verbatim_recording_transitions_total", {{"action", ToString(action)}});
    app_.NotifyRecordingChanged(conversation_id, outcome->recording);
  }
  return outcome->recording;
}

Result<media::capture::Attachment> MediaBridge::Attach(const media::capture::SessionSpec& spec) {
  media::capture::Attachment a;
  std::optional<store::Conversation> conv;
  if (spec.conversation_id) {
    auto found = app_.store().GetConversation(*spec.conversation_id);
    if (found.ok()) conv = std::move(*found);
  }
  if (!conv && !spec.external_id.empty()) {
    auto found = app_.store().FindConversationByExternalId(spec.external_id);
    if (!found.ok()) return found.status();
    if (*found && (*found)->state == "connected") conv = std::move(**found);
  }
  if (conv) {
    // Ownership before state: an ended conversation of another source is that source's business.
    if (spec.owner.empty() || conv->owner != spec.owner)
      return Status::PermissionDenied(
          "conversation.not.owned",
          "Conversation " + conv->id +
              " belongs to another media source: a session may join only a conversation its own trunk or "
              "integration created, or one created through the API with it as mediaOwner (docs/sip-trunks.md).");
    if (conv->ended_at)
      return Status::FailedPrecondition("conversation.ended", "Conversation " + conv->id + " has ended.");
    for (const auto& p : spec.participants) {
      bool known = std::any_of(conv->participants.begin(), conv->participants.end(),
                               [&](const store::Participant& q) { return q.name == p.name; });
      if (!known) {
        Status s = app_.store().AddParticipant(conv->id, {p.id.empty() ? NewUuid() : p.id, p.name, p.purpose});
        if (!s.ok()) return s;
      }
    }
    a.conversation_id = conv->id;
  } else {
    store::Conversation c;
    c.id = spec.conversation_id && IsUuid(*spec.conversation_id) ? *spec.conversation_id : NewUuid();
    c.started_at = app_.clock().Now();
    c.external_id = spec.external_id.substr(0, 256);
    c.created_by = spec.source;
    c.owner = spec.owner;
    for (const auto& p : spec.participants)
      c.participants.push_back({p.id.empty() || !IsUuid(p.id) ? NewUuid() : p.id, p.name, p.purpose});
    if (Status s = app_.store().CreateConversation(c); !s.ok()) return s;
    a.conversation_id = c.id;
    a.created = true;
  }

  // One live session per conversation in the whole cluster: a live node's
  // claim refuses this one (media.busy); a lapsed node's is interrupted.
  const store::MediaSessionClaim claim{a.conversation_id, node_id_, spec.source, app_.clock().Now()};
  auto superseded = app_.store().ClaimMediaSession(claim, claim.opened_at);
  if (!superseded.ok()) {
    if (a.created) Detach(a.conversation_id, true, "media session not claimed");
    return superseded.status();
  }
  if (*superseded) RecordInterrupted({**superseded}, claim.opened_at, service::InterruptCause::kLeaseExpired);
  {
    MutexLock lock(mu_);
    claims_[a.conversation_id] = claim;
  }

  auto attached = [&]() -> Result<media::capture::Attachment> {
    auto settings = app_.store().GetSettings();
    if (!settings.ok()) return settings.status();
    a.pause_behavior = settings->pause_behavior;
    auto rec = app_.store().GetRecording(a.conversation_id);
    if (!rec.ok()) return rec.status();
    if (settings->auto_start && rec->state == RecordingState::kNone) {
      rec = Act(a.conversation_id, RecordingAction::kStart, spec.source, "autoStart: " + spec.source + " session");
      if (!rec.ok()) return rec.status();
    }
    a.state = rec->state;
    bool open = rec->state == RecordingState::kActive || rec->state == RecordingState::kPaused;
    a.current_segment = open && !rec->segments.empty() ? rec->segments.back().index : 0;
    a.next_segment = static_cast<int>(rec->segments.size()) + 1;
    return a;
  }();
  if (!attached.ok()) Detach(a.conversation_id, a.created, "media session not attached");
  return attached;
}

void MediaBridge::Release(const std::string& conversation_id) {
  {
    MutexLock lock(mu_);
    if (claims_.erase(conversation_id) == 0) return;
  }
  if (Status s = app_.store().ReleaseMediaSession(conversation_id, node_id_); !s.ok()) {
    // Held, it would refuse every later session for the conversation for as
    // long as this node lives: retried every presence round.
    Log(LogLevel::kWarn, "media session claim not released; retrying",
        {{"conversationId", conversation_id}, {"error", s.message()}});
    MutexLock lock(mu_);
    unreleased_.insert(conversation_id);
  }
}

void MediaBridge::RetryReleases() {
  std::set<std::string> pending;
  {
    MutexLock lock(mu_);
    pending.swap(unreleased_);
  }
  for (const auto& id : pending) {
    {
      MutexLock lock(mu_);
      if (claims_.count(id)) continue;  // a new session here holds it again
    }
    if (!app_.store().ReleaseMediaSession(id, node_id_).ok()) {
      MutexLock lock(mu_);
      unreleased_.insert(id);
    }
  }
}

std::vector<store::MediaSessionClaim> MediaBridge::Claims() const {
  MutexLock lock(mu_);
  std::vector<store::MediaSessionClaim> out;
  out.reserve(claims_.size());
  for (const auto& [id, c] : claims_) out.push_back(c);
  return out;
}

void MediaBridge::RecordInterrupted(const std::vector<store::MediaSessionClaim>& ended, TimePoint at,
                                    service::InterruptCause cause) {
  const store::Actor self{"system", "node:" + node_id_, "verbatim node " + node_id_, ""};
  for (const auto& c : ended) {
    const std::string session = "the " + c.transport + " session opened " + FormatRfc3339(c.opened_at);
    std::string reason;
    switch (cause) {
      case service::InterruptCause::kLeaseExpired:
        reason = "Node " + c.node_id + " stopped renewing its lease: " + session +
                 " on it is interrupted (docs/deployment.md, \"Media sessions and node failure\").";
        break;
      case service::InterruptCause::kNodeRestarted:
        reason = "Node " + c.node_id + " started again: " + session +
                 " in its previous run is interrupted; its partial files are recovered.";
        break;
      case service::InterruptCause::kNodeStopped:
        reason = "Node " + c.node_id + " stopped: " + session + " on it is interrupted; its files are finished.";
        break;
    }
    app_.audit().Record(SystemAuditEvent(self, "LEASE", "media/" + c.transport, "media:session:interrupt",
                                         c.conversation_id, at,
                                         {{"node", c.node_id}, {"transport", c.transport}, {"reason", reason}}));
    app_.metrics().Inc("verbatim_media_sessions_interrupted_total", {{"transport", c.transport}});
  }
}

void MediaBridge::Detach(const std::string& conversation_id, bool created, const std::string& reason) {
  Release(conversation_id);
  if (!created) return;  // joined an existing conversation: its owner ends it
  auto done = app_.store().DisconnectConversation(conversation_id, app_.clock().Now(), SystemActor("media"),
                                                  NewContextId());
  if (!done.ok() && done.status().code() != "conversation.ended") {
    Log(LogLevel::kError, "disconnect after media end failed",
        {{"conversationId", conversation_id}, {"error", done.status().message()}, {"reason", reason}});
    return;
  }
  if (auto rec = app_.store().GetRecording(conversation_id); rec.ok())
    app_.NotifyRecordingChanged(conversation_id, *rec);
}

Status MediaBridge::RequestAction(const std::string& conversation_id, RecordingAction action,
                                  const std::string& reason) {
  auto r = Act(conversation_id, action, "siprec", reason);
  return r.ok() ? Status::Ok() : r.status();
}

void MediaBridge::MediaFileUpdated(const std::string& conversation_id, const media::capture::MediaFileInfo& f) {
  store::MediaFile m;
  m.segment = f.segment;
  m.path = f.relative_path;
  m.channels = f.channels;
  m.sample_rate = f.sample_rate;
  m.bytes = f.bytes;
  m.duration_ms = f.sample_rate > 0 ? f.frames * 1000 / f.sample_rate : 0;
  m.status = f.complete ? "complete" : "recording";
  m.channel_labels = f.channel_labels;
  m.updated_at = app_.clock().Now();
  m.node_id = node_id_;
  if (Status s = app_.store().UpsertMediaFile(conversation_id, m); !s.ok())
    Log(LogLevel::kError, "media catalog update failed", {{"conversationId", conversation_id}, {"error", s.message()}});
}

}  // namespace verbatim::api
