// JSON representations of store records, in one place so every endpoint
// shows a thing the same way. Never includes secrets or their hashes.
#pragma once

#include "service/insight.h"

#include "authz/catalog.h"
#include "core/json.h"
#include "store/model.h"

namespace verbatim::api {

json::object ConversationJson(const store::Conversation& c);
// Who did something: {type, id, name}.
json::object ActorJson(const store::Actor& a);
json::object SegmentJson(const store::Segment& s);
json::object TransitionJson(const store::Transition& t);
// `ended`: the conversation is disconnected, so no action is allowed any more.
json::object RecordingJson(const store::Recording& r, const std::string& media_base_url, bool ended = false);
// [{id, name}] for role ids (name omitted for a role that no longer exists).
json::array RoleRefsJson(const std::vector<std::string>& role_ids, const std::vector<authz::RoleDef>& roles);
json::object ClientJson(const store::OAuthClient& c, const std::vector<authz::RoleDef>& roles);
// A user as GET /api/v2/users shows it (docs/users.md); never the password hash.
json::object UserJson(const store::User& u, const std::vector<authz::RoleDef>& roles);
using service::RoleJson;  // service/insight.h
json::object AuditEventJson(const store::AuditEvent& e);
// One change-log entry (docs/changes.md): {id, at, kind, subject, by, contextId, changes}.
json::object ChangeEntryJson(const store::ChangeEntry& e);
json::value OptionalTime(const std::optional<TimePoint>& t);

}  // namespace verbatim::api
