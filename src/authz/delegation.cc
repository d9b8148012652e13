#include "authz/delegation.h"

#include <algorithm>
#include <array>

#include "authz/permission.h"

namespace verbatim::authz {
namespace {

bool Contains(std::span<const std::string> v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void AddOnce(std::vector<std::string>& v, std::string_view s) {
  if (!Contains(v, s)) v.emplace_back(s);
}

bool CoveredBy(std::span<const std::string> held, std::string_view pattern) {
  return std::any_of(held.begin(), held.end(), [&](const std::string& h) { return Covers(h, pattern); });
}

bool RolesCover(std::span<const RoleDef> roles, std::string_view pattern) {
  return std::any_of(roles.begin(), roles.end(), [&](const RoleDef& r) { return CoveredBy(r.permissions, pattern); });
}

std::string Capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string Quoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "'" : ", '") + i + "'";
  return out;
}

// What the grantor lacks to grant the role permission `pattern`.
std::optional<Excess> PermissionBeyond(const Grantor& g, std::span<const std::string> held,
                                       const Grant::Permission& p) {
  Excess e{ExcessKind::kPermission, p.pattern, p.source, {}, {}};
  if (!RolesCover(g.principal.roles, p.pattern)) {
    // Only a principal holding it may grant it; no token of this one would help.
    e.not_held_by_roles.push_back(p.pattern);
    return e;
  }
  // Every part of the pattern a scope unlocks today must be usable by the
  // grantor's own token.
  for (const auto& scope : AllScopes()) {
    for (const auto& unlock : scope.unlocks) {
      auto part = Meet(unlock, p.pattern);
      if (!part || CoveredBy(held, *part)) continue;
      if (!Contains(g.token_scopes, scope.name)) AddOnce(e.scopes_not_carried, scope.name);
    }
  }
  if (e.not_held_by_roles.empty() && e.scopes_not_carried.empty()) return std::nullopt;
  return e;
}

// What the grantor lacks to let a client request `scope`.
std::optional<Excess> ScopeBeyond(const Grantor& g, std::span<const std::string> held, const std::string& scope) {
  const ScopeInfo* info = FindScope(scope);
  if (!info) return std::nullopt;  // the caller validated the name; an unknown scope unlocks nothing
  bool within = std::all_of(info->unlocks.begin(), info->unlocks.end(),
                            [&](const std::string& u) { return CoveredBy(held, u); });
  if (within) return std::nullopt;
  Excess e{ExcessKind::kScope, scope, "allowedScopes", {}, {}};
  for (const auto& u : info->unlocks)
    if (!RolesCover(g.principal.roles, u)) e.not_held_by_roles.push_back(u);
  if (!Contains(g.token_scopes, scope)) e.scopes_not_carried.push_back(scope);
  return e;
}

std::string ItemText(const Excess& e) {
  return e.kind == ExcessKind::kScope ? "scope '" + e.item + "'" : "'" + e.item + "' (" + e.source + ")";
}

json::array ToJson(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::optional<std::string> Meet(std::string_view a, std::string_view b) {
  std::array<std::string_view, 3> x, y;
  if (!SplitPermission(a, x) || !SplitPermission(b, y)) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < 3; ++i) {
    std::string_view part;
    if (x[i] == "*") part = y[i];
    else if (y[i] == "*" || y[i] == x[i]) part = x[i];
    else return std::nullopt;
    if (i > 0) out += ':';
    out += part;
  }
  return out;
}

std::vector<std::string> EffectivePatterns(std::span<const RoleDef> roles, std::span<const std::string> scopes) {
  std::vector<std::string> all;
  for (const auto& scope : AllScopes()) {  // catalog order, so the output is stable
    if (!Contains(scopes, scope.name)) continue;
    for (const auto& unlock : scope.unlocks)
      for (const auto& role : roles)
        for (const auto& p : role.permissions)
          if (auto m = Meet(unlock, p)) AddOnce(all, *m);
  }
  // Keep only the widest: a pattern another one covers adds nothing.
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size(); ++i) {
    bool covered = false;
    for (size_t j = 0; j < all.size() && !covered; ++j)
      covered = j != i && Covers(all[j], all[i]);  // distinct patterns never cover each other both ways
    if (!covered) out.push_back(all[i]);
  }
  return out;
}

bool IsFullAdministrator(std::span<const RoleDef> roles, std::span<const std::string> allowed_scopes) {
  if (!RolesCover(roles, "*:*:*")) return false;
  return std::all_of(AllScopes().begin(), AllScopes().end(),
                     [&](const ScopeInfo& s) { return Contains(allowed_scopes, s.name); });
}

