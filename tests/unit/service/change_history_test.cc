// FindHistory: which change-log entry explains a denial, for every layer and
// every kind of change it knows (service/change_history.h). Pure: the
// entries are built here, the decisions come from the real engine.
#include "service/change_history.h"

#include <gtest/gtest.h>

#include "authz/engine.h"
#include "store/change_diff.h"

namespace verbatim::service {
namespace {

TimePoint At(int64_t s) { return FromUnixMillis(1'760'000'000'000 + s * 1000); }

const authz::RoleDef kStarter{"11111111-0000-4000-8000-000000000001", "Starters", "", {"recording:recording:*"}, false};
const authz::RoleDef kViewer{"11111111-0000-4000-8000-000000000002", "Viewers", "", {"conversation:*:view"}, false};

store::ChangeAuthor Ops(int64_t at) {
  return {store::Actor{"client", "ops-id", "ops-bot", "ops-id"}, "ctx-" + std::to_string(at), At(at)};
}

store::OAuthClient Client(std::vector<std::string> scopes, std::vector<std::string> roles) {
  store::OAuthClient c;
  c.id = "crm-id";
  c.name = "crm-integration";
  c.allowed_scopes = std::move(scopes);
  c.role_ids = std::move(roles);
  c.secret_hash = "h1";
  return c;
}

// Entries as the store keeps them: ids increasing, returned newest first.
class Log {
 public:
  void Add(std::optional<store::ChangeEntry> e) {
    ASSERT_TRUE(e.has_value());
    e->id = ++next_;
    entries_.insert(entries_.begin(), std::move(*e));
  }
  const std::vector<store::ChangeEntry>& entries() const { return entries_; }

 private:
  int64_t next_ = 0;
  std::vector<store::ChangeEntry> entries_;
};

// A real decision for `action` by a client with these scopes and roles.
authz::Decision Decide(std::vector<std::string> token_scopes, std::vector<authz::RoleDef> roles,
                       std::string action = "recording:recording:start") {
  authz::Request req;
  req.action = std::move(action);
  req.resource = "conversation/c1";
  req.token.client_id = req.token.subject = "crm-id";
  req.token.scopes = std::move(token_scopes);
  authz::Principal p;
  p.id = "crm-id";
  p.name = "crm-integration";
  p.roles = std::move(roles);
  req.principal = p;
  return authz::Evaluate(req);
}

HistorySubject Crm(std::vector<std::string> role_ids = {}) {
  return HistorySubject{"client", "crm-id", "crm-id", At(0), std::move(role_ids)};
}

const std::vector<authz::RoleDef> kCatalog = {kStarter, kViewer};

TEST(ChangeHistoryTest, AScopeRemovedFromTheClientNamesTheChangeItsTimeAndItsAuthor) {
  Log log;
  auto before = Client({"recording:control", "recording:read"}, {kStarter.id});
  auto after = before;
  after.allowed_scopes = {"recording:read"};
  log.Add(store::ClientChange(&before, &after, Ops(100)));
  auto d = Decide({"recording:read"}, {kStarter});
  ASSERT_EQ(d.layer(authz::Layer::kScope).outcome, authz::Outcome::kFail);
  auto notes = FindHistory(d, Crm({kStarter.id}), log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].layer, "scope");
  EXPECT_EQ(notes[0].kind, "client.updated");
  EXPECT_EQ(notes[0].at, FormatRfc3339(At(100)));
  EXPECT_EQ(notes[0].actor_name, "ops-bot");
  EXPECT_EQ(notes[0].context_id, "ctx-100");
  EXPECT_NE(notes[0].message.find("had scope recording:control until"), std::string::npos) << notes[0].message;
  EXPECT_NE(notes[0].message.find("client 'ops-bot'"), std::string::npos) << notes[0].message;
  EXPECT_NE(notes[0].fix.find("PATCH /api/v2/oauth/clients/crm-id"), std::string::npos) << notes[0].fix;
}

TEST(ChangeHistoryTest, AScopeThatWasNeverThereOrCameBackHasNoHistory) {
  Log log;
  auto a = Client({"recording:read"}, {});
  auto b = a;
  b.description = "renamed";
  log.Add(store::ClientChange(&a, &b, Ops(1)));  // a change, but not of scopes
  auto d = Decide({"recording:read"}, {kStarter});
  EXPECT_TRUE(FindHistory(d, Crm(), log.entries(), kCatalog).empty());

  // Removed, then restored: the restoration is the newest scope change, and it did not remove anything.
  auto with = Client({"recording:control"}, {});
  auto without = Client({}, {});
  log.Add(store::ClientChange(&with, &without, Ops(2)));
  log.Add(store::ClientChange(&without, &with, Ops(3)));
  // The token lacks the scope (it was requested without it) but the client
  // has it again: restoring it cleared the history.
  EXPECT_TRUE(FindHistory(d, Crm(), log.entries(), kCatalog).empty());
  log.Add(store::ClientChange(&with, &without, Ops(4)));
  auto notes = FindHistory(d, Crm(), log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u) << "removed again";
  EXPECT_EQ(notes[0].change_id, 4);
}

TEST(ChangeHistoryTest, ARoleTakenFromTheClientThatGrantedThePermission) {
  Log log;
  auto before = Client({"recording:control"}, {kViewer.id, kStarter.id});
  auto after = before;
  after.role_ids = {kViewer.id};
  log.Add(store::ClientChange(&before, &after, Ops(50)));
  auto d = Decide({"recording:control"}, {kViewer});
  ASSERT_EQ(d.layer(authz::Layer::kPermission).outcome, authz::Outcome::kFail);
  auto notes = FindHistory(d, Crm({kViewer.id}), log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].layer, "permission");
  EXPECT_NE(notes[0].message.find("had role 'Starters', which grants recording:recording:start ('recording:recording:*')"),
            std::string::npos)
      << notes[0].message;
  EXPECT_EQ(notes[0].fix, "To restore it: PUT /api/v2/oauth/clients/crm-id/roles/" + kStarter.id +
                              " (permission oauth:client:edit).");
}

