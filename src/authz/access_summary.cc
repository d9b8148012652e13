#include "authz/access_summary.h"

#include <algorithm>

#include "authz/engine.h"
#include "authz/permission.h"

namespace verbatim::authz {

std::vector<ScopeUse> ScopeUses(std::span<const RoleDef> roles, std::span<const std::string> scopes,
                                std::span<const RoleDef> catalog, const std::string& principal_name) {
  std::vector<ScopeUse> out;
  for (const auto& scope : scopes) {
    ScopeUse use;
    use.scope = scope;
    for (const auto& known : KnownPermissions()) {
      if (!ScopeUnlocks(scope, known.permission)) continue;
      use.unlocks.push_back(known.permission);
      bool granted = std::any_of(roles.begin(), roles.end(), [&](const RoleDef& r) {
        return std::any_of(r.permissions.begin(), r.permissions.end(),
                           [&](const std::string& p) { return Covers(p, known.permission); });
      });
      if (granted) use.usable.push_back(known.permission);
    }
    if (use.usable.empty()) {
      std::vector<std::string> granting;
      for (const auto& p : use.unlocks)
        for (auto& r : RolesGranting(catalog, p))
          if (std::find(granting.begin(), granting.end(), r) == granting.end()) granting.push_back(std::move(r));
      std::sort(granting.begin(), granting.end());
      std::string roles_text;
      for (size_t i = 0; i < granting.size(); ++i)
        roles_text += (i == 0 ? "" : i + 1 == granting.size() ? " or " : ", ") + granting[i];
      use.fix = "No role of client '" + principal_name + "' grants a permission that scope '" + scope +
                "' unlocks, so a token can never use it: remove the scope" +
                (granting.empty() ? std::string(".") : ", or assign a role that grants one (" + roles_text + ").");
    }
    out.push_back(std::move(use));
  }
  return out;
}

}  // namespace verbatim::authz
