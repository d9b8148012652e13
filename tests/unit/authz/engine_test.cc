#include "authz/engine.h"

#include <gtest/gtest.h>

#include "authz/permission.h"

namespace verbatim::authz {
namespace {

const RoleDef& Builtin(std::string_view name) { return *FindBuiltinRole(name); }

Principal Crm(std::vector<RoleDef> roles = {Builtin("Recording Controller")}) {
  Principal p;
  p.type = "client";
  p.id = "11111111-1111-4111-8111-111111111111";
  p.name = "crm-integration";
  p.roles = std::move(roles);
  p.allowed_scopes = {"recording:write", "recording:control", "conversation:read"};
  return p;
}

Request Req(std::vector<std::string> scopes, Principal p, std::string action = "recording:recording:start") {
  Request r;
  r.action = std::move(action);
  r.resource = "conversation/6f1a0000-0000-4000-8000-000000000000";
  r.token.scopes = std::move(scopes);
  r.token.expires_at = FromUnixSeconds(2'000'000'000);
  r.principal = std::move(p);
  r.role_catalog = BuiltinRoles();
  return r;
}

const json::object& LayerJson(const json::object& explanation, size_t i) {
  return explanation.at("layers").as_array().at(i).as_object();
}

TEST(Permission, WildcardsCoverWholeParts) {
  EXPECT_TRUE(Covers("*:*:*", "recording:recording:start"));
  EXPECT_TRUE(Covers("recording:*:*", "recording:media:download"));
  EXPECT_TRUE(Covers("recording:recording:*", "recording:recording:stop"));
  EXPECT_FALSE(Covers("recording:recording:*", "recording:media:download"));
  EXPECT_FALSE(Covers("recording:*:view", "recording:recording:start"));
  EXPECT_FALSE(Covers("recording:recording:sta*", "recording:recording:start"));  // no partial globs
  EXPECT_FALSE(Covers("recording:recording", "recording:recording:start"));
  EXPECT_TRUE(IsValidPermission("conversation:*:*"));
  EXPECT_FALSE(IsValidPermission("a:b"));
  EXPECT_FALSE(IsValidPermission("a:b:c:d"));
  EXPECT_FALSE(IsValidPermission("A:b:c"));
  EXPECT_FALSE(IsValidPermission("a::c"));
}

TEST(Catalog, ScopesUnlockTheSpecTable) {
  EXPECT_EQ(ScopesUnlocking("recording:recording:start"), std::vector<std::string>{"recording:control"});
  EXPECT_EQ(ScopesUnlocking("recording:recording:edit"), std::vector<std::string>{"recording:write"});
  EXPECT_EQ(ScopesUnlocking("recording:media:download"), std::vector<std::string>{"recording:read"});
  EXPECT_EQ(ScopesUnlocking("oauth:client:add"), std::vector<std::string>{"admin"});
  EXPECT_FALSE(ScopeUnlocks("recording:write", "recording:recording:start"));
  EXPECT_FALSE(ScopeUnlocks("admin", "recording:recording:start"));
  EXPECT_EQ(BuiltinRoles().size(), 7u);
  EXPECT_EQ(FindBuiltinRole("recording controller")->name, "Recording Controller");
}

TEST(Engine, AllowsStartWithControlScopeAndControllerRole) {
  auto d = Evaluate(Req({"recording:control"}, Crm()));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.layer(Layer::kScope).granted_by, "recording:control");
  EXPECT_EQ(d.layer(Layer::kPermission).granted_by, "Recording Controller");
  EXPECT_EQ(d.layer(Layer::kResource).outcome, Outcome::kNotEvaluated);
}

TEST(Engine, DeniesStartWhenOnlyRecordingWrite) {
  auto d = Evaluate(Req({"recording:write"}, Crm()));
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.code, "missing.scope");
  EXPECT_EQ(d.message,
            "The access token lacks scope 'recording:control', required to start a recording. Its scopes are: "
            "recording:write (recording:write only edits recording metadata).");
  EXPECT_EQ(d.insufficient_scopes, std::vector<std::string>{"recording:control"});
  ASSERT_EQ(d.fix.size(), 1u);
  EXPECT_EQ(d.fix[0], "Request a new token with scope 'recording:control': this client is allowed to request it.");

