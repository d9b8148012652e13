#include "service/recordings.h"

#include "service/audit_event.h"

namespace verbatim::service {

std::optional<Refusal> Recordings::CheckReason(const std::string& reason) {
  if (reason.size() > 512) return Refusal::Invalid("Field 'reason' must be at most 512 characters.", "reason");
  return std::nullopt;
}

Outcome<store::ActionOutcome> Recordings::Apply(authz::Decision& decision, const authz::Principal& who,
                                                const std::string& id, RecordingAction action,
                                                const std::string& reason, const std::string& context_id,
                                                const SuccessAudit& audit) {
  // The audit event commits in the transition's transaction; it describes the
  // success, and the transport records a denial instead if the store refuses.
  authz::ResourceFound(decision);
  store::AuditEvent event = audit(decision);
  store::ChangeRefused refused;
  auto outcome = store_.ApplyRecordingAction(id, action, clock_.Now(), ActorOf(who), reason,
                                             context_id, &event, &refused);
  if (!outcome.ok()) {
    if (ConcludeRefused(decision, id, refused, action)) return Refusal::Denied();
    return Refusal::Failed(outcome.status());
  }
  if (outcome->changed) {
    metrics_.Inc("verbatim_recording_transitions_total", {{"action", ToString(action)}});
    feed_.Publish(id, outcome->recording);
  }
  return std::move(*outcome);
}

Outcome<store::Recording> Recordings::Get(authz::Decision& decision, const std::string& id) {
  // GetRecording reads the conversation too (conversation_ended): one read transaction.
  auto rec = store_.GetRecording(id);
  if (rec.ok()) {
    authz::ResourceFound(decision);
    return std::move(*rec);
  }
  if (rec.status().kind() == Status::Kind::kNotFound) {
    authz::ResourceNotFound(decision, "conversation", id);
    return Refusal::Denied();
  }
  return Refusal::Failed(rec.status());
}

Outcome<store::Recording> Recordings::UpdateMetadata(authz::Decision& decision, const std::string& id,
                                                     const MetadataPatch& patch) {
  auto rec = Get(decision, id);
  if (!rec.ok()) return rec;
  store::RecordingMetadata m = rec->metadata;
  if (patch.labels) {
    if (patch.labels->size() > 50) return Refusal::Invalid("At most 50 labels.", "labels");
    for (const auto& l : *patch.labels)
      if (l.empty() || l.size() > 64) return Refusal::Invalid("Each label must be 1 to 64 characters.", "labels");
    m.labels = *patch.labels;
  }
  if (patch.retention_days) {
    const auto& days = *patch.retention_days;
    if (days && (*days < 1 || *days > 36500))
      return Refusal::Invalid("Field 'retentionDays' must be an integer from 1 to 36500, or null.", "retentionDays");
    m.retention_days = days ? std::optional<int>(static_cast<int>(*days)) : std::nullopt;
  }
  if (patch.notes) {
    if (patch.notes->size() > 4096) return Refusal::Invalid("Field 'notes' must be at most 4096 characters.", "notes");
    m.notes = *patch.notes;
  }
  auto updated = store_.UpdateRecordingMetadata(id, m);
  if (!updated.ok()) return Refusal::Failed(updated.status());
  updated->conversation_ended = rec->conversation_ended;
  return std::move(*updated);
}

}  // namespace verbatim::service