TEST(ChangeHistoryTest, ARoleThatLostThePermission) {
  Log log;
  store::Role before{kStarter.id, "Starters", "", {"recording:recording:*"}, At(0), At(0)};
  store::Role after = before;
  after.permissions = {"recording:recording:stop"};
  log.Add(store::RoleChange(&before, &after, Ops(70)));
  authz::RoleDef now = kStarter;
  now.permissions = after.permissions;
  auto d = Decide({"recording:control"}, {now});
  auto notes = FindHistory(d, Crm({kStarter.id}), log.entries(), std::vector<authz::RoleDef>{now, kViewer});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "role.updated");
  EXPECT_NE(notes[0].message.find("Role 'Starters' granted recording:recording:start"), std::string::npos)
      << notes[0].message;
  EXPECT_NE(notes[0].fix.find("PUT /api/v2/authorization/roles/" + kStarter.id), std::string::npos);

  // A role the principal does not hold is not its history.
  EXPECT_TRUE(FindHistory(d, Crm({kViewer.id}), log.entries(), kCatalog).empty());
}

TEST(ChangeHistoryTest, ADeletedRoleIsNamedByItsDeletion) {
  Log log;
  store::Role role{kStarter.id, "Starters", "", {"recording:recording:*"}, At(0), At(0)};
  log.Add(store::RoleChange(&role, nullptr, Ops(80)));
  auto before = Client({"recording:control"}, {kStarter.id});
  auto after = before;
  after.role_ids = {};
  log.Add(store::ClientChange(&before, &after, Ops(80)));
  auto d = Decide({"recording:control"}, {});
  // The catalog no longer has the role: what it granted comes from its deletion.
  auto notes = FindHistory(d, Crm(), log.entries(), std::vector<authz::RoleDef>{kViewer});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "role.deleted");
  EXPECT_EQ(notes[0].change_id, 1);
  EXPECT_NE(notes[0].message.find("Role 'Starters', which granted recording:recording:start"), std::string::npos)
      << notes[0].message;
}

