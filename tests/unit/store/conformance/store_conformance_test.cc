// Store conformance (store/store.h), run on SQLite and PostgreSQL: open,
// organization, clients, roles, keys, revocation, integrations, secrets and
// sealed values.
#include <gtest/gtest.h>

#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::T;

OAuthClient MakeClient(const std::string& id, std::vector<std::string> roles = {}) {
  OAuthClient c;
  c.id = id;
  c.name = "client " + id;
  c.description = "test";
  c.allowed_scopes = {"recording:write", "recording:control"};
  c.allowed_grant_types = {"client_credentials"};
  c.role_ids = std::move(roles);
  c.access_token_validity_seconds = 900;
  c.secret_hash = "ab12";
  c.created_at = T(1);
  c.updated_at = T(2);
  return c;
}

Role MakeRole(const std::string& id, const std::string& name) {
  return Role{id, name, "desc", {"recording:recording:view", "recording:*:*"}, T(1), T(1)};
}

SigningKey MakeKey(const std::string& kid, TimePoint created) {
  return SigningKey{
      kid,          "ES256",     "-----BEGIN PRIVATE KEY-----" + kid, R"({"kty":"EC","kid":")" + kid + R"("})", created,
      std::nullopt, std::nullopt};
}

// ---------------------------------------------------------------- open & migrations

TEST_P(StoreTest, ReopenAtCurrentVersionIsANoOpAndKeepsTheOrganization) {
  auto org = store_->GetOrganization();
  ASSERT_TRUE(org.ok());
  EXPECT_TRUE(IsUuid(org->id));
  EXPECT_EQ(org->name, "default");
  EXPECT_EQ(org->created_at, T(0));

  clock_.Set(T(5000));
  Reopen();
  Reopen();
  auto again = store_->GetOrganization();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, org->id);
  EXPECT_EQ(again->created_at, T(0));
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM organizations"), 1);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM org_settings"), 1);
}

// ---------------------------------------------------------------- settings

TEST_P(StoreTest, SettingsHaveDefaultsAndPersist) {
  auto s = store_->GetSettings();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->auto_start);
  EXPECT_EQ(s->pause_behavior, "silence");
  EXPECT_EQ(s->retention_days, 90);

  ASSERT_TRUE(store_->PutSettings(OrgSettings{false, "skip", 30}).ok());
  Reopen();
  s = store_->GetSettings();
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->auto_start);
  EXPECT_EQ(s->pause_behavior, "skip");
  EXPECT_EQ(s->retention_days, 30);

  EXPECT_EQ(store_->PutSettings(OrgSettings{true, "loud", 30}).code(), "bad.request");
  EXPECT_EQ(store_->GetSettings()->pause_behavior, "skip");
}

// ---------------------------------------------------------------- clients

