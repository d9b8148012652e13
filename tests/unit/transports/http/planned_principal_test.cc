// The simulator's planned principals (transports/http/planned_principal.h): a client that
// does not exist yet, or an existing one with other scopes/roles, evaluated
// by the same engine with no side effects; and /authorization/effective-access.
#include <gtest/gtest.h>

#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

const json::object* Layer(const json::value& body, std::string_view name) {
  for (const auto& l : body.at("explanation").at("layers").as_array())
    if (Str(l.at("layer")) == name) return &l.as_object();
  return nullptr;
}

std::vector<std::string> Strings(const json::value& arr) {
  std::vector<std::string> out;
  for (const auto& v : arr.as_array()) out.push_back(Str(v));
  return out;
}

class PlannedPrincipal : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.ok()) << t_.status().ToString();
    admin_ = t_.Token(t_.CreateAdmin().id, {"admin"});
    crm_id_ = t_.CreateClient("crm-integration", {"recording:write", "recording:control"}, {"Recording Controller"}).id;
  }

  HttpResponse Check(const std::string& body, const std::string& token = {}) {
    return t_.Call("POST", "/api/v2/authorization/check", token.empty() ? admin_ : token, body);
  }

  TestApp t_;
  std::string admin_;
  std::string crm_id_;
};

TEST_F(PlannedPrincipal, ClientNotYetCreatedGetsMissingScopeWithTheScopeToAdd) {
  auto res = Check(R"({"principal":{"name":"recording-api-client","scopes":["recording:write"],)"
                   R"("roles":["Recording Controller"]},"action":"recording:recording:start"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  EXPECT_EQ(Str(body.at("decision")), "deny");
  EXPECT_EQ(Str(body.at("code")), "missing.scope");
  EXPECT_EQ(Str(Layer(body, "scope")->at("result")), "fail");
  EXPECT_EQ(Strings(Layer(body, "scope")->at("required")), std::vector<std::string>{"recording:control"});
  EXPECT_EQ(Str(Layer(body, "permission")->at("result")), "pass");
  EXPECT_EQ(Str(Layer(body, "resource")->at("result")), "not-evaluated");
  EXPECT_EQ(Str(body.at("explanation").at("principal").at("name")), "recording-api-client");
  const std::string fix = Str(body.at("explanation").at("fix").as_array()[0]);
  EXPECT_NE(fix.find("add scope 'recording:control' to the allowed scopes of client 'recording-api-client'"),
            std::string::npos)
      << fix;
  // It has no id yet, so the fix must not point at a PATCH of nothing.
  EXPECT_EQ(fix.find("PATCH"), std::string::npos) << fix;
}

TEST_F(PlannedPrincipal, WithTheScopeAddedTheSameCheckAllows) {
  auto res = Check(R"({"principal":{"name":"recording-api-client","scopes":["recording:write","recording:control"],)"
                   R"("roles":["recording controller"]},"action":"recording:recording:start"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(Str(TestApp::Body(res).at("decision")), "allow") << res.body();
}

TEST_F(PlannedPrincipal, NoRoleIsMissingPermissionNamingTheGrantingRoles) {
  auto res = Check(R"({"principal":{"scopes":["recording:control"]},"action":"recording:recording:start"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  EXPECT_EQ(Str(body.at("code")), "missing.permission");
  auto granting = Strings(Layer(body, "permission")->at("grantingRoles"));
  EXPECT_NE(std::find(granting.begin(), granting.end(), "Recording Controller"), granting.end());
  EXPECT_EQ(Str(body.at("explanation").at("principal").at("name")), "planned client");
}

TEST_F(PlannedPrincipal, WhatIfOnAnExistingClientChangesNothingStored) {
  auto res = Check(R"({"principal":{"clientId":")" + crm_id_ + R"(","roles":[]},"action":"recording:recording:start"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  EXPECT_EQ(Str(body.at("code")), "missing.permission");
  EXPECT_EQ(Str(body.at("explanation").at("principal").at("name")), "crm-integration");
  // The stored client still has its role, and still may start.
  auto client = t_.app().directory().FindClient(crm_id_);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->role_ids.size(), 1u);
  auto stored = Check(R"({"principal":")" + crm_id_ + R"(","action":"recording:recording:start"})");
  EXPECT_EQ(Str(TestApp::Body(stored).at("decision")), "allow") << stored.body();
}

TEST_F(PlannedPrincipal, UnknownRoleOrScopeIsABadRequestNamingTheField) {
  auto role = Check(R"({"principal":{"roles":["Nope"]},"action":"recording:recording:start"})");
  ASSERT_EQ(role.result_int(), 400) << role.body();
  EXPECT_EQ(Str(TestApp::Body(role).at("explanation").at("field")), "principal.roles");
  EXPECT_NE(role.body().find("Role 'Nope' does not exist"), std::string::npos);
  auto scope = Check(R"({"principal":{"scopes":["recording:everything"]},"action":"recording:recording:start"})");
  ASSERT_EQ(scope.result_int(), 400) << scope.body();
  EXPECT_EQ(Str(TestApp::Body(scope).at("explanation").at("field")), "principal.scopes");
  auto field = Check(R"({"principal":{"scopes":[],"colour":"red"},"action":"recording:recording:start"})");
  EXPECT_EQ(field.result_int(), 400) << field.body();
  auto both = Check(R"({"token":"x","principal":{"scopes":[]},"action":"recording:recording:start"})");
  EXPECT_EQ(both.result_int(), 400) << both.body();
}

TEST_F(PlannedPrincipal, NeedsTheSimulatePermissionBeforeAnythingIsLookedUp) {
  const std::string crm_token = t_.Token(crm_id_, {"recording:control"});
  // A role that does not exist must not turn into a 400 for a caller who may not simulate.
  auto res = Check(R"({"principal":{"roles":["Nope"]},"action":"recording:recording:start"})", crm_token);
  EXPECT_EQ(res.result_int(), 403) << res.body();
  auto ea = t_.Call("POST", "/api/v2/authorization/effective-access", crm_token, R"({"principal":{"roles":["Nope"]}})");
  EXPECT_EQ(ea.result_int(), 403) << ea.body();
}

TEST_F(PlannedPrincipal, EffectiveAccessOfAPlannedClientNamesTheUnusableScope) {
  auto res = t_.Call("POST", "/api/v2/authorization/effective-access", admin_,
                     R"({"principal":{"name":"recording-api-client","scopes":["recording:write","recording:control"],)"
                     R"("roles":["Recording Controller"]}})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  auto eff = Strings(body.at("effectivePermissions"));
  EXPECT_NE(std::find(eff.begin(), eff.end(), "recording:recording:start"), eff.end());
  EXPECT_EQ(std::find(eff.begin(), eff.end(), "recording:recording:edit"), eff.end());
  EXPECT_EQ(Strings(body.at("unusableScopes")), std::vector<std::string>{"recording:write"});
  EXPECT_TRUE(body.at("principal").at("id").is_null());
  EXPECT_TRUE(body.at("principal").at("planned").as_bool());
  for (const auto& use : body.at("scopeUse").as_array()) {
    if (Str(use.at("scope")) == "recording:write") {
      const std::string fix = Str(use.at("fix"));
      EXPECT_NE(fix.find("Recording Administrator"), std::string::npos) << fix;
    } else {
      EXPECT_TRUE(use.at("fix").is_null());
    }
  }
}

TEST_F(PlannedPrincipal, EffectiveAccessOfAnExistingClientIsWhatIsStored) {
  auto res = t_.Call("POST", "/api/v2/authorization/effective-access", admin_, R"({"principal":")" + crm_id_ + R"("})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  EXPECT_EQ(Str(body.at("principal").at("id")), crm_id_);
  EXPECT_FALSE(body.at("principal").at("planned").as_bool());
  EXPECT_EQ(Strings(body.at("unusableScopes")), std::vector<std::string>{"recording:write"});
  EXPECT_EQ(Str(body.at("roles").as_array()[0].at("name")), "Recording Controller");
  auto missing = t_.Call("POST", "/api/v2/authorization/effective-access", admin_, R"({"principal":")" + NewUuid() + R"("})");
  EXPECT_EQ(missing.result_int(), 400) << missing.body();
  auto none = t_.Call("POST", "/api/v2/authorization/effective-access", admin_, R"({})");
  EXPECT_EQ(none.result_int(), 400) << none.body();
}

TEST_F(PlannedPrincipal, APersonIsCheckedWithTheirRolesWithinTheirClientsScopes) {
  const std::string user_id = t_.CreateUser("bob", {"Recording Viewer"});

  auto res = Check(R"({"principal":{"userId":")" + user_id + R"(","clientId":")" + crm_id_ +
                   R"("},"action":"recording:recording:start"})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  EXPECT_EQ(Str(body.at("decision")), "deny");
  const auto& who = body.at("explanation").at("principal");
  EXPECT_EQ(Str(who.at("type")), "user");
  EXPECT_EQ(Str(who.at("name")), "bob");
  EXPECT_EQ(Str(who.at("viaClient").at("id")), crm_id_);
  EXPECT_EQ(Str(Layer(body, "scope")->at("result")), "pass") << "the client allows recording:control";
  EXPECT_EQ(Str(Layer(body, "permission")->at("result")), "fail") << "a viewer may not start";
  EXPECT_NE(Str(body.at("explanation").at("fix").at(0)).find("/api/v2/users/" + user_id), std::string::npos);

  auto nobody = Check(R"({"principal":{"userId":")" + NewUuid() + R"(","clientId":")" + crm_id_ +
                      R"("},"action":"recording:recording:start"})");
  EXPECT_EQ(nobody.result_int(), 400);
  EXPECT_EQ(Str(TestApp::Body(nobody).at("explanation").at("field")), "principal.userId") << nobody.body();
  auto extra = Check(R"({"principal":{"userId":")" + user_id + R"(","roles":[]},"action":"recording:recording:start"})");
  EXPECT_EQ(extra.result_int(), 400) << extra.body();
}

