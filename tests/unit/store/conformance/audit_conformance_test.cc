// Store conformance, run on SQLite and PostgreSQL: audit batches, filters,
// keyset paging, shared explanations and retention.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "core/base64.h"
#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;

class AuditStorageTest : public StoreTest {};
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

class AuditTest : public StoreTest {
 protected:
  static constexpr int kEvents = 250;
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
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

TEST_P(AuditTest, GetReturnsEveryFieldAndNotFoundOtherwise) {
  auto e = store_->GetAudit("ctx-0003");
  ASSERT_TRUE(e.ok());
  const AuditEvent want = Event(3);
  EXPECT_EQ(e->at, want.at);
  EXPECT_EQ(e->actor.principal_id, want.actor.principal_id);
  EXPECT_EQ(e->actor.principal_name, "crm-integration");
  EXPECT_EQ(e->actor.client_id, want.actor.client_id);
  EXPECT_EQ(e->method, "POST");
  EXPECT_EQ(e->path, want.path);
  EXPECT_EQ(e->action, want.action);
  EXPECT_EQ(e->resource, want.resource);
  EXPECT_EQ(e->conversation_id, "conv-1");
  EXPECT_EQ(e->decision, "deny");
  EXPECT_EQ(e->layer, "scope");
  EXPECT_EQ(e->code, "missing.scope");
  EXPECT_EQ(e->status, 403);
  EXPECT_EQ(e->explanation_json, R"({"decision":"deny"})");
  EXPECT_EQ(e->client_address, "2001:db8::3");
  EXPECT_EQ(store_->GetAudit("nope").status().code(), "audit.not.found");
}

TEST_P(AuditTest, PagesNewestFirstThroughEveryEventOnce) {
  ExpectPagedEquals(AuditFilter{.limit = 7}, [](const AuditEvent&) { return true; });
  ExpectPagedEquals(AuditFilter{.limit = 200}, [](const AuditEvent&) { return true; });
}

TEST_P(AuditTest, FiltersCombineWithPaging) {
  ExpectPagedEquals(AuditFilter{.conversation_id = "conv-1", .limit = 9},
                    [](const AuditEvent& e) { return e.conversation_id == "conv-1"; });
  ExpectPagedEquals(AuditFilter{.principal_id = "principal-3", .limit = 4},
                    [](const AuditEvent& e) { return e.actor.principal_id == "principal-3"; });
  ExpectPagedEquals(AuditFilter{.decision = "deny", .limit = 11},
                    [](const AuditEvent& e) { return e.decision == "deny"; });
  // since and until are inclusive.
  ExpectPagedEquals(AuditFilter{.since = T(10'000), .until = T(20'000), .limit = 5},
                    [](const AuditEvent& e) { return e.at >= T(10'000) && e.at <= T(20'000); });
  ExpectPagedEquals(AuditFilter{.conversation_id = "conv-0",
                                .principal_id = "principal-2",
                                .decision = "allow",
                                .since = T(5'000),
                                .limit = 3},
                    [](const AuditEvent& e) {
                      return e.conversation_id == "conv-0" && e.actor.principal_id == "principal-2" &&
                             e.decision == "allow" && e.at >= T(5'000);
                    });
  auto none = store_->ListAudit(AuditFilter{.conversation_id = "unknown"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->events.empty());
  EXPECT_FALSE(none->next_cursor.has_value());
}

TEST_P(AuditTest, LimitIsClampedTo1Through200) {
  auto one = store_->ListAudit(AuditFilter{.limit = 0});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->events.size(), 1u);
  EXPECT_TRUE(one->next_cursor.has_value());
  auto many = store_->ListAudit(AuditFilter{.limit = 100000});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->events.size(), 200u);
  EXPECT_TRUE(many->next_cursor.has_value());
}

TEST_P(AuditTest, RejectsCursorsItDidNotIssue) {
  for (std::string bad : {std::string("!!!"), Base64UrlEncode("no-separator"), Base64UrlEncode("12x|ctx"),
                          Base64UrlEncode("|ctx"), Base64UrlEncode("12|"), std::string(600, 'A'), std::string()}) {
    auto page = store_->ListAudit(AuditFilter{.cursor = bad});
    ASSERT_FALSE(page.ok()) << bad;
    EXPECT_EQ(page.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_EQ(page.status().code(), "bad.request");
  }
}

TEST_P(AuditTest, DuplicateContextIdsAreIgnoredAndBatchesSurviveReopen) {
  AuditEvent dup = Event(5);
  dup.decision = "changed";
  ASSERT_TRUE(store_->AppendAudit({dup, Event(1000)}).ok());
  ASSERT_TRUE(store_->AppendAudit({}).ok());
  EXPECT_EQ(store_->GetAudit("ctx-0005")->decision, "allow");  // the first write wins
  Reopen();
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM audit_events"), kEvents + 1);
  EXPECT_TRUE(store_->GetAudit("ctx-1000").ok());
}

// A denial's long explanation is stored once however often it repeats; short
// ones stay inline; both read back exactly.
TEST_P(AuditStorageTest, LongExplanationsAreStoredOnceAndReadBackExactly) {
  const std::string big = R"({"decision":"deny","fix":[")" + std::string(2000, 'x') + R"("]})";
  const std::string other = R"({"decision":"deny","fix":[")" + std::string(2000, 'y') + R"("]})";
  std::vector<AuditEvent> batch;
  for (int i = 0; i < 6; ++i) {
    AuditEvent e = Event(i);
    e.explanation_json = i < 4 ? big : i == 4 ? other : R"({"decision":"allow"})";
    batch.push_back(e);
  }
  ASSERT_TRUE(store_->AppendAudit(batch).ok());
  ASSERT_TRUE(store_->AppendAudit({Event(100)}).ok());
  for (const auto& e : batch) {
    auto got = store_->GetAudit(e.context_id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->explanation_json, e.explanation_json);
  }
  AuditFilter f;
  f.limit = 200;
  auto page = store_->ListAudit(f);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 7u);
  for (const auto& e : page->events) EXPECT_FALSE(e.explanation_json.empty());

  EXPECT_EQ(RawInt("SELECT count(*) FROM audit_explanations"), 2) << "two distinct long texts";
  EXPECT_EQ(RawInt("SELECT count(*) FROM audit_events WHERE explanation_json = ''"), 5) << "five rows point to them";
}

// Retention: the oldest events first, in bounded batches, then the shared
// explanations nothing points to; newer events and their explanations stay.
TEST_P(AuditStorageTest, PurgeDeletesOldEventsInBatchesAndOrphanedExplanations) {
  const std::string old_text = R"({"decision":"deny","fix":[")" + std::string(1000, 'o') + R"("]})";
  const std::string kept_text = R"({"decision":"deny","fix":[")" + std::string(1000, 'k') + R"("]})";
  std::vector<AuditEvent> batch;
  for (int i = 0; i < 30; ++i) {
    AuditEvent e = Event(i);
    e.at = T(i * 1000);
    e.explanation_json = i < 20 ? old_text : kept_text;
    if (i == 25) e.explanation_json = old_text;  // a new event still uses the old text
    batch.push_back(e);
  }
  ASSERT_TRUE(store_->AppendAudit(batch).ok());

  auto first = store_->PurgeAuditBefore(T(20 * 1000), 8);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 8);
  EXPECT_FALSE(store_->GetAudit(batch[0].context_id).ok()) << "oldest first";
  EXPECT_TRUE(store_->GetAudit(batch[8].context_id).ok());
  int64_t total = *first;
  for (;;) {
    auto n = store_->PurgeAuditBefore(T(20 * 1000), 8);
    ASSERT_TRUE(n.ok());
    total += *n;
    if (*n < 8) break;
  }
  EXPECT_EQ(total, 20);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(store_->GetAudit(batch[i].context_id).ok(), i >= 20) << i;
  auto kept = store_->GetAudit(batch[25].context_id);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->explanation_json, old_text) << "an explanation still in use survives";

  // Once the last user of old_text goes, so does the text.
  ASSERT_TRUE(store_->PurgeAuditBefore(T(26 * 1000), 100).ok());
  EXPECT_EQ(RawInt("SELECT count(*) FROM audit_explanations"), 1) << "only the text of the events still kept";
  EXPECT_EQ(store_->GetAudit(batch[29].context_id)->explanation_json, kept_text);
}

VERBATIM_STORE_CONFORMANCE(AuditStorageTest);
VERBATIM_STORE_CONFORMANCE(AuditTest);

}  // namespace
}  // namespace verbatim::store
