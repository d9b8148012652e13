// What only the SQLite store does with audit events: its query plans. The
// behaviour both stores share is in conformance/audit_conformance_test.cc.
#include <gtest/gtest.h>

#include <string>

#include <sqlite3.h>

#include "store_test_util.h"

namespace verbatim::store {
namespace {

using testing_util::SqliteStoreTest;

// The schema promise: every filter is an index range scan in keyset order, no sort.
TEST_F(SqliteStoreTest, EveryAuditFilterUsesAnIndexWithoutASort) {
  const std::string select = "EXPLAIN QUERY PLAN SELECT * FROM audit_events WHERE 1 = 1 AND ";
  const std::string order = " AND (at, context_id) < (1, 'x') ORDER BY at DESC, context_id DESC LIMIT 10";
  for (const std::string& where : {std::string("conversation_id = 'c'"), std::string("principal_id = 'p'"),
                                   std::string("decision = 'deny'"), std::string("at >= 5")}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(DbPath().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, (select + where + order).c_str(), -1, &st, nullptr), SQLITE_OK);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW)
      plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3)) + std::string("; ");
    sqlite3_finalize(st);
    sqlite3_close(db);
    EXPECT_NE(plan.find("USING INDEX audit_by_"), std::string::npos) << where << ": " << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << where << ": " << plan;
  }
}

}  // namespace
}  // namespace verbatim::store
