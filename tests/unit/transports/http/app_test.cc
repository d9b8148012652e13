// App::Handle regressions found by fuzz/http_request_fuzz.cc and its review.
#include "transports/http/app.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "authz/catalog.h"
#include "unit/transports/http/test_app.h"

namespace verbatim::api {
namespace {

using testing_util::TestApp;

// boost::json writes string bytes as they are; a message quoting a header or
// a path that is not UTF-8 made the body invalid JSON.
TEST(App, ErrorBodiesStayValidJsonWhenTheyQuoteBytesThatAreNotUtf8) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto missing = t.Call("GET", "/no/such\xff\xfe/path");
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_TRUE(ParseJsonStrict(missing.body()).ok()) << missing.body();

  auto admin = t.CreateAdmin();
  std::vector<std::string> all;
  for (const auto& s : authz::AllScopes()) all.push_back(s.name);
  auto res = t.Call("POST", "/api/v2/conversations", t.Token(admin.id, all), "{}",
                    {{"Content-Type", "application/j\x8d\x90n"}});
  EXPECT_EQ(res.result_int(), 415u);
  auto body = ParseJsonStrict(res.body());
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_NE(body->at("message").as_string().find("\xEF\xBF\xBD"), json::string::npos);  // U+FFFD
}

// Any token is a valid method; each unknown one used to add a metrics series.
TEST(App, UnknownMethodsShareOneMetricsSeries) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.Call("FOO" + std::to_string(i), "/healthz").result_int(), 405u);
  EXPECT_EQ(t.app().metrics().CounterValue("verbatim_http_requests_total",
                                           {{"route", "unmatched"}, {"method", "other"}, {"status", "405"}}),
            3u);
  EXPECT_EQ(t.app().metrics().Render().find("FOO"), std::string::npos);
}

// /metrics on the API listener is not for everybody (transports/http/routes_system.cc):
// it needs organization:metrics:view, denied with the usual explanation.
TEST(App, MetricsOnTheApiListenerNeedTheMetricsPermission) {
  TestApp t;
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto anonymous = t.Call("GET", "/metrics");
  EXPECT_EQ(anonymous.result_int(), 401u);
  EXPECT_EQ(TestApp::Body(anonymous).at("code").as_string(), "token.missing");

  auto viewer = t.CreateClient("viewer", {"recording:read"}, {"System Administrator"});
  auto no_scope = t.Call("GET", "/metrics", t.Token(viewer.id, {"recording:read"}));
  EXPECT_EQ(no_scope.result_int(), 403u);
  auto body = TestApp::Body(no_scope);
  EXPECT_EQ(body.at("code").as_string(), "missing.scope");
  EXPECT_EQ(body.at("explanation").at("action").as_string(), "organization:metrics:view");

  auto auditor = t.CreateClient("auditor", {"admin"}, {"Auditor"});
  auto no_role = t.Call("GET", "/metrics", t.Token(auditor.id, {"admin"}));
  EXPECT_EQ(no_role.result_int(), 403u);
  EXPECT_EQ(TestApp::Body(no_role).at("code").as_string(), "missing.permission");

  auto admin = t.CreateAdmin();
  auto ok = t.Call("GET", "/metrics", t.Token(admin.id, {"admin"}));
  EXPECT_EQ(ok.result_int(), 200u);
  EXPECT_NE(ok.body().find("verbatim_http_requests_total"), std::string::npos);
}

// Counters read at scrape time are typed counter and printed exactly; gauges
// too (%g rounded 799620 + 1000000 packets to 6 significant digits).
TEST(Metrics, ScrapedValuesAreExactAndCountersAreTyped) {
  service::Metrics m;
  m.AddCounterFunc("test_packets_total", "Packets.", [] { return uint64_t{1799621}; });
  m.AddGauge("test_sessions", "Sessions.", [] { return 1234567.0; });
  const std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE test_packets_total counter\ntest_packets_total 1799621\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE test_sessions gauge\ntest_sessions 1234567\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace verbatim::api
