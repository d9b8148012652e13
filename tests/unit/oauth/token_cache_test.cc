#include "oauth/token_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/oauth/jwt_test_util.h"

namespace verbatim::oauth {
namespace {

using namespace std::chrono_literals;
using testing::kNow;

VerifyResult Ok(std::string jti, TimePoint expires_at = kNow + 1h) {
  VerifyResult r;
  r.check.jti = std::move(jti);
  r.check.subject = "client-1";
  r.check.expires_at = expires_at;
  r.token.claims.jti = r.check.jti;
  return r;
}

TEST(VerifiedTokenCache, HitReturnsTheSameResult) {
  VerifiedTokenCache cache(100);
  EXPECT_EQ(cache.Lookup("tok", kNow), nullptr);
  cache.Insert("tok", Ok("j1"));
  auto hit = cache.Lookup("tok", kNow);
  ASSERT_NE(hit, nullptr);
  EXPECT_TRUE(hit->check.ok());
  EXPECT_EQ(hit->check.jti, "j1");
  EXPECT_EQ(hit->check.subject, "client-1");
  EXPECT_EQ(cache.Lookup("tok", kNow), hit) << "shared, not copied";
}

TEST(VerifiedTokenCache, RealVerificationRoundTrip) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  KeySet keys;
  keys.Add(VerificationKey::FromKeyPair(*key));
  VerifyOptions opts{testing::kIssuer, testing::kAudience};
  std::string token = testing::Signed(*key, testing::StdHeader(key->kid()), testing::StdPayload());
  VerifyResult r = VerifyAccessToken(token, keys, opts, kNow);
  ASSERT_TRUE(r.check.ok()) << r.check.detail;

  VerifiedTokenCache cache;
  cache.Insert(token, r);
  auto hit = cache.Lookup(token, kNow);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->check.jti, r.check.jti);
  EXPECT_EQ(hit->check.scopes, r.check.scopes);
  EXPECT_EQ(ToJson(hit->token.payload), ToJson(r.token.payload));

  // Any other byte string misses, even one differing in a single character.
  for (size_t pos : {size_t{0}, token.find('.') + 2, token.size() - 2}) {
    std::string modified = token;
    modified[pos] = modified[pos] == 'A' ? 'B' : 'A';
    EXPECT_EQ(cache.Lookup(modified, kNow), nullptr) << pos;
  }
  EXPECT_EQ(cache.Lookup(token + " ", kNow), nullptr);
  EXPECT_EQ(cache.Lookup(token.substr(0, token.size() - 1), kNow), nullptr);
}

TEST(VerifiedTokenCache, EntryExpiresAtTheTokensExp) {
  VerifiedTokenCache cache(100);
  cache.Insert("tok", Ok("j1", kNow + 10s));
  EXPECT_NE(cache.Lookup("tok", kNow + 9s), nullptr);
  EXPECT_NE(cache.Lookup("tok", kNow + 10s - 1ns), nullptr);
  EXPECT_EQ(cache.Lookup("tok", kNow + 10s), nullptr);
  EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped when found";
  EXPECT_EQ(cache.Lookup("tok", kNow), nullptr) << "and stays gone";
}

TEST(VerifiedTokenCache, FailuresAreNotCached) {
  VerifiedTokenCache cache(100);
  VerifyResult bad = Ok("j1");
  bad.check.problem = authz::TokenProblem::kExpired;
  cache.Insert("tok", bad);
  EXPECT_EQ(cache.Lookup("tok", kNow), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VerifiedTokenCache, CapacityIsABoundUnderManyInserts) {
  for (size_t capacity : {1u, 7u, 100u, 1000u, 10'000u}) {
    VerifiedTokenCache cache(capacity);
    EXPECT_LE(cache.capacity(), capacity);
    EXPECT_GE(cache.capacity(), capacity * 9 / 10);
    for (int i = 0; i < 20'000; ++i) cache.Insert("tok-" + std::to_string(i), Ok(std::to_string(i)));
    EXPECT_LE(cache.size(), capacity);
    EXPECT_GE(cache.size(), cache.capacity() / 2) << capacity;
    EXPECT_NE(cache.Lookup("tok-19999", kNow), nullptr) << "the newest entry is kept";
  }
}

TEST(VerifiedTokenCache, ZeroCapacityCachesNothing) {
  VerifiedTokenCache cache(0);
  cache.Insert("tok", Ok("j1"));
  EXPECT_EQ(cache.Lookup("tok", kNow), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VerifiedTokenCache, EntriesInUseSurviveEviction) {
  // CLOCK gives a second chance to entries hit since the hand last passed.
  VerifiedTokenCache cache(64);
  cache.Insert("hot", Ok("hot"));
  for (int i = 0; i < 5000; ++i) {
    cache.Insert("cold-" + std::to_string(i), Ok(std::to_string(i)));
    ASSERT_NE(cache.Lookup("hot", kNow), nullptr) << i;
  }
  EXPECT_LE(cache.size(), 64u);
}

TEST(VerifiedTokenCache, ReinsertingReplacesWithoutGrowing) {
  VerifiedTokenCache cache(10);
  cache.Insert("tok", Ok("first"));
  cache.Insert("tok", Ok("second"));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Lookup("tok", kNow)->check.jti, "second");
}

TEST(VerifiedTokenCache, ClearDropsEverything) {
  VerifiedTokenCache cache(1000);
  for (int i = 0; i < 500; ++i) cache.Insert("tok-" + std::to_string(i), Ok("j"));
  auto held = cache.Lookup("tok-1", kNow);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Lookup("tok-1", kNow), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->check.jti, "j") << "a result already handed out stays valid";
  cache.Insert("tok-1", Ok("again"));
  EXPECT_NE(cache.Lookup("tok-1", kNow), nullptr);
}

TEST(VerifiedTokenCache, ConcurrentInsertsAndLookups) {
  VerifiedTokenCache cache(2048);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        std::string tok = "tok-" + std::to_string((i * 7 + t) % 5000);
        if (auto hit = cache.Lookup(tok, kNow)) {
          if (hit->check.jti != tok) ++wrong;
        } else {
          cache.Insert(tok, Ok(tok));
        }
        if (t == 0 && i % 5000 == 0) cache.Clear();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 2048u);
}

}  // namespace
}  // namespace verbatim::oauth