TEST_P(StoreTest, ClientCrudRoundTripsEveryField) {
  OAuthClient c = MakeClient("c1", {"role-b", "role-a"});
  ASSERT_TRUE(store_->CreateClient(c).ok());
  EXPECT_EQ(store_->CreateClient(c).code(), "client.exists");

  auto got = store_->GetClient("c1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, c.name);
  EXPECT_EQ(got->description, c.description);
  EXPECT_EQ(got->allowed_scopes, c.allowed_scopes);
  EXPECT_EQ(got->allowed_grant_types, c.allowed_grant_types);
  EXPECT_EQ(got->redirect_uris, std::vector<std::string>{});
  EXPECT_EQ(got->client_type, "confidential");
  EXPECT_EQ(got->role_ids, (std::vector<std::string>{"role-b", "role-a"}));  // order kept
  EXPECT_EQ(got->access_token_validity_seconds, 900);
  EXPECT_EQ(got->secret_hash, "ab12");
  EXPECT_EQ(got->created_at, T(1));
  EXPECT_EQ(got->updated_at, T(2));

  c.name = "renamed";
  c.allowed_scopes = {"admin"};
  c.allowed_grant_types = {"authorization_code", "refresh_token"};
  c.redirect_uris = {"https://app.example.com/cb", "http://127.0.0.1/cb"};
  c.client_type = "public";
  c.role_ids = {"role-c"};
  c.secret_hash = "ff00";
  c.updated_at = T(9);
  c.created_at = T(100);  // immutable: ignored
  ASSERT_TRUE(store_->UpdateClient(c).ok());
  got = store_->GetClient("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "renamed");
  EXPECT_EQ(got->allowed_scopes, std::vector<std::string>{"admin"});
  EXPECT_EQ(got->allowed_grant_types, (std::vector<std::string>{"authorization_code", "refresh_token"}));
  EXPECT_EQ(got->redirect_uris, (std::vector<std::string>{"https://app.example.com/cb", "http://127.0.0.1/cb"}));
  EXPECT_EQ(got->client_type, "public");
  EXPECT_EQ(got->role_ids, std::vector<std::string>{"role-c"});
  EXPECT_EQ(got->secret_hash, "ff00");
  EXPECT_EQ(got->updated_at, T(9));
  EXPECT_EQ(got->created_at, T(1));

  ASSERT_TRUE(store_->CreateClient(MakeClient("c2")).ok());
  auto list = store_->ListClients();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "c1");
  EXPECT_EQ((*list)[0].role_ids, std::vector<std::string>{"role-c"});

  ASSERT_TRUE(store_->DeleteClient("c1").ok());
  EXPECT_EQ(store_->GetClient("c1").status().code(), "client.not.found");
  EXPECT_EQ(store_->GetClient("c1").status().kind(), Status::Kind::kNotFound);
  EXPECT_EQ(store_->DeleteClient("c1").code(), "client.not.found");
  EXPECT_EQ(store_->UpdateClient(MakeClient("nope")).code(), "client.not.found");
  // The role rows went with the client (a cascading foreign key).
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM client_roles WHERE client_id = 'c1'"), 0);
}

TEST_P(StoreTest, ClientEnabledFlagAndTokenCutoffRoundTrip) {
  OAuthClient c = MakeClient("c1");
  ASSERT_TRUE(store_->CreateClient(c).ok());
  auto got = store_->GetClient("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->enabled);
  EXPECT_FALSE(got->tokens_valid_after.has_value());
  EXPECT_EQ(got->tokens_valid_after_reason, "");

  c.enabled = false;
  c.tokens_valid_after = T(1234);
  c.tokens_valid_after_reason = "it was disabled";
  ASSERT_TRUE(store_->UpdateClient(c).ok());
  Reopen();
  got = store_->GetClient("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->tokens_valid_after, T(1234));
  EXPECT_EQ(got->tokens_valid_after_reason, "it was disabled");
}

TEST_P(StoreTest, InputIsBoundNeverSpliced) {
  const std::string evil = "x'); DROP TABLE oauth_clients; --";
  ASSERT_TRUE(store_->CreateClient(MakeClient(evil, {evil})).ok());
  auto got = store_->GetClient(evil);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role_ids, std::vector<std::string>{evil});
  EXPECT_EQ(store_->ListClients()->size(), 1u);
}

// ---------------------------------------------------------------- roles

TEST_P(StoreTest, RoleCrudAndCaseInsensitiveUniqueNames) {
  ASSERT_TRUE(store_->CreateRole(MakeRole("r1", "Billing Auditor")).ok());
  Status dup = store_->CreateRole(MakeRole("r2", "billing AUDITOR"));
  EXPECT_EQ(dup.kind(), Status::Kind::kAlreadyExists);
  EXPECT_EQ(dup.code(), "role.name.taken");
  EXPECT_EQ(store_->CreateRole(MakeRole("r1", "Other")).code(), "role.exists");

  auto got = store_->GetRole("r1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Billing Auditor");
  EXPECT_EQ(got->permissions, (std::vector<std::string>{"recording:recording:view", "recording:*:*"}));

  ASSERT_TRUE(store_->CreateRole(MakeRole("r2", "Another")).ok());
  Role r2 = MakeRole("r2", "BILLING auditor");
  EXPECT_EQ(store_->UpdateRole(r2).code(), "role.name.taken");
  Role r1 = MakeRole("r1", "billing auditor");  // re-casing its own name is fine
  r1.permissions = {"audit:event:view"};
  r1.updated_at = T(50);
  ASSERT_TRUE(store_->UpdateRole(r1).ok());
  got = store_->GetRole("r1");
  EXPECT_EQ(got->name, "billing auditor");
  EXPECT_EQ(got->permissions, std::vector<std::string>{"audit:event:view"});
  EXPECT_EQ(got->updated_at, T(50));
  EXPECT_EQ(store_->UpdateRole(MakeRole("nope", "x")).code(), "role.not.found");

  auto list = store_->ListRoles();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "Another");

  EXPECT_EQ(store_->GetRole("nope").status().code(), "role.not.found");
  EXPECT_EQ(store_->DeleteRole("nope").code(), "role.not.found");
}

TEST_P(StoreTest, DeleteRoleRemovesItFromEveryClientAndIntegration) {
  ASSERT_TRUE(store_->CreateRole(MakeRole("custom", "Custom")).ok());
  ASSERT_TRUE(store_->CreateClient(MakeClient("a", {"builtin-1", "custom", "builtin-2"})).ok());
  ASSERT_TRUE(store_->CreateClient(MakeClient("b", {"custom"})).ok());
  ASSERT_TRUE(store_->CreateClient(MakeClient("c", {"builtin-1"})).ok());
  ASSERT_TRUE(store_->CreateIntegration(MediaIntegration{"i1", "hook", "key-1", "enc", {"custom", "x"}, T(0)}).ok());

  clock_.Set(T(777));
  ASSERT_TRUE(store_->DeleteRole("custom").ok());
  EXPECT_EQ(store_->GetRole("custom").status().code(), "role.not.found");
  EXPECT_EQ(store_->GetClient("a")->role_ids, (std::vector<std::string>{"builtin-1", "builtin-2"}));
  EXPECT_TRUE(store_->GetClient("b")->role_ids.empty());
  EXPECT_EQ(store_->GetClient("a")->updated_at, T(777));
  EXPECT_EQ(store_->GetClient("c")->updated_at, T(2));  // untouched
  EXPECT_EQ(store_->GetIntegrationByApiKey("key-1")->role_ids, std::vector<std::string>{"x"});
}

// ---------------------------------------------------------------- keys

TEST_P(StoreTest, KeysListOldestFirstAndRotateRetiresEveryActiveKey) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("k2", T(20))).ok());
  ASSERT_TRUE(store_->InsertKey(MakeKey("k1", T(10))).ok());
  EXPECT_EQ(store_->InsertKey(MakeKey("k1", T(30))).code(), "key.exists");

  ASSERT_TRUE(store_->RotateKeys(MakeKey("k3", T(100)), T(100), T(3700)).ok());
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].kid, "k1");
  EXPECT_EQ((*keys)[1].kid, "k2");
  EXPECT_EQ((*keys)[2].kid, "k3");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ((*keys)[i].retired_at, T(100));
    EXPECT_EQ((*keys)[i].publish_until, T(3700));
  }
  EXPECT_FALSE((*keys)[2].retired_at.has_value());
  EXPECT_EQ((*keys)[2].private_key_sealed, "-----BEGIN PRIVATE KEY-----k3");
  EXPECT_EQ((*keys)[2].public_jwk_json, R"({"kty":"EC","kid":"k3"})");

  // A second rotation keeps the first retirement times of already-retired keys.
  ASSERT_TRUE(store_->RotateKeys(MakeKey("k4", T(200)), T(200), T(3800)).ok());
  keys = store_->ListKeys();
  EXPECT_EQ((*keys)[0].retired_at, T(100));
  EXPECT_EQ((*keys)[2].retired_at, T(200));
  EXPECT_EQ((*keys)[2].publish_until, T(3800));
  EXPECT_FALSE((*keys)[3].retired_at.has_value());
}

