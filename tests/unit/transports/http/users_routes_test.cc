// /api/v2/users through App::Handle on a real SQLite store: the admin API for
// people who sign in (docs/users.md). Passwords are hashed, never shown but
// once when generated; writes stay within the caller's authority;
// authorization comes before existence; changes that take authority away set
// the user's token cutoff.
#include <gtest/gtest.h>

#include "oauth/password_hash.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

class UsersRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.ok()) << t_.status().ToString();
    admin_token_ = t_.AdminTokenWithEveryScope();
  }

  HttpResponse Admin(const std::string& method, const std::string& target, const std::string& body = {}) {
    return t_.Call(method, target, admin_token_, body);
  }

  json::object CreateUser(const std::string& body) {
    auto res = Admin("POST", "/api/v2/users", body);
    EXPECT_EQ(res.result_int(), 201) << res.body();
    auto v = TestApp::Body(res);
    return v.is_object() ? v.as_object() : json::object{};
  }

  static std::string Str(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }

  TestApp t_;
  std::string admin_token_;
};

TEST_F(UsersRoutes, CreateWithoutAPasswordShowsAGeneratedOneOnceAndStoresOnlyItsHash) {
  auto u = CreateUser(R"({"username":"Alice","displayName":"Alice A.","email":"alice@example.com",
                          "roles":["Recording Controller"]})");
  const std::string id = Str(u, "id");
  const std::string password = Str(u, "password");
  ASSERT_EQ(password.size(), 20u);
  EXPECT_EQ(Str(u, "username"), "Alice");
  ASSERT_TRUE(u.at("roles").is_array());
  EXPECT_EQ(Str(u.at("roles").as_array().at(0).as_object(), "name"), "Recording Controller");

  auto stored = t_.store().GetUser(id);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(oauth::VerifyPassword(password, stored->password_hash));
  EXPECT_EQ(stored->password_hash.find(password), std::string::npos);

  // Reading it back never shows a password or a hash.
  auto got = Admin("GET", "/api/v2/users/" + id);
  ASSERT_EQ(got.result_int(), 200);
  EXPECT_EQ(got.body().find("password"), std::string::npos) << got.body();
  EXPECT_EQ(got.body().find("argon2"), std::string::npos);
  auto list = Admin("GET", "/api/v2/users");
  ASSERT_EQ(list.result_int(), 200);
  EXPECT_EQ(TestApp::Body(list).at("total").as_int64(), 1);
  EXPECT_EQ(list.body().find("argon2"), std::string::npos);
}

TEST_F(UsersRoutes, AGivenPasswordIsCheckedByThePolicyAndNeverEchoed) {
  auto weak = Admin("POST", "/api/v2/users", R"({"username":"bob","password":"short"})");
  EXPECT_EQ(weak.result_int(), 400);
  EXPECT_NE(weak.body().find("at least 12 characters"), std::string::npos) << weak.body();
  EXPECT_EQ(weak.body().find("\"short\""), std::string::npos) << "the refused password is echoed";

  auto same = Admin("POST", "/api/v2/users", R"({"username":"bob.builder1","password":"BOB.BUILDER1"})");
  EXPECT_EQ(same.result_int(), 400);

  auto u = CreateUser(R"({"username":"bob","password":"a perfectly fine one"})");
  EXPECT_FALSE(u.contains("password"));
  auto stored = t_.store().GetUser(Str(u, "id"));
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(oauth::VerifyPassword("a perfectly fine one", stored->password_hash));
}

TEST_F(UsersRoutes, BadInputIsNamedByField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({})", "username"},
      {R"({"username":"a b"})", "username"},
      {R"({"username":"6f1a0c3e-2b7d-4c1e-9a55-0d3f7e2b1c90"})", "username"},
      {R"({"username":"carol","email":"carol"})", "email"},
      {R"({"username":"carol","roles":["No Such Role"]})", "roles"},
      {R"({"username":"carol","roles":"Auditor"})", "roles"},
      {R"({"username":"carol","enabled":"yes"})", "enabled"},
      {R"({"username":"carol","passwd":"x"})", "passwd"},
  };
  for (const auto& c : cases) {
    auto res = Admin("POST", "/api/v2/users", c.body);
    EXPECT_EQ(res.result_int(), 400) << c.body << " → " << res.body();
    EXPECT_NE(res.body().find(std::string("\"field\":\"") + c.field + "\""), std::string::npos)
        << c.body << " → " << res.body();
  }
  EXPECT_TRUE(t_.store().ListUsers()->empty()) << "a refused request created a user";
}

TEST_F(UsersRoutes, UsernamesAreUniqueIgnoringCase) {
  CreateUser(R"({"username":"dave"})");
  auto again = Admin("POST", "/api/v2/users", R"({"username":"DAVE"})");
  EXPECT_EQ(again.result_int(), 409);
  EXPECT_NE(again.body().find("user.name.taken"), std::string::npos) << again.body();
  auto erin = CreateUser(R"({"username":"erin"})");
  auto rename = Admin("PATCH", "/api/v2/users/" + Str(erin, "id"), R"({"username":"Dave"})");
  EXPECT_EQ(rename.result_int(), 409) << rename.body();
}

