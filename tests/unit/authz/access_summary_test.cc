#include "authz/access_summary.h"

#include <gtest/gtest.h>

namespace verbatim::authz {
namespace {

std::vector<RoleDef> Roles(std::initializer_list<const char*> names) {
  std::vector<RoleDef> out;
  for (const char* n : names) out.push_back(*FindBuiltinRole(n));
  return out;
}

TEST(ScopeUses, ScopeNoRoleGrantsIsUnusableWithAFixNamingTheRoles) {
  auto roles = Roles({"Recording Controller"});
  std::vector<std::string> scopes = {"recording:write", "recording:control"};
  auto uses = ScopeUses(roles, scopes, BuiltinRoles(), "crm");
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(uses[0].scope, "recording:write");
  EXPECT_EQ(uses[0].unlocks, std::vector<std::string>{"recording:recording:edit"});
  EXPECT_TRUE(uses[0].usable.empty());
  EXPECT_EQ(uses[0].fix,
            "No role of client 'crm' grants a permission that scope 'recording:write' unlocks, so a token can never "
            "use it: remove the scope, or assign a role that grants one (Recording Administrator or System "
            "Administrator).");
  EXPECT_EQ(uses[1].usable.size(), 4u);
  EXPECT_TRUE(uses[1].fix.empty());
}

TEST(ScopeUses, WildcardRoleMakesEveryScopeUsable) {
  auto roles = Roles({"System Administrator"});
  std::vector<std::string> scopes;
  for (const auto& s : AllScopes()) scopes.push_back(s.name);
  for (const auto& u : ScopeUses(roles, scopes, BuiltinRoles(), "admin")) {
    EXPECT_FALSE(u.usable.empty()) << u.scope;
    EXPECT_EQ(u.usable, u.unlocks) << u.scope;
  }
}

TEST(ScopeUses, NoRolesMakeNothingUsable) {
  std::vector<std::string> scopes = {"admin"};
  auto uses = ScopeUses({}, scopes, BuiltinRoles(), "x");
  ASSERT_EQ(uses.size(), 1u);
  EXPECT_TRUE(uses[0].usable.empty());
  EXPECT_FALSE(uses[0].unlocks.empty());
  EXPECT_NE(uses[0].fix.find("System Administrator"), std::string::npos);
}

}  // namespace
}  // namespace verbatim::authz
