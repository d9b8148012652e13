#include "authz/catalog.h"

#include <cctype>

#include "authz/permission.h"

namespace verbatim::authz {

const std::vector<ScopeInfo>& AllScopes() {
  static const std::vector<ScopeInfo> kScopes = {
      {"recording:read", "views recordings and downloads their media",
       {"recording:recording:view", "recording:media:download"}},
      {"recording:write", "edits recording metadata", {"recording:recording:edit"}},
      {"recording:control", "starts, stops, pauses and resumes recordings",
       {"recording:recording:start", "recording:recording:stop", "recording:recording:pause",
        "recording:recording:resume"}},
      {"conversation:read", "views conversations", {"conversation:conversation:view"}},
      {"conversation:write", "creates and disconnects conversations and edits participants",
       {"conversation:conversation:create", "conversation:conversation:disconnect",
        "conversation:participant:edit"}},
      {"media:ingest", "streams audio into verbatim", {"media:stream:ingest"}},
      {"audit:read", "reads the audit log", {"audit:event:view"}},
      {"admin", "administers clients, users, roles, integrations, webhooks and organization settings",
       {"authorization:*:*", "oauth:*:*", "directory:*:*", "organization:*:*"}},
  };
  return kScopes;
}

const ScopeInfo* FindScope(std::string_view name) {
  for (const auto& s : AllScopes())
    if (s.name == name) return &s;
  return nullptr;
}

bool ScopeUnlocks(std::string_view scope, std::string_view permission) {
  const ScopeInfo* s = FindScope(scope);
  if (!s) return false;
  for (const auto& pattern : s->unlocks)
    if (Covers(pattern, permission)) return true;
  return false;
}

std::vector<std::string> ScopesUnlocking(std::string_view permission) {
  std::vector<std::string> out;
  for (const auto& s : AllScopes())
    if (ScopeUnlocks(s.name, permission)) out.push_back(s.name);
  return out;
}

const std::vector<RoleDef>& BuiltinRoles() {
  // Ids are stable forever: clients reference them and docs quote them.
  static const std::vector<RoleDef> kRoles = {
      {"7f2b6c80-0000-4000-8000-000000000001", "System Administrator", "Every permission.", {"*:*:*"}, true},
      {"7f2b6c80-0000-4000-8000-000000000002", "Recording Administrator",
       "Everything about recordings, plus viewing conversations and the audit log.",
       {"recording:*:*", "conversation:conversation:view", "audit:event:view"}, true},
      {"7f2b6c80-0000-4000-8000-000000000003", "Recording Controller",
       "Starts, stops, pauses and resumes recordings and views them.",
       {"recording:recording:start", "recording:recording:stop", "recording:recording:pause",
        "recording:recording:resume", "recording:recording:view", "conversation:conversation:view"},
       true},
      {"7f2b6c80-0000-4000-8000-000000000004", "Recording Viewer", "Views recordings and downloads media.",
       {"recording:recording:view", "recording:media:download", "conversation:conversation:view"}, true},
      {"7f2b6c80-0000-4000-8000-000000000005", "Conversation Control", "Everything about conversations.",
       {"conversation:*:*"}, true},
      {"7f2b6c80-0000-4000-8000-000000000006", "Media Ingest",
       "Streams audio and creates/ends the conversations it belongs to.",
       {"media:stream:ingest", "conversation:conversation:create", "conversation:conversation:disconnect"}, true},
      {"7f2b6c80-0000-4000-8000-000000000007", "Auditor", "Reads the audit log.", {"audit:event:view"}, true},
  };
  return kRoles;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

const RoleDef* FindBuiltinRole(std::string_view id_or_name) {
  for (const auto& r : BuiltinRoles())
    if (r.id == id_or_name || EqualsIgnoreCase(r.name, id_or_name)) return &r;
  return nullptr;
}

const std::vector<PermissionInfo>& KnownPermissions() {
  static const std::vector<PermissionInfo> kKnown = {
      {"recording:recording:start", "start a recording"},
      {"recording:recording:stop", "stop a recording"},
      {"recording:recording:pause", "pause a recording"},
      {"recording:recording:resume", "resume a recording"},
      {"recording:recording:view", "view a recording"},
      {"recording:recording:edit", "edit recording metadata"},
      {"recording:media:download", "download recording media"},
      {"conversation:conversation:view", "view conversations"},
      {"conversation:conversation:create", "create a conversation"},
      {"conversation:conversation:disconnect", "disconnect a conversation"},
      {"conversation:participant:edit", "edit conversation participants"},
      {"media:stream:ingest", "stream audio into a conversation"},
      {"audit:event:view", "read the audit log"},
      {"oauth:client:view", "view OAuth clients"},
      {"oauth:client:add", "create OAuth clients"},
      {"oauth:client:edit", "change OAuth clients"},
      {"oauth:client:delete", "delete OAuth clients"},
      {"oauth:key:rotate", "rotate the token signing key"},
      {"oauth:token:introspect", "introspect tokens issued to other clients"},
      {"oauth:integration:view", "view media integrations"},
      {"oauth:integration:add", "create media integrations"},
      {"oauth:integration:delete", "delete media integrations"},
      {"directory:user:view", "view users"},
      {"directory:user:add", "create users"},
      {"directory:user:edit", "change users, reset their passwords and revoke their tokens"},
      {"directory:user:delete", "delete users"},
      {"authorization:role:view", "view roles"},
      {"authorization:role:add", "create roles"},
      {"authorization:role:edit", "change roles"},
      {"authorization:role:delete", "delete roles"},
      {"authorization:decision:simulate", "simulate authorization decisions for other principals"},
      {"organization:settings:view", "view organization settings"},
      {"organization:settings:edit", "change organization settings"},
      {"organization:metrics:view", "read the server's metrics"},
      {"organization:trunk:view", "view SIPREC trunks"},
      {"organization:trunk:add", "create SIPREC trunks"},
      {"organization:trunk:edit", "change SIPREC trunks"},
      {"organization:trunk:delete", "delete SIPREC trunks"},
      {"organization:webhook:view", "view webhooks and their deliveries"},
      {"organization:webhook:add", "create webhooks"},
      {"organization:webhook:edit", "enable and disable webhooks"},
      {"organization:webhook:delete", "delete webhooks"},
  };
  return kKnown;
}

std::string ActionLabel(std::string_view permission) {
  for (const auto& p : KnownPermissions())
    if (p.permission == permission) return p.label;
  return "perform " + std::string(permission);
}

}  // namespace verbatim::authz
