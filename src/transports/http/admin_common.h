// What the administration routes share (routes_admin.cc, routes_users.cc):
// body field checks and the authorize-then-look-up of a path id.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "transports/http/app.h"

namespace verbatim::api {

// The first field of `body` not in `known` (a typo we point out), if any.
std::optional<std::string> UnknownField(const json::object& body, std::initializer_list<std::string_view> known);
std::string JoinList(std::initializer_list<std::string_view> items);  // "a, b, c"

// Field `roles` of `body` (role ids or names, authz/role_names.h), when
// present, resolved into `role_ids` without repeats; (message, "roles") on
// the first that names no role.
std::optional<std::pair<std::string, std::string>> ApplyRoleRefs(App& app, const json::object& body,
                                                                 std::vector<std::string>& role_ids);

// Authorizes, then looks the path's {param} up with `find`; a miss is a 404
// through the decision. On failure the response is in `out`.
template <class Find>
auto FromPath(App& app, RequestContext& ctx, std::string_view param, std::string_view kind, HttpResponse& out,
              Find find) -> decltype(find(std::string())) {
  auto path_id = app.AuthorizePathId(ctx, param, kind, out);
  if (!path_id) return std::nullopt;
  auto found = find(*path_id);
  if (!found) {
    authz::ResourceNotFound(*ctx.decision, kind, path_id->substr(0, 64));
    out = app.Deny(ctx);
    return std::nullopt;
  }
  authz::ResourceFound(*ctx.decision);
  return found;
}


}  // namespace verbatim::api
