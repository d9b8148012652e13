// The client address behind trusted proxies (transports/http/forwarded.h): CIDR parsing,
// RFC 7239 Forwarded and X-Forwarded-For parsing from the right, and the walk
// that skips trusted hops and stops at the first untrusted one, so that a
// client can never choose its own address.
#include "transports/http/forwarded.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace verbatim::api {
namespace {

IpAddress Ip(const std::string& s) { return CanonicalAddress(boost::asio::ip::make_address(s)); }

TrustedProxies Trust(const std::string& list) {
  auto t = TrustedProxies::Parse(list);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : TrustedProxies();
}

std::string Resolve(const std::string& peer, std::vector<std::string_view> lines, ForwardedHeader header,
                    const TrustedProxies& trusted) {
  return ResolveClientAddress(Ip(peer), lines, header, trusted).address.to_string();
}

TEST(IpNetwork, ParsesCidrAndSingleHostsOfBothFamilies) {
  struct Case {
    const char* text;
    const char* inside;
    const char* outside;
  };
  for (const Case& c : std::vector<Case>{{"10.0.0.0/8", "10.255.1.2", "11.0.0.1"},
                                          {"192.0.2.7", "192.0.2.7", "192.0.2.8"},
                                          {"192.0.2.128/25", "192.0.2.200", "192.0.2.127"},
                                          {"0.0.0.0/0", "203.0.113.1", "2001:db8::1"},
                                          {"2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1"},
                                          {"::1", "::1", "::2"},
                                          {"2001:db8:0:2::/63", "2001:db8:0:3:ff::1", "2001:db8:0:4::1"},
                                          {" 172.16.0.0/12 ", "172.31.255.255", "172.32.0.0"}}) {
    auto net = ParseIpNetwork(c.text);
    ASSERT_TRUE(net.ok()) << c.text << ": " << net.status().message();
    EXPECT_TRUE(net->Contains(Ip(c.inside))) << c.text << " ∌ " << c.inside;
    EXPECT_FALSE(net->Contains(Ip(c.outside))) << c.text << " ∋ " << c.outside;
  }
}

TEST(IpNetwork, AnIpv4MappedPeerMatchesItsIpv4Network) {
  auto net = ParseIpNetwork("127.0.0.0/8");
  ASSERT_TRUE(net.ok());
  // What a dual-stack listener reports for an IPv4 client.
  EXPECT_TRUE(net->Contains(boost::asio::ip::make_address("::ffff:127.0.0.2")));
}

TEST(IpNetwork, RefusesWhatIsNotANetworkWithAReason) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "localhost", "10.0.0.1/8",
                          "2001:db8::1/32", "fe80::1%eth0", "10.0.0.0/-1", "1.2.3"}) {
    auto net = ParseIpNetwork(bad);
    EXPECT_FALSE(net.ok()) << "'" << bad << "' parsed as " << (net.ok() ? net->ToString() : "");
    if (!net.ok()) {
      EXPECT_NE(net.status().message().find("not a network"), std::string::npos) << bad;
    }
  }
  auto typo = ParseIpNetwork("10.0.0.1/8");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("10.0.0.0/8"), std::string::npos) << "suggests the network: "
                                                                           << typo.status().message();
}

TEST(TrustedProxies, ParsesAListAndNamesTheBadEntry) {
  TrustedProxies t = Trust("10.0.0.0/8, 2001:db8::/32,192.0.2.1");
  EXPECT_EQ(t.networks().size(), 3u);
  EXPECT_TRUE(t.Contains(Ip("2001:db8::5")));
  EXPECT_TRUE(Trust("").empty());
  auto bad = TrustedProxies::Parse("10.0.0.0/8,nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nonsense"), std::string::npos);
}

struct HopCase {
  std::string_view header;
  std::vector<std::string> hops;  // nearest first; "?" unknown, "_" obfuscated, "-" missing for=, "!" malformed
};

std::vector<std::string> Describe(const std::vector<Hop>& hops) {
  std::vector<std::string> out;
  for (const Hop& h : hops) {
    switch (h.kind) {
      case Hop::Kind::kAddress:
        out.push_back(h.address.to_string());
        break;
      case Hop::Kind::kUnknown:
        out.push_back("?");
        break;
      case Hop::Kind::kObfuscated:
        out.push_back("_");
        break;
      case Hop::Kind::kMissing:
        out.push_back("-");
        break;
      case Hop::Kind::kMalformed:
        out.push_back("!");
        break;
    }
  }
  return out;
}

