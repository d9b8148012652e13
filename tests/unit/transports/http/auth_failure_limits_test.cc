// Rate limits that protect without locking out (docs/decisions.md "Failed
// authentications are counted per address and per (client, address)").
#include <gtest/gtest.h>

#include <string>

#include "core/base64.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;
using testing_util::TestClient;

// Two failures allowed, then 429 for a practically infinite time.
void StrictLimits(AppConfig& cfg) {
  cfg.limits.auth_failures_per_ip = 0.001;
  cfg.limits.auth_failure_burst = 2;
}

std::pair<std::string, std::string> FormType() { return {"Content-Type", "application/x-www-form-urlencoded"}; }
std::string Basic(const std::string& id, const std::string& secret) {
  return "Basic " + Base64Encode(id + ":" + secret);
}

HttpResponse TokenRequest(TestApp& t, const std::string& from, const std::string& id, const std::string& secret) {
  return t.CallFrom(from, "POST", "/oauth/token", {}, "grant_type=client_credentials",
                    {FormType(), {"Authorization", Basic(id, secret)}});
}

TEST(AuthFailureLimits, RequestsWithoutATokenAreNotFailures) {
  TestApp t(SystemClock::Instance(), StrictLimits);
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 20; ++i) {
    auto res = t.Call("GET", "/api/v2/conversations");
    ASSERT_EQ(res.result_int(), 401) << "request " << i << ": " << res.body();
    EXPECT_NE(res.body().find("token.missing"), std::string::npos);
  }
  // A non-Bearer scheme is no token either.
  EXPECT_EQ(t.Call("GET", "/api/v2/conversations", {}, {}, {{"Authorization", "Basic eDp5"}}).result_int(), 401);
  EXPECT_EQ(t.app().metrics().CounterValue("verbatim_rate_limited_total", {{"route", "/api/v2/conversations"}}), 0u);
  // The failure budget is untouched: two wrong tokens are answered, the third is cut off.
  EXPECT_EQ(t.Call("GET", "/api/v2/conversations", "garbage").result_int(), 401);
  EXPECT_EQ(t.Call("GET", "/api/v2/conversations", "garbage").result_int(), 401);
  EXPECT_EQ(t.Call("GET", "/api/v2/conversations", "garbage").result_int(), 429);
}

TEST(AuthFailureLimits, Ipv6AddressesAreCountedByTheirSlash64) {
  TestApp t(SystemClock::Instance(), StrictLimits);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.CallFrom("2001:db8:1:2::1", "GET", "/api/v2/conversations", "garbage").result_int(), 401);
  EXPECT_EQ(t.CallFrom("2001:db8:1:2::2", "GET", "/api/v2/conversations", "garbage").result_int(), 401);
  EXPECT_EQ(t.CallFrom("2001:db8:1:2:dead:beef:0:1", "GET", "/api/v2/conversations", "garbage").result_int(), 429)
      << "a new address in the same /64 is the same budget";
  EXPECT_EQ(t.CallFrom("2001:db8:1:3::1", "GET", "/api/v2/conversations", "garbage").result_int(), 401)
      << "the next /64 has its own";
  // IPv4 clients of a dual-stack listener arrive as IPv4-mapped IPv6.
  EXPECT_EQ(t.CallFrom("::ffff:192.0.2.10", "GET", "/api/v2/conversations", "garbage").result_int(), 401);
  EXPECT_EQ(t.CallFrom("::ffff:192.0.2.10", "GET", "/api/v2/conversations", "garbage").result_int(), 401);
  EXPECT_EQ(t.CallFrom("192.0.2.10", "GET", "/api/v2/conversations", "garbage").result_int(), 429);
}

TEST(AuthFailureLimits, WrongSecretsFromOneAddressDoNotLockTheClientOutElsewhere) {
  TestApp t(SystemClock::Instance(), StrictLimits);
  ASSERT_TRUE(t.ok());
  TestClient victim = t.CreateClient("victim", {"recording:read"}, {"Recording Controller"});
  const std::string attacker = "198.51.100.66";
  int status = 0;
  for (int i = 0; i < 10 && status != 429; ++i) status = TokenRequest(t, attacker, victim.id, "wrong").result_int();
  ASSERT_EQ(status, 429) << "the attacker's address is cut off";
  EXPECT_EQ(TokenRequest(t, attacker, victim.id, victim.secret).result_int(), 429)
      << "even with the right secret, from that address";
  auto own = TokenRequest(t, "192.0.2.1", victim.id, victim.secret);
  EXPECT_EQ(own.result_int(), 200) << "the victim, from its own address: " << own.body();
}

TEST(AuthFailureLimits, AClientIdLongerThanAnyIsRefusedWithoutBecomingALimiterKey) {
  TestApp t;  // default limits: the address budget is not exhausted by this test
  ASSERT_TRUE(t.ok());
  const size_t keys_before = t.app().RateLimiterKeys();
  for (int i = 0; i < 20; ++i) {
    const std::string id = std::to_string(i) + std::string(100 * 1024, 'c');
    auto res = t.Call("POST", "/oauth/token", {}, "grant_type=client_credentials&client_id=" + id + "&client_secret=x",
                      {FormType()});
    ASSERT_EQ(res.result_int(), 401) << res.body().substr(0, 300);
    auto body = TestApp::Body(res).as_object();
    EXPECT_EQ(body.at("error").as_string(), "invalid_client");
    EXPECT_NE(std::string(body.at("error_description").as_string()).find("longer than any client id"),
              std::string::npos);
    EXPECT_LT(res.body().size(), 1000u) << "the id is not echoed";
  }
  EXPECT_LE(t.app().RateLimiterKeys(), keys_before + 1) << "only the address is counted";
  // A client id that does not exist is no key either: only real clients get (client, address) buckets.
  for (int i = 0; i < 20; ++i) TokenRequest(t, "127.0.0.1", "nobody-" + std::to_string(i), "x");
  EXPECT_LE(t.app().RateLimiterKeys(), keys_before + 1);
}

TEST(AuthFailureLimits, RateLimiterKeysAreAMetric) {
  TestApp t;
  ASSERT_TRUE(t.ok());
  t.Call("GET", "/api/v2/conversations", "garbage");
  const std::string text = t.app().metrics().Render();  // what the metrics listener serves
  EXPECT_NE(text.find("\nverbatim_rate_limiter_keys 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace verbatim::api