void Grant::AddRole(const RoleDef& role, std::string_view note) {
  std::string source = "role '" + role.name + "'";
  if (!note.empty()) source += " " + std::string(note);
  for (const auto& p : role.permissions) {
    bool seen = std::any_of(permissions.begin(), permissions.end(),
                            [&](const Permission& q) { return q.pattern == p; });
    if (!seen) permissions.push_back({p, source});
  }
}

void Grant::AddScopes(std::span<const std::string> more) {
  for (const auto& s : more) AddOnce(scopes, s);
}

const char* ToString(ExcessKind k) {
  switch (k) {
    case ExcessKind::kPermission: return "permission";
    case ExcessKind::kScope: return "scope";
  }
  return "permission";
}

CeilingCheck CheckCeiling(const Grantor& grantor, const Grant& grant) {
  CeilingCheck c;
  c.held = EffectivePatterns(grantor.principal.roles, grantor.token_scopes);
  for (const auto& p : grant.permissions)
    if (auto e = PermissionBeyond(grantor, c.held, p)) c.beyond.push_back(std::move(*e));
  for (const auto& s : grant.scopes)
    if (auto e = ScopeBeyond(grantor, c.held, s)) c.beyond.push_back(std::move(*e));
  return c;
}

void DenyBeyondCeiling(Decision& d, const Grantor& grantor, const Grant& grant, const CeilingCheck& check,
                       std::span<const RoleDef> catalog) {
  const Principal& who = grantor.principal;
  const std::string whom = who.type + " '" + who.name + "'";

  std::vector<std::string> items, roles_lack, scopes_lack;
  json::array beyond;
  for (const auto& e : check.beyond) {
    items.push_back(ItemText(e));
    for (const auto& p : e.not_held_by_roles) AddOnce(roles_lack, p);
    for (const auto& s : e.scopes_not_carried) AddOnce(scopes_lack, s);
    json::object o;
    o["kind"] = ToString(e.kind);
    o["item"] = e.item;
    o["source"] = e.source;
    o["notHeldByRoles"] = ToJson(e.not_held_by_roles);
    o["scopesNotCarried"] = ToJson(e.scopes_not_carried);
    beyond.emplace_back(std::move(o));
  }

  auto& l = d.layer(Layer::kResource);
  l.outcome = Outcome::kFail;
  l.code = "delegation.exceeds.grantor";
  l.detail = Capitalized(whom) + " would grant " + grant.target + " " + std::to_string(items.size()) +
             (items.size() == 1 ? " item" : " items") + " beyond its own authority.";
  json::object requested;
  requested["target"] = grant.target;
  json::array perms;
  for (const auto& p : grant.permissions)
    perms.emplace_back(json::object{{"pattern", p.pattern}, {"source", p.source}});
  requested["permissions"] = std::move(perms);
  requested["scopes"] = ToJson(grant.scopes);
  l.extra["requested"] = std::move(requested);
  l.extra["held"] = json::object{{"scopes", ToJson(grantor.token_scopes)}, {"permissions", ToJson(check.held)}};
  l.extra["beyond"] = std::move(beyond);

  std::string listed;
  for (const auto& i : items) listed += (listed.empty() ? "" : ", ") + i;
  Deny(d, 403, l.code,
       "{principalType} '{principal}' cannot grant what it does not hold: {items}. A principal may give {target} "
       "only permissions and scopes that it holds itself.",
       {{"principalType", Capitalized(who.type)},
        {"principal", who.name},
        {"items", listed},
        {"target", grant.target}});

  d.fix.clear();
  for (const auto& p : roles_lack) {
    auto granting = RolesGranting(catalog, p);
    d.fix.push_back("Ask a principal whose roles grant '" + p + "' (" +
                    (granting.empty() ? std::string("no role grants it yet") : "granted by " + Quoted(granting)) +
                    ") to make this change, or leave '" + p + "' out: no role of " + whom + " grants it.");
  }
  for (const auto& s : scopes_lack) {
    if (Contains(who.allowed_scopes, s)) {
      d.fix.push_back("Request a new token with scope '" + s + "' (" + whom +
                      " is allowed to request it) and retry: the token you used does not carry it.");
    } else {
      d.fix.push_back(Capitalized(whom) + " may not request scope '" + s +
                      "': ask a principal whose token carries it to make this change, or leave out what needs it.");
    }
  }
}

}  // namespace verbatim::authz