  auto e = ExplanationJson(d);
  EXPECT_EQ(e.at("decision"), "deny");
  EXPECT_EQ(LayerJson(e, 0).at("result"), "pass");
  EXPECT_EQ(LayerJson(e, 1).at("layer"), "scope");
  EXPECT_EQ(LayerJson(e, 1).at("result"), "fail");
  EXPECT_EQ(LayerJson(e, 1).at("required").as_array().at(0), "recording:control");
  EXPECT_EQ(LayerJson(e, 1).at("granted").as_array().at(0), "recording:write");
  EXPECT_EQ(LayerJson(e, 2).at("result"), "pass");
  EXPECT_EQ(LayerJson(e, 2).at("grantedBy"), "Recording Controller");
  EXPECT_EQ(LayerJson(e, 3).at("result"), "not-evaluated");
  EXPECT_EQ(e.at("principal").at("roles").as_array().at(0), "Recording Controller");
}

TEST(Engine, MissingScopeNotAllowedForClientTellsAnAdminToAllowIt) {
  Principal p = Crm();
  p.allowed_scopes = {"recording:write"};
  auto d = Evaluate(Req({"recording:write"}, p));
  EXPECT_EQ(d.code, "missing.scope");
  ASSERT_EQ(d.fix.size(), 1u);
  EXPECT_NE(d.fix[0].find("An administrator must add scope 'recording:control'"), std::string::npos);
  EXPECT_NE(d.fix[0].find("PATCH /api/v2/oauth/clients/" + p.id), std::string::npos);
}

TEST(Engine, MissingPermissionNamesGrantingRolesAndSaysTokenWontHelp) {
  auto d = Evaluate(Req({"recording:control"}, Crm({})));
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.code, "missing.permission");
  EXPECT_NE(d.message.find("'recording:recording:start'"), std::string::npos);
  EXPECT_NE(d.message.find("Recording Administrator, Recording Controller, System Administrator"), std::string::npos);
  EXPECT_NE(d.message.find("A new token will not help"), std::string::npos);
  ASSERT_EQ(d.fix.size(), 1u);
  EXPECT_NE(d.fix[0].find("A new token will not help"), std::string::npos);
  EXPECT_TRUE(d.insufficient_scopes.empty());
  auto e = ExplanationJson(d);
  EXPECT_EQ(LayerJson(e, 1).at("result"), "pass");
  EXPECT_EQ(LayerJson(e, 2).at("result"), "fail");
  EXPECT_EQ(LayerJson(e, 2).at("required").as_array().at(0), "recording:recording:start");
  EXPECT_EQ(LayerJson(e, 2).at("grantingRoles").as_array().size(), 3u);
}

TEST(Engine, BothLayersFailingReportsBothAndBothFixes) {
  auto d = Evaluate(Req({"recording:write"}, Crm({Builtin("Auditor")})));
  EXPECT_EQ(d.code, "missing.permissions");
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.fix.size(), 2u);
  EXPECT_EQ(d.layer(Layer::kScope).outcome, Outcome::kFail);
  EXPECT_EQ(d.layer(Layer::kPermission).outcome, Outcome::kFail);
  EXPECT_EQ(d.insufficient_scopes, std::vector<std::string>{"recording:control"});
}

TEST(Engine, BothLayersFailingReportsTheScopeLayerAsTheFirstFailure) {
  auto both = Evaluate(Req({"recording:write"}, Crm({Builtin("Auditor")})));
  ASSERT_NE(FirstFailure(both), nullptr);
  EXPECT_EQ(FirstFailure(both)->layer, Layer::kScope);
  auto perm = Evaluate(Req({"recording:control"}, Crm({})));
  EXPECT_EQ(FirstFailure(perm)->layer, Layer::kPermission);
  EXPECT_EQ(FirstFailure(Evaluate(Req({"recording:control"}, Crm()))), nullptr);
}

