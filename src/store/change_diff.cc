#include "store/change_diff.h"

#include "core/json.h"

namespace verbatim::store {

namespace {

std::string Text(const json::value& v) { return json::serialize(v); }
std::string Text(const std::string& s) { return Text(json::value(s)); }
std::string Text(const std::vector<std::string>& v) { return Text(json::value(ToJsonArray(v))); }
std::string Text(bool b) { return b ? "true" : "false"; }
std::string Text(int64_t n) { return std::to_string(n); }
std::string Text(int n) { return std::to_string(n); }
std::string Text(const std::optional<TimePoint>& t) { return t ? Text(FormatRfc3339(*t)) : "null"; }

// Collects the fields of one record, before and after; a field whose two
// values are equal is left out of an update.
class Diff {
 public:
  Diff(bool has_before, bool has_after) : has_before_(has_before), has_after_(has_after) {}

  template <class T, class Get>
  void Field(const char* name, const T* before, const T* after, Get get) {
    std::string b = has_before_ ? Text(get(*before)) : std::string();
    std::string a = has_after_ ? Text(get(*after)) : std::string();
    if (has_before_ && has_after_ && a == b) return;
    fields_.push_back({name, std::move(b), std::move(a)});
  }
  // A secret: only whether it changed, never its value or hash.
  void Secret(const char* name, const std::string* before, const std::string* after) {
    if (has_before_ && has_after_ && *before != *after) fields_.push_back({name, "null", Text(std::string("rotated"))});
  }
  std::vector<FieldChange> Take() { return std::move(fields_); }

