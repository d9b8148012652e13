// The refusals every Store implementation returns, in one place so that the
// SQLite and PostgreSQL stores say exactly the same thing (the conformance
// suite in tests/unit/store/ pins codes and messages for both).
#pragma once

#include <string>
#include <string_view>

#include "core/recording_state.h"
#include "core/status.h"
#include "store/model.h"

namespace verbatim::store {

Status ConversationNotFound(const std::string& id);
// FailedPrecondition "conversation.ended", naming when it ended.
Status ConversationEnded(const Conversation& c);
// FailedPrecondition "recording.invalid.transition", naming the state and the allowed actions.
Status InvalidTransition(const std::string& id, RecordingState from, RecordingAction action);
// Fill `refused` (when given) with the facts of a refusal, and return `s`:
// not found (any other failure passes through untouched), ended, invalid transition.
Status Refuse(ChangeRefused* refused, Status s);
Status Refuse(ChangeRefused* refused, Status s, const Conversation& ended);
Status Refuse(ChangeRefused* refused, Status s, RecordingState state);
Status ClientNotFound(const std::string& id);
Status RoleNotFound(const std::string& id);
Status RoleNameTaken(const std::string& name);
Status IntegrationNotFound();  // never echoes a presented API key
Status UserNotFound(const std::string& id);
Status UserNameTaken(const std::string& username);
// Sign-in grants are looked up by hash: the refusals never echo it.
Status CodeNotFound();
Status RefreshNotFound();
Status TrunkNotFound(const std::string& id);
Status WebhookNotFound(const std::string& id);
// FailedPrecondition "webhook.cursor.moved": another dispatcher queued these entries first.
Status WebhookCursorMoved(const std::string& id);
// FailedPrecondition "media.busy": a live node holds the conversation's media.
Status MediaBusy(const MediaSessionClaim& held);
Status TrunkNameTaken(const std::string& name);
Status KeyExists(const std::string& kid);
Status KekCheckChanged();
// FailedPrecondition "store.version.unsupported": the database is newer than this binary.
Status SchemaTooNew(int version, int latest);

// Unavailable "store.unavailable": the database cannot be reached (or did not
// answer in time). `what` says which, in words safe to show a client; the
// database's own error goes to the server log, never into the response.
Status StoreUnavailable(std::string_view what);

}  // namespace verbatim::store
