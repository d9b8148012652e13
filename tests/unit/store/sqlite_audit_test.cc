// What only the SQLite store does with audit events: its query plans. The
// behaviour both stores share is in conformance/audit_conformance_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include <sqlite3.h>

#include "store_test_util.h"

namespace verbatim::store {
namespace {

using testing_util::SqliteStoreTest;
using testing_util::T;
using testing_util::TestActor;

AuditEvent Event(int i) {
  AuditEvent e;
  char ctx[32];
  std::snprintf(ctx, sizeof ctx, "ctx-%04d", i);
  e.context_id = ctx;
  e.at = T(i / 3 * 1000);  // three events share each millisecond: ties are broken by context_id
  e.actor = TestActor("principal-" + std::to_string(i % 5));
  e.method = "POST";
  e.path = "/api/v2/recordings/conversations/c/actions/start";
  e.action = "recording:recording:start";
  e.conversation_id = "conv-" + std::to_string(i % 2);
  e.resource = "conversation/" + e.conversation_id;
  e.decision = i % 3 == 0 ? "deny" : "allow";
  e.layer = i % 3 == 0 ? "scope" : "";
  e.code = i % 3 == 0 ? "missing.scope" : "";
  e.status = i % 3 == 0 ? 403 : 200;
  e.explanation_json = R"({"decision":")" + e.decision + R"("})";
  e.client_address = i % 2 ? "2001:db8::" + std::to_string(i) : "192.0.2." + std::to_string(i % 250);
  return e;
}

class SqliteAuditTest : public SqliteStoreTest {
 protected:
  static constexpr int kEvents = 250;
  void SetUp() override {
    SqliteStoreTest::SetUp();
    for (int i = 0; i < kEvents; ++i) all_.push_back(Event(i));
    std::vector<AuditEvent> shuffled = all_;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
    for (size_t i = 0; i < shuffled.size(); i += 50) {  // insertion order must not matter
      std::vector<AuditEvent> batch(shuffled.begin() + i, shuffled.begin() + std::min(i + 50, shuffled.size()));
      ASSERT_TRUE(store_->AppendAudit(batch).ok());
    }
  }

  // Pages through ListAudit and checks it against a brute-force filter of all_.
  void ExpectPagedEquals(AuditFilter f, const std::function<bool(const AuditEvent&)>& keep) {
    std::vector<AuditEvent> expected;
    for (const auto& e : all_) {
      if (keep(e)) expected.push_back(e);
    }
    std::sort(expected.begin(), expected.end(), [](const AuditEvent& a, const AuditEvent& b) {
      return std::tie(a.at, a.context_id) > std::tie(b.at, b.context_id);
    });
    std::vector<std::string> got;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = store_->ListAudit(f);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ASSERT_LE(static_cast<int>(page->events.size()), f.limit);
      for (const auto& e : page->events) got.push_back(e.context_id);
      if (!page->next_cursor) break;
      ASSERT_EQ(static_cast<int>(page->events.size()), f.limit);  // only full pages promise more
      f.cursor = page->next_cursor;
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i].context_id) << "at position " << i;
  }

  std::vector<AuditEvent> all_;
};

// The schema promise: every filter is an index range scan in keyset order, no sort.
TEST_F(SqliteAuditTest, EveryFilterUsesAnIndexWithoutASort) {
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
