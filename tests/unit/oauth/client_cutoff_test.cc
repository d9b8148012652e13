#include "oauth/client_cutoff.h"

#include <gtest/gtest.h>

namespace verbatim::oauth {
namespace {

const TimePoint kChange = FromUnixMillis(1'700'000'000'250);  // 250 ms into its second

store::OAuthClient Client() {
  store::OAuthClient c;
  c.id = "c1";
  c.name = "crm-integration";
  c.allowed_scopes = {"recording:control", "conversation:read"};
  c.role_ids = {authz::FindBuiltinRole("Recording Controller")->id, authz::FindBuiltinRole("Auditor")->id};
  c.secret_hash = "aa";
  return c;
}

authz::TokenCheck TokenIssuedAt(TimePoint iat) {
  authz::TokenCheck t;
  t.client_id = "c1";
  t.jti = "j1";
  t.issued_at = iat;
  t.expires_at = iat + std::chrono::hours(1);
  return t;
}

TEST(ClientCutoff, TakingAuthorityAwayOrReplacingTheSecretRefusesEarlierTokens) {
  const auto& roles = authz::BuiltinRoles();
  store::OAuthClient before = Client();

  store::OAuthClient after = before;
  after.secret_hash = "bb";
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), "its secret was rotated");

  after = before;
  after.enabled = false;
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), "it was disabled");

  after = before;
  after.allowed_scopes = {"conversation:read"};
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles),
            "scope 'recording:control' was removed from its allowed scopes");

  after = before;
  after.role_ids = {};
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles),
            "roles 'Recording Controller', 'Auditor' were removed from it");

  after = before;
  after.secret_hash = "cc";
  after.allowed_scopes = {};
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles),
            "its secret was rotated; scopes 'recording:control', 'conversation:read' were removed from its allowed "
            "scopes");
}

TEST(ClientCutoff, ChangesThatTakeNothingAwayKeepTokens) {
  const auto& roles = authz::BuiltinRoles();
  store::OAuthClient before = Client();
  store::OAuthClient after = before;
  after.name = "renamed";
  after.description = "x";
  after.access_token_validity_seconds = 60;
  after.allowed_scopes.push_back("recording:read");
  after.role_ids.push_back(authz::FindBuiltinRole("Recording Viewer")->id);
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), std::nullopt);
  before.enabled = false;  // enabling gives back, takes nothing
  after = before;
  after.enabled = true;
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), std::nullopt);
}

TEST(ClientCutoff, TokensIssuedAtOrBeforeTheCutoffAreRevokedWithWhatChangedAndWhen) {
  store::OAuthClient c = Client();
  InvalidateTokens(c, kChange, "its secret was rotated");
  ASSERT_TRUE(c.tokens_valid_after.has_value());

  // Issued in the same second, before the change: iat (whole seconds) is before it.
  auto same_second = TokenIssuedAt(FromUnixSeconds(1'700'000'000));
  CheckAgainstClient(same_second, c);
  EXPECT_EQ(same_second.problem, authz::TokenProblem::kRevoked);
  EXPECT_EQ(same_second.claim, "iat");
  EXPECT_EQ(same_second.detail,
            "it was issued at 2023-11-14T22:13:20.000Z, and client 'crm-integration' refuses every token issued "
            "until 2023-11-14T22:13:20.250Z, when its secret was rotated.");

  auto later = TokenIssuedAt(FromUnixSeconds(1'700'000'001));
  CheckAgainstClient(later, c);
  EXPECT_TRUE(later.ok()) << later.detail;

  c.enabled = false;
  CheckAgainstClient(later, c);
  EXPECT_EQ(later.problem, authz::TokenProblem::kRevoked);
  EXPECT_EQ(later.claim, "client_id");
  EXPECT_EQ(later.detail, "client 'crm-integration' is disabled since 2023-11-14T22:13:20.250Z.");
}

TEST(ClientCutoff, ATokenIssuedInTheCutoffsSecondGetsAnIatAfterIt) {
  store::OAuthClient c = Client();
  const TimePoint now = kChange + std::chrono::milliseconds(100);
  EXPECT_EQ(IssuedAtFor(c, now), FromUnixSeconds(1'700'000'000));  // no cutoff: whole seconds of now
  InvalidateTokens(c, kChange, "it was disabled");
  EXPECT_EQ(IssuedAtFor(c, now), FromUnixSeconds(1'700'000'001));
  auto t = TokenIssuedAt(IssuedAtFor(c, now));
  CheckAgainstClient(t, c);
  EXPECT_TRUE(t.ok());
  // Seconds later, iat is plain now again.
  EXPECT_EQ(IssuedAtFor(c, kChange + std::chrono::seconds(5)), FromUnixSeconds(1'700'000'005));
}

TEST(ClientCutoff, TheCutoffIsKeptToTheMillisecondAsTheStoreKeepsIt) {
  store::OAuthClient c = Client();
  InvalidateTokens(c, kChange + std::chrono::microseconds(999), "x");
  EXPECT_EQ(*c.tokens_valid_after, kChange);
}

}  // namespace
}  // namespace verbatim::oauth

namespace verbatim::oauth {
namespace {

TEST(UserCutoff, ANewPasswordDisablingOrARemovedRoleRefusesEarlierTokens) {
  const auto& roles = authz::BuiltinRoles();
  store::User before;
  before.id = "u1";
  before.username = "alice";
  before.password_hash = "$argon2id$old";
  before.role_ids = {authz::FindBuiltinRole("Recording Controller")->id, authz::FindBuiltinRole("Auditor")->id};

  store::User after = before;
  after.password_hash = "$argon2id$new";
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), "its password was changed");
  after = before;
  after.enabled = false;
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), "it was disabled");
  after = before;
  after.role_ids = {before.role_ids[1]};
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), "role 'Recording Controller' was removed from it");

  // Adding a role, renaming, a new e-mail or enabling take nothing away.
  after = before;
  after.role_ids.push_back(authz::FindBuiltinRole("Recording Viewer")->id);
  after.display_name = "Alice";
  after.email = "alice@example.com";
  EXPECT_EQ(TokensInvalidatedBy(before, after, roles), std::nullopt);

  InvalidateTokens(after, kChange, "its password was changed");
  ASSERT_TRUE(after.tokens_valid_after.has_value());
  EXPECT_EQ(ToUnixMillis(*after.tokens_valid_after), ToUnixMillis(kChange));
  EXPECT_EQ(after.tokens_valid_after_reason, "its password was changed");
}

}  // namespace
}  // namespace verbatim::oauth
