#include "transports/http/admin_common.h"

#include <algorithm>

#include "core/ids.h"

namespace verbatim::api {

std::optional<std::string> UnknownField(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& kv : body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (std::find(known.begin(), known.end(), k) == known.end()) return std::string(k);
  }
  return std::nullopt;
}

std::string JoinList(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto i : items) out += (out.empty() ? "" : ", ") + std::string(i);
  return out;
}

std::optional<std::pair<std::string, std::string>> ApplyRoleRefs(App& app, const json::object& body,
                                                                 std::vector<std::string>& role_ids) {
  auto roles = GetStringArray(body, "roles");
  if (!roles.ok()) return std::make_pair(roles.status().message(), std::string("roles"));
  if (!*roles) return std::nullopt;
  std::vector<std::string> ids;
  for (const auto& r : **roles) {
    auto role = app.directory().ResolveRoleRef(r);
    if (!role)
      return std::make_pair((IsUuid(r) ? "No role has id '" : "No role is named '") + r.substr(0, 128) +
                                "' (roles are given by id or name; GET /api/v2/authorization/roles lists them).",
                            std::string("roles"));
    if (std::find(ids.begin(), ids.end(), role->id) == ids.end()) ids.push_back(role->id);
  }
  role_ids = std::move(ids);
  return std::nullopt;
}

}  // namespace verbatim::api
