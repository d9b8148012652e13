#include "store/caching_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/store/store_test_util.h"

namespace verbatim::store {
namespace {

using testing_util::MakeConversation;
using testing_util::T;
using testing_util::TestActor;

class CachingStoreTest : public testing_util::SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    SqliteOptions opts;
    opts.path = DbPath();
    auto inner = SqliteStore::Open(opts, clock_);
    ASSERT_TRUE(inner.ok());
    cache_ = std::make_unique<CachingStore>(std::move(inner).value(), 64);
  }
  void TearDown() override {
    cache_.reset();
    SqliteStoreTest::TearDown();
  }
  std::unique_ptr<CachingStore> cache_;
};

TEST_F(CachingStoreTest, SecondReadIsAHitAndWritesAreSeenAtOnce) {
  const std::string id = NewUuid();
  ASSERT_TRUE(cache_->CreateConversation(MakeConversation(id)).ok());
  ASSERT_TRUE(cache_->GetRecording(id).ok());
  ASSERT_TRUE(cache_->GetRecording(id).ok());
  EXPECT_EQ(cache_->stats().hits, 1u);

  auto out = cache_->ApplyRecordingAction(id, RecordingAction::kStart, T(1), TestActor(), "", NewUuid(), nullptr);
  ASSERT_TRUE(out.ok());
  auto after = cache_->GetRecording(id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, RecordingState::kActive);
  EXPECT_EQ(after->timeline.size(), 1u);

  ASSERT_TRUE(cache_->DisconnectConversation(id, T(2), TestActor(), NewUuid()).ok());
  auto conv = cache_->GetConversation(id);
  ASSERT_TRUE(conv.ok());
  EXPECT_EQ(conv->state, "disconnected");
  EXPECT_EQ(cache_->GetRecording(id)->state, RecordingState::kStopped);
}

TEST_F(CachingStoreTest, MissesAreNotCached) {
  const std::string id = NewUuid();
  EXPECT_FALSE(cache_->GetConversation(id).ok());
  ASSERT_TRUE(cache_->CreateConversation(MakeConversation(id)).ok());
  EXPECT_TRUE(cache_->GetConversation(id).ok());
}

TEST_F(CachingStoreTest, CapacityIsBounded) {
  for (int i = 0; i < 300; ++i) {
    const std::string id = NewUuid();
    ASSERT_TRUE(cache_->CreateConversation(MakeConversation(id)).ok());
    ASSERT_TRUE(cache_->GetRecording(id).ok());
  }
  // 64 entries over 16 shards: no shard holds more than 4.
  const std::string probe = NewUuid();
  ASSERT_TRUE(cache_->CreateConversation(MakeConversation(probe)).ok());
  EXPECT_TRUE(cache_->GetRecording(probe).ok());
}

// Readers racing writers never see a recording older than what a writer
// already acknowledged to them (read-your-writes across threads).
TEST_F(CachingStoreTest, ReadersNeverSeeOlderThanAnAcknowledgedWrite) {
  const std::string id = NewUuid();
  ASSERT_TRUE(cache_->CreateConversation(MakeConversation(id)).ok());
  std::atomic<int64_t> acknowledged{0};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::thread writer([&] {
    const RecordingAction cycle[] = {RecordingAction::kStart, RecordingAction::kPause, RecordingAction::kResume,
                                     RecordingAction::kStop};
    for (int i = 0; i < 200; ++i) {
      auto r = cache_->ApplyRecordingAction(id, cycle[i % 4], T(i), TestActor(), "", NewUuid(), nullptr);
      ASSERT_TRUE(r.ok());
      acknowledged = r->recording.version;
    }
    stop = true;
  });
  std::vector<std::thread> readers;
  for (int k = 0; k < 3; ++k) {
    readers.emplace_back([&] {
      while (!stop) {
        int64_t floor = acknowledged.load();
        auto r = cache_->GetRecording(id);
        if (!r.ok() || r->version < floor) ++violations;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(cache_->GetRecording(id)->timeline.size(), 200u);
}

}  // namespace
}  // namespace verbatim::store
