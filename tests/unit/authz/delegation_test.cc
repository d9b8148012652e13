#include "authz/delegation.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "authz/permission.h"
#include "authz/role_names.h"

namespace verbatim::authz {
namespace {

const RoleDef& Builtin(std::string_view name) { return *FindBuiltinRole(name); }

std::vector<std::string> AllScopeNames() {
  std::vector<std::string> out;
  for (const auto& s : AllScopes()) out.push_back(s.name);
  return out;
}

RoleDef Custom(std::string name, std::vector<std::string> permissions) {
  return {"0c4b3f4e-1d2a-4b5c-8d9e-0f1a2b3c4d5e", std::move(name), "", std::move(permissions), false};
}

Grantor Caller(std::vector<RoleDef> roles, std::vector<std::string> token_scopes,
               std::vector<std::string> allowed_scopes = AllScopeNames()) {
  Grantor g;
  g.principal.type = "client";
  g.principal.id = "11111111-1111-4111-8111-111111111111";
  g.principal.name = "delegate";
  g.principal.roles = std::move(roles);
  g.principal.allowed_scopes = std::move(allowed_scopes);
  g.token_scopes = std::move(token_scopes);
  return g;
}

Grant RoleGrant(const RoleDef& role, std::vector<std::string> scopes = {}) {
  Grant g;
  g.target = "client 'new'";
  g.AddRole(role);
  g.AddScopes(scopes);
  return g;
}

Grant PermissionGrant(std::vector<std::string> permissions) {
  Grant g;
  g.target = "role 'mine'";
  g.AddRole(Custom("mine", std::move(permissions)));
  return g;
}

std::vector<std::string> Items(const CeilingCheck& c) {
  std::vector<std::string> out;
  for (const auto& e : c.beyond) out.push_back(e.item);
  return out;
}

// Every permission a role-less manager needs to manage clients, by name.
const RoleDef kClientManager = Custom("client-manager", {"oauth:client:*"});

TEST(Meet, IsTheSegmentWiseIntersection) {
  EXPECT_EQ(Meet("recording:*:*", "*:recording:view"), "recording:recording:view");
  EXPECT_EQ(Meet("*:*:*", "oauth:*:*"), "oauth:*:*");
  EXPECT_EQ(Meet("oauth:*:*", "oauth:client:*"), "oauth:client:*");
  EXPECT_EQ(Meet("recording:recording:start", "recording:recording:start"), "recording:recording:start");
  EXPECT_EQ(Meet("recording:*:*", "conversation:*:*"), std::nullopt);
  EXPECT_EQ(Meet("recording:recording:start", "recording:recording:stop"), std::nullopt);
  EXPECT_EQ(Meet("recording", "*:*:*"), std::nullopt);  // not a pattern
}

TEST(EffectivePatterns, AreScopeUnlocksMetWithRolePermissions) {
  // System Administrator with only 'admin': what admin unlocks, not '*:*:*'.
  EXPECT_EQ(EffectivePatterns(std::vector{Builtin("System Administrator")}, std::vector<std::string>{"admin"}),
            (std::vector<std::string>{"authorization:*:*", "oauth:*:*", "directory:*:*", "organization:*:*"}));
  // Recording Controller with recording:control: the four actions, nothing it cannot use.
  EXPECT_EQ(EffectivePatterns(std::vector{Builtin("Recording Controller")}, std::vector<std::string>{"recording:control"}),
            (std::vector<std::string>{"recording:recording:start", "recording:recording:stop",
                                      "recording:recording:pause", "recording:recording:resume"}));
  // A pattern another covers is dropped.
  auto held = EffectivePatterns(std::vector{kClientManager, Builtin("System Administrator")},
                                std::vector<std::string>{"admin"});
  EXPECT_EQ(std::count(held.begin(), held.end(), "oauth:client:*"), 0);
  EXPECT_EQ(std::count(held.begin(), held.end(), "oauth:*:*"), 1);
  EXPECT_TRUE(EffectivePatterns(std::vector{Builtin("Auditor")}, std::vector<std::string>{"recording:read"}).empty());
}

TEST(Ceiling, FullAdministratorMayGrantEverything) {
  auto admin = Caller({Builtin("System Administrator")}, AllScopeNames());
  for (const auto& role : BuiltinRoles()) {
    auto c = CheckCeiling(admin, RoleGrant(role, AllScopeNames()));
    EXPECT_TRUE(c.within()) << role.name << ": " << (c.beyond.empty() ? "" : c.beyond[0].item);
  }
}

TEST(Ceiling, SystemAdministratorRoleCannotBeGrantedByACallerHoldingLess) {
  auto recording_admin =
      Caller({Builtin("Recording Administrator"), kClientManager}, {"admin", "recording:read", "recording:control"});
  auto c = CheckCeiling(recording_admin, RoleGrant(Builtin("System Administrator")));
  ASSERT_FALSE(c.within());
  ASSERT_EQ(c.beyond.size(), 1u);
  EXPECT_EQ(c.beyond[0].kind, ExcessKind::kPermission);
  EXPECT_EQ(c.beyond[0].item, "*:*:*");
  EXPECT_EQ(c.beyond[0].source, "role 'System Administrator'");
  EXPECT_EQ(c.beyond[0].not_held_by_roles, std::vector<std::string>{"*:*:*"});
}

TEST(Ceiling, AWildcardIsNotGrantedByHoldingEveryCurrentPermissionUnderIt) {
  // The caller's role lists every recording permission the catalog knows today,
  // and its token carries every recording scope: it still may not grant
  // 'recording:*:*', which would also grant any recording permission added later.
  std::vector<std::string> every_recording_permission;
  for (const auto& k : KnownPermissions())
    if (Covers("recording:*:*", k.permission)) every_recording_permission.push_back(k.permission);
  auto caller = Caller({Custom("all recording, listed", every_recording_permission), kClientManager},
                       {"admin", "recording:read", "recording:write", "recording:control"});
  auto c = CheckCeiling(caller, RoleGrant(Builtin("Recording Administrator")));
  EXPECT_EQ(Items(c), (std::vector<std::string>{"recording:*:*", "conversation:conversation:view", "audit:event:view"}));
  EXPECT_EQ(c.beyond[0].not_held_by_roles, std::vector<std::string>{"recording:*:*"});
  // Each listed permission on its own is fine.
  EXPECT_TRUE(CheckCeiling(caller, PermissionGrant(every_recording_permission)).within());
  // A caller holding the wildcard itself may pass it on.
  auto holder = Caller({Builtin("Recording Administrator"), kClientManager},
                       {"admin", "recording:read", "recording:write", "recording:control"});
  EXPECT_TRUE(CheckCeiling(holder, PermissionGrant({"recording:*:*"})).within());
}

TEST(Ceiling, APermissionTheCallersTokenCannotUseIsBeyondIt) {
  // System Administrator, but a token with only 'admin': it may not hand out
  // recording control, and the fix is the token, not the role.
  auto caller = Caller({Builtin("System Administrator")}, {"admin"});
  auto c = CheckCeiling(caller, RoleGrant(Builtin("Recording Controller")));
  ASSERT_FALSE(c.within());
  for (const auto& e : c.beyond) EXPECT_TRUE(e.not_held_by_roles.empty()) << e.item;
  EXPECT_EQ(c.beyond[0].scopes_not_carried, std::vector<std::string>{"recording:control"});
  // With the scopes on its token, it may.
  auto full_token = Caller({Builtin("System Administrator")}, {"admin", "recording:control", "recording:read",
                                                               "conversation:read"});
  EXPECT_TRUE(CheckCeiling(full_token, RoleGrant(Builtin("Recording Controller"))).within());
}

TEST(Ceiling, AddingEverythingToOnesOwnRoleIsBeyondIt) {
  RoleDef mine = Custom("mine", {"authorization:role:*", "recording:recording:view"});
  auto caller = Caller({mine}, {"admin", "recording:read"});
  auto c = CheckCeiling(caller, PermissionGrant({"authorization:role:*", "recording:recording:view", "*:*:*"}));
  EXPECT_EQ(Items(c), std::vector<std::string>{"*:*:*"});
}

TEST(Ceiling, ScopesAreWithinOnlyWhenEverythingTheyUnlockIsHeld) {
  auto crm_manager = Caller({Builtin("Recording Controller"), kClientManager},
                            {"admin", "recording:control", "conversation:read"});
  Grant g;
  g.target = "client 'new'";
  g.AddScopes(std::vector<std::string>{"recording:control", "conversation:read", "recording:write", "admin"});
  auto c = CheckCeiling(crm_manager, g);
  ASSERT_EQ(Items(c), (std::vector<std::string>{"recording:write", "admin"}));
  // recording:write: neither its role nor its token has recording:recording:edit.
  EXPECT_EQ(c.beyond[0].kind, ExcessKind::kScope);
  EXPECT_EQ(c.beyond[0].not_held_by_roles, std::vector<std::string>{"recording:recording:edit"});
  EXPECT_EQ(c.beyond[0].scopes_not_carried, std::vector<std::string>{"recording:write"});
  // admin: its token carries it, its roles cover only oauth:client:*.
  EXPECT_TRUE(c.beyond[1].scopes_not_carried.empty());
  EXPECT_EQ(c.beyond[1].not_held_by_roles,
            (std::vector<std::string>{"authorization:*:*", "oauth:*:*", "directory:*:*", "organization:*:*"}));
}

TEST(Ceiling, DenialIsReportedByTheResourceLayerWithEveryItemAndAFixForEach) {
  auto caller = Caller({Builtin("Recording Controller"), kClientManager}, {"admin", "recording:control"},
                       {"admin", "recording:control", "conversation:read"});
  Grant g = RoleGrant(Builtin("Recording Controller"), {"recording:read"});
  g.AddRole(Builtin("System Administrator"));
  auto c = CheckCeiling(caller, g);
  ASSERT_FALSE(c.within());

  Decision d;
  d.allowed = true;
  d.layers = {LayerResult{Layer::kToken, Outcome::kPass}, LayerResult{Layer::kScope, Outcome::kPass},
              LayerResult{Layer::kPermission, Outcome::kPass}, LayerResult{Layer::kResource}};
  DenyBeyondCeiling(d, caller, g, c, BuiltinRoles());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.code, "delegation.exceeds.grantor");
  EXPECT_NE(d.message.find("Client 'delegate' cannot grant what it does not hold"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("'*:*:*' (role 'System Administrator')"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("scope 'recording:read'"), std::string::npos) << d.message;
  EXPECT_EQ(d.message_template.find("delegate"), std::string::npos) << "the template keeps placeholders";

  const auto& l = d.layer(Layer::kResource);
  EXPECT_EQ(l.outcome, Outcome::kFail);
  EXPECT_EQ(l.code, "delegation.exceeds.grantor");
  auto e = ExplanationJson(d);
  const auto& layer = e.at("layers").as_array().at(3).as_object();
  EXPECT_EQ(layer.at("layer"), "resource");
  EXPECT_EQ(layer.at("requested").at("target"), "client 'new'");
  EXPECT_EQ(layer.at("held").at("scopes").as_array().size(), 2u);
  const auto& beyond = layer.at("beyond").as_array();
  // recording:recording:view and conversation:conversation:view (its token lacks their scopes), '*:*:*' (its
  // roles lack it), scope recording:read (its roles lack recording:media:download, its token the scope).
  ASSERT_EQ(beyond.size(), 4u);
  // One fix per thing the caller lacks: the roles that grant what its roles do not cover ...
  auto has_fix = [&](std::string_view text) {
    return std::any_of(d.fix.begin(), d.fix.end(), [&](const std::string& f) { return f.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has_fix("Ask a principal whose roles grant '*:*:*' (granted by 'System Administrator')"));
  EXPECT_TRUE(has_fix("Ask a principal whose roles grant 'recording:media:download'"));
  EXPECT_EQ(d.fix.size(), 4u) << "one per missing role pattern and per missing token scope";
  // ... a new token where its client may request the scope ...
  EXPECT_TRUE(has_fix("Request a new token with scope 'conversation:read' (client 'delegate' is allowed"));
  // ... and someone else where it may not.
  EXPECT_TRUE(has_fix("Client 'delegate' may not request scope 'recording:read'"));
}

TEST(FullAdministrator, NeedsEverythingAndEveryScope) {
  std::vector<RoleDef> sysadmin = {Builtin("System Administrator")};
  EXPECT_TRUE(IsFullAdministrator(sysadmin, AllScopeNames()));
  auto fewer = AllScopeNames();
  fewer.pop_back();
  EXPECT_FALSE(IsFullAdministrator(sysadmin, fewer));
  EXPECT_FALSE(IsFullAdministrator(std::vector{Builtin("Recording Administrator")}, AllScopeNames()));
  EXPECT_TRUE(IsFullAdministrator(std::vector{Custom("custom root", {"*:*:*"})}, AllScopeNames()));
}

TEST(RoleNames, UuidShapesAreRecognisedInEveryUsualSpelling) {
  for (const char* s : {"7f2b6c80-0000-4000-8000-000000000001", "7F2B6C80-0000-4000-8000-000000000001",
                        "{7f2b6c80-0000-4000-8000-000000000001}", "urn:uuid:7f2b6c80-0000-4000-8000-000000000001",
                        "7f2b6c80000040008000000000000001", " 7f2b6c80-0000-4000-8000-000000000001 "})
    EXPECT_TRUE(LooksLikeUuid(s)) << s;
  for (const char* s : {"Recording Viewer", "7f2b6c80-0000-4000-8000-00000000000g", "7f2b6c800000400080000000000000001",
                        "7f2b6c80-0000-4000-8000-0000000000011", "7f2b6c80_0000_4000_8000_000000000001"})
    EXPECT_FALSE(LooksLikeUuid(s)) << s;
}

TEST(RoleNames, ANameMayNotBeAnIdOrAnotherRolesName) {
  std::vector<RoleDef> roles = BuiltinRoles();
  roles.push_back(Custom("Label Editor", {"recording:recording:edit"}));
  const std::string builtin_id = Builtin("Auditor").id;
  EXPECT_EQ(CheckRoleName(builtin_id, "", roles).problem, RoleNameProblem::kUuidShaped);
  EXPECT_EQ(CheckRoleName("auditor", "", roles).problem, RoleNameProblem::kBuiltinName);
  EXPECT_EQ(CheckRoleName("AUDITOR", "", roles).other->id, builtin_id);
  EXPECT_EQ(CheckRoleName("label editor", "", roles).problem, RoleNameProblem::kTaken);
  // Renaming a role to its own name (another case) is fine.
  EXPECT_EQ(CheckRoleName("label editor", roles.back().id, roles).problem, RoleNameProblem::kNone);
  EXPECT_EQ(CheckRoleName("Supervisor", "", roles).problem, RoleNameProblem::kNone);
  // An id that is not UUID-shaped (none today) still may not be a name.
  roles.push_back({"legacy-id", "Legacy", "", {}, false});
  EXPECT_EQ(CheckRoleName("LEGACY-ID", "", roles).problem, RoleNameProblem::kIsRoleId);
}

}  // namespace
}  // namespace verbatim::authz
