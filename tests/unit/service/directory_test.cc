// The Directory's write invariants (api/directory.h): the last full
// administrator stays, client writes set the token cutoff and move the epoch
// the token endpoint checks, and role ids and names are separate lookups.
#include "service/directory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/transports/http/test_app.h"

namespace verbatim::service {
namespace {

using api::testing_util::TestApp;

std::vector<std::string> AllScopes() {
  std::vector<std::string> out;
  for (const auto& s : authz::AllScopes()) out.push_back(s.name);
  return out;
}

store::OAuthClient Get(TestApp& t, const std::string& id) {
  auto c = t.app().directory().FindClient(id);
  EXPECT_TRUE(c.has_value()) << id;
  return c.value_or(store::OAuthClient{});
}

TEST(Directory, ConcurrentDemotionsOfTheLastTwoAdministratorsLeaveOne) {
  for (int round = 0; round < 20; ++round) {
    TestApp t;
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto a = t.CreateAdmin("admin-a");
    auto b = t.CreateAdmin("admin-b");
    const std::string viewer = authz::FindBuiltinRole("Recording Viewer")->id;
    std::atomic<int> refused{0}, done{0};
    auto demote = [&](const std::string& id) {
      store::OAuthClient c = Get(t, id);
      c.role_ids = {viewer};
      auto r = t.app().directory().UpdateClient(c);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), "admin.last");
        ++refused;
      }
      ++done;
    };
    std::thread ta(demote, a.id), tb(demote, b.id);
    ta.join();
    tb.join();
    ASSERT_EQ(done.load(), 2);
    EXPECT_EQ(refused.load(), 1) << "round " << round << ": exactly one demotion may pass";
  }
}

TEST(Directory, DeletingTheCustomRoleTheLastAdministratorDependsOnIsRefused) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  store::Role root{NewUuid(), "Root", "", {"*:*:*"}, {}, {}};
  ASSERT_TRUE(t.app().directory().CreateRole(root).ok());
  auto only = t.CreateClient("only-admin", AllScopes(), {"Root"});
  Status s = t.app().directory().DeleteRole(root.id);
  EXPECT_EQ(s.code(), "admin.last");
  EXPECT_NE(s.message().find("'only-admin'"), std::string::npos) << s.message();
  root.permissions = {"recording:*:*"};
  EXPECT_EQ(t.app().directory().UpdateRole(root).code(), "admin.last");
  EXPECT_EQ(t.app().directory().DeleteClient(only.id).code(), "admin.last");
  ASSERT_TRUE(t.app().directory().FindRoleById(root.id).has_value());
  // With a second full administrator, all of it is allowed.
  t.CreateAdmin("second");
  EXPECT_TRUE(t.app().directory().DeleteRole(root.id).ok());
}

TEST(Directory, WithoutAFullAdministratorUnrelatedWritesAreNotBlocked) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  auto c = t.CreateClient("plain", {"recording:read"}, {"Recording Viewer"});
  EXPECT_TRUE(t.app().directory().DeleteClient(c.id).ok());
}

TEST(Directory, ClientWritesSetTheCutoffAndMoveTheEpoch) {
  FakeClock clock(FromUnixMillis(1'800'000'000'500));
  TestApp t(clock);
  ASSERT_TRUE(t.ok());
  auto c = t.CreateClient("crm", {"recording:control", "recording:read"}, {"Recording Controller"});
  Directory& dir = t.app().directory();

  const uint64_t epoch = dir.CutoffEpoch();
  EXPECT_TRUE(dir.NoClientWriteSince(epoch));
  store::OAuthClient renamed = Get(t, c.id);
  renamed.name = "crm-2";
  auto r = dir.UpdateClient(renamed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->tokens_valid_after.has_value()) << "a rename refuses no token";
  EXPECT_FALSE(dir.NoClientWriteSince(epoch)) << "every client write moves the epoch";
  EXPECT_TRUE(dir.NoClientWriteSince(dir.CutoffEpoch()));
  EXPECT_FALSE(dir.NoClientWriteSince(dir.CutoffEpoch() + 1)) << "an odd epoch is a write in progress";

  clock.Advance(std::chrono::seconds(1));
  store::OAuthClient narrowed = Get(t, c.id);
  narrowed.allowed_scopes = {"recording:read"};
  r = dir.UpdateClient(narrowed);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens_valid_after, FromUnixMillis(1'800'000'001'500));
  EXPECT_EQ(r->tokens_valid_after_reason, "scope 'recording:control' was removed from its allowed scopes");
  EXPECT_EQ(Get(t, c.id).tokens_valid_after, r->tokens_valid_after) << "the snapshot has it: no store read per request";

  clock.Advance(std::chrono::seconds(1));
  r = dir.RevokeTokens(c.id, "an administrator revoked all its tokens");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens_valid_after, FromUnixMillis(1'800'000'002'500));
  EXPECT_EQ(dir.RevokeTokens(NewUuid(), "x").status().code(), "client.not.found");
}

TEST(Directory, StillVouchesForAClientUntilItsSecretEnabledFlagOrCutoffChange) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  auto c = t.CreateClient("crm", {"recording:read"}, {"Recording Viewer"});
  auto other = t.CreateClient("other", {"recording:read"}, {"Recording Viewer"});
  Directory& dir = t.app().directory();
  const store::OAuthClient used = Get(t, c.id);
  store::OAuthClient renamed = used;
  renamed.name = "crm-renamed";
  ASSERT_TRUE(dir.UpdateClient(renamed).ok());
  ASSERT_TRUE(dir.RevokeTokens(other.id, "x").ok());
  EXPECT_TRUE(dir.StillVouchesFor(used)) << "a rename, or another client's change, refuses nothing";
  store::OAuthClient rotated = Get(t, c.id);
  rotated.secret_hash = oauth::HashClientSecret(oauth::NewClientSecret());
  ASSERT_TRUE(dir.UpdateClient(rotated).ok());
  EXPECT_FALSE(dir.StillVouchesFor(used));
  EXPECT_TRUE(dir.StillVouchesFor(Get(t, c.id)));
  ASSERT_TRUE(dir.DeleteClient(c.id).ok());
  EXPECT_FALSE(dir.StillVouchesFor(used));
}