TEST(Forwarded, ParsesRfc7239ElementsFromTheRight) {
  const std::vector<HopCase> cases = {
      // RFC 7239 §4 and §7.4 examples.
      {R"(for="_gazonk")", {"_"}},
      {R"(For="[2001:db8:cafe::17]:4711")", {"2001:db8:cafe::17"}},
      {"for=192.0.2.60;proto=http;by=203.0.113.43", {"192.0.2.60"}},
      {"for=192.0.2.43, for=198.51.100.17", {"198.51.100.17", "192.0.2.43"}},
      {"for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=unknown", {"?"}},
      {"for=unknown, for=192.0.2.43", {"192.0.2.43", "?"}},
      // Quoted IPv4 with a port, an obfuscated port, parameters in any case and order.
      {R"(proto=https;FOR="192.0.2.1:8443")", {"192.0.2.1"}},
      {R"(for="192.0.2.1:_p1")", {"192.0.2.1"}},
      // A quoted-string may hold ',' and ';' (and escaped quotes): they do not split.
      {R"(for=192.0.2.9;host="a,b;c\"d", for=198.51.100.1)", {"198.51.100.1", "192.0.2.9"}},
      // Empty list elements are ignored (RFC 9110 §5.6.1).
      {"for=192.0.2.1,, ,for=192.0.2.2", {"192.0.2.2", "192.0.2.1"}},
      // An element without for=.
      {"proto=https;host=example.com", {"-"}},
      // Malformed: unbracketed or unquoted IPv6, duplicate for, a bad port, junk.
      {"for=2001:db8::1", {"!"}},
      {R"(for="2001:db8::1")", {"!"}},
      {"for=192.0.2.1;for=192.0.2.2", {"!"}},
      {R"(for="192.0.2.1:99999x")", {"!"}},
      {"for=192.0.2.256", {"!"}},
      {R"(for="[fe80::1%eth0]")", {"!"}},
      {"for", {"!"}},
      {"=192.0.2.1", {"!"}},
      {R"(for="192.0.2.1)", {"!"}},
  };
  for (const HopCase& c : cases) {
    std::vector<std::string_view> lines{c.header};
    EXPECT_EQ(Describe(ForwardedHopsNearestFirst(lines, kMaxForwardedHops)), c.hops) << c.header;
  }
}

TEST(Forwarded, StopsReadingAtTheFirstHopWithoutAnAddress) {
  // Left of a malformed element nothing is parsed: garbage there cannot matter.
  std::vector<std::string_view> lines{R"(for="unterminated, for=bad;;x, for=192.0.2.1)"};
  EXPECT_EQ(Describe(ForwardedHopsNearestFirst(lines, kMaxForwardedHops)), (std::vector<std::string>{"192.0.2.1", "!"}));
}

TEST(XForwardedFor, ParsesAddressesPortsAndBrackets) {
  const std::vector<HopCase> cases = {
      {"203.0.113.7", {"203.0.113.7"}},
      {"203.0.113.7, 10.0.0.1", {"10.0.0.1", "203.0.113.7"}},
      {"2001:db8::7,10.0.0.1", {"10.0.0.1", "2001:db8::7"}},
      {"[2001:db8::7]:443", {"2001:db8::7"}},
      {"203.0.113.7:55000", {"203.0.113.7"}},
      {"::ffff:203.0.113.7", {"203.0.113.7"}},
      {"unknown, 10.0.0.1", {"10.0.0.1", "?"}},
      {"not-an-ip, 10.0.0.1", {"10.0.0.1", "!"}},
      {"203.0.113.7 10.0.0.1", {"!"}},
      {std::string_view("203.0.113.7\0junk", 16), {"!"}},
      {"", {}},
  };
  for (const HopCase& c : cases) {
    std::vector<std::string_view> lines{c.header};
    EXPECT_EQ(Describe(XForwardedForHopsNearestFirst(lines, kMaxForwardedHops)), c.hops) << c.header;
  }
}

TEST(XForwardedFor, SeveralFieldLinesAreOneListInOrder) {
  std::vector<std::string_view> lines{"203.0.113.7, 10.0.0.2", "10.0.0.1"};
  EXPECT_EQ(Describe(XForwardedForHopsNearestFirst(lines, kMaxForwardedHops)),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "203.0.113.7"}));
}

TEST(XForwardedFor, ParsesAtMostMaxHops) {
  std::string many;
  for (int i = 0; i < 1000; ++i) many += (i ? "," : "") + std::string("10.0.0.1");
  std::vector<std::string_view> lines{many};
  EXPECT_EQ(XForwardedForHopsNearestFirst(lines, 5).size(), 5u);
}

