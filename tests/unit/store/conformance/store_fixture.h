// The store conformance suite's fixture: every TEST_P on StoreTest (or a
// subclass) runs once against SQLite (a fresh file) and once against
// PostgreSQL (a fresh schema of the test cluster, support/pg_cluster.h).
// The contract is store/store.h; what only one backend does (WAL,
// partitions, …) is tested next to it, not here.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <barrier>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/ids.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/pg_cluster.h"
#include "unit/store/store_test_util.h"

namespace verbatim::store::conformance {

using testing_util::MakeConversation;
using testing_util::T;
using testing_util::TestActor;

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}
inline void PrintTo(Backend b, std::ostream* os) { *os << (b == Backend::kSqlite ? "SQLite" : "PostgreSQL"); }

// Runs every TEST_P of `fixture` on both backends.
#define VERBATIM_STORE_CONFORMANCE(fixture)                                                       \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture,                                                     \
                           ::testing::Values(::verbatim::store::conformance::Backend::kSqlite,    \
                                             ::verbatim::store::conformance::Backend::kPostgres), \
                           ::verbatim::store::conformance::BackendName)

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      VERBATIM_REQUIRE_PG(cluster);
      pg_ = cluster;
      auto schema = pg_->CreateSchema("conf");
      ASSERT_TRUE(schema.ok()) << schema.status().ToString();
      pg_schema_ = *schema;
    } else {
      std::string tmpl = (std::filesystem::temp_directory_path() / "verbatim-conf-XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
    }
    Open();
  }
  void TearDown() override {
    store_.reset();
    if (!pg_schema_.empty()) (void)pg_->DropSchema(pg_schema_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }
  std::string DbPath() const { return (dir_ / "verbatim.db").string(); }
  std::string Url() const { return pg_->SchemaUrl(pg_schema_); }

  // Another store on the same database: a second process ("node").
  Result<std::unique_ptr<Store>> OpenAnother() {
    if (postgres()) {
      PostgresOptions o;
      o.url = Url();
      return OpenPostgresStore(o, clock_);
    }
    SqliteOptions o;
    o.path = DbPath();
    return OpenSqliteStore(o, clock_);
  }
  void Open() {
    store_.reset();
    auto s = OpenAnother();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void Reopen() { Open(); }
  // The database as if new (store_ must be closed): no file, an empty schema.
  void WipeDatabase() {
    if (postgres()) {
      ASSERT_TRUE(pg_->DropSchema(pg_schema_).ok());
      auto schema = pg_->CreateSchema("conf");
      ASSERT_TRUE(schema.ok()) << schema.status().ToString();
      pg_schema_ = *schema;
      return;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(DbPath() + suffix);
  }

  // First column of the first row of `sql` (portable SQL), run on a separate
  // raw connection: what is stored, not the store's view. "" when no row.
  std::string RawText(const std::string& sql) {
    std::string v;
    if (postgres()) {
      PGconn* c = PQconnectdb(Url().c_str());
      EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
      PGresult* r = PQexec(c, sql.c_str());
      const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
      EXPECT_TRUE(ok) << PQresultErrorMessage(r);
      if (ok && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) v = PQgetvalue(r, 0, 0);
      PQclear(r);
      PQfinish(c);
      return v;
    }
    return testing_util::SqliteFirstText(DbPath(), sql);
  }
  int64_t RawInt(const std::string& sql) {
    std::string v = RawText(sql);
    return v.empty() ? -1 : std::stoll(v);
  }

  void CreateConversation(const std::string& id) { ASSERT_TRUE(store_->CreateConversation(MakeConversation(id)).ok()); }

  FakeClock clock_{T(0)};
  std::unique_ptr<Store> store_;

 private:
  std::filesystem::path dir_;
  testing::PgCluster* pg_ = nullptr;
  std::string pg_schema_;
};

// Two nodes (store instances on one database) creating, at the same instant,
// records whose names differ only in case, `rounds` times: in every round one
// wins and the other is refused with `taken_code`, never two of one name.
// `create(store, n, round)` makes node n's record of that round. Any other
// race that exactly one node must win fits too (redeeming one code): `create`
// then returns OK for the winner and a refusal with `taken_code` for the other.
inline void ExpectOneWinnerPerRace(Store& a, Store& b, int rounds,
                                   const std::function<Status(Store&, int n, int round)>& create,
                                   std::string_view taken_code) {
  Store* stores[] = {&a, &b};
  for (int round = 0; round < rounds; ++round) {
    std::barrier line(2);
    Status out[2];
    std::thread t[2];
    for (int n = 0; n < 2; ++n) {
      t[n] = std::thread([&, n] {
        line.arrive_and_wait();
        out[n] = create(*stores[n], n, round);
      });
    }
    for (auto& th : t) th.join();
    EXPECT_NE(out[0].ok(), out[1].ok()) << out[0].ToString() << " / " << out[1].ToString();
    const Status& lost = out[0].ok() ? out[1] : out[0];
    EXPECT_EQ(lost.code(), taken_code) << lost.ToString();
  }
}

}  // namespace verbatim::store::conformance
