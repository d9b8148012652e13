// The delegation ceiling: a principal can hand out only authority it holds
// (docs/decisions.md "Delegation ceiling"). Pure functions, no store, no HTTP:
// the API builds the Grant from what a write would leave behind and asks
// CheckCeiling whether the caller holds all of it.
//
// The rule, for a caller whose token carries scopes S and whose roles grant
// patterns R:
//   * a role permission pattern p may be granted if some pattern of R covers
//     p segment-wise ('*' is covered only by '*': nothing it does not hold,
//     present or future, leaks through a wildcard), and every part of p that
//     a scope unlocks today, Meet(unlock, p), is within the caller's
//     effective patterns (so its token can use it too);
//   * a scope may be granted if every pattern it unlocks is within the
//     caller's effective patterns.
// Effective patterns = every non-empty Meet of a pattern unlocked by one of
// S with a pattern of R: the engine's "scopes ∩ roles", as patterns.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "authz/catalog.h"
#include "authz/decision.h"
#include "authz/engine.h"

namespace verbatim::authz {

// Segment-wise meet of two valid permission patterns: the pattern that matches
// exactly what both match ("recording:*:*" ∧ "*:recording:view" =
// "recording:recording:view"); nullopt when they share nothing.
std::optional<std::string> Meet(std::string_view a, std::string_view b);

// The caller's effective permission patterns (see above), without duplicates
// and without patterns another one covers, in catalog order.
std::vector<std::string> EffectivePatterns(std::span<const RoleDef> roles, std::span<const std::string> scopes);

// A full administrator holds '*:*:*' through its roles and may request every
// scope of the catalog: the only principal that can grant anything.
bool IsFullAdministrator(std::span<const RoleDef> roles, std::span<const std::string> allowed_scopes);

// Who grants: the principal (its roles, and its client's allowed scopes for
// the fix) and the scopes of the token it calls with.
struct Grantor {
  Principal principal;
  std::vector<std::string> token_scopes;
};

// What a write hands out: the permission patterns of the roles it leaves on a
// client (or writes into a role) and the scopes it leaves a client allowed.
struct Grant {
  struct Permission {
    std::string pattern;
    std::string source;  // "role 'Recording Administrator'", shown in the explanation
  };
  std::string target;  // "client 'crm-integration'", "role 'Label Editor'"
  std::vector<Permission> permissions;
  std::vector<std::string> scopes;

  void AddRole(const RoleDef& role, std::string_view note = {});  // every permission of `role`
  void AddScopes(std::span<const std::string> scopes);
};

enum class ExcessKind { kPermission, kScope };
const char* ToString(ExcessKind k);  // "permission" | "scope"

// One item of a grant beyond the ceiling, and what the grantor lacks for it.
struct Excess {
  ExcessKind kind = ExcessKind::kPermission;
  std::string item;    // the pattern or the scope
  std::string source;  // where the grant carries it
  // Patterns the grantor's roles do not cover (hold them to grant the item).
  std::vector<std::string> not_held_by_roles;
  // Scopes the grantor's token would have to carry.
  std::vector<std::string> scopes_not_carried;
};

struct CeilingCheck {
  std::vector<std::string> held;  // EffectivePatterns of the grantor
  std::vector<Excess> beyond;     // empty: the grant is within the ceiling
  bool within() const { return beyond.empty(); }
};

CeilingCheck CheckCeiling(const Grantor& grantor, const Grant& grant);

// Turns the allowed decision of the write into its denial: 403
// `delegation.exceeds.grantor`, reported by the resource layer (the grant is
// what the request carries) with `requested`, `held` and `beyond`, and one fix
// per thing the grantor lacks. `catalog` names the roles that grant a pattern.
void DenyBeyondCeiling(Decision& d, const Grantor& grantor, const Grant& grant, const CeilingCheck& check,
                       std::span<const RoleDef> catalog);

}  // namespace verbatim::authz
