// Permissions are "domain:entity:action" strings; a granted permission may use
// '*' for any whole part ("recording:*:*"). Required permissions are concrete.
#pragma once

#include <string>
#include <string_view>

namespace verbatim::authz {

// Three non-empty parts of [a-z0-9_-] or exactly "*".
bool IsValidPermission(std::string_view p);
// True if `granted` (may contain '*') covers the concrete `required`.
bool Covers(std::string_view granted, std::string_view required);

}  // namespace verbatim::authz
