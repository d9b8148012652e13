// App::Handle regressions found by fuzz/http_request_fuzz.cc and its review.
#include "api/app.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "authz/catalog.h"
#include "unit/api/test_app.h"

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

// Counters read at scrape time are typed counter and printed exactly; gauges
// too (%g rounded 799620 + 1000000 packets to 6 significant digits).
TEST(Metrics, ScrapedValuesAreExactAndCountersAreTyped) {
  Metrics m;
  m.AddCounterFunc("test_packets_total", "Packets.", [] { return uint64_t{1799621}; });
  m.AddGauge("test_sessions", "Sessions.", [] { return 1234567.0; });
  const std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE test_packets_total counter\ntest_packets_total 1799621\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE test_sessions gauge\ntest_sessions 1234567\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace verbatim::api