TEST(ResolveClientAddress, AStrangersHeadersAreIgnored) {
  // The peer is not a trusted proxy: whatever it says about itself is ignored.
  const TrustedProxies trusted = Trust("10.0.0.0/8");
  EXPECT_EQ(Resolve("198.51.100.9", {"203.0.113.7"}, ForwardedHeader::kXForwardedFor, trusted), "198.51.100.9");
  EXPECT_EQ(Resolve("198.51.100.9", {"for=203.0.113.7"}, ForwardedHeader::kForwarded, trusted), "198.51.100.9");
  // Nobody is trusted by default.
  EXPECT_EQ(Resolve("10.0.0.1", {"203.0.113.7"}, ForwardedHeader::kXForwardedFor, TrustedProxies()), "10.0.0.1");
  EXPECT_FALSE(ResolveClientAddress(Ip("10.0.0.1"), {}, ForwardedHeader::kXForwardedFor, TrustedProxies()).forwarded);
}

TEST(ResolveClientAddress, WalksFromTheRightSkippingTrustedHops) {
  const TrustedProxies trusted = Trust("10.0.0.0/8,2001:db8:ffff::/48");
  struct Case {
    const char* peer;
    const char* header;
    ForwardedHeader kind;
    const char* client;
  };
  const std::vector<Case> cases = {
      // One proxy.
      {"10.0.0.1", "203.0.113.7", ForwardedHeader::kXForwardedFor, "203.0.113.7"},
      // The client put a spoofed address first; the proxy appended the real one.
      {"10.0.0.1", "1.1.1.1, 203.0.113.7", ForwardedHeader::kXForwardedFor, "203.0.113.7"},
      // Two trusted proxies, then the client.
      {"10.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.2", ForwardedHeader::kXForwardedFor, "203.0.113.7"},
      // IPv6 proxy and client, RFC 7239.
      {"2001:db8:ffff::1", R"(for="[2001:db8:1::7]:4711", for=10.0.0.3)", ForwardedHeader::kForwarded,
       "2001:db8:1::7"},
      // Obfuscated, unknown or malformed hop: the proxy that reported it is the answer.
      {"10.0.0.1", R"(for="_hidden")", ForwardedHeader::kForwarded, "10.0.0.1"},
      {"10.0.0.1", "for=unknown, for=10.0.0.2", ForwardedHeader::kForwarded, "10.0.0.2"},
      {"10.0.0.1", "garbage", ForwardedHeader::kXForwardedFor, "10.0.0.1"},
      {"10.0.0.1", "proto=https", ForwardedHeader::kForwarded, "10.0.0.1"},
      // No header at all: the proxy itself.
      {"10.0.0.1", "", ForwardedHeader::kXForwardedFor, "10.0.0.1"},
      // Every hop trusted: the leftmost (a proxy talking to us on its own behalf).
      {"10.0.0.1", "10.0.0.3, 10.0.0.2", ForwardedHeader::kXForwardedFor, "10.0.0.3"},
  };
  for (const Case& c : cases) {
    std::vector<std::string_view> lines;
    if (*c.header) lines.emplace_back(c.header);
    EXPECT_EQ(Resolve(c.peer, lines, c.kind, trusted), c.client) << c.peer << " / " << c.header;
  }
}

TEST(ResolveClientAddress, ReadsOnlyTheConfiguredHeaderKind) {
  // A proxy that writes X-Forwarded-For passes a client's Forwarded through:
  // parsing that as X-Forwarded-For finds no address, so the proxy is the answer.
  const TrustedProxies trusted = Trust("10.0.0.1");
  EXPECT_EQ(Resolve("10.0.0.1", {"for=1.1.1.1"}, ForwardedHeader::kXForwardedFor, trusted), "10.0.0.1");
}

TEST(ForwardedHeaderName, IsCaseInsensitiveAndClosed) {
  EXPECT_EQ(ParseForwardedHeaderName("X-Forwarded-For"), ForwardedHeader::kXForwardedFor);
  EXPECT_EQ(ParseForwardedHeaderName("forwarded"), ForwardedHeader::kForwarded);
  EXPECT_FALSE(ParseForwardedHeaderName("x-real-ip"));
  EXPECT_STREQ(ToString(ForwardedHeader::kForwarded), "forwarded");
}

}  // namespace
}  // namespace verbatim::api
