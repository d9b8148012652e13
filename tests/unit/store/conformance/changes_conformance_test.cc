// Store conformance, run on SQLite and PostgreSQL: the change log
// (docs/changes.md) is written with each change, in its transaction.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/json.h"
#include "store/change_diff.h"
#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::StoreTest;
using testing_util::T;
using testing_util::TestActor;

class ChangeLogTest : public StoreTest {
 protected:
  ChangeAuthor Author(const std::string& context = "ctx-1") { return {TestActor("ops-bot-id"), context, T(5)}; }

  std::vector<ChangeEntry> All() {
    ChangeFilter f;
    f.limit = 1000;
    auto got = store_->ListChanges(f);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::vector<ChangeEntry>{};
  }

  static const FieldChange* Field(const ChangeEntry& e, std::string_view name) {
    for (const auto& f : e.fields)
      if (f.field == name) return &f;
    return nullptr;
  }

  OAuthClient MakeClient(std::string name) {
    OAuthClient c;
    c.id = NewUuid();
    c.name = std::move(name);
    c.allowed_scopes = {"recording:control", "recording:read"};
    c.allowed_grant_types = {"client_credentials"};
    c.secret_hash = std::string(64, 'a');
    c.created_at = c.updated_at = T(1);
    return c;
  }
};

TEST_P(ChangeLogTest, ClientChangesAreLoggedWithTheirAuthorAndOnlyTheFieldsThatChanged) {
  OAuthClient c = MakeClient("crm-integration");
  const ChangeAuthor by = Author();
  ASSERT_TRUE(store_->CreateClient(c, &by).ok());
  OAuthClient after = c;
  after.allowed_scopes = {"recording:read"};
  after.secret_hash = std::string(64, 'b');
  after.updated_at = T(9);
  ASSERT_TRUE(store_->UpdateClient(after, &by).ok());
  // An update that changes nothing but updated_at is not a change worth logging.
  after.updated_at = T(10);
  ASSERT_TRUE(store_->UpdateClient(after, &by).ok());
  ASSERT_TRUE(store_->DeleteClient(c.id, &by).ok());

  Reopen();
  auto all = All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].kind, "client.created");
  EXPECT_EQ(all[1].kind, "client.updated");
  EXPECT_EQ(all[2].kind, "client.deleted");
  EXPECT_LT(all[0].id, all[1].id);
  EXPECT_LT(all[1].id, all[2].id);
  const ChangeEntry& u = all[1];
  EXPECT_EQ(u.subject_type, "client");
  EXPECT_EQ(u.subject_id, c.id);
  EXPECT_EQ(u.subject_name, "crm-integration");
  EXPECT_EQ(u.actor.principal_id, "ops-bot-id");
  EXPECT_EQ(u.actor.principal_name, "crm-integration");
  EXPECT_EQ(u.context_id, "ctx-1");
  EXPECT_EQ(u.at, T(5));
  ASSERT_EQ(u.fields.size(), 2u) << "allowedScopes and secret only";
  const FieldChange* scopes = Field(u, "allowedScopes");
  ASSERT_NE(scopes, nullptr);
  EXPECT_EQ(scopes->before, R"(["recording:control","recording:read"])");
  EXPECT_EQ(scopes->after, R"(["recording:read"])");
  const FieldChange* secret = Field(u, "secret");
  ASSERT_NE(secret, nullptr);
  EXPECT_EQ(secret->after, "\"rotated\"");
  // Neither hash is anywhere in the log.
  for (const auto& e : all)
    for (const auto& f : e.fields) {
      EXPECT_EQ(f.before.find("aaaa"), std::string::npos) << f.field;
      EXPECT_EQ(f.after.find("bbbb"), std::string::npos) << f.field;
    }
  // A deletion keeps what was there, so the log still says what was lost.
  ASSERT_NE(Field(all[2], "allowedScopes"), nullptr);
  EXPECT_TRUE(Field(all[2], "allowedScopes")->after.empty());
}

