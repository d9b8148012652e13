// The HTTP server on a hostile network, over real sockets: 431 for an
// oversized header field and 414 only for an oversized request line, caps on
// concurrent connections (total and per client address) answered with a 503
// that says why, a header deadline against slowloris, and the client address
// from trusted proxies only.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transports/http/http_server.h"
#include "unit/transports/http/http_test_util.h"

namespace verbatim::api {
namespace {

using testing::Client;
using testing::EchoServer;
using testing::WaitUntil;

std::string Code(const HttpResponse& res) { return res.body().substr(0, res.body().find(':')); }

TEST(HttpServerLimits, AnOversizedHeaderFieldIs431AndAnOversizedRequestLineIs414) {
  HttpServerOptions o;
  EchoServer s(o);
  {
    // One header field of 20 KB after a short request line (answered 414 before).
    Client c(s.port());
    auto res = c.Get("/ok", "X-Big: " + std::string(20000, 'a') + "\r\n");
    EXPECT_EQ(res.result_int(), 431u) << res.body();
    EXPECT_EQ(Code(res), "header.too.large");
  }
  {
    // Many small fields adding up past the limit.
    std::string many;
    for (int i = 0; i < 200; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
    Client c(s.port());
    auto res = c.Get("/ok", many);
    EXPECT_EQ(res.result_int(), 431u) << res.body();
    EXPECT_EQ(Code(res), "header.too.large");
  }
  {
    // A request line longer than the whole header limit.
    Client c(s.port());
    auto res = c.Get("/" + std::string(20000, 'p'));
    EXPECT_EQ(res.result_int(), 414u) << res.body();
    EXPECT_EQ(Code(res), "uri.too.long");
  }
  {
    // A request line past its own limit (8 KiB) that fits the header limit.
    Client c(s.port());
    auto res = c.Get("/?" + std::string(9000, 'q'));
    EXPECT_EQ(res.result_int(), 414u) << res.body();
    EXPECT_EQ(Code(res), "uri.too.long");
  }
  EXPECT_EQ(s.requests.load(), 0) << "nothing oversized reaches the handler";
  Client ok(s.port());
  EXPECT_EQ(ok.Get("/?" + std::string(8000, 'q')).result_int(), 200u) << "just under both limits";
}

TEST(HttpServerLimits, PerAddressCapRefusesWith503AndOtherAddressesStillGetIn) {
  HttpServerOptions o;
  o.max_connections = 100;
  o.max_connections_per_address = 2;
  EchoServer s(o);
  Client a1(s.port(), "127.0.0.2");
  Client a2(s.port(), "127.0.0.2");
  Client a3(s.port(), "127.0.0.2");  // accepted after a1 and a2: over the cap
  Client b(s.port(), "127.0.0.3");
  auto refused = a3.Get("/x");
  EXPECT_EQ(refused.result_int(), 503u) << refused.body();
  EXPECT_EQ(Code(refused), "connection.limit");
  EXPECT_EQ(refused[http::field::retry_after], "2");
  EXPECT_NE(refused.body().find("per client address"), std::string::npos) << refused.body();
  EXPECT_TRUE(a3.ClosedByServer());
  EXPECT_EQ(a1.Get("/x").body(), "127.0.0.2");
  EXPECT_EQ(a2.Get("/x").body(), "127.0.0.2");
  EXPECT_EQ(b.Get("/x").body(), "127.0.0.3");
  EXPECT_EQ(s.server().stats().refused_per_address, 1u);
  EXPECT_EQ(s.metrics.CounterValue("verbatim_http_connections_refused_total", {{"reason", "per_address"}}), 1u);
}

TEST(HttpServerLimits, TotalCapRefusesEveryoneAndAClosedConnectionFreesItsPlace) {
  HttpServerOptions o;
  o.max_connections = 2;
  o.max_connections_per_address = 0;
  EchoServer s(o);
  auto a = std::make_unique<Client>(s.port(), "127.0.0.4");
  Client b(s.port(), "127.0.0.5");
  {
    Client c(s.port(), "127.0.0.6");
    auto refused = c.Get("/x");
    EXPECT_EQ(refused.result_int(), 503u);
    EXPECT_EQ(Code(refused), "connection.limit");
    EXPECT_NE(refused.body().find("in total"), std::string::npos) << refused.body();
  }
  EXPECT_EQ(b.Get("/x").result_int(), 200u);
  a.reset();  // the client goes; the server notices and gives the place back
  ASSERT_TRUE(WaitUntil([&] { return s.server().active_connections() < 2; }));
  Client d(s.port(), "127.0.0.6");
  EXPECT_EQ(d.Get("/x").result_int(), 200u);
  EXPECT_EQ(s.server().stats().refused_total_cap, 1u);
}

TEST(HttpServerLimits, ARequestThatStallsInItsHeaderIsDroppedAtTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout = std::chrono::seconds(1);
  EchoServer s(o);
  Client c(s.port());
  c.Send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");  // and nothing more (slowloris)
  EXPECT_TRUE(c.ClosedByServer());  // returns once the header deadline passes
  // The stream closes the socket at the deadline, then the server counts it.
  EXPECT_TRUE(WaitUntil([&] { return s.metrics.CounterValue("verbatim_http_timeouts_total", {{"phase", "header"}}) == 1; }));
  EXPECT_EQ(s.requests.load(), 0);
}

TEST(HttpServerLimits, AnIdleKeepAliveConnectionIsNotHeldToTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout = std::chrono::seconds(1);
  o.idle_timeout = std::chrono::seconds(60);
  EchoServer s(o);
  Client c(s.port());
  EXPECT_EQ(c.Get("/first").result_int(), 200u);
  // Past the header deadline with nothing sent: still open, the next request is served.
  const uint64_t before = s.metrics.CounterValue("verbatim_http_timeouts_total", {{"phase", "header"}});
  Client probe(s.port());
  probe.Send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // a stalled header on another connection...
  EXPECT_TRUE(probe.ClosedByServer());                  // ...shows the deadline has passed
  EXPECT_TRUE(WaitUntil(
      [&] { return s.metrics.CounterValue("verbatim_http_timeouts_total", {{"phase", "header"}}) == before + 1; }));
  EXPECT_EQ(c.Get("/second").result_int(), 200u);
}

TEST(HttpServerLimits, OnlyATrustedProxyNamesTheClient) {
  HttpServerOptions trusting;
  trusting.trusted_proxies = *TrustedProxies::Parse("127.0.0.7/32");
  EchoServer s(trusting);
  Client proxy(s.port(), "127.0.0.7");
  EXPECT_EQ(proxy.Get("/x", "X-Forwarded-For: 1.1.1.1, 203.0.113.9\r\n").body(), "203.0.113.9");
  EXPECT_EQ(proxy.Get("/x").body(), "127.0.0.7") << "no header: the proxy itself";
  // The same connection carries another client's request next.
  EXPECT_EQ(proxy.Get("/x", "X-Forwarded-For: 198.51.100.4\r\n").body(), "198.51.100.4");
  // Forwarded is not the configured header: ignored.
  EXPECT_EQ(proxy.Get("/x", "Forwarded: for=198.51.100.5\r\n").body(), "127.0.0.7");
  Client stranger(s.port(), "127.0.0.8");
  EXPECT_EQ(stranger.Get("/x", "X-Forwarded-For: 203.0.113.9\r\n").body(), "127.0.0.8");
}

TEST(HttpServerLimits, ForwardedIsReadWhenConfigured) {
  HttpServerOptions o;
  o.trusted_proxies = *TrustedProxies::Parse("127.0.0.0/8");
  o.forwarded_header = ForwardedHeader::kForwarded;
  EchoServer s(o);
  Client proxy(s.port(), "127.0.0.9");
  EXPECT_EQ(proxy.Get("/x", "Forwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n").body(), "2001:db8::7");
  EXPECT_EQ(proxy.Get("/x", "X-Forwarded-For: 203.0.113.9\r\n").body(), "127.0.0.9");
}

}  // namespace
}  // namespace verbatim::api