TEST_P(StoreTest, FailedRotationRetiresNothing) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("k1", T(10))).ok());
  EXPECT_EQ(store_->RotateKeys(MakeKey("k1", T(20)), T(20), T(99)).code(), "key.exists");
  auto keys = store_->ListKeys();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_FALSE((*keys)[0].retired_at.has_value());  // rolled back with the insert
}

// ---------------------------------------------------------------- revocation

TEST_P(StoreTest, RevocationIsIdempotentListsUnexpiredAndPurges) {
  ASSERT_TRUE(store_->RevokeToken({"j1", T(100)}).ok());
  ASSERT_TRUE(store_->RevokeToken({"j1", T(50)}).ok());  // keeps the later expiry
  ASSERT_TRUE(store_->RevokeToken({"j2", T(10)}).ok());
  auto live = store_->ListRevoked(T(20));
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].jti, "j1");
  EXPECT_EQ((*live)[0].expires_at, T(100));

  ASSERT_TRUE(store_->PurgeRevoked(T(20)).ok());
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM revoked_tokens"), 1);
  EXPECT_EQ(store_->ListRevoked(T(0))->size(), 1u);  // j2 is gone even for an earlier `now`
}

// ---------------------------------------------------------------- integrations & secrets

TEST_P(StoreTest, IntegrationCrudKeepsBinarySecrets) {
  const std::string secret("\x00\x01\xff secret", 10);
  ASSERT_TRUE(store_->CreateIntegration(MediaIntegration{"i1", "hook", "key-1", secret, {"r1"}, T(5)}).ok());
  EXPECT_EQ(store_->CreateIntegration(MediaIntegration{"i2", "dup", "key-1", "s", {}, T(6)}).code(),
            "integration.exists");
  ASSERT_TRUE(store_->CreateIntegration(MediaIntegration{"i2", "other", "key-2", "", {}, T(6)}).ok());

  auto got = store_->GetIntegrationByApiKey("key-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, "i1");
  EXPECT_EQ(got->secret_encrypted, secret);
  EXPECT_EQ(got->role_ids, std::vector<std::string>{"r1"});
  EXPECT_EQ(got->created_at, T(5));
  EXPECT_EQ(store_->GetIntegrationByApiKey("key-2")->secret_encrypted, "");
  EXPECT_EQ(store_->ListIntegrations()->size(), 2u);

  ASSERT_TRUE(store_->DeleteIntegration("i1").ok());
  EXPECT_EQ(store_->DeleteIntegration("i1").code(), "integration.not.found");
  EXPECT_EQ(store_->GetIntegrationByApiKey("key-1").status().code(), "integration.not.found");
}

TEST_P(StoreTest, SecretsAreWrittenOnceAndKeptExactly) {
  EXPECT_FALSE(store_->GetSecret("media-key")->has_value());
  const std::string v1("\x00key\x00one", 8);
  ASSERT_TRUE(store_->PutSecretIfAbsent("media-key", v1).ok());
  ASSERT_TRUE(store_->PutSecretIfAbsent("media-key", "second").ok());
  Reopen();
  auto got = store_->GetSecret("media-key");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, v1);
}