TEST_P(ChangeLogTest, WritesWithoutAnAuthorAndRefusedWritesLogNothing) {
  OAuthClient c = MakeClient("seeded");
  ASSERT_TRUE(store_->CreateClient(c).ok());
  const ChangeAuthor by = Author();
  // A refused write (the id exists) must not leave an entry behind.
  EXPECT_FALSE(store_->CreateClient(c, &by).ok());
  EXPECT_FALSE(store_->DeleteClient(NewUuid(), &by).ok());
  Role r{NewUuid(), "Auditors", "", {"audit:event:view"}, T(1), T(1)};
  ASSERT_TRUE(store_->CreateRole(r, &by).ok());
  Role clash{NewUuid(), "auditors", "", {}, T(1), T(1)};
  EXPECT_FALSE(store_->CreateRole(clash, &by).ok());
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, "role.created");
}

TEST_P(ChangeLogTest, DeletingARoleLogsWhatEveryHolderLost) {
  const ChangeAuthor by = Author("ctx-del");
  Role r{NewUuid(), "Recording Starters", "", {"recording:recording:start"}, T(1), T(1)};
  ASSERT_TRUE(store_->CreateRole(r, &by).ok());
  OAuthClient c = MakeClient("crm");
  c.role_ids = {r.id};
  ASSERT_TRUE(store_->CreateClient(c).ok());
  User u;
  u.id = NewUuid();
  u.username = "alice";
  u.role_ids = {r.id};
  u.password_hash = "x";
  u.created_at = u.updated_at = T(1);
  ASSERT_TRUE(store_->CreateUser(u).ok());

  ASSERT_TRUE(store_->DeleteRole(r.id, &by).ok());
  ChangeFilter f;
  f.after_id = All().front().id;  // after the role's creation
  auto got = store_->ListChanges(f);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].kind, "role.deleted");
  EXPECT_EQ(Field((*got)[0], "permissions")->before, R"(["recording:recording:start"])");
  std::set<std::string> holders;
  for (size_t i = 1; i < got->size(); ++i) {
    const auto& e = (*got)[i];
    EXPECT_EQ(e.kind, e.subject_type + ".updated");
    EXPECT_EQ(e.context_id, "ctx-del");
    ASSERT_NE(Field(e, "roleIds"), nullptr);
    EXPECT_EQ(Field(e, "roleIds")->after, "[]");
    holders.insert(e.subject_type + ":" + e.subject_name);
  }
  EXPECT_EQ(holders, (std::set<std::string>{"client:crm", "user:alice"}));
}

TEST_P(ChangeLogTest, TransitionsAndMediaBecomingReadyAreLogged) {
  CreateConversation("conv-1");
  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", RecordingAction::kStart, T(10), TestActor(), "", "ctx-a").ok());
  // An idempotent repeat changes nothing, so it logs nothing.
  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", RecordingAction::kStart, T(11), TestActor(), "", "ctx-b").ok());
  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", RecordingAction::kPause, T(12), TestActor(), "hold", "ctx-c").ok());
  ASSERT_TRUE(store_->ApplyRecordingAction("conv-1", RecordingAction::kResume, T(13), TestActor(), "", "ctx-d").ok());
  MediaFile m;
  m.segment = 1;
  m.path = "conv-1/1.wav";
  m.channels = 2;
  m.updated_at = T(14);
  ASSERT_TRUE(store_->UpsertMediaFile("conv-1", m).ok());  // still recording: not ready
  m.status = "complete";
  m.duration_ms = 3000;
  ASSERT_TRUE(store_->UpsertMediaFile("conv-1", m).ok());
  ASSERT_TRUE(store_->UpsertMediaFile("conv-1", m).ok());  // already complete: once only
  ASSERT_TRUE(store_->DisconnectConversation("conv-1", T(20), TestActor(), "ctx-e").ok());

  ChangeFilter f;
  f.subject_type = "conversation";
  f.subject_id = "conv-1";
  auto got = store_->ListChanges(f);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<std::string> kinds;
  for (const auto& e : *got) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"recording.started", "recording.paused", "recording.resumed", "media.ready",
                                             "recording.stopped"}));
  EXPECT_EQ((*got)[1].context_id, "ctx-c");
  EXPECT_EQ(Field((*got)[1], "reason")->after, "\"hold\"");
  EXPECT_EQ(Field((*got)[4], "action")->after, "\"disconnect\"");
  EXPECT_EQ(Field((*got)[3], "durationMs")->after, "3000");

  // Filters: a kind family, newest first, a limit.
  f.kind = "recording.";
  f.newest_first = true;
  f.limit = 2;
  got = store_->ListChanges(f);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].kind, "recording.stopped");
  EXPECT_EQ((*got)[1].kind, "recording.resumed");
}

