// ConsoleSessions (transports/console/sessions.h): cookies find sessions until
// they idle out or their sign-in ends, and the least recently used go first
// when full.
#include "transports/console/sessions.h"

#include <gtest/gtest.h>

namespace verbatim::console {
namespace {

SessionTokens Tokens(TimePoint now) { return {"access", now + std::chrono::minutes(10), "refresh"}; }

TEST(ConsoleSessions, ACookieFindsItsSessionUntilIdleOrTheSignInEnds) {
  FakeClock clock;
  ConsoleSessions sessions(clock, SessionLimits{std::chrono::minutes(60)});
  const TimePoint start = clock.Now();
  std::string a = sessions.Create("u1", "sid1", Tokens(start), start + std::chrono::hours(2));
  ASSERT_EQ(a.size(), 43u);
  EXPECT_EQ(sessions.Find(a)->user_id, "u1");
  EXPECT_EQ(sessions.Find(a + "x"), nullptr);
  EXPECT_EQ(sessions.Find(""), nullptr);
  EXPECT_NE(sessions.Find(a)->csrf_token, a) << "the CSRF token is not the cookie";

  clock.Advance(std::chrono::minutes(59));
  EXPECT_NE(sessions.Find(a), nullptr) << "use restarts the idle clock";
  clock.Advance(std::chrono::minutes(59));
  EXPECT_NE(sessions.Find(a), nullptr);
  clock.Advance(std::chrono::minutes(3));  // 2 h 1 min after the sign-in: its end
  EXPECT_EQ(sessions.Find(a), nullptr);

  std::string b = sessions.Create("u2", "sid2", Tokens(clock.Now()), clock.Now() + std::chrono::hours(12));
  clock.Advance(std::chrono::minutes(60));
  EXPECT_EQ(sessions.Find(b), nullptr) << "an hour idle ends it";
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(ConsoleSessions, WhenFullTheLeastRecentlyUsedSessionGoes) {
  FakeClock clock;
  SessionLimits limits;
  limits.max_sessions = 2;
  ConsoleSessions sessions(clock, limits);
  const TimePoint end = clock.Now() + std::chrono::hours(12);
  std::string first = sessions.Create("u1", "s1", Tokens(clock.Now()), end);
  clock.Advance(std::chrono::seconds(1));
  std::string second = sessions.Create("u2", "s2", Tokens(clock.Now()), end);
  clock.Advance(std::chrono::seconds(1));
  ASSERT_NE(sessions.Find(first), nullptr);  // first is now the more recent
  std::string third = sessions.Create("u3", "s3", Tokens(clock.Now()), end);
  EXPECT_EQ(sessions.size(), 2u);
  EXPECT_NE(sessions.Find(first), nullptr);
  EXPECT_EQ(sessions.Find(second), nullptr);
  EXPECT_NE(sessions.Find(third), nullptr);
}

}  // namespace
}  // namespace verbatim::console