TEST_F(PlannedPrincipal, EffectiveAccessOfAPersonIsTheirRolesWithinTheirClientsScopes) {
  const std::string user_id = t_.CreateUser("carol", {"Recording Controller"});
  auto res = t_.Call("POST", "/api/v2/authorization/effective-access", admin_,
                     R"({"principal":{"userId":")" + user_id + R"(","clientId":")" + crm_id_ + R"("}})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto body = TestApp::Body(res);
  EXPECT_EQ(Str(body.at("principal").at("type")), "user");
  EXPECT_EQ(Str(body.at("principal").at("id")), user_id);
  EXPECT_EQ(Strings(body.at("allowedScopes")), (std::vector<std::string>{"recording:write", "recording:control"}));
  auto eff = Strings(body.at("effectivePermissions"));
  EXPECT_NE(std::find(eff.begin(), eff.end(), "recording:recording:start"), eff.end());
  auto unknown = t_.Call("POST", "/api/v2/authorization/effective-access", admin_,
                         R"({"principal":{"userId":")" + user_id + R"(","clientId":")" + NewUuid() + R"("}})");
  EXPECT_EQ(unknown.result_int(), 400);
  EXPECT_EQ(Str(TestApp::Body(unknown).at("explanation").at("field")), "principal.clientId") << unknown.body();
}

}  // namespace
}  // namespace verbatim::api