// A person acts through the client it signed in with (docs/users.md): the
// scope fix is on that client, the permission fix on the user.
Principal Alice(std::vector<RoleDef> roles = {}) {
  Principal p;
  p.type = "user";
  p.id = "22222222-2222-4222-8222-222222222222";
  p.name = "alice";
  p.roles = std::move(roles);
  p.allowed_scopes = {"recording:read"};
  p.via_client_id = "33333333-3333-4333-8333-333333333333";
  p.via_client_name = "console";
  return p;
}

TEST(Engine, APersonsMissingScopeIsFixedOnTheClientItSignedInThrough) {
  auto d = Evaluate(Req({"recording:read"}, Alice({Builtin("Recording Controller")})));
  EXPECT_EQ(d.code, "missing.scope");
  ASSERT_EQ(d.fix.size(), 1u);
  EXPECT_NE(d.fix[0].find("client 'console' (PATCH /api/v2/oauth/clients/33333333-3333-4333-8333-333333333333)"),
            std::string::npos) << d.fix[0];
  EXPECT_NE(d.fix[0].find("user 'alice' signed in; then sign in again"), std::string::npos) << d.fix[0];
  auto e = ExplanationJson(d);
  EXPECT_EQ(e.at("principal").as_object().at("viaClient").as_object().at("name"), "console");
  EXPECT_NE(d.layer(Layer::kToken).detail.find("signed in through client 'console'"), std::string::npos);
}

TEST(Engine, APersonsMissingPermissionIsFixedOnTheUser) {
  Principal p = Alice();
  p.allowed_scopes = {"recording:control"};
  auto d = Evaluate(Req({"recording:control"}, p));
  EXPECT_EQ(d.code, "missing.permission");
  EXPECT_NE(d.message.find("User 'alice'"), std::string::npos) << d.message;
  ASSERT_EQ(d.fix.size(), 1u);
  EXPECT_NE(d.fix[0].find("Assign user 'alice'"), std::string::npos) << d.fix[0];
  EXPECT_NE(d.fix[0].find("(PATCH /api/v2/users/22222222-2222-4222-8222-222222222222)"), std::string::npos);
}

TEST(Engine, ScopeNeverGrantsWhatRoleLacksAndViceVersa) {
  // Every known permission × every scope × every built-in role: allowed iff both grant.
  for (const auto& perm : KnownPermissions()) {
    for (const auto& scope : AllScopes()) {
      for (const auto& role : BuiltinRoles()) {
        auto d = Evaluate(Req({scope.name}, Crm({role}), perm.permission));
        bool role_grants = false;
        for (const auto& p : role.permissions) role_grants |= Covers(p, perm.permission);
        bool scope_grants = ScopeUnlocks(scope.name, perm.permission);
        EXPECT_EQ(d.allowed, role_grants && scope_grants) << perm.permission << " " << scope.name << " " << role.name;
        EXPECT_EQ(d.layer(Layer::kScope).outcome == Outcome::kPass, scope_grants);
        EXPECT_EQ(d.layer(Layer::kPermission).outcome == Outcome::kPass, role_grants);
      }
    }
  }
}

TEST(Engine, SystemAdministratorStillNeedsTheScope) {
  auto d = Evaluate(Req({"admin"}, Crm({Builtin("System Administrator")})));
  EXPECT_EQ(d.code, "missing.scope");
  EXPECT_EQ(d.layer(Layer::kPermission).granted_by, "System Administrator");
}

TEST(Engine, EveryTokenProblemIsA401WithItsCodeAndNothingElseEvaluated) {
  const std::pair<TokenProblem, const char*> cases[] = {
      {TokenProblem::kMissing, "token.missing"},     {TokenProblem::kMalformed, "token.malformed"},
      {TokenProblem::kExpired, "token.expired"},     {TokenProblem::kSignature, "token.signature"},
      {TokenProblem::kRevoked, "token.revoked"},     {TokenProblem::kAudience, "token.audience"},
  };
  for (auto [problem, code] : cases) {
    Request r = Req({}, Crm());
    r.principal.reset();
    r.token.problem = problem;
    r.token.claim = "exp";
    r.token.detail = "it expired at 2026-01-01T00:00:00.000Z.";
    auto d = Evaluate(r);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.status, 401);
    EXPECT_EQ(d.code, code);
    EXPECT_EQ(d.layer(Layer::kToken).outcome, Outcome::kFail);
    EXPECT_EQ(d.layer(Layer::kScope).outcome, Outcome::kNotEvaluated);
    EXPECT_EQ(d.layer(Layer::kPermission).outcome, Outcome::kNotEvaluated);
    EXPECT_EQ(d.layer(Layer::kResource).outcome, Outcome::kNotEvaluated);
    EXPECT_FALSE(d.fix.empty());
    EXPECT_EQ(ExplanationJson(d).at("principal"), nullptr);
  }
}

