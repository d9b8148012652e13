// Helpers the resource types share: role references as the configuration
// wrote them, string sets, and the checks every plan applies.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "terraform/admin_api.h"
#include "terraform/diagnostics.h"
#include "terraform/value.h"

namespace verbatim::terraform {

// The server answers roles as [{"id", "name"}]; a configuration names them by
// name (any case) or by id. Each server role is written back the way
// `reference` (the planned or prior value) wrote it, so an unchanged role
// never shows as a change; a role `reference` does not mention (added by
// hand) appears by name, or by id when it has none (deleted since).
std::vector<std::string> RoleRefsLike(const json::value& server_roles, const std::vector<std::string>& reference);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// True when `a` and `b` name the same roles: equal ignoring case, or, asking
// the server's role list, resolving to the same ids ("auditor" and the
// Auditor role's id). A plan keeps the prior spelling then: Terraform accepts
// a planned value equal to the prior state as "the same as configured".
bool SameRoles(AdminApi& api, const std::vector<std::string>& a, const std::vector<std::string>& b);

// A known string set attribute of `v` as a vector, or {} when null.
std::vector<std::string> StringsOr(const Value& v, std::string_view name);

// json array of strings.
json::array ToJsonStrings(const std::vector<std::string>& v);

// "name: required and 1 to 128 characters" style checks on a known string.
void CheckLength(const Value& config, std::string_view attr, size_t min, size_t max, Diagnostics& out);

// "domain:entity:action", three non-empty parts of [a-z0-9_-] or '*' (a
// concrete one when `allow_wildcards` is false).
bool IsPermission(std::string_view p, bool allow_wildcards);

}  // namespace verbatim::terraform
