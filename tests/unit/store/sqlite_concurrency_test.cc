// What only the SQLite store does under load: its background WAL checkpoints.
// The concurrency both stores share is in conformance/concurrency_conformance_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace verbatim::store {
namespace {

using testing_util::SqliteStoreTest;
using testing_util::T;
using testing_util::TestActor;

// More than Checkpointer::kWakePages of WAL while readers run: the background
// checkpointer works alongside the writer and nothing is lost or torn.
TEST_F(SqliteStoreTest, LargeVolumesCrossTheCheckpointThresholdWithoutLoss) {
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    do {
      auto page = store_->ListAudit(AuditFilter{.limit = 200});
      if (!page.ok()) ++bad_reads;
    } while (!done.load());
  });
  const std::string big(4000, 'e');  // about one page per event
  for (int b = 0; b < 30; ++b) {
    std::vector<AuditEvent> batch(100);
    for (int i = 0; i < 100; ++i) {
      batch[i].context_id = "big-" + std::to_string(b * 100 + i);
      batch[i].at = T(b * 100 + i);
      batch[i].explanation_json = big;
    }
    ASSERT_TRUE(store_->AppendAudit(batch).ok());
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
  Reopen();
  EXPECT_EQ(RawInt("SELECT COUNT(*) FROM audit_events"), 3000);
  EXPECT_EQ(RawText("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(store_->GetAudit("big-2999")->explanation_json, big);
}

}  // namespace
}  // namespace verbatim::store
