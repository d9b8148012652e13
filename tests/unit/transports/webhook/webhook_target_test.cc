// Where a webhook may go (transports/webhook/webhook_target.h): URL parsing,
// the class of every special-purpose address (IPv4 hidden in IPv6 included),
// and the SSRF refusal of targets that resolve to one, in any spelling.
#include "transports/webhook/webhook_target.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace verbatim::webhook {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr milliseconds kResolveTimeout{5000};

std::string Reason(const std::string& address) {
  return ForbiddenAddressReason(asio::ip::make_address(address)).value_or("");
}

TEST(ParseWebhookUrl, SplitsAnAbsoluteUrlIntoSchemeHostPortAndTarget) {
  struct Case {
    const char* url;
    const char* scheme;
    const char* host;
    uint16_t port;
    const char* target;
  };
  for (const Case& c : std::vector<Case>{
           {"https://example.com/hooks?x=1&y=2", "https", "example.com", 443, "/hooks?x=1&y=2"},
           {"HTTP://Example.COM", "http", "example.com", 80, "/"},
           {"http://example.com:8080?a=b", "http", "example.com", 8080, "/?a=b"},
           {"https://hooks.example.com:443/", "https", "hooks.example.com", 443, "/"},
           {"http://127.0.0.1:9/hook", "http", "127.0.0.1", 9, "/hook"},
           {"https://[2001:DB8::1]:8443/h", "https", "2001:db8::1", 8443, "/h"},
           {"http://[::ffff:127.0.0.1]/", "http", "::ffff:127.0.0.1", 80, "/"},
           {"http://my_host.internal:65535/a/b%20c", "http", "my_host.internal", 65535, "/a/b%20c"},
       }) {
    SCOPED_TRACE(c.url);
    Result<WebhookUrl> u = ParseWebhookUrl(c.url);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(u->scheme, c.scheme);
    EXPECT_EQ(u->host, c.host);
    EXPECT_EQ(u->port, c.port);
    EXPECT_EQ(u->target, c.target);
  }
}

TEST(ParseWebhookUrl, RefusesWhatIsNotAPlainAbsoluteHttpUrlAndSaysWhy) {
  struct Case {
    std::string url;
    const char* says;  // a fragment of the message that tells the fix
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty"},
           {"ftp://example.com/", "https://"},
           {"example.com/hook", "https://"},
           {"//example.com/hook", "https://"},
           {"javascript:alert(1)", "https://"},
           {"https://user:pass@example.com/", "user:pass@"},
           {"https://token@example.com/", "user:pass@"},
           {"https://example.com/hook#part", "fragment"},
           {"https://example.com:0/", "1 to 65535"},
           {"https://example.com:65536/", "1 to 65535"},
           {"https://example.com:abc/", "1 to 65535"},
           {"https://example.com:/", "1 to 65535"},
           {"https://example.com:-1/", "1 to 65535"},
           {"https:///path", "no host"},
           {"https://:8080/path", "no host"},
           {"https://exa mple.com/", "space or control"},
           {"https://example.com/a\tb", "space or control"},
           {std::string("https://example.com/\x01", 21), "space or control"},
           {"https://example.com/\x7f", "space or control"},
           {"https://ex\xc3\xa4mple.com/", "non-ASCII"},
           {"https://exa%6dple.com/", "only letters"},
           {"https://example.com\\@evil.test/", "user:pass@"},
           {"https://example.com\\.evil.test/", "only letters"},
           {"https://[::1/", "closing ']'"},
           {"https://[zz::1]/", "not a valid IPv6"},
           {"https://[::1]x/", "':port'"},
           {"https://[fe80::1%25eth0]/", "zone"},
           {"https://2001:db8::1/", "brackets"},
           {"https://" + std::string(254, 'a') + "/", "253"},
           {"https://example.com/" + std::string(2048, 'a'), "2048"},
       }) {
    SCOPED_TRACE(c.url);
    Result<WebhookUrl> u = ParseWebhookUrl(c.url);
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(u.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_EQ(u.status().code(), "webhook.url.invalid");
    EXPECT_NE(u.status().message().find(c.says), std::string::npos) << u.status().message();
  }
}

TEST(ParseWebhookUrl, AcceptsExactlyTheMaximumLength) {
  std::string url = "https://example.com/";
  url += std::string(kMaxWebhookUrlLength - url.size(), 'a');
  EXPECT_TRUE(ParseWebhookUrl(url).ok());
}

