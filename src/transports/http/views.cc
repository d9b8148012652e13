#include "transports/http/views.h"

#include "store/change_diff.h"
#include "transports/siprec/media_owner.h"

namespace verbatim::api {

json::value OptionalTime(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return json::value(FormatRfc3339(*t));
}

json::object ConversationJson(const store::Conversation& c) {
  json::object o;
  o["id"] = c.id;
  o["state"] = c.state;
  o["startedAt"] = FormatRfc3339(c.started_at);
  o["endedAt"] = OptionalTime(c.ended_at);
  json::array parts;
  for (const auto& p : c.participants) {
    json::object po;
    po["id"] = p.id;
    po["name"] = p.name;
    po["purpose"] = p.purpose;
    parts.emplace_back(std::move(po));
  }
  o["participants"] = std::move(parts);
  if (!c.external_id.empty()) o["externalId"] = c.external_id;
  if (!c.owner.empty()) o["mediaOwner"] = MediaOwnerJson(c.owner);
  return o;
}

json::object ActorJson(const store::Actor& a) {
  json::object o;
  o["type"] = a.principal_type;
  o["id"] = a.principal_id;
  o["name"] = a.principal_name;
  return o;
}

json::object SegmentJson(const store::Segment& s) {
  json::object o;
  o["index"] = s.index;
  o["startedAt"] = FormatRfc3339(s.started_at);
  o["endedAt"] = OptionalTime(s.ended_at);
  return o;
}

json::object TransitionJson(const store::Transition& t) {
  json::object o;
  o["seq"] = t.seq;
  o["action"] = t.action;
  o["from"] = ToString(t.from);
  o["to"] = ToString(t.to);
  o["segment"] = t.segment;
  o["at"] = FormatRfc3339(t.at);
  o["principal"] = ActorJson(t.actor);
  o["clientId"] = t.actor.client_id;
  o["reason"] = t.reason;
  o["contextId"] = t.context_id;
  return o;
}

json::object RecordingJson(const store::Recording& r, const std::string& media_base_url, bool ended) {
  json::object o;
  o["conversationId"] = r.conversation_id;
  o["state"] = ToString(r.state);
  json::array segs;
  for (const auto& s : r.segments) segs.emplace_back(SegmentJson(s));
  o["segments"] = std::move(segs);
  json::array timeline;
  for (const auto& t : r.timeline) timeline.emplace_back(TransitionJson(t));
  o["timeline"] = std::move(timeline);
  json::object meta;
  meta["labels"] = ToJsonArray(r.metadata.labels);
  meta["retentionDays"] = r.metadata.retention_days ? json::value(*r.metadata.retention_days) : json::value(nullptr);
  meta["notes"] = r.metadata.notes;
  o["metadata"] = std::move(meta);
  json::array media;
  for (const auto& m : r.media) {
    json::object mo;
    mo["segment"] = m.segment;
    mo["status"] = m.status;
    mo["format"] = m.format;
    mo["channels"] = m.channels;
    mo["channelLabels"] = ToJsonArray(m.channel_labels);
    mo["sampleRate"] = m.sample_rate;
    mo["durationMs"] = m.duration_ms;
    mo["bytes"] = m.bytes;
    mo["url"] = media_base_url + "?segment=" + std::to_string(m.segment);
    mo["node"] = m.node_id;
    mo["interruptedAt"] = m.interrupted_at ? json::value(FormatRfc3339(*m.interrupted_at)) : json::value(nullptr);
    media.emplace_back(std::move(mo));
  }
  o["media"] = std::move(media);
  json::array allowed;
  if (!ended)
    for (auto a : AllowedActions(r.state)) allowed.emplace_back(ToString(a));
  o["allowedActions"] = std::move(allowed);
  o["version"] = r.version;
  return o;
}

json::array RoleRefsJson(const std::vector<std::string>& role_ids, const std::vector<authz::RoleDef>& roles) {
  json::array out;
  for (const auto& id : role_ids) {
    json::object r;
    r["id"] = id;
    for (const auto& def : roles)
      if (def.id == id) r["name"] = def.name;
    out.emplace_back(std::move(r));
  }
  return out;
}

json::object ClientJson(const store::OAuthClient& c, const std::vector<authz::RoleDef>& roles) {
  json::object o;
  o["id"] = c.id;
  o["name"] = c.name;
  o["description"] = c.description;
  o["allowedScopes"] = ToJsonArray(c.allowed_scopes);
  o["allowedGrantTypes"] = ToJsonArray(c.allowed_grant_types);
  o["clientType"] = c.client_type;
  o["redirectUris"] = ToJsonArray(c.redirect_uris);
  o["roles"] = RoleRefsJson(c.role_ids, roles);
  o["accessTokenValiditySeconds"] = c.access_token_validity_seconds;
  o["dateCreated"] = FormatRfc3339(c.created_at);
  o["dateModified"] = FormatRfc3339(c.updated_at);
  o["enabled"] = c.enabled;
  o["tokensValidAfter"] = OptionalTime(c.tokens_valid_after);
  o["tokensValidAfterReason"] = c.tokens_valid_after ? json::value(c.tokens_valid_after_reason) : json::value(nullptr);
  return o;
}

json::object UserJson(const store::User& u, const std::vector<authz::RoleDef>& roles) {
  json::object o;
  o["id"] = u.id;
  o["username"] = u.username;
  o["displayName"] = u.display_name;
  o["email"] = u.email;
  o["roles"] = RoleRefsJson(u.role_ids, roles);
  o["enabled"] = u.enabled;
  o["dateCreated"] = FormatRfc3339(u.created_at);
  o["dateModified"] = FormatRfc3339(u.updated_at);
  o["tokensValidAfter"] = OptionalTime(u.tokens_valid_after);
  o["tokensValidAfterReason"] = u.tokens_valid_after ? json::value(u.tokens_valid_after_reason) : json::value(nullptr);
  return o;
}

json::object AuditEventJson(const store::AuditEvent& e) {
  json::object o;
  o["contextId"] = e.context_id;
  o["at"] = FormatRfc3339(e.at);
  o["principal"] = ActorJson(e.actor);
  o["clientId"] = e.actor.client_id;
  o["method"] = e.method;
  o["path"] = e.path;
  o["action"] = e.action;
  o["resource"] = e.resource;
  o["conversationId"] = e.conversation_id.empty() ? json::value(nullptr) : json::value(e.conversation_id);
  o["decision"] = e.decision;
  o["layer"] = e.layer.empty() ? json::value(nullptr) : json::value(e.layer);
  o["code"] = e.code.empty() ? json::value(nullptr) : json::value(e.code);
  o["status"] = e.status;
  o["clientAddress"] = e.client_address.empty() ? json::value(nullptr) : json::value(e.client_address);
  auto expl = ParseJsonStrict(e.explanation_json);
  // An aggregate of unauthenticated denials (api/denial_aggregator.h) keeps
  // its counts beside the sample's explanation; they are shown beside it too.
  json::value aggregate = nullptr;
  if (expl.ok() && expl->is_object()) {
    if (auto* a = expl->as_object().if_contains("aggregate")) {
      aggregate = std::move(*a);
      expl->as_object().erase("aggregate");
      if (expl->as_object().empty()) *expl = nullptr;  // a sample refused before authorization had none
    }
  }
  o["explanation"] = expl.ok() ? std::move(*expl) : json::value(nullptr);
  o["aggregate"] = std::move(aggregate);
  return o;
}

json::object ChangeEntryJson(const store::ChangeEntry& e) {
  json::object o;
  o["id"] = e.id;
  o["at"] = FormatRfc3339(e.at);
  o["kind"] = e.kind;
  json::object subject;
  subject["type"] = e.subject_type;
  subject["id"] = e.subject_id;
  subject["name"] = e.subject_name;
  o["subject"] = std::move(subject);
  json::object by = ActorJson(e.actor);
  by["clientId"] = e.actor.client_id;
  o["by"] = std::move(by);
  o["contextId"] = e.context_id.empty() ? json::value(nullptr) : json::value(e.context_id);
  o["changes"] = store::FieldsJson(e.fields);
  return o;
}

}  // namespace verbatim::api