// ---------------------------------------------------------------- sealed values

// A reseal that tags every value with "new:" and records what it saw.
ResealPlan Tagging(std::optional<std::string> expected, std::vector<SealedValue>* seen) {
  ResealPlan p;
  p.expected_check = std::move(expected);
  p.new_check = "check-2";
  p.reseal = [seen](const SealedValue& v) -> Result<std::string> {
    seen->push_back(v);
    if (v.id == "k-same") return v.value;  // unchanged: not written, not counted
    return "new:" + v.value;
  };
  return p;
}

TEST_P(StoreTest, ResealSecretsRewritesEverySealedValueAndTheCheckInOneTransaction) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("k1", T(1))).ok());
  ASSERT_TRUE(store_->InsertKey(MakeKey("k-same", T(2))).ok());
  const std::string binary("\x00sealed\xff", 8);
  ASSERT_TRUE(store_->CreateIntegration(MediaIntegration{"i1", "hook", "key-1", binary, {}, T(5)}).ok());
  ASSERT_TRUE(store_->PutSecretIfAbsent("integration-key", "legacy").ok());
  ASSERT_TRUE(store_->PutSecretIfAbsent("other", "kept").ok());

  std::vector<SealedValue> seen;
  ResealPlan plan = Tagging(std::nullopt, &seen);
  plan.drop_secrets = {"integration-key"};
  auto n = store_->ResealSecrets(plan);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, SealedKind::kSigningKey);
  EXPECT_EQ(seen[0].id, "k1");
  EXPECT_EQ(seen[2].kind, SealedKind::kIntegrationSecret);
  EXPECT_EQ(seen[2].value, binary) << "BLOB bytes exactly";

  Reopen();
  EXPECT_EQ((*store_->ListKeys())[0].private_key_sealed, "new:-----BEGIN PRIVATE KEY-----k1");
  EXPECT_EQ((*store_->ListKeys())[1].private_key_sealed, "-----BEGIN PRIVATE KEY-----k-same");
  EXPECT_EQ(store_->GetIntegrationByApiKey("key-1")->secret_encrypted, "new:" + binary);
  EXPECT_FALSE(store_->GetSecret("integration-key")->has_value());
  EXPECT_EQ(**store_->GetSecret("other"), "kept");
  EXPECT_EQ(**store_->GetSecret(kKeyCheckSecretName), "check-2");
}

