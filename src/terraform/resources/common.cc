#include "terraform/resources/common.h"

#include <algorithm>
#include <cctype>


namespace verbatim::terraform {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::vector<std::string> RoleRefsLike(const json::value& server_roles, const std::vector<std::string>& reference) {
  std::vector<std::string> out;
  if (!server_roles.is_array()) return out;
  for (const auto& r : server_roles.as_array()) {
    const std::string id = JStr(r, "id");
    const std::string name = JStr(r, "name");
    bool matched = false;
    for (const auto& ref : reference) {
      if (ref == id || (!name.empty() && EqualsIgnoreCase(ref, name))) {
        out.push_back(ref);
        matched = true;
      }
    }
    if (!matched) out.push_back(name.empty() ? id : name);
  }
  return out;
}

bool SameRoles(AdminApi& api, const std::vector<std::string>& a, const std::vector<std::string>& b) {
  auto covered = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
    for (const auto& e : x) {
      bool found = false;
      for (const auto& f : y) found = found || EqualsIgnoreCase(e, f);
      if (!found) return false;
    }
    return true;
  };
  if (covered(a, b) && covered(b, a)) return true;
  auto r = api.Call("GET", "/api/v2/authorization/roles", nullptr);
  if (!r.ok() || !r->ok()) return false;
  const json::value* all = JField(r->body, "entities");
  if (!all || !all->is_array()) return false;
  auto ids = [&](const std::vector<std::string>& refs) {
    std::vector<std::string> out;
    for (const auto& ref : refs) {
      std::string id = "?" + ref;  // a role the server does not know matches nothing
      for (const auto& role : all->as_array())
        if (JStr(role, "id") == ref || EqualsIgnoreCase(JStr(role, "name"), ref)) id = JStr(role, "id");
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  return ids(a) == ids(b);
}

std::vector<std::string> StringsOr(const Value& v, std::string_view name) {
  return v.GetStrings(name).value_or(std::vector<std::string>{});
}

json::array ToJsonStrings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

void CheckLength(const Value& config, std::string_view attr, size_t min, size_t max, Diagnostics& out) {
  auto s = config.GetString(attr);
  if (!s) return;
  if (s->size() < min || s->size() > max)
    out.push_back(Error(std::string(attr) + " must be " + std::to_string(min) + " to " + std::to_string(max) +
                            " characters long",
                        "It is " + std::to_string(s->size()) + " characters long.", {std::string(attr)}));
}

bool IsPermission(std::string_view p, bool allow_wildcards) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t colon = p.find(':', start);
    std::string_view part = p.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    ++parts;
    if (part.empty()) return false;
    if (part == "*") {
      if (!allow_wildcards) return false;
    } else {
      for (char c : part)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return parts == 3;
}

}  // namespace verbatim::terraform
