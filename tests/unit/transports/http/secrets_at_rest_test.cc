// Binding a database to its key-encryption key, migrating a database written
// before secrets were sealed, and rotating the key: against a real SQLite
// file and real key files in a temp directory.
#include "transports/http/secrets_at_rest.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "transports/http/integration_secrets.h"
#include "core/base64.h"
#include "core/ids.h"
#include "oauth/jwt.h"
#include "oauth/token_service.h"
#include "store/store.h"

namespace verbatim::api {
namespace {

namespace fs = std::filesystem;

class SecretsAtRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    std::string tmpl = (fs::temp_directory_path() / "verbatim-sar-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    opts_.kek_path = (dir_ / "kek").string();
    opts_.db_name = DbPath();
    Open();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string DbPath() const { return (dir_ / "verbatim.db").string(); }
  void Open() {
    store_.reset();
    store::SqliteOptions o;
    o.path = DbPath();
    auto s = store::OpenSqliteStore(o, SystemClock::Instance());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  Result<SecretsAtRest> Bind() { return OpenSecretsAtRest(*store_, opts_); }

  // Every byte of the database (main file and WAL), as an attacker with a copy sees it.
  std::string FileBytes() const {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(DbPath() + suffix, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(DbPath().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  std::string KeyIdOfFile(const std::string& path) {
    auto f = OpenKekFile(path, KekLock::kShared);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? f->key.id() : "";
  }

  fs::path dir_;
  SecretsAtRestOptions opts_;
  std::unique_ptr<store::Store> store_;
};

// The rows an older verbatim wrote: a PEM in signing_keys, and an integration
// secret under the in-database "integration-key" (nonce || crypto_secretbox).
struct LegacyRows {
  std::string active_kid;
  std::string retired_kid;
  std::string integration_id;
  std::string integration_secret;  // raw bytes (the HMAC key)
};

LegacyRows WriteLegacyRows(store::Store& store) {
  LegacyRows out;
  const TimePoint now = SystemClock::Instance().Now();
  for (int i = 0; i < 2; ++i) {
    auto pair = oauth::SigningKeyPair::Generate();
    EXPECT_TRUE(pair.ok());
    store::SigningKey k;
    k.kid = pair->kid();
    k.alg = "ES256";
    k.private_key_sealed = pair->PrivatePem();  // what the old code stored: plaintext
    k.public_jwk_json = ToJson(pair->PublicJwk());
    k.created_at = now + std::chrono::seconds(i);
    if (i == 0) {
      EXPECT_TRUE(store.InsertKey(k).ok());
      out.retired_kid = k.kid;
    } else {
      EXPECT_TRUE(store.RotateKeys(k, now, now + std::chrono::hours(25)).ok());
      out.active_kid = k.kid;
    }
  }
  std::string server_key(crypto_secretbox_KEYBYTES, '\0');
  randombytes_buf(server_key.data(), server_key.size());
  EXPECT_TRUE(store.PutSecretIfAbsent(kLegacyIntegrationKeyName, server_key).ok());
  out.integration_secret = std::string(32, '\0');
  randombytes_buf(out.integration_secret.data(), 32);
  std::string sealed(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(out.integration_secret.data()), 32, nonce,
                        reinterpret_cast<const unsigned char*>(server_key.data()));
  out.integration_id = NewUuid();
  EXPECT_TRUE(store.CreateIntegration({out.integration_id, "genesys", "api-key-1", sealed, {}, now}).ok());
  return out;
}

TEST_F(SecretsAtRestTest, AFreshDatabaseGetsANewPrivateKeyFileAndAKeyCheck) {
  ASSERT_FALSE(fs::exists(opts_.kek_path));
  auto bound = Bind();
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(bound->created);
  struct stat st {};
  ASSERT_EQ(::stat(opts_.kek_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto check = store_->GetSecret(store::kKeyCheckSecretName);
  ASSERT_TRUE(check.ok() && check->has_value());
  EXPECT_EQ(SecretBox::KeyIdOf(**check), bound->box->key_id());
  const std::string id = bound->box->key_id();
  bound = Status::Internal("released");

  auto again = Bind();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->box->key_id(), id);
  EXPECT_EQ(again->migrated, 0);
}

TEST_F(SecretsAtRestTest, AMissingKeyForASealedDatabaseIsAClearErrorAndNoNewKeyIsMade) {
  std::string id;
  {
    auto bound = Bind();
    ASSERT_TRUE(bound.ok());
    id = bound->box->key_id();
  }
  fs::remove(opts_.kek_path);
  auto r = Bind();
  EXPECT_EQ(r.status().code(), "kek.missing");
  const std::string& m = r.status().message();
  EXPECT_NE(m.find(opts_.kek_path), std::string::npos) << m;
  EXPECT_NE(m.find(id), std::string::npos) << "names the key the database needs: " << m;
  EXPECT_NE(m.find("--key-encryption-key-file"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(opts_.kek_path)) << "never a new key for a database that has secrets";
}

TEST_F(SecretsAtRestTest, AnotherKeyIsAMismatchNamingBothKeyIds) {
  std::string id;
  {
    auto bound = Bind();
    ASSERT_TRUE(bound.ok());
    id = bound->box->key_id();
  }
  fs::remove(opts_.kek_path);
  ASSERT_TRUE(WriteKekFile(opts_.kek_path, KeyEncryptionKey::Generate()).ok());
  auto r = Bind();
  EXPECT_EQ(r.status().code(), "kek.mismatch");
  EXPECT_NE(r.status().message().find(id), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(KeyIdOfFile(opts_.kek_path)), std::string::npos) << r.status().message();
}

TEST_F(SecretsAtRestTest, AKeyFileOthersMayReadIsRefused) {
  ASSERT_TRUE(WriteKekFile(opts_.kek_path, KeyEncryptionKey::Generate()).ok());
  ASSERT_EQ(::chmod(opts_.kek_path.c_str(), 0644), 0);
  EXPECT_EQ(Bind().status().code(), "kek.insecure");
  EXPECT_FALSE(store_->GetSecret(store::kKeyCheckSecretName)->has_value()) << "nothing bound to a leaked key";
}

TEST_F(SecretsAtRestTest, MigratesADatabaseWrittenBeforeSecretsWereSealed) {
  const LegacyRows legacy = WriteLegacyRows(*store_);
  ASSERT_NE(FileBytes().find("PRIVATE KEY"), std::string::npos) << "the legacy rows are in the clear";

  auto bound = Bind();
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(bound->created) << "a legacy database has nothing sealed yet: the key is created";
  EXPECT_EQ(bound->migrated, 3);
  const SecretBox& box = *bound->box;

  // The old in-database key is gone; every value is sealed for its row and opens to what it was.
  EXPECT_FALSE(store_->GetSecret(kLegacyIntegrationKeyName)->has_value());
  auto keys = store_->ListKeys();
  ASSERT_EQ(keys->size(), 2u);
  for (const auto& k : *keys) {
    EXPECT_TRUE(SecretBox::IsEnvelope(k.private_key_sealed)) << k.kid;
    auto pair = oauth::OpenSigningKey(box, k);
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    EXPECT_EQ(pair->kid(), k.kid);
  }
  auto integration = store_->GetIntegrationByApiKey("api-key-1");
  ASSERT_TRUE(integration.ok());
  EXPECT_EQ(*OpenIntegrationSecret(box, *integration), legacy.integration_secret);

  // Tokens keep their signing key across the upgrade.
  oauth::TokenServiceOptions topts;
  topts.issuer = "http://127.0.0.1:8080";
  topts.audience = topts.issuer + "/api";
  topts.secrets = bound->box;
  oauth::TokenService tokens(*store_, SystemClock::Instance(), topts);
  ASSERT_TRUE(tokens.Init().ok());
  EXPECT_EQ(tokens.ActiveKid(), legacy.active_kid);

  // Nothing of the old values is left in the file's bytes: not in the WAL, and
  // not in freed space of the pages (the pass runs with secure_delete).
  std::string bytes = FileBytes();
  EXPECT_EQ(bytes.find("PRIVATE KEY"), std::string::npos) << "while open";
  bound = Status::Internal("released");
  store_.reset();  // checkpoints the WAL into the main file
  bytes = FileBytes();
  EXPECT_EQ(bytes.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(bytes.find(legacy.integration_secret), std::string::npos);

  // A second start has nothing to migrate.
  Open();
  auto again = Bind();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->migrated, 0);
}

TEST_F(SecretsAtRestTest, AValueMovedToAnotherRowDoesNotOpenThere) {
  auto bound = Bind();
  ASSERT_TRUE(bound.ok());
  const TimePoint now = SystemClock::Instance().Now();
  NewIntegration a = MakeIntegration(*bound->box, "a", {}, now);
  NewIntegration b = MakeIntegration(*bound->box, "b", {}, now);
  ASSERT_TRUE(store_->CreateIntegration(a.record).ok());
  ASSERT_TRUE(store_->CreateIntegration(b.record).ok());
  // Someone with write access to the database gives b the sealed secret of a.
  RawExec("UPDATE media_integrations SET secret_encrypted = (SELECT secret_encrypted FROM media_integrations WHERE "
          "id = '" + a.record.id + "') WHERE id = '" + b.record.id + "'");
  auto moved = store_->GetIntegrationByApiKey(b.record.api_key);
  ASSERT_TRUE(moved.ok());
  ASSERT_EQ(moved->secret_encrypted, a.record.secret_encrypted);
  EXPECT_EQ(OpenIntegrationSecret(*bound->box, *moved).status().code(), "secret.tampered");
  EXPECT_TRUE(OpenIntegrationSecret(*bound->box, *store_->GetIntegrationByApiKey(a.record.api_key)).ok());
}

TEST_F(SecretsAtRestTest, RotationReSealsEverythingUnderANewKeyFile) {
  std::string old_id;
  std::string secret;
  std::string api_key;
  {
    auto bound = Bind();
    ASSERT_TRUE(bound.ok());
    old_id = bound->box->key_id();
    auto k = oauth::NewSigningKey(*bound->box, SystemClock::Instance().Now());
    ASSERT_TRUE(k.ok() && store_->InsertKey(*k).ok());
    NewIntegration n = MakeIntegration(*bound->box, "a", {}, SystemClock::Instance().Now());
    ASSERT_TRUE(store_->CreateIntegration(n.record).ok());
    secret = *Base64Decode(n.client_secret);
    api_key = n.record.api_key;

    // Not under a live holder of the key (a running server).
    EXPECT_EQ(RotateKeyEncryptionKey(*store_, opts_).status().code(), "kek.locked");
  }
  auto rotated = RotateKeyEncryptionKey(*store_, opts_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->old_key_id, old_id);
  EXPECT_NE(rotated->new_key_id, old_id);
  EXPECT_EQ(rotated->resealed, 2);
  EXPECT_FALSE(fs::exists(opts_.kek_path + ".next"));
  EXPECT_EQ(KeyIdOfFile(opts_.kek_path), rotated->new_key_id);

  auto bound = Bind();
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(bound->box->key_id(), rotated->new_key_id);
  EXPECT_EQ(*OpenIntegrationSecret(*bound->box, *store_->GetIntegrationByApiKey(api_key)), secret);
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  for (const auto& k : *keys) EXPECT_TRUE(oauth::OpenSigningKey(*bound->box, k).ok()) << k.kid;
}

TEST_F(SecretsAtRestTest, AnInterruptedRotationIsFinishedOrForgotten) {
  std::string new_id;
  {
    auto bound = Bind();
    ASSERT_TRUE(bound.ok());
    auto k = oauth::NewSigningKey(*bound->box, SystemClock::Instance().Now());
    ASSERT_TRUE(k.ok() && store_->InsertKey(*k).ok());
  }
  // A rotation that wrote kek.next and died before committing: forgotten.
  ASSERT_TRUE(WriteKekFile(opts_.kek_path + ".next", KeyEncryptionKey::Generate()).ok());
  {
    auto bound = Bind();
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    EXPECT_FALSE(bound->finished_rotation);
    EXPECT_FALSE(fs::exists(opts_.kek_path + ".next"));
  }
  // A rotation that committed and died before the rename: finished.
  {
    auto old_file = OpenKekFile(opts_.kek_path, KekLock::kShared);
    ASSERT_TRUE(old_file.ok());
    const SecretBox old_box(std::move(old_file->key));
    KeyEncryptionKey next = KeyEncryptionKey::Generate();
    new_id = next.id();
    ASSERT_TRUE(WriteKekFile(opts_.kek_path + ".next", next).ok());
    const SecretBox next_box(std::move(next));
    store::ResealPlan plan;
    plan.expected_check = **store_->GetSecret(store::kKeyCheckSecretName);
    plan.new_check = next_box.Seal("verbatim key-encryption key check v1", "kek-check");
    plan.reseal = [&](const store::SealedValue& v) -> Result<std::string> {
      const std::string ctx = store::SealedContext(v.kind, v.id);
      return next_box.Seal(*old_box.Open(v.value, ctx), ctx);
    };
    ASSERT_TRUE(store_->ResealSecrets(plan).ok());
  }
  auto bound = Bind();
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(bound->finished_rotation);
  EXPECT_EQ(bound->box->key_id(), new_id);
  EXPECT_FALSE(fs::exists(opts_.kek_path + ".next"));
  EXPECT_EQ(KeyIdOfFile(opts_.kek_path), new_id);
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  for (const auto& k : *keys) EXPECT_TRUE(oauth::OpenSigningKey(*bound->box, k).ok()) << k.kid;
}

TEST_F(SecretsAtRestTest, AnOfflineCommandNeverCreatesAKeyWhenToldNotTo) {
  opts_.create_if_fresh = false;
  EXPECT_EQ(Bind().status().code(), "kek.missing");
  EXPECT_FALSE(fs::exists(opts_.kek_path));
}

}  // namespace
}  // namespace verbatim::api
