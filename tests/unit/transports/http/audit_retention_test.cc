// --audit-retention-days: events older than the retention are deleted, newer
// ones stay, and the audit endpoints keep working.
#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"
#include "core/ids.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

TEST(AuditRetention, DeletesEventsOlderThanTheRetentionOnly) {
  FakeClock clock(FromUnixSeconds(1'800'000'000));
  TestApp t(clock, [](AppConfig& cfg) { cfg.audit_retention_days = 30; });
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto admin = t.CreateAdmin();
  auto client = t.CreateClient("reader", {"recording:read"}, {"Conversation Control"});

  // Forty days ago: one allowed and one denied request.
  const std::string old_allowed = std::string(t.Call("GET", "/api/v2/tokens/me", t.Token(admin.id, {"audit:read"})).at("X-Context-Id"));
  const std::string old_denied = std::string(
      t.Call("GET", "/api/v2/recordings/conversations/" + NewUuid(), t.Token(client.id, {"recording:read"})).at("X-Context-Id"));
  t.app().audit().Flush();

  clock.Advance(std::chrono::hours(24 * 40));
  const std::string token = t.Token(admin.id, {"audit:read"});
  const std::string recent = std::string(t.Call("GET", "/api/v2/tokens/me", token).at("X-Context-Id"));
  t.app().audit().Flush();

  EXPECT_EQ(t.app().audit().PurgeExpired(), 2);
  EXPECT_FALSE(t.store().GetAudit(old_allowed).ok());
  EXPECT_FALSE(t.store().GetAudit(old_denied).ok());
  EXPECT_TRUE(t.store().GetAudit(recent).ok());
  EXPECT_EQ(t.app().audit().PurgeExpired(), 0) << "nothing left to delete";
  auto page = t.Call("GET", "/api/v2/audit/events/" + recent, token);
  EXPECT_EQ(page.result_int(), 200u) << page.body();
}

TEST(AuditRetention, ZeroKeepsEverything) {
  FakeClock clock(FromUnixSeconds(1'800'000'000));
  TestApp t(clock);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto admin = t.CreateAdmin();
  const std::string id = std::string(t.Call("GET", "/api/v2/tokens/me", t.Token(admin.id, {"audit:read"})).at("X-Context-Id"));
  t.app().audit().Flush();
  clock.Advance(std::chrono::hours(24 * 3650));
  EXPECT_EQ(t.app().audit().PurgeExpired(), 0);
  EXPECT_TRUE(t.store().GetAudit(id).ok());
}

}  // namespace
}  // namespace verbatim::api
