// Role names and role ids are two namespaces that must never meet: ids are
// UUIDs, so a name may not look like one, and may not equal any role's id or
// another role's name (built-ins included, case-insensitive). Lookups by id and
// by name are separate code paths (api/directory.h), so a name never resolves
// as an id (docs/decisions.md "Role names never look like ids").
#pragma once

#include <span>
#include <string_view>

#include "authz/catalog.h"

namespace verbatim::authz {

// A UUID in any usual spelling, after trimming spaces: 8-4-4-4-12 or 32 hex
// digits, any case, optionally in braces or after "urn:uuid:".
bool LooksLikeUuid(std::string_view s);

enum class RoleNameProblem {
  kNone,
  kUuidShaped,   // the name looks like a UUID (ids are UUIDs)
  kIsRoleId,     // the name equals some role's id
  kBuiltinName,  // the name is a built-in role's name
  kTaken,        // another custom role has this name
};

struct RoleNameCheck {
  RoleNameProblem problem = RoleNameProblem::kNone;
  const RoleDef* other = nullptr;  // the role whose id or name it collides with
};

// Checks `name` for the role `own_id` ("" when creating) against every role.
RoleNameCheck CheckRoleName(std::string_view name, std::string_view own_id, std::span<const RoleDef> roles);

}  // namespace verbatim::authz