TEST(ChangeHistoryTest, ScopeAndPermissionFailingTogetherEachGetTheirCause) {
  Log log;
  auto before = Client({"recording:control"}, {kStarter.id});
  auto after = Client({}, {});
  log.Add(store::ClientChange(&before, &after, Ops(10)));
  auto d = Decide({}, {});
  auto notes = FindHistory(d, Crm(), log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].layer, "scope");
  EXPECT_EQ(notes[1].layer, "permission");
}

authz::Decision Revoked() {
  authz::Request req;
  req.action = "recording:recording:start";
  req.token.problem = authz::TokenProblem::kRevoked;
  auto d = authz::Evaluate(req);
  EXPECT_EQ(d.layer(authz::Layer::kToken).code, "token.revoked");
  return d;
}

TEST(ChangeHistoryTest, ATokenIssuedBeforeTheSecretWasRotated) {
  Log log;
  auto before = Client({"recording:control"}, {});
  auto after = before;
  after.secret_hash = "h2";
  after.tokens_valid_after = At(200);
  after.tokens_valid_after_reason = "its secret was rotated";
  log.Add(store::ClientChange(&before, &after, Ops(200)));
  HistorySubject who = Crm();
  who.token_issued_at = At(150);
  auto notes = FindHistory(Revoked(), who, log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].layer, "token");
  EXPECT_NE(notes[0].message.find("(its secret was rotated)"), std::string::npos) << notes[0].message;
  EXPECT_NE(notes[0].message.find("This token was issued at " + FormatRfc3339(At(150))), std::string::npos);
  EXPECT_EQ(notes[0].fix, "Request a new token: tokens issued from now on are accepted.");

  // A token issued after that cutoff was refused for another reason (its jti was revoked).
  who.token_issued_at = At(300);
  EXPECT_TRUE(FindHistory(Revoked(), who, log.entries(), kCatalog).empty());
}

TEST(ChangeHistoryTest, ATokenOfADisabledOrDeletedClient) {
  Log log;
  auto on = Client({}, {});
  auto off = on;
  off.enabled = false;
  log.Add(store::ClientChange(&on, &off, Ops(5)));
  auto notes = FindHistory(Revoked(), Crm(), log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].message.find("was disabled at"), std::string::npos) << notes[0].message;
  EXPECT_NE(notes[0].fix.find("{\"enabled\": true}"), std::string::npos);

  log.Add(store::ClientChange(&off, nullptr, Ops(6)));
  notes = FindHistory(Revoked(), Crm(), log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "client.deleted");
  EXPECT_TRUE(notes[0].fix.empty());
}

TEST(ChangeHistoryTest, AUsersTokenIsExplainedByItsOwnChangesOrItsClients) {
  Log log;
  store::User u;
  u.id = "alice-id";
  u.username = "alice";
  u.password_hash = "p1";
  store::User changed = u;
  changed.password_hash = "p2";
  changed.tokens_valid_after = At(40);
  changed.tokens_valid_after_reason = "its password was changed";
  log.Add(store::UserChange(&u, &changed, store::OfflineAuthor("verbatim users password", At(40))));
  HistorySubject who{"user", "alice-id", "console-id", At(30), {}};
  auto notes = FindHistory(Revoked(), who, log.entries(), kCatalog);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].message.find("User 'alice'"), std::string::npos) << notes[0].message;
  EXPECT_NE(notes[0].message.find("by verbatim users password."), std::string::npos) << notes[0].message;
  EXPECT_EQ(notes[0].actor_type, "system");
  EXPECT_TRUE(notes[0].context_id.empty());
}

TEST(ChangeHistoryTest, AllowedDecisionsAndOtherFailuresHaveNoHistory) {
  Log log;
  auto before = Client({"recording:control"}, {kStarter.id});
  auto after = Client({}, {});
  log.Add(store::ClientChange(&before, &after, Ops(10)));
  EXPECT_TRUE(FindHistory(Decide({"recording:control"}, {kStarter}), Crm(), log.entries(), kCatalog).empty());
  authz::Request req;
  req.action = "recording:recording:start";
  req.token.problem = authz::TokenProblem::kExpired;
  EXPECT_TRUE(FindHistory(authz::Evaluate(req), Crm(), log.entries(), kCatalog).empty());
}

}  // namespace
}  // namespace verbatim::service