TEST(FormatWebhookUrl, WritesTheUrlBackWithThePortOnlyWhenNotTheDefault) {
  for (const char* url : {"https://example.com/hooks?x=1", "http://127.0.0.1:9/hook", "https://[2001:db8::1]:8443/h",
                          "http://example.com/"}) {
    Result<WebhookUrl> u = ParseWebhookUrl(url);
    ASSERT_TRUE(u.ok()) << url;
    EXPECT_EQ(FormatWebhookUrl(*u), url);
  }
  EXPECT_EQ(FormatWebhookUrl(*ParseWebhookUrl("HTTPS://Example.com:443")), "https://example.com/");
}

TEST(ForbiddenAddressReason, NamesTheClassOfEverySpecialPurposeAddress) {
  struct Case {
    const char* address;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"127.0.0.1", "loopback"},
           {"127.255.255.254", "loopback"},
           {"::1", "loopback"},
           {"0.0.0.0", "unspecified"},
           {"0.1.2.3", "unspecified"},
           {"::", "unspecified"},
           {"10.1.2.3", "private"},
           {"172.16.0.1", "private"},
           {"172.31.255.255", "private"},
           {"192.168.1.1", "private"},
           {"fc00::1", "private"},
           {"fd12:3456::1", "private"},
           {"fec0::1", "private"},
           {"169.254.169.254", "link-local"},
           {"169.254.0.1", "link-local"},
           {"fe80::1", "link-local"},
           {"febf::1", "link-local"},
           {"100.64.0.1", "carrier-grade NAT"},
           {"100.127.255.255", "carrier-grade NAT"},
           {"224.0.0.1", "multicast"},
           {"239.255.255.250", "multicast"},
           {"ff02::1", "multicast"},
           {"ff0e::1", "multicast"},
           {"240.0.0.1", "reserved"},
           {"255.255.255.255", "reserved"},
           {"192.0.0.8", "reserved"},
           {"192.0.2.1", "reserved"},
           {"198.51.100.7", "reserved"},
           {"203.0.113.9", "reserved"},
           {"198.18.0.1", "reserved"},
           {"198.19.255.255", "reserved"},
           {"2001:db8::1", "reserved"},
           {"2001::1", "reserved"},
           {"100::1", "reserved"},
           {"3fff::1", "reserved"},
           {"4000::1", "reserved"},
       }) {
    EXPECT_EQ(Reason(c.address), c.reason) << c.address;
  }
}

TEST(ForbiddenAddressReason, JudgesIpv4InsideIpv6ByItsIpv4Address) {
  struct Case {
    const char* address;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"::ffff:127.0.0.1", "loopback"},  // IPv4-mapped
           {"::ffff:7f00:1", "loopback"},     // the same, in hex
           {"::ffff:169.254.169.254", "link-local"},
           {"::ffff:10.0.0.1", "private"},
           {"::ffff:0.0.0.0", "unspecified"},
           {"::127.0.0.1", "loopback"},  // IPv4-compatible
           {"::192.168.0.1", "private"},
           {"::ffff:0:127.0.0.1", "loopback"},  // IPv4-translated
           {"64:ff9b::7f00:1", "loopback"},     // NAT64
           {"64:ff9b::a9fe:a9fe", "link-local"},
           {"64:ff9b::100.64.0.1", "carrier-grade NAT"},
           {"64:ff9b:1::1", "private"},     // local-use NAT64
           {"2002:7f00:1::1", "loopback"},  // 6to4 of 127.0.0.1
           {"2002:c0a8:101::1", "private"},
       }) {
    EXPECT_EQ(Reason(c.address), c.reason) << c.address;
  }
  EXPECT_EQ(Reason("::ffff:8.8.8.8"), "");
  EXPECT_EQ(Reason("64:ff9b::808:808"), "");
}

TEST(ForbiddenAddressReason, LetsPublicUnicastAddressesThrough) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.253.255.255",
                        "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001::200e", "2002:808:808::1"}) {
    EXPECT_FALSE(ForbiddenAddressReason(asio::ip::make_address(a)).has_value()) << a;
  }
}

