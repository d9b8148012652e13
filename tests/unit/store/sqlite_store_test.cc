// What only the SQLite store does: WAL and pragmas, its user_version
// migrations and files. The behaviour both stores share is the conformance
// suite's (conformance/store_conformance_test.cc).
#include <gtest/gtest.h>

#include "store/sqlite/migrations.h"
#include "store_test_util.h"

namespace verbatim::store {
namespace {

using testing_util::SqliteStoreTest;
using testing_util::T;

// ---------------------------------------------------------------- open & migrations

TEST_F(SqliteStoreTest, OpensInWalWithForeignKeysAndRequestedSync) {
  EXPECT_EQ(*store_->WriterPragma("journal_mode"), "wal");
  EXPECT_EQ(*store_->WriterPragma("foreign_keys"), "1");
  EXPECT_EQ(*store_->WriterPragma("synchronous"), "1");  // NORMAL
  EXPECT_EQ(*store_->WriterPragma("busy_timeout"), "5000");
  EXPECT_EQ(*store_->WriterPragma("user_version"), std::to_string(sqlite::LatestSchemaVersion()));
  EXPECT_EQ(store_->WriterPragma("writable_schema").status().code(), "bad.request");

  Open(SyncMode::kFull);
  EXPECT_EQ(*store_->WriterPragma("synchronous"), "2");  // FULL
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerVersion) {
  store_.reset();
  RawInt("PRAGMA user_version = 999");
  SqliteOptions opts;
  opts.path = DbPath();
  auto s = OpenSqliteStore(opts, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ(s.status().code(), "store.version.unsupported");
  EXPECT_EQ(RawInt("PRAGMA user_version"), 999);  // untouched
}

TEST_F(SqliteStoreTest, OpenFailsCleanlyWhenTheDirectoryIsMissing) {
  SqliteOptions opts;
  opts.path = (dir_ / "missing" / "x.db").string();
  auto s = OpenSqliteStore(opts, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), Status::Kind::kInternal);
}

TEST_F(SqliteStoreTest, ClientsWrittenBeforeStep5AreEnabledWithoutCutoff) {
  // A row as an older binary wrote it: none of the step-5 columns named.
  RawText(
      "INSERT INTO oauth_clients (id, name, description, allowed_scopes, allowed_grant_types, "
      "access_token_validity_seconds, secret_hash, created_at, updated_at) "
      "VALUES ('old', 'old', '', '[]', '[\"client_credentials\"]', 3600, 'ab', 1, 1)");
  auto got = store_->GetClient("old");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->enabled);
  EXPECT_FALSE(got->tokens_valid_after.has_value());
}

// A database the previous release left (step 8: no users, no redirect URIs,
// no grants) gains the users tables, the new client columns and the grants
// tables on open and keeps what it had.
TEST_F(SqliteStoreTest, UpgradesAStep8DatabaseWithTheUsersTables) {
  ASSERT_TRUE(store_->CreateRole(Role{"r1", "Custom", "", {}, T(1), T(1)}).ok());
  store_.reset();
  RawText("DROP TABLE media_sessions");  // step 14
  RawText("DROP TABLE nodes");
  RawText("ALTER TABLE media_files DROP COLUMN node_id");
  RawText("ALTER TABLE media_files DROP COLUMN interrupted_at");
  RawText("DROP TABLE webhook_deliveries");  // step 13
  RawText("DROP TABLE webhooks");
  RawText("DROP TABLE changes");  // step 12
  RawText("DROP TABLE refresh_tokens");  // step 11
  RawText("DROP TABLE auth_codes");
  RawText("DROP TABLE user_roles");
  RawText("DROP TABLE users");
  RawText("ALTER TABLE oauth_clients DROP COLUMN redirect_uris");  // step 10
  RawText("ALTER TABLE oauth_clients DROP COLUMN client_type");
  RawText("PRAGMA user_version = 8");
  ASSERT_EQ(RawInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'users'"), 0);

  Open();
  EXPECT_EQ(RawInt("PRAGMA user_version"), sqlite::LatestSchemaVersion());
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('auth_codes', 'refresh_tokens')"), 2);
  EXPECT_EQ(store_->GetRole("r1")->name, "Custom");
  User u;
  u.id = "u1";
  u.username = "ada";
  u.role_ids = {"r1"};
  ASSERT_TRUE(store_->CreateUser(u).ok());
  EXPECT_EQ(store_->GetUser("u1")->role_ids, std::vector<std::string>{"r1"});
  EXPECT_EQ(store_->CreateUser(User{.id = "u2", .username = "ADA"}).code(), "user.name.taken");
}

TEST_F(SqliteStoreTest, ReopenKeepsTheSchemaVersion) {
  Reopen();
  EXPECT_EQ(RawInt("PRAGMA user_version"), sqlite::LatestSchemaVersion());
}

}  // namespace
}  // namespace verbatim::store