 private:
  bool has_before_, has_after_;
  std::vector<FieldChange> fields_;
};

const std::string& NameOf(const User& u) { return u.username; }
const std::string& NameOf(const Webhook& w) { return w.url; }
template <class T>
const std::string& NameOf(const T& record) {
  return record.name;
}

template <class T>
std::optional<ChangeEntry> Entry(const char* type, const T* before, const T* after, const ChangeAuthor& by,
                                 std::vector<FieldChange> fields) {
  if (before != nullptr && after != nullptr && fields.empty()) return std::nullopt;
  const T& subject = after != nullptr ? *after : *before;
  ChangeEntry e;
  e.at = by.at;
  e.kind = std::string(type) + (before == nullptr ? ".created" : after == nullptr ? ".deleted" : ".updated");
  e.subject_type = type;
  e.subject_id = subject.id;
  e.subject_name = NameOf(subject);
  e.actor = by.actor;
  e.context_id = by.context_id;
  e.fields = std::move(fields);
  return e;
}

// Member access through a pointer that may be null: Diff only calls `get` on
// the records that exist.
template <class T>
const std::string* Member(const T* record, std::string T::*member) {
  return record != nullptr ? &(record->*member) : nullptr;
}

}  // namespace

std::optional<ChangeEntry> ClientChange(const OAuthClient* before, const OAuthClient* after, const ChangeAuthor& by) {
  Diff d(before != nullptr, after != nullptr);
  using C = OAuthClient;
  d.Field("name", before, after, [](const C& c) { return c.name; });
  d.Field("description", before, after, [](const C& c) { return c.description; });
  d.Field("clientType", before, after, [](const C& c) { return c.client_type; });
  d.Field("allowedScopes", before, after, [](const C& c) { return c.allowed_scopes; });
  d.Field("allowedGrantTypes", before, after, [](const C& c) { return c.allowed_grant_types; });
  d.Field("redirectUris", before, after, [](const C& c) { return c.redirect_uris; });
  d.Field("roleIds", before, after, [](const C& c) { return c.role_ids; });
  d.Field("accessTokenValiditySeconds", before, after, [](const C& c) { return c.access_token_validity_seconds; });
  d.Field("enabled", before, after, [](const C& c) { return c.enabled; });
  d.Secret("secret", Member(before, &C::secret_hash), Member(after, &C::secret_hash));
  d.Field("tokensValidAfter", before, after, [](const C& c) { return c.tokens_valid_after; });
  d.Field("tokensValidAfterReason", before, after, [](const C& c) { return c.tokens_valid_after_reason; });
  return Entry("client", before, after, by, d.Take());
}

std::optional<ChangeEntry> UserChange(const User* before, const User* after, const ChangeAuthor& by) {
  Diff d(before != nullptr, after != nullptr);
  d.Field("username", before, after, [](const User& u) { return u.username; });
  d.Field("displayName", before, after, [](const User& u) { return u.display_name; });
  d.Field("email", before, after, [](const User& u) { return u.email; });
  d.Field("roleIds", before, after, [](const User& u) { return u.role_ids; });
  d.Field("enabled", before, after, [](const User& u) { return u.enabled; });
  d.Secret("password", Member(before, &User::password_hash), Member(after, &User::password_hash));
  d.Field("tokensValidAfter", before, after, [](const User& u) { return u.tokens_valid_after; });
  d.Field("tokensValidAfterReason", before, after, [](const User& u) { return u.tokens_valid_after_reason; });
  return Entry("user", before, after, by, d.Take());
}

std::optional<ChangeEntry> RoleChange(const Role* before, const Role* after, const ChangeAuthor& by) {
  Diff d(before != nullptr, after != nullptr);
  d.Field("name", before, after, [](const Role& r) { return r.name; });
  d.Field("description", before, after, [](const Role& r) { return r.description; });
  d.Field("permissions", before, after, [](const Role& r) { return r.permissions; });
  return Entry("role", before, after, by, d.Take());
}

std::optional<ChangeEntry> SettingsChange(const OrgSettings& before, const OrgSettings& after, const ChangeAuthor& by) {
  Diff d(true, true);
  d.Field("autoStart", &before, &after, [](const OrgSettings& s) { return s.auto_start; });
  d.Field("pauseBehavior", &before, &after, [](const OrgSettings& s) { return s.pause_behavior; });
  d.Field("retentionDays", &before, &after, [](const OrgSettings& s) { return s.retention_days; });
  std::vector<FieldChange> fields = d.Take();
  if (fields.empty()) return std::nullopt;
  ChangeEntry e;
  e.at = by.at;
  e.kind = "settings.updated";
  e.subject_type = "settings";
  e.subject_name = "organization settings";
  e.actor = by.actor;
  e.context_id = by.context_id;
  e.fields = std::move(fields);
  return e;
}

std::optional<ChangeEntry> IntegrationChange(const MediaIntegration* before, const MediaIntegration* after,
                                             const ChangeAuthor& by) {
  Diff d(before != nullptr, after != nullptr);
  using M = MediaIntegration;
  d.Field("name", before, after, [](const M& m) { return m.name; });
  d.Field("apiKeyPrefix", before, after, [](const M& m) { return m.api_key.substr(0, 6); });
  d.Field("roleIds", before, after, [](const M& m) { return m.role_ids; });
  return Entry("integration", before, after, by, d.Take());
}

std::optional<ChangeEntry> TrunkChange(const SipTrunk* before, const SipTrunk* after, const ChangeAuthor& by) {
  Diff d(before != nullptr, after != nullptr);
  using T = SipTrunk;
  d.Field("name", before, after, [](const T& t) { return t.name; });
  d.Field("description", before, after, [](const T& t) { return t.description; });
  d.Field("networks", before, after, [](const T& t) { return t.networks; });
  d.Field("transports", before, after, [](const T& t) { return t.transports; });
  d.Field("digestUsername", before, after, [](const T& t) { return t.digest_username; });
  d.Field("digestRealm", before, after, [](const T& t) { return t.digest_realm; });
  d.Secret("digestPassword", Member(before, &T::digest_ha1_sha256), Member(after, &T::digest_ha1_sha256));
  d.Field("maxSessions", before, after, [](const T& t) { return t.max_sessions; });
  d.Field("maxChannels", before, after, [](const T& t) { return t.max_channels; });
  d.Field("maxBandwidthKbps", before, after, [](const T& t) { return t.max_bandwidth_kbps; });
  d.Field("rtpSource", before, after, [](const T& t) { return t.rtp_source; });
  d.Field("srtp", before, after, [](const T& t) { return t.srtp; });
  return Entry("trunk", before, after, by, d.Take());
}

std::optional<ChangeEntry> WebhookChange(const Webhook* before, const Webhook* after, const ChangeAuthor& by) {
  Diff d(before != nullptr, after != nullptr);
  using W = Webhook;
  d.Field("url", before, after, [](const W& w) { return w.url; });
  d.Field("description", before, after, [](const W& w) { return w.description; });
  d.Field("kinds", before, after, [](const W& w) { return w.kinds; });
  d.Field("enabled", before, after, [](const W& w) { return w.enabled; });
  d.Field("disabledReason", before, after, [](const W& w) { return w.disabled_reason; });
  return Entry("webhook", before, after, by, d.Take());
}

ChangeAuthor OfflineAuthor(std::string_view command, TimePoint at) {
  return {Actor{"system", "", std::string(command), ""}, "", at};
}

ChangeEntry TransitionChange(const std::string& conversation_id, const Transition& t) {
  ChangeEntry e;
  e.at = t.at;
  switch (t.to) {
    case RecordingState::kActive:
      e.kind = t.from == RecordingState::kPaused ? "recording.resumed" : "recording.started";
      break;
    case RecordingState::kPaused: e.kind = "recording.paused"; break;
    case RecordingState::kStopped: e.kind = "recording.stopped"; break;
    case RecordingState::kNone: e.kind = "recording.changed"; break;
  }
  e.subject_type = "conversation";
  e.subject_id = conversation_id;
  e.actor = t.actor;
  e.context_id = t.context_id;
  e.fields = {{"state", Text(std::string(ToString(t.from))), Text(std::string(ToString(t.to)))},
              {"action", "", Text(t.action)},
              {"segment", "", Text(t.segment)}};
  if (!t.reason.empty()) e.fields.push_back({"reason", "", Text(t.reason)});
  return e;
}

ChangeEntry MediaReadyChange(const std::string& conversation_id, const MediaFile& f) {
  ChangeEntry e;
  e.at = f.updated_at;
  e.kind = "media.ready";
  e.subject_type = "conversation";
  e.subject_id = conversation_id;
  e.actor = Actor{"system", "", "verbatim", ""};
  e.fields = {{"segment", "", Text(f.segment)},
              {"format", "", Text(f.format)},
              {"channels", "", Text(f.channels)},
              {"durationMs", "", Text(f.duration_ms)},
              {"bytes", "", Text(f.bytes)}};
  return e;
}

ChangeEntry MediaInterruptedChange(const MediaSessionClaim& claim, TimePoint at) {
  ChangeEntry e;
  e.at = at;
  e.kind = "media.interrupted";
  e.subject_type = "conversation";
  e.subject_id = claim.conversation_id;
  e.actor = Actor{"system", "", "verbatim", ""};
  e.fields = {{"node", "", Text(claim.node_id)},
              {"transport", "", Text(claim.transport)},
              {"openedAt", "", Text(std::optional<TimePoint>(claim.opened_at))}};
  return e;
}

ChangeKindRange KindRange(const std::optional<std::string>& kind) {
  ChangeKindRange r;
  if (!kind) return r;
  r.low = *kind;
  if (!kind->empty() && kind->back() == '.') {
    r.exact = false;
    r.high = kind->substr(0, kind->size() - 1) + '/';  // '/' follows '.' in ASCII
  }
  return r;
}

json::array FieldsJson(const std::vector<FieldChange>& fields) {
  json::array out;
  for (const auto& f : fields) {
    json::object o;
    o["field"] = f.field;
    // The values are JSON text this file wrote (or DecodeFields re-serialized).
    boost::system::error_code ec;
    if (!f.before.empty()) o["before"] = json::parse(f.before, ec);
    if (!f.after.empty()) o["after"] = json::parse(f.after, ec);
    out.emplace_back(std::move(o));
  }
  return out;
}

std::string EncodeFields(const std::vector<FieldChange>& fields) { return json::serialize(FieldsJson(fields)); }

std::vector<FieldChange> DecodeFields(std::string_view text) {
  std::vector<FieldChange> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    const auto* o = item.if_object();
    if (o == nullptr || !o->contains("field") || !o->at("field").is_string()) continue;
    FieldChange f;
    f.field = std::string(o->at("field").as_string());
    if (auto* b = o->if_contains("before")) f.before = json::serialize(*b);
    if (auto* a = o->if_contains("after")) f.after = json::serialize(*a);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace verbatim::store
