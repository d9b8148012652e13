// Store conformance, run on SQLite and PostgreSQL: several store instances on
// one database, as several verbatim processes (nodes) would be. What one
// process's mutexes cannot guarantee must hold here too: one timeline per
// conversation, one changed:true per change, one active signing key, one
// migration, unique role names, explanations that outlive a purge.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "unit/store/conformance/recording_check.h"
#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::CheckRecording;
using conformance::StoreTest;
using testing_util::MakeConversation;
using testing_util::T;
using testing_util::TestActor;
using A = RecordingAction;

class MultiNodeTest : public StoreTest {
 protected:
  // `n` more stores on the same database, besides store_.
  std::vector<std::unique_ptr<Store>> Nodes(int n) {
    std::vector<std::unique_ptr<Store>> nodes;
    for (int i = 0; i < n; ++i) {
      auto s = OpenAnother();
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (s.ok()) nodes.push_back(std::move(*s));
    }
    return nodes;
  }
};

TEST_P(MultiNodeTest, ActionsFromTwoNodesOnOneConversationLeaveOneConsistentTimeline) {
  CreateConversation("hot");
  auto nodes = Nodes(1);
  ASSERT_EQ(nodes.size(), 1u);
  Store* stores[] = {store_.get(), nodes[0].get()};
  constexpr int kThreadsPerNode = 3;
  constexpr int kActions = 40;
  std::atomic<int> changed{0}, repeats{0}, invalid{0}, unexpected{0};
  std::atomic<int64_t> clock_ms{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n) {
    for (int i = 0; i < kThreadsPerNode; ++i) {
      threads.emplace_back([&, n, i] {
        std::mt19937 rng(99 + n * 10 + i);
        for (int j = 0; j < kActions; ++j) {
          auto r = stores[n]->ApplyRecordingAction(
              "hot", static_cast<A>(rng() % 4), T(++clock_ms), TestActor("node" + std::to_string(n)), "",
              "ctx-" + std::to_string(n) + "-" + std::to_string(i) + "-" + std::to_string(j));
          if (r.ok()) {
            ++(r->changed ? changed : repeats);
          } else if (r.status().code() == "recording.invalid.transition") {
            ++invalid;
          } else {
            ++unexpected;
            ADD_FAILURE() << r.status().ToString();
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(changed.load(), 10);  // the walk really moved
  // Either node reads the same, complete, consistent timeline.
  for (Store* s : stores) {
    auto r = s->GetRecording("hot");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(static_cast<int>(r->timeline.size()), changed.load());
    EXPECT_EQ(CheckRecording(*r), "");
    std::set<std::string> actors;
    for (const auto& t : r->timeline) actors.insert(t.actor.principal_id);
    EXPECT_EQ(actors.size(), 2u) << "both nodes appended transitions";
  }
}

// The same action sent to two nodes at once: exactly one of them changes the
// recording, the other answers the idempotent changed:false.
TEST_P(MultiNodeTest, TheSameActionOnTwoNodesAtOnceChangesOnceAndRepeatsOnce) {
  auto nodes = Nodes(1);
  ASSERT_EQ(nodes.size(), 1u);
  Store* stores[] = {store_.get(), nodes[0].get()};
  constexpr int kConversations = 25;
  for (int c = 0; c < kConversations; ++c) CreateConversation("race-" + std::to_string(c));
  for (A action : {A::kStart, A::kPause, A::kStop}) {
    for (int c = 0; c < kConversations; ++c) {
      const std::string id = "race-" + std::to_string(c);
      std::barrier line(2);
      Result<ActionOutcome> out[2] = {Status::Internal("not run"), Status::Internal("not run")};
      std::thread t[2];
      for (int n = 0; n < 2; ++n) {
        t[n] = std::thread([&, n] {
          line.arrive_and_wait();
          out[n] = stores[n]->ApplyRecordingAction(id, action, T(1000), TestActor(), "", "ctx-" + std::to_string(n));
        });
      }
      for (auto& th : t) th.join();
      ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
      ASSERT_TRUE(out[1].ok()) << out[1].status().ToString();
      EXPECT_NE(out[0]->changed, out[1]->changed) << id << " " << ToString(action);
      const ActionOutcome& repeat = out[0]->changed ? *out[1] : *out[0];
      EXPECT_EQ(repeat.transition.seq, 0);
      EXPECT_EQ(repeat.transition.from, repeat.transition.to);
    }
  }
  for (int c = 0; c < kConversations; ++c) {
    auto r = store_->GetRecording("race-" + std::to_string(c));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->timeline.size(), 3u);
    EXPECT_EQ(CheckRecording(*r), "");
  }
}

// A disconnect on one node and actions on another: the actions that commit
// before it are in the timeline, the ones after it are refused as ended, and
// an active recording is finalized exactly once.
TEST_P(MultiNodeTest, ADisconnectRacingActionsOnAnotherNodeEndsTheTimelineOnce) {
  auto nodes = Nodes(1);
  ASSERT_EQ(nodes.size(), 1u);
  CreateConversation("bye");
  ASSERT_TRUE(store_->ApplyRecordingAction("bye", A::kStart, T(1), TestActor(), "", "x").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> after_end{0}, unexpected{0};
  std::thread actor([&] {
    std::mt19937 rng(5);
    int64_t ms = 10;
    while (!stop.load()) {
      auto r = nodes[0]->ApplyRecordingAction("bye", static_cast<A>(rng() % 4), T(++ms), TestActor(), "", "y");
      if (!r.ok() && r.status().code() == "conversation.ended") {
        ++after_end;
        break;
      }
      if (!r.ok() && r.status().code() != "recording.invalid.transition") ++unexpected;
    }
  });
  auto c = store_->DisconnectConversation("bye", T(5'000'000), TestActor("ingest"), "ctx-bye");
  if (!c.ok()) stop = true;  // the actor would never see the end
  actor.join();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(after_end.load(), 1);
  EXPECT_EQ(unexpected.load(), 0);
  auto r = nodes[0]->GetRecording("bye");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(CheckRecording(*r), "");
  EXPECT_TRUE(r->conversation_ended);
  int disconnects = 0;
  for (const auto& t : r->timeline) disconnects += t.action == "disconnect";
  EXPECT_LE(disconnects, 1);
  EXPECT_NE(r->state, RecordingState::kActive);
  EXPECT_NE(r->state, RecordingState::kPaused);
}

TEST_P(MultiNodeTest, KeyRotationsOnTwoNodesAtOnceLeaveOneActiveKey) {
  auto nodes = Nodes(1);
  ASSERT_EQ(nodes.size(), 1u);
  Store* stores[] = {store_.get(), nodes[0].get()};
  ASSERT_TRUE(store_->InsertKey(SigningKey{"k0", "ES256", "sealed", "{}", T(0), std::nullopt, std::nullopt}).ok());
  for (int round = 0; round < 10; ++round) {
    std::barrier line(2);
    Status out[2];
    std::thread t[2];
    for (int n = 0; n < 2; ++n) {
      t[n] = std::thread([&, n] {
        const std::string kid = "k" + std::to_string(round) + "-" + std::to_string(n);
        line.arrive_and_wait();
        out[n] =
            stores[n]->RotateKeys(SigningKey{kid, "ES256", "sealed", "{}", T(round + 1), std::nullopt, std::nullopt},
                                  T(round + 1), T(round + 100));
      });
    }
    for (auto& th : t) th.join();
    ASSERT_TRUE(out[0].ok()) << out[0].ToString();
    ASSERT_TRUE(out[1].ok()) << out[1].ToString();
    auto keys = nodes[0]->ListKeys();
    ASSERT_TRUE(keys.ok());
    int active = 0;
    for (const auto& k : *keys) active += !k.retired_at.has_value();
    EXPECT_EQ(active, 1) << "round " << round;
  }
}

TEST_P(MultiNodeTest, TwoNodesCreatingRolesOfTheSameNameAtOnceMakeOne) {
  auto nodes = Nodes(1);
  ASSERT_EQ(nodes.size(), 1u);
  Store* stores[] = {store_.get(), nodes[0].get()};
  for (int round = 0; round < 10; ++round) {
    std::barrier line(2);
    Status out[2];
    std::thread t[2];
    for (int n = 0; n < 2; ++n) {
      t[n] = std::thread([&, n] {
        Role r{"role-" + std::to_string(round) + "-" + std::to_string(n),
               n == 0 ? "Auditor " + std::to_string(round) : "AUDITOR " + std::to_string(round),
               "",
               {"audit:event:view"},
               T(1),
               T(1)};
        line.arrive_and_wait();
        out[n] = stores[n]->CreateRole(r);
      });
    }
    for (auto& th : t) th.join();
    EXPECT_NE(out[0].ok(), out[1].ok()) << out[0].ToString() << " / " << out[1].ToString();
    const Status& lost = out[0].ok() ? out[1] : out[0];
    EXPECT_EQ(lost.code(), "role.name.taken") << lost.ToString();
  }
  EXPECT_EQ(store_->ListRoles()->size(), 10u);
}

// Appends that reuse a long explanation while another node's retention
// deletes old events and then the explanations nothing points to: an
// explanation that just became an orphan is taken up again by a new event
// at the moment the sweep looks at it. No kept event may be left pointing at
// a deleted text.
TEST_P(MultiNodeTest, ExplanationsInUseSurviveAConcurrentPurge) {
  auto nodes = Nodes(1);
  ASSERT_EQ(nodes.size(), 1u);
  constexpr int kRounds = 40;
  const TimePoint cutoff = T(1'000'000);  // old events before it, kept ones after
  std::atomic<bool> done{false};
  std::atomic<int> purge_errors{0};
  std::thread purger([&] {
    while (!done.load()) {
      if (!nodes[0]->PurgeAuditBefore(cutoff, 1000).ok()) ++purge_errors;
    }
  });
  std::vector<std::string> texts;
  for (int k = 0; k < 3; ++k) texts.push_back(R"({"decision":"deny","fix":[")" + std::string(800, 'a' + k) + R"("]})");
  auto event = [&](const std::string& ctx, TimePoint at, int round) {
    AuditEvent e;
    e.context_id = ctx;
    e.at = at;
    e.decision = "deny";
    e.explanation_json = texts[round % texts.size()];
    return e;
  };
  for (int i = 0; i < kRounds; ++i) {
    // The old one makes the text's only pointer one that retention removes.
    ASSERT_TRUE(store_->AppendAudit({event("old-" + std::to_string(i), T(i), i)}).ok());
    ASSERT_TRUE(store_->AppendAudit({event("kept-" + std::to_string(i), cutoff + Millis(i), i)}).ok());
  }
  done = true;
  purger.join();
  EXPECT_EQ(purge_errors.load(), 0);
  for (int i = 0; i < kRounds; ++i) {
    auto e = store_->GetAudit("kept-" + std::to_string(i));
    ASSERT_TRUE(e.ok()) << i;
    EXPECT_EQ(e->explanation_json, texts[i % texts.size()]) << "event " << i;
  }
}

class NewDatabaseTest : public StoreTest {};

// Several nodes starting on a new database at once: each opens, the schema is
// made once and there is one organization, the same for all.
TEST_P(NewDatabaseTest, NodesOpeningANewDatabaseAtOnceMigrateOnceAndShareOneOrganization) {
  std::string org_id = store_->GetOrganization()->id;
  store_.reset();
  WipeDatabase();
  constexpr int kNodes = 4;
  std::barrier line(kNodes);
  std::vector<Result<std::unique_ptr<Store>>> opened;
  for (int i = 0; i < kNodes; ++i) opened.emplace_back(Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      line.arrive_and_wait();
      opened[i] = OpenAnother();
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> orgs;
  for (auto& o : opened) {
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    orgs.insert((*o)->GetOrganization()->id);
  }
  EXPECT_EQ(orgs.size(), 1u);
  EXPECT_NE(*orgs.begin(), org_id) << "a new database, a new organization";
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM organizations"), 1);
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM org_settings"), 1);
}

VERBATIM_STORE_CONFORMANCE(MultiNodeTest);
VERBATIM_STORE_CONFORMANCE(NewDatabaseTest);

}  // namespace
}  // namespace verbatim::store