TEST(DescribeTimeout, WritesWholeSecondsMillisecondsAndTenths) {
  EXPECT_EQ(DescribeTimeout(milliseconds(10000)), "10 s");
  EXPECT_EQ(DescribeTimeout(milliseconds(300)), "300 ms");
  EXPECT_EQ(DescribeTimeout(milliseconds(1500)), "1.5 s");
}

Result<std::vector<asio::ip::tcp::endpoint>> Resolve(const std::string& url, bool allow_private) {
  Result<WebhookUrl> u = ParseWebhookUrl(url);
  if (!u.ok()) return u.status();
  return ResolveWebhookTarget(*u, allow_private, kResolveTimeout);
}

TEST(ResolveWebhookTarget, RefusesLoopbackWithAMessageThatNamesTheAddressTheReasonAndTheFlag) {
  auto r = Resolve("http://127.0.0.1:9/hook", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ(r.status().code(), "webhook.target.forbidden");
  EXPECT_EQ(r.status().message(),
            "http://127.0.0.1:9 resolves to 127.0.0.1, a loopback address; webhooks may not target loopback, "
            "private, link-local or other non-public addresses (SSRF protection). Start the server with "
            "--webhook-allow-private to allow them (docs/webhooks.md).");
}

TEST(ResolveWebhookTarget, RefusesLoopbackInEveryLiteralSpelling) {
  for (const char* url : {"http://2130706433/", "http://0x7f.1/", "http://0x7F000001/", "http://0177.0.0.1/",
                          "http://127.1/", "http://127.0.1/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
                          "http://[::1]:8080/", "http://[64:ff9b::7f00:1]/", "http://[::127.0.0.1]/"}) {
    SCOPED_TRACE(url);
    auto r = Resolve(url, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), "webhook.target.forbidden");
    EXPECT_NE(r.status().message().find("a loopback address"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("--webhook-allow-private"), std::string::npos);
  }
}

TEST(ResolveWebhookTarget, RefusesEveryOtherNonPublicClassByName) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"},
           {"http://0/", "0.0.0.0, an unspecified address"},
           {"http://10.0.0.5:8080/", "10.0.0.5, a private address"},
           {"http://100.64.1.1/", "a carrier-grade NAT address"},
           {"http://[ff02::1]/", "a multicast address"},
           {"http://255.255.255.255/", "a reserved address"},
           {"http://[fe80::1]/", "fe80::1, a link-local address"},
       }) {
    auto r = Resolve(c.url, false);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.status().code(), "webhook.target.forbidden");
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
  }
}

TEST(ResolveWebhookTarget, RefusesAHostNameThatResolvesToLoopbackUnlessPrivateTargetsAreAllowed) {
  auto refused = Resolve("http://localhost:8080/hook", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), "webhook.target.forbidden");
  EXPECT_EQ(refused.status().message().rfind("http://localhost:8080 resolves to ", 0), 0u)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("a loopback address"), std::string::npos);

  auto allowed = Resolve("http://localhost:8080/hook", true);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  ASSERT_FALSE(allowed->empty());
  for (const auto& e : *allowed) {
    EXPECT_TRUE(e.address().is_loopback()) << e.address().to_string();
    EXPECT_EQ(e.port(), 8080);
  }
}

TEST(ResolveWebhookTarget, AllowsLiteralPrivateAddressesWhenPrivateTargetsAreAllowed) {
  auto r = Resolve("http://0x7f.1:9/", true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
}

TEST(ResolveWebhookTarget, ReturnsAPublicLiteralWithoutAskingDns) {
  auto r = Resolve("https://93.184.216.34/", false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front(), asio::ip::tcp::endpoint(asio::ip::make_address("93.184.216.34"), 443));
  auto v6 = Resolve("https://[2606:4700:4700::1111]:8443/", false);
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->front().port(), 8443);
}

TEST(ResolveWebhookTarget, ReportsAHostThatDoesNotResolve) {
  // .invalid never resolves (RFC 6761); without DNS the lookup fails or times out, both unresolvable.
  Result<WebhookUrl> u = ParseWebhookUrl("https://no-such-host.invalid/hook");
  ASSERT_TRUE(u.ok());
  auto r = ResolveWebhookTarget(*u, false, milliseconds(2000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ(r.status().code(), "webhook.target.unresolvable");
  EXPECT_NE(r.status().message().find("cannot resolve no-such-host.invalid: "), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace verbatim::webhook