TEST_P(StoreTest, ResealSecretsIsACompareAndSetOnTheCheck) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("k1", T(1))).ok());
  std::vector<SealedValue> seen;
  ASSERT_TRUE(store_->ResealSecrets(Tagging(std::nullopt, &seen)).ok());
  // A second process that also saw "no check yet" loses, and writes nothing.
  EXPECT_EQ(store_->ResealSecrets(Tagging(std::nullopt, &seen)).status().code(), "kek.check.changed");
  EXPECT_EQ(store_->ResealSecrets(Tagging("stale", &seen)).status().code(), "kek.check.changed");
  EXPECT_EQ((*store_->ListKeys())[0].private_key_sealed, "new:-----BEGIN PRIVATE KEY-----k1");
  EXPECT_TRUE(store_->ResealSecrets(Tagging("check-2", &seen)).ok());
}

TEST_P(StoreTest, AFailedResealWritesNothing) {
  ASSERT_TRUE(store_->InsertKey(MakeKey("k1", T(1))).ok());
  ASSERT_TRUE(store_->InsertKey(MakeKey("k2", T(2))).ok());
  ASSERT_TRUE(store_->PutSecretIfAbsent("integration-key", "legacy").ok());
  ResealPlan plan;
  plan.new_check = "check";
  plan.drop_secrets = {"integration-key"};
  plan.reseal = [](const SealedValue& v) -> Result<std::string> {
    if (v.id == "k2") return Status::Internal("cannot open k2");
    return "new:" + v.value;
  };
  EXPECT_EQ(store_->ResealSecrets(plan).status().message(), "cannot open k2");
  EXPECT_EQ((*store_->ListKeys())[0].private_key_sealed, "-----BEGIN PRIVATE KEY-----k1") << "k1 rolled back";
  EXPECT_TRUE(store_->GetSecret("integration-key")->has_value());
  EXPECT_FALSE(store_->GetSecret(kKeyCheckSecretName)->has_value());
}

// ---------------------------------------------------------------- durability

TEST_P(StoreTest, ClientsRolesAndKeysSurviveReopen) {
  ASSERT_TRUE(store_->CreateRole(MakeRole("r1", "Custom")).ok());
  ASSERT_TRUE(store_->CreateClient(MakeClient("c1", {"r1"})).ok());
  ASSERT_TRUE(store_->InsertKey(MakeKey("k1", T(1))).ok());
  ASSERT_TRUE(store_->RotateKeys(MakeKey("k2", T(2)), T(2), T(9)).ok());
  ASSERT_TRUE(store_->RevokeToken({"j1", T(1000)}).ok());
  Reopen();
  EXPECT_EQ(store_->GetClient("c1")->role_ids, std::vector<std::string>{"r1"});
  EXPECT_EQ(store_->GetRole("r1")->name, "Custom");
  auto keys = store_->ListKeys();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].retired_at, T(2));
  EXPECT_EQ((*keys)[1].kid, "k2");
  EXPECT_EQ(store_->ListRevoked(T(0))->size(), 1u);
}

VERBATIM_STORE_CONFORMANCE(StoreTest);

}  // namespace
}  // namespace verbatim::store