TEST_P(ChangeLogTest, FiltersByActorTimeAndIdAndKeepsIdsAcrossRetention) {
  const ChangeAuthor early{TestActor("alice-id"), "c1", T(100)};
  const ChangeAuthor late{TestActor("bob-id"), "c2", T(5000)};
  ASSERT_TRUE(store_->CreateClient(MakeClient("one"), &early).ok());
  ASSERT_TRUE(store_->CreateClient(MakeClient("two"), &late).ok());
  ASSERT_TRUE(store_->CreateClient(MakeClient("three"), &late).ok());
  ChangeFilter f;
  f.principal_id = "bob-id";
  EXPECT_EQ(store_->ListChanges(f)->size(), 2u);
  f = {};
  f.since = T(1000);
  EXPECT_EQ(store_->ListChanges(f)->size(), 2u);
  f = {};
  f.kind = "client.created";
  EXPECT_EQ(store_->ListChanges(f)->size(), 3u);
  f.kind = "client.";
  EXPECT_EQ(store_->ListChanges(f)->size(), 3u);
  f.kind = "client";  // not a family without the dot, and no such kind
  EXPECT_EQ(store_->ListChanges(f)->size(), 0u);

  auto last = store_->LastChangeId();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, All().back().id);
  // Retention drops the old entry; ids are never reused afterwards.
  auto purged = store_->PurgeChangesBefore(T(1000), 100);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(All().size(), 2u);
  ASSERT_TRUE(store_->PurgeChangesBefore(T(10000), 100).ok());
  EXPECT_TRUE(All().empty());
  EXPECT_EQ(*store_->LastChangeId(), *last) << "the last id survives an empty log";
  ASSERT_TRUE(store_->CreateClient(MakeClient("four"), &late).ok());
  EXPECT_GT(All().front().id, *last);
}

// Two nodes logging at once: every entry is there once, and a reader that
// follows the log by id (as an event stream does) never sees a smaller id
// appear after a larger one.
TEST_P(ChangeLogTest, ConcurrentWritersFromTwoNodesLeaveAGaplessOrderedLog) {
  auto other = OpenAnother();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kPerNode = 40;
  std::vector<int64_t> seen;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    int64_t after = 0;
    while (true) {
      const bool last_round = done.load();
      ChangeFilter f;
      f.after_id = after;
      auto got = store_->ListChanges(f);
      if (!got.ok()) continue;
      for (const auto& e : *got) {
        seen.push_back(e.id);
        after = e.id;
      }
      if (last_round) break;
    }
  });
  auto write = [&](Store& s, const std::string& prefix) {
    const ChangeAuthor by = Author(prefix);
    for (int i = 0; i < kPerNode; ++i) EXPECT_TRUE(s.CreateClient(MakeClient(prefix + std::to_string(i)), &by).ok());
  };
  std::thread a([&] { write(*store_, "a"); });
  std::thread b([&] { write(**other, "b"); });
  a.join();
  b.join();
  done = true;
  reader.join();
  auto all = All();
  ASSERT_EQ(all.size(), 2u * kPerNode);
  std::vector<int64_t> ids;
  for (const auto& e : all) ids.push_back(e.id);
  EXPECT_EQ(seen, ids) << "the follower saw every entry, in id order, none late";
}

VERBATIM_STORE_CONFORMANCE(ChangeLogTest);

}  // namespace
}  // namespace verbatim::store
