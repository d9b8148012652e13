#include "service/rate_limiter.h"

#include <gtest/gtest.h>

namespace verbatim::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(RateLimiter, AllowsTheBurstThenRefusesWithRetryAfter) {
  RateLimiter rl(2.0, 3.0);
  nanoseconds t{seconds(100)};
  EXPECT_TRUE(rl.Take("a", t).allowed);
  EXPECT_TRUE(rl.Take("a", t).allowed);
  EXPECT_TRUE(rl.Take("a", t).allowed);
  auto v = rl.Take("a", t);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after, seconds(1));
  EXPECT_TRUE(rl.Take("b", t).allowed);  // keys are independent
}

TEST(RateLimiter, RefillsAtTheConfiguredRate) {
  RateLimiter rl(2.0, 2.0);
  nanoseconds t{seconds(100)};
  EXPECT_TRUE(rl.Take("a", t).allowed);
  EXPECT_TRUE(rl.Take("a", t).allowed);
  EXPECT_FALSE(rl.Take("a", t + milliseconds(400)).allowed);  // 0.8 tokens back
  EXPECT_TRUE(rl.Take("a", t + milliseconds(500)).allowed);   // 1.0 token back
  EXPECT_FALSE(rl.Take("a", t + milliseconds(500)).allowed);
}

TEST(RateLimiter, PeekDoesNotConsume) {
  RateLimiter rl(1.0, 1.0);
  nanoseconds t{seconds(5)};
  EXPECT_TRUE(rl.Peek("a", t).allowed);
  EXPECT_TRUE(rl.Peek("a", t).allowed);
  EXPECT_TRUE(rl.Take("a", t).allowed);
  EXPECT_FALSE(rl.Peek("a", t).allowed);
}

TEST(RateLimiter, DisabledWhenRateIsZero) {
  RateLimiter rl(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(rl.Take("a", nanoseconds(0)).allowed);
}

TEST(RateLimiter, MemoryIsBoundedUnderKeySpray) {
  RateLimiter rl(1.0, 1.0, 160);
  nanoseconds t{seconds(1)};
  for (int i = 0; i < 10000; ++i) rl.Take("k" + std::to_string(i), t);
  EXPECT_LE(rl.size(), 160u);
  EXPECT_TRUE(rl.Take("fresh", t).allowed);
}

// "When all are active": a recently used bucket survives a spray of new keys
// (the least recently used goes), so an attacker cannot reset its own
// exhausted bucket by flooding the limiter with fresh keys.
TEST(RateLimiter, EvictsTheLeastRecentlyUsedBucketWhenFull) {
  RateLimiter rl(0.001, 2.0, 160);  // 10 buckets per shard; practically no refill
  nanoseconds t{seconds(1)};
  EXPECT_TRUE(rl.Take("attacker", t).allowed);
  EXPECT_TRUE(rl.Take("attacker", t).allowed);
  ASSERT_FALSE(rl.Take("attacker", t).allowed);
  EXPECT_TRUE(rl.Take("idle", t).allowed);
  EXPECT_TRUE(rl.Take("idle", t).allowed);
  ASSERT_FALSE(rl.Peek("idle", t).allowed);
  for (int i = 0; i < 5000; ++i) {
    rl.Take("spray" + std::to_string(i), t);
    if (i % 4 == 0) {
      ASSERT_FALSE(rl.Peek("attacker", t).allowed) << "evicted after " << i << " new keys";
    }
  }
  EXPECT_LE(rl.size(), 160u);
  EXPECT_TRUE(rl.Peek("idle", t).allowed) << "the untouched bucket was the one evicted";
}

// Keys of any length cost at most kMaxKeyBytes: long ones by digest, still
// one bucket per distinct key.
TEST(RateLimiter, LongKeysAreHashedNotStored) {
  RateLimiter rl(0.001, 1.0);
  nanoseconds t{seconds(1)};
  const std::string a(1 << 20, 'a');
  std::string b = a;
  b.back() = 'b';
  EXPECT_TRUE(rl.Take(a, t).allowed);
  EXPECT_FALSE(rl.Take(a, t).allowed) << "the same long key is the same bucket";
  EXPECT_TRUE(rl.Take(b, t).allowed) << "a different long key is another bucket";
  EXPECT_TRUE(rl.Take(std::string(RateLimiter::kMaxKeyBytes, 'a'), t).allowed) << "a short key never meets a digest";
  EXPECT_EQ(rl.size(), 3u);
}

}  // namespace
}  // namespace verbatim::service
