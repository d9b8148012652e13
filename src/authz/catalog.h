// The fixed vocabulary of docs/api.md §1: scopes and what they unlock, built-in roles,
// and every concrete permission the API checks, with a human label for messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace verbatim::authz {

struct ScopeInfo {
  std::string name;
  std::string summary;  // "edits recording metadata (labels, retention, notes)"
  std::vector<std::string> unlocks;  // permission patterns
};

struct RoleDef {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> permissions;  // patterns
  bool builtin = false;
};

struct PermissionInfo {
  std::string permission;  // concrete
  std::string label;       // "start a recording"
};

const std::vector<ScopeInfo>& AllScopes();
const ScopeInfo* FindScope(std::string_view name);
bool ScopeUnlocks(std::string_view scope, std::string_view permission);
// Names of the scopes whose unlocks cover `permission`, in catalog order.
std::vector<std::string> ScopesUnlocking(std::string_view permission);

const std::vector<RoleDef>& BuiltinRoles();
// By id, or by name (case-insensitive).
const RoleDef* FindBuiltinRole(std::string_view id_or_name);

const std::vector<PermissionInfo>& KnownPermissions();
// "start a recording"; falls back to "perform <permission>".
std::string ActionLabel(std::string_view permission);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace verbatim::authz
