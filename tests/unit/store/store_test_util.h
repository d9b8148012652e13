// Shared fixture for the SQLite store tests: a fresh temp directory and a real
// database file per test, reopenable to check durability.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"

namespace verbatim::store::testing_util {

inline TimePoint T(int64_t ms) { return FromUnixMillis(1'700'000'000'000 + ms); }

inline Actor TestActor(const std::string& id = "client-1") { return Actor{"client", id, "crm-integration", id}; }

inline Conversation MakeConversation(const std::string& id, TimePoint started = T(0), std::string external_id = "") {
  Conversation c;
  c.id = id;
  c.started_at = started;
  c.participants = {{"p1", "Alice", "agent"}, {"p2", "Bob", "customer"}};
  c.external_id = std::move(external_id);
  c.created_by = "client-1";
  return c;
}

// First column of the first row of `sql` on its own connection to the SQLite
// file at `path` (what is stored, not a store's view); "" when there is no row.
inline std::string SqliteFirstText(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string v;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string DbPath() const { return (dir_ / "verbatim.db").string(); }

  void Open(SyncMode sync = SyncMode::kNormal) {
    store_.reset();
    SqliteOptions opts;
    opts.path = DbPath();
    opts.sync = sync;
    auto s = SqliteStore::Open(opts, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void Reopen() { Open(); }

  // First column of the first row of `sql`, run on a separate raw connection
  // (to inspect or tamper with the file); "" when there is no row.
  std::string RawText(const std::string& sql) { return SqliteFirstText(DbPath(), sql); }
  int64_t RawInt(const std::string& sql) {
    std::string v = RawText(sql);
    return v.empty() ? -1 : std::stoll(v);
  }

  void CreateConversation(const std::string& id) { ASSERT_TRUE(store_->CreateConversation(MakeConversation(id)).ok()); }

  FakeClock clock_{T(0)};
  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace verbatim::store::testing_util
