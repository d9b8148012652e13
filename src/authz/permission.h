// Permissions are "domain:entity:action" strings; a granted permission may use
// '*' for any whole part ("recording:*:*"). Required permissions are concrete.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace verbatim::authz {

// Three non-empty parts of [a-z0-9_-] or exactly "*".
bool IsValidPermission(std::string_view p);
// True if `granted` (may contain '*') covers `required`, part by part: a part
// of `required` is covered by '*' or by the same text. A '*' in `required` is
// covered only by '*', so this is also pattern-covers-pattern.
bool Covers(std::string_view granted, std::string_view required);
// The three parts of "domain:entity:action"; false if it does not have three.
bool SplitPermission(std::string_view p, std::array<std::string_view, 3>& out);

}  // namespace verbatim::authz
