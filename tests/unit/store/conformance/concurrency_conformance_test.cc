// Store conformance, run on SQLite and PostgreSQL: many threads (and several
// store instances, as several processes or nodes would be) against one
// database: actions serialize on the committed state, readers always see a
// consistent snapshot, nothing is lost.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "unit/store/conformance/recording_check.h"
#include "unit/store/conformance/store_fixture.h"

namespace verbatim::store {
namespace {

using conformance::CheckRecording;
using conformance::StoreTest;
using testing_util::T;
using testing_util::TestActor;
using S = RecordingState;
using A = RecordingAction;

class ConcurrencyTest : public StoreTest {};

TEST_P(ConcurrencyTest, ConcurrentActionsOnOneConversationSerializeWithoutGaps) {
  CreateConversation("hot");
  constexpr int kThreads = 8;
  constexpr int kActionsPerThread = 50;
  std::atomic<int> changed{0}, repeats{0}, invalid{0}, unexpected{0};
  std::atomic<int64_t> clock_ms{0};
  std::atomic<bool> writers_done{false};
  std::atomic<int> reads{0}, bad_reads{0};

  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      do {
        auto r = store_->GetRecording("hot");
        if (!r.ok() || !CheckRecording(*r).empty()) ++bad_reads;
        ++reads;
      } while (!writers_done.load());
    });
  }
  std::vector<std::thread> writers;
  for (int i = 0; i < kThreads; ++i) {
    writers.emplace_back([&, i] {
      std::mt19937 rng(1234 + i);
      for (int j = 0; j < kActionsPerThread; ++j) {
        const A action = static_cast<A>(rng() % 4);
        auto r = store_->ApplyRecordingAction("hot", action, T(++clock_ms), TestActor("t" + std::to_string(i)), "",
                                              "ctx-" + std::to_string(i) + "-" + std::to_string(j));
        if (r.ok()) {
          ++(r->changed ? changed : repeats);
        } else if (r.status().code() == "recording.invalid.transition") {
          ++invalid;
        } else {
          ++unexpected;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  writers_done = true;
  for (auto& t : readers) t.join();

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(changed + repeats + invalid, kThreads * kActionsPerThread);
  EXPECT_GT(changed.load(), 20);  // the walk really moved
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(bad_reads.load(), 0);

  auto r = store_->GetRecording("hot");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<int>(r->timeline.size()), changed.load());
  EXPECT_EQ(CheckRecording(*r), "");
  Reopen();
  EXPECT_EQ(static_cast<int>(store_->GetRecording("hot")->timeline.size()), changed.load());
}

TEST_P(ConcurrencyTest, ConcurrentWritersOnManyConversationsAndAuditBatchesLoseNothing) {
  constexpr int kThreads = 6;
  for (int i = 0; i < kThreads; ++i) CreateConversation("c" + std::to_string(i));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = "c" + std::to_string(i);
      for (int j = 0; j < 20; ++j) {  // start/stop pairs: 40 transitions per conversation
        for (A a : {A::kStart, A::kStop}) {
          if (!store_->ApplyRecordingAction(id, a, T(j), TestActor(), "", "x").ok()) ++failures;
        }
        std::vector<AuditEvent> batch(10);
        for (int k = 0; k < 10; ++k) {
          batch[k].context_id = id + "-" + std::to_string(j) + "-" + std::to_string(k);
          batch[k].at = T(j);
          batch[k].conversation_id = id;
        }
        if (!store_->AppendAudit(batch).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kThreads; ++i) {
    auto r = store_->GetRecording("c" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->timeline.size(), 40u);
    EXPECT_EQ(r->segments.size(), 20u);
    EXPECT_EQ(CheckRecording(*r), "");
  }
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM audit_events"), kThreads * 20 * 10);
}

VERBATIM_STORE_CONFORMANCE(ConcurrencyTest);

}  // namespace
}  // namespace verbatim::store