TEST_F(UsersRoutes, PatchThatTakesAuthorityAwaySetsTheCutoffAndSayingWhy) {
  auto u = CreateUser(R"({"username":"frank","roles":["Recording Controller","Auditor"]})");
  const std::string id = Str(u, "id");
  auto renamed = Admin("PATCH", "/api/v2/users/" + id, R"({"displayName":"Frank"})");
  ASSERT_EQ(renamed.result_int(), 200) << renamed.body();
  EXPECT_TRUE(TestApp::Body(renamed).at("tokensValidAfter").is_null());

  auto demoted = Admin("PATCH", "/api/v2/users/" + id, R"({"roles":["Auditor"]})");
  ASSERT_EQ(demoted.result_int(), 200) << demoted.body();
  auto body = TestApp::Body(demoted).as_object();
  EXPECT_FALSE(body.at("tokensValidAfter").is_null());
  EXPECT_EQ(Str(body, "tokensValidAfterReason"), "role 'Recording Controller' was removed from it");

  auto reset = Admin("POST", "/api/v2/users/" + id + "/password");
  ASSERT_EQ(reset.result_int(), 200) << reset.body();
  auto after = TestApp::Body(reset).as_object();
  EXPECT_EQ(Str(after, "tokensValidAfterReason"), "its password was changed");
  auto stored = t_.store().GetUser(id);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(oauth::VerifyPassword(Str(after, "password"), stored->password_hash));

  auto revoked = Admin("DELETE", "/api/v2/users/" + id + "/tokens");
  ASSERT_EQ(revoked.result_int(), 200);
  EXPECT_EQ(Str(TestApp::Body(revoked).as_object(), "tokensValidAfterReason"),
            "an administrator revoked all its tokens");
}

TEST_F(UsersRoutes, NobodyHandsAUserMoreThanTheyHold) {
  // A custom role that may manage users but holds only Auditor's permission.
  store::Role manager{NewUuid(), "User Manager", "", {"directory:user:*", "audit:event:view"}, {}, {}};
  ASSERT_TRUE(t_.app().directory().CreateRole(manager).ok());
  auto client = t_.CreateClient("user-manager", {"admin", "audit:read"}, {"User Manager"});
  const std::string token = t_.Token(client.id, {"admin", "audit:read"});

  auto within = t_.Call("POST", "/api/v2/users", token, R"({"username":"gina","roles":["Auditor"]})");
  EXPECT_EQ(within.result_int(), 201) << within.body();
  auto beyond = t_.Call("POST", "/api/v2/users", token, R"({"username":"hank","roles":["System Administrator"]})");
  EXPECT_EQ(beyond.result_int(), 403);
  EXPECT_NE(beyond.body().find("delegation.exceeds.grantor"), std::string::npos) << beyond.body();
  EXPECT_NE(beyond.body().find("user 'hank'"), std::string::npos) << beyond.body();

  // Nor resets the password of (and so becomes) someone who holds more.
  auto boss = CreateUser(R"({"username":"boss","roles":["System Administrator"]})");
  auto reset = t_.Call("POST", "/api/v2/users/" + Str(boss, "id") + "/password", token);
  EXPECT_EQ(reset.result_int(), 403) << reset.body();
  auto del = t_.Call("DELETE", "/api/v2/users/" + Str(boss, "id"), token);
  EXPECT_EQ(del.result_int(), 403) << del.body();
  EXPECT_TRUE(t_.store().GetUser(Str(boss, "id")).ok());
}

TEST_F(UsersRoutes, AuthorizationComesBeforeExistence) {
  auto viewer = t_.CreateClient("viewer", {"admin"}, {"Recording Viewer"});
  const std::string token = t_.Token(viewer.id, {"admin"});
  const std::string missing = "/api/v2/users/" + NewUuid();
  auto res = t_.Call("GET", missing, token);
  EXPECT_EQ(res.result_int(), 403) << "a caller without directory:user:view learns nothing: " << res.body();
  auto admin = Admin("GET", missing);
  EXPECT_EQ(admin.result_int(), 404);
  EXPECT_NE(admin.body().find("user.not.found"), std::string::npos) << admin.body();
  EXPECT_EQ(Admin("GET", "/api/v2/users/not-a-uuid").result_int(), 400);
}

TEST_F(UsersRoutes, DeletingAUserOrOneOfItsRolesIsSeenAtOnce) {
  store::Role labels{NewUuid(), "Label Editor", "", {"recording:recording:edit"}, {}, {}};
  ASSERT_TRUE(t_.app().directory().CreateRole(labels).ok());
  auto u = CreateUser(R"({"username":"ivan","roles":["Label Editor","Auditor"]})");
  const std::string id = Str(u, "id");
  ASSERT_EQ(Admin("DELETE", "/api/v2/authorization/roles/" + labels.id).result_int(), 204);
  auto got = Admin("GET", "/api/v2/users/" + id);
  ASSERT_EQ(got.result_int(), 200);
  EXPECT_EQ(got.body().find("Label Editor"), std::string::npos) << got.body();
  EXPECT_NE(got.body().find("Auditor"), std::string::npos);

  ASSERT_EQ(Admin("DELETE", "/api/v2/users/" + id).result_int(), 204);
  EXPECT_EQ(Admin("GET", "/api/v2/users/" + id).result_int(), 404);
  EXPECT_EQ(t_.app().directory().FindUser(id), nullptr);
}

}  // namespace
}  // namespace verbatim::api
