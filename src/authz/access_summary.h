// What a principal could ever do with its scopes and roles, over every
// permission the API checks: the effective permissions (scopes ∩ roles) and,
// per scope, which of the permissions it unlocks a role actually grants. A
// scope none of whose permissions any role grants is dead weight: a token
// carrying it can never use it. Pure functions, like engine.h.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "authz/catalog.h"

namespace verbatim::authz {

struct ScopeUse {
  std::string scope;
  std::vector<std::string> unlocks;  // known permissions the scope unlocks
  std::vector<std::string> usable;   // ... that a role of the principal grants
  // Set when `usable` is empty: remove the scope, or which roles would make it usable.
  std::string fix;
};

// One entry per scope, in the order given. `principal_name` names the client
// in the fix; `catalog` (every role of the organization) names the roles that
// would make a scope usable.
std::vector<ScopeUse> ScopeUses(std::span<const RoleDef> roles, std::span<const std::string> scopes,
                                std::span<const RoleDef> catalog, const std::string& principal_name);

}  // namespace verbatim::authz
