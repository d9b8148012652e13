#include "store/store_errors.h"

namespace verbatim::store {

Status ConversationNotFound(const std::string& id) {
  return Status::NotFound("conversation.not.found", "Conversation '" + id + "' does not exist.");
}

Status ConversationEnded(const Conversation& c) {
  std::string when = c.ended_at ? " at " + FormatRfc3339(*c.ended_at) : "";
  return Status::FailedPrecondition(
      "conversation.ended", "Conversation '" + c.id + "' ended" + when + "; its recording can no longer be changed.");
}

Status InvalidTransition(const std::string& id, RecordingState from, RecordingAction action) {
  std::string allowed;
  for (RecordingAction a : AllowedActions(from)) allowed += (allowed.empty() ? "" : ", ") + std::string(ToString(a));
  return Status::FailedPrecondition("recording.invalid.transition",
                                    std::string("Cannot ") + ToString(action) + " the recording of conversation '" +
                                        id + "': it is " + ToString(from) + ". Allowed actions: " + allowed + ".");
}

Status ClientNotFound(const std::string& id) {
  return Status::NotFound("client.not.found", "OAuth client '" + id + "' does not exist.");
}

Status RoleNotFound(const std::string& id) {
  return Status::NotFound("role.not.found", "Role '" + id + "' does not exist.");
}

Status RoleNameTaken(const std::string& name) {
  return Status::AlreadyExists("role.name.taken", "A role named '" + name + "' already exists.");
}

Status IntegrationNotFound() {
  return Status::NotFound("integration.not.found", "The media integration does not exist.");
}

Status UserNotFound(const std::string& id) {
  return Status::NotFound("user.not.found", "User '" + id + "' does not exist.");
}

Status UserNameTaken(const std::string& username) {
  return Status::AlreadyExists("user.name.taken", "A user named '" + username + "' already exists.");
}

Status CodeNotFound() {
  return Status::NotFound("code.not.found", "The authorization code does not exist.");
}

Status RefreshNotFound() {
  return Status::NotFound("refresh.not.found", "The refresh token does not exist.");
}

Status TrunkNotFound(const std::string& id) {
  return Status::NotFound("trunk.not.found", "SIP trunk '" + id + "' does not exist.");
}

Status WebhookNotFound(const std::string& id) {
  return Status::NotFound("webhook.not.found", "Webhook '" + id + "' does not exist.");
}

Status MediaBusy(const MediaSessionClaim& held) {
  return Status::FailedPrecondition("media.busy", "Conversation " + held.conversation_id +
                                                      " already has a live media session (" + held.transport +
                                                      ", on node " + held.node_id + ").");
}

Status WebhookCursorMoved(const std::string& id) {
  return Status::FailedPrecondition("webhook.cursor.moved",
                                    "Webhook '" + id + "': another dispatcher queued these changes first.");
}

Status TrunkNameTaken(const std::string& name) {
  return Status::AlreadyExists("trunk.name.taken", "A SIP trunk named '" + name + "' already exists.");
}

Status KeyExists(const std::string& kid) {
  return Status::AlreadyExists("key.exists", "A signing key with kid '" + kid + "' already exists.");
}

Status KekCheckChanged() {
  return Status::FailedPrecondition("kek.check.changed",
                                    "Another process bound or rotated the key-encryption key meanwhile.");
}

Status SchemaTooNew(int version, int latest) {
  return Status::FailedPrecondition("store.version.unsupported",
                                    "The database has schema version " + std::to_string(version) +
                                        ", newer than this verbatim understands (" + std::to_string(latest) +
                                        "). Use a newer verbatim binary.");
}

Status StoreUnavailable(std::string_view what) {
  return Status::Unavailable("store.unavailable",
                             std::string(what) +
                                 " The request may not have been carried out: retry in a few seconds. If it persists, "
                                 "an operator should check the database and the server log (docs/deployment.md).");
}

Status Refuse(ChangeRefused* refused, Status s) {
  if (refused != nullptr && s.kind() == Status::Kind::kNotFound) {
    *refused = {};
    refused->reason = ChangeRefused::Reason::kConversationNotFound;
  }
  return s;
}

Status Refuse(ChangeRefused* refused, Status s, const Conversation& ended) {
  if (refused != nullptr) {
    *refused = {};
    refused->reason = ChangeRefused::Reason::kConversationEnded;
    refused->ended_at = ended.ended_at;
  }
  return s;
}

Status Refuse(ChangeRefused* refused, Status s, RecordingState state) {
  if (refused != nullptr) {
    *refused = {};
    refused->reason = ChangeRefused::Reason::kInvalidTransition;
    refused->state = state;
  }
  return s;
}

}  // namespace verbatim::store