TEST(Engine, ValidTokenOfDeletedClientIsRevoked) {
  Request r = Req({"recording:control"}, Crm());
  r.principal.reset();
  auto d = Evaluate(r);
  EXPECT_EQ(d.code, "token.revoked");
}

TEST(Engine, ResourceNotFoundOnlyAfterAuthorization) {
  auto d = Evaluate(Req({"recording:control"}, Crm()));
  ASSERT_TRUE(d.allowed);
  ResourceNotFound(d, "conversation", "abc");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 404);
  EXPECT_EQ(d.code, "conversation.not.found");
  EXPECT_EQ(d.layer(Layer::kResource).outcome, Outcome::kFail);
}

TEST(Engine, EndedConversationIs409WithEndedAt) {
  auto d = Evaluate(Req({"recording:control"}, Crm()));
  ConversationEnded(d, "c1", FromUnixMillis(1764096763123));
  EXPECT_EQ(d.status, 409);
  EXPECT_EQ(d.code, "conversation.ended");
  auto e = ExplanationJson(d);
  EXPECT_EQ(LayerJson(e, 3).at("endedAt"), "2025-11-25T18:52:43.123Z");
  bool has_param = false;
  for (auto& [k, v] : d.params) has_param |= (k == "endedAt" && v == "2025-11-25T18:52:43.123Z");
  EXPECT_TRUE(has_param);
}

TEST(Engine, InvalidTransitionListsAllowedActions) {
  auto d = Evaluate(Req({"recording:control"}, Crm(), "recording:recording:pause"));
  InvalidTransition(d, RecordingState::kStopped, RecordingAction::kPause);
  EXPECT_EQ(d.status, 409);
  EXPECT_EQ(d.code, "recording.invalid.transition");
  EXPECT_EQ(d.message, "Cannot pause a recording that is stopped. Allowed actions: start.");
  auto e = ExplanationJson(d);
  EXPECT_EQ(LayerJson(e, 3).at("allowedActions").as_array().at(0), "start");
  EXPECT_NE(d.fix[0].find("/actions/start"), std::string::npos);
}

TEST(Engine, MessageTemplateAndParamsReproduceTheMessage) {
  auto d = Evaluate(Req({"recording:write"}, Crm({})));
  std::string rebuilt = d.message_template;
  for (auto& [k, v] : d.params) {
    auto pos = rebuilt.find("{" + k + "}");
    while (pos != std::string::npos) {
      rebuilt.replace(pos, k.size() + 2, v);
      pos = rebuilt.find("{" + k + "}");
    }
  }
  EXPECT_EQ(rebuilt, d.message);
}

TEST(Engine, EffectivePermissionsAreTheIntersection) {
  std::vector<RoleDef> roles = {Builtin("Recording Controller")};
  std::vector<std::string> scopes = {"recording:write", "conversation:read"};
  auto eff = EffectivePermissions(roles, scopes);
  EXPECT_EQ(eff, std::vector<std::string>{"conversation:conversation:view"});
}

TEST(Engine, CustomRolesAreNamedAsGranting) {
  std::vector<RoleDef> catalog(BuiltinRoles().begin(), BuiltinRoles().end());
  catalog.push_back({"c1", "Night Shift", "", {"recording:recording:*"}, false});
  auto roles = RolesGranting(catalog, "recording:recording:start");
  EXPECT_NE(std::find(roles.begin(), roles.end(), "Night Shift"), roles.end());
}

TEST(Engine, TokenOnlyRequestsPassWithAnyScope) {
  auto d = EvaluateTokenOnly(Req({}, Crm({}), "token:self:view"));
  EXPECT_TRUE(d.allowed);
}

}  // namespace
}  // namespace verbatim::authz