TEST(Directory, TokensIssuedBeforeACutoffAreRefusedAndOnesIssuedRightAfterWork) {
  FakeClock clock(FromUnixMillis(1'800'000'000'200));
  TestApp t(clock);
  ASSERT_TRUE(t.ok());
  auto c = t.CreateClient("crm", {"recording:read"}, {"Recording Viewer"});
  const std::string old = t.Token(c.id, {"recording:read"});
  clock.Advance(std::chrono::milliseconds(300));  // same second
  ASSERT_TRUE(t.app().directory().RevokeTokens(c.id, "an administrator revoked all its tokens").ok());
  auto refused = t.Call("GET", "/api/v2/tokens/me", old);
  EXPECT_EQ(refused.result_int(), 401u);
  EXPECT_NE(refused.body().find("an administrator revoked all its tokens"), std::string::npos) << refused.body();
  clock.Advance(std::chrono::milliseconds(100));  // still the same second
  const std::string fresh = t.Token(c.id, {"recording:read"});
  EXPECT_EQ(t.Call("GET", "/api/v2/tokens/me", fresh).result_int(), 200u);
}

TEST(Directory, AUuidIsLookedUpAsAnIdOnlyEvenWhenAStoredNameLooksLikeOne) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  // A custom role stored before names were checked, named with a built-in id.
  const std::string sysadmin = authz::FindBuiltinRole("System Administrator")->id;
  const std::string auditor = authz::FindBuiltinRole("Auditor")->id;
  store::Role legacy{NewUuid(), auditor, "", {"*:*:*"}, {}, {}};
  ASSERT_TRUE(t.store().CreateRole(legacy).ok());
  ASSERT_TRUE(t.app().directory().Load().ok());
  Directory& dir = t.app().directory();
  auto by_ref = dir.ResolveRoleRef(auditor);
  ASSERT_TRUE(by_ref.has_value());
  EXPECT_EQ(by_ref->name, "Auditor") << "the id wins; the name is never consulted for a UUID";
  EXPECT_EQ(dir.FindRoleByName(auditor)->id, legacy.id);
  EXPECT_EQ(dir.FindRoleById(sysadmin.substr(0, 8)), std::nullopt);
  EXPECT_EQ(dir.ResolveRoleRef("auditor")->id, auditor);
  EXPECT_EQ(dir.ResolveRoleRef(NewUuid()), std::nullopt);
}

}  // namespace
}  // namespace verbatim::service

namespace verbatim::service {
namespace {

store::User NewUser(const std::string& username, std::vector<std::string> role_ids = {}) {
  store::User u;
  u.id = NewUuid();
  u.username = username;
  u.role_ids = std::move(role_ids);
  u.password_hash = "$argon2id$" + username;
  return u;
}

TEST(DirectoryUsers, LookupsIgnoreUsernameCaseAndAUserIsAPrincipalWithTheClientsScopes) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  store::User u = NewUser("Alice", {authz::FindBuiltinRole("Auditor")->id});
  ASSERT_TRUE(t.app().directory().CreateUser(u).ok());
  auto found = t.app().directory().FindUserByUsername("aLiCe");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->id, u.id);
  EXPECT_EQ(t.app().directory().FindUserByUsername("alic"), nullptr);

  auto console = t.CreateClient("console", {"audit:read", "conversation:read"}, {"System Administrator"});
  auto principal = t.app().directory().PrincipalOf(*found, Get(t, console.id));
  EXPECT_EQ(principal.type, "user");
  EXPECT_EQ(principal.id, u.id);
  EXPECT_EQ(principal.name, "Alice");
  ASSERT_EQ(principal.roles.size(), 1u) << "the user's roles, never the client's";
  EXPECT_EQ(principal.roles[0].name, "Auditor");
  EXPECT_EQ(principal.allowed_scopes, (std::vector<std::string>{"audit:read", "conversation:read"}));
}

TEST(DirectoryUsers, AUserCreatedByAnotherProcessIsFoundAfterAMiss) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  store::User u = NewUser("offline");
  ASSERT_TRUE(t.store().CreateUser(u).ok());  // behind the directory's back, as `verbatim users create` does
  auto found = t.app().directory().FindUserByUsername("offline");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->id, u.id);
}

TEST(DirectoryUsers, WritesThatTakeAuthorityAwaySetTheCutoff) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  store::User u = NewUser("bob");
  ASSERT_TRUE(t.app().directory().CreateUser(u).ok());
  u.display_name = "Bob";
  auto renamed = t.app().directory().UpdateUser(u);
  ASSERT_TRUE(renamed.ok());
  EXPECT_FALSE(renamed->tokens_valid_after.has_value());
  u.enabled = false;
  auto disabled = t.app().directory().UpdateUser(u);
  ASSERT_TRUE(disabled.ok());
  ASSERT_TRUE(disabled->tokens_valid_after.has_value());
  EXPECT_EQ(disabled->tokens_valid_after_reason, "it was disabled");
  auto stored = t.store().GetUser(u.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->tokens_valid_after_reason, "it was disabled");
  EXPECT_EQ(t.app().directory().UpdateUser(store::User{.id = NewUuid()}).status().code(), "user.not.found");
}

}  // namespace
}  // namespace verbatim::service
