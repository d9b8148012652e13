// The --metrics-listen listener (transports/http/metrics_listener.h): GET /metrics without
// a token; anything else a 404/405 in the API's error format.
#include "transports/http/metrics_listener.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "unit/transports/http/http_test_util.h"

namespace verbatim::api {
namespace {

using testing::Client;

TEST(MetricsListener, ServesMetricsWithoutATokenAndNothingElse) {
  service::Metrics metrics;
  metrics.Inc("verbatim_http_requests_total", {{"route", "/x"}, {"method", "GET"}, {"status", "200"}});
  MetricsListener listener("127.0.0.1", 0, metrics);
  ASSERT_TRUE(listener.Listen().ok());
  listener.Start();
  {
    Client c(listener.port());
    auto res = c.Get("/metrics");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(std::string(res[http::field::content_type]).rfind("text/plain; version=0.0.4", 0), 0u);
    EXPECT_NE(res.body().find("verbatim_http_requests_total{route=\"/x\""), std::string::npos) << res.body();
    auto other = c.Get("/api/v2/conversations");
    EXPECT_EQ(other.result_int(), 404u);
    auto body = ParseJsonObject(other.body());
    ASSERT_TRUE(body.ok()) << other.body();
    EXPECT_EQ(body->at("code").as_string(), "not.found");
    EXPECT_EQ(std::string(other["X-Context-Id"]), std::string(body->at("contextId").as_string()));
    c.Send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(c.Read().result_int(), 405u);
  }
  listener.Stop();
}

}  // namespace
}  // namespace verbatim::api
