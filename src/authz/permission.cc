#include "authz/permission.h"

namespace verbatim::authz {

bool SplitPermission(std::string_view p, std::array<std::string_view, 3>& out) {
  size_t a = p.find(':');
  if (a == std::string_view::npos) return false;
  size_t b = p.find(':', a + 1);
  if (b == std::string_view::npos || p.find(':', b + 1) != std::string_view::npos) return false;
  out = {p.substr(0, a), p.substr(a + 1, b - a - 1), p.substr(b + 1)};
  return true;
}

namespace {

bool ValidPart(std::string_view s) {
  if (s == "*") return true;
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool IsValidPermission(std::string_view p) {
  std::array<std::string_view, 3> parts;
  if (!SplitPermission(p, parts)) return false;
  for (auto part : parts)
    if (!ValidPart(part)) return false;
  return true;
}

bool Covers(std::string_view granted, std::string_view required) {
  std::array<std::string_view, 3> g, r;
  if (!SplitPermission(granted, g) || !SplitPermission(required, r)) return false;
  for (size_t i = 0; i < 3; ++i) {
    if (g[i] != "*" && g[i] != r[i]) return false;
  }
  return true;
}

}  // namespace verbatim::authz
