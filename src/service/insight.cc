#include "service/insight.h"

#include <algorithm>

#include "authz/permission.h"
#include "core/recording_state.h"

namespace verbatim::service {

json::object RoleJson(const authz::RoleDef& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["description"] = r.description;
  o["permissions"] = ToJsonArray(r.permissions);
  o["builtin"] = r.builtin;
  return o;
}

json::object TokenSummaryJson(const authz::Principal& p, const authz::TokenCheck& t, TimePoint now) {
  json::object o;
  json::object who;
  who["type"] = p.type;
  who["id"] = p.id;
  who["name"] = p.name;
  o["principal"] = std::move(who);
  json::object client;
  client["id"] = t.client_id;
  client["name"] = p.via_client_name.empty() ? p.name : p.via_client_name;  // a user: the client it signed in through
  client["allowedScopes"] = ToJsonArray(p.allowed_scopes);
  o["client"] = std::move(client);
  o["scopes"] = ToJsonArray(t.scopes);
  json::object unlocks;
  for (const auto& s : t.scopes)
    if (const auto* info = authz::FindScope(s)) unlocks[s] = ToJsonArray(info->unlocks);
  o["scopeUnlocks"] = std::move(unlocks);
  json::array roles;
  for (const auto& r : p.roles) roles.emplace_back(RoleJson(r));
  o["roles"] = std::move(roles);
  o["effectivePermissions"] = ToJsonArray(authz::EffectivePermissions(p.roles, t.scopes));
  // The two ways a permission can be withheld, so nobody has to intersect by hand.
  json::array role_only, scope_only;
  for (const auto& k : authz::KnownPermissions()) {
    bool by_scope = std::any_of(t.scopes.begin(), t.scopes.end(),
                                [&](const std::string& s) { return authz::ScopeUnlocks(s, k.permission); });
    bool by_role = std::any_of(p.roles.begin(), p.roles.end(), [&](const authz::RoleDef& r) {
      return std::any_of(r.permissions.begin(), r.permissions.end(),
                         [&](const std::string& g) { return authz::Covers(g, k.permission); });
    });
    if (by_role && !by_scope) role_only.emplace_back(k.permission);
    if (by_scope && !by_role) scope_only.emplace_back(k.permission);
  }
  o["grantedByRolesButNotByScopes"] = std::move(role_only);
  o["unlockedByScopesButNotByRoles"] = std::move(scope_only);
  o["jti"] = t.jti;
  o["issuedAt"] = FormatRfc3339(t.issued_at);
  o["expiresAt"] = FormatRfc3339(t.expires_at);
  o["expiresIn"] = std::max<int64_t>(0, ToUnixSeconds(t.expires_at) - ToUnixSeconds(now));
  return o;
}

authz::TokenCheck SimulatedToken(const store::OAuthClient& client, const std::string& user_id,
                                 const std::optional<std::vector<std::string>>& scopes, TimePoint now) {
  authz::TokenCheck t;
  t.client_id = client.id;
  t.subject = user_id.empty() ? client.id : user_id;
  t.scopes = scopes ? *scopes : client.allowed_scopes;
  // Issued now: a client whose earlier tokens were cut off is asked about a new one.
  t.issued_at = now;
  t.expires_at = now + std::chrono::seconds(client.access_token_validity_seconds);
  return t;
}

void SimulateResource(store::Store& store, authz::Decision& d, const std::string& conversation_id) {
  auto conv = store.GetConversation(conversation_id);
  if (!conv.ok()) {
    authz::ResourceNotFound(d, "conversation", conversation_id);
    return;
  }
  const bool mutates = d.action.rfind("recording:recording:", 0) == 0 && d.action != "recording:recording:view" &&
                       d.action != "recording:recording:edit";
  if ((mutates || d.action == "conversation:conversation:disconnect") && conv->ended_at) {
    authz::ConversationEnded(d, conversation_id, *conv->ended_at);
    return;
  }
  if (mutates) {
    auto rec = store.GetRecording(conversation_id);
    auto verb = ParseRecordingAction(d.action.substr(std::string("recording:recording:").size()));
    if (rec.ok() && verb && !NextState(rec->state, *verb).valid) {
      authz::InvalidTransition(d, rec->state, *verb);
      return;
    }
  }
  authz::ResourceFound(d);
}

}  // namespace verbatim::service
