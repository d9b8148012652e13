#include "authz/role_names.h"

#include <cctype>

namespace verbatim::authz {
namespace {

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

bool LooksLikeUuid(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (StartsWithIgnoreCase(s, "urn:uuid:")) s.remove_prefix(9);
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
  if (s.size() == 32) {
    for (char c : s)
      if (!IsHex(c)) return false;
    return true;
  }
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

RoleNameCheck CheckRoleName(std::string_view name, std::string_view own_id, std::span<const RoleDef> roles) {
  if (LooksLikeUuid(name)) return {RoleNameProblem::kUuidShaped, nullptr};
  for (const auto& r : roles)
    if (EqualsIgnoreCase(r.id, name)) return {RoleNameProblem::kIsRoleId, &r};
  for (const auto& r : roles) {
    if (r.id == own_id || !EqualsIgnoreCase(r.name, name)) continue;
    return {r.builtin ? RoleNameProblem::kBuiltinName : RoleNameProblem::kTaken, &r};
  }
  return {};
}

}  // namespace verbatim::authz
