// Trunk networks: CIDR parsing and matching (IPv4, IPv6, v4-mapped), the most
// specific trunk wins, and digest authentication of INVITEs (TrunkAuthenticator).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/crypto.h"
#include "media/sip/digest.h"
#include "media/sip/message.h"
#include "media/siprec/trunk_auth.h"
#include "media/siprec/trunks.h"
#include "unit/media/siprec_fixtures.h"

namespace verbatim::media::siprec {
namespace {

IpAddress Ip(std::string_view s) {
  auto a = ParseIpAddress(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(IpAddress{});
}

TEST(Cidr, ParsesAndMatchesIpv4AndIpv6) {
  auto n = ParseCidr("192.0.2.0/24");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->Contains(Ip("192.0.2.1")));
  EXPECT_TRUE(n->Contains(Ip("192.0.2.255")));
  EXPECT_FALSE(n->Contains(Ip("192.0.3.0")));
  EXPECT_TRUE(n->Contains(Ip("::ffff:192.0.2.7"))) << "an IPv4-mapped source is the IPv4 address";
  EXPECT_EQ(n->ToString(), "192.0.2.0/24");

  auto v6 = ParseCidr(" 2001:db8::/32 ");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->Contains(Ip("2001:db9::1")));
  EXPECT_FALSE(v6->Contains(Ip("192.0.2.1")));
  EXPECT_EQ(v6->ToString(), "2001:db8::/32");

  auto host = ParseCidr("198.51.100.7");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->prefix, 32);
  EXPECT_FALSE(host->Contains(Ip("198.51.100.8")));
  EXPECT_EQ(ParseCidr("::1")->prefix, 128);
  auto odd = ParseCidr("10.0.0.128/25");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains(Ip("10.0.0.200")));
  EXPECT_FALSE(odd->Contains(Ip("10.0.0.127")));
}

TEST(Cidr, RefusesWhatIsNotExactlyANetwork) {
  for (std::string_view bad :
       {"", "10.0.0.5/24", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/0024", "192.0.2",
        "010.0.0.1", "example.com", "[::1]", "fe80::1%eth0", "192.0.2.0/24/8", "2001:db8::1/32"}) {
    auto r = ParseCidr(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), "trunk.bad.network") << bad;
    }
  }
  auto hint = ParseCidr("10.0.0.5/24");
  EXPECT_NE(hint.status().message().find("10.0.0.0/24"), std::string::npos) << hint.status().message();
  EXPECT_NE(hint.status().message().find("10.0.0.5/32"), std::string::npos) << hint.status().message();
}

Trunk MakeTrunk(std::string name, std::vector<std::string_view> nets) {
  Trunk t;
  t.id = name + "-id";
  t.name = std::move(name);
  for (auto n : nets) t.networks.push_back(*ParseCidr(n));
  return t;
}

TEST(TrunkTable, TheMostSpecificNetworkWins) {
  TrunkTable table({MakeTrunk("wide", {"10.0.0.0/8"}), MakeTrunk("narrow", {"10.1.2.0/24", "2001:db8::/48"}),
                    MakeTrunk("host", {"10.1.2.3/32"})});
  EXPECT_EQ(table.Match(Ip("10.9.9.9"))->name, "wide");
  EXPECT_EQ(table.Match(Ip("10.1.2.4"))->name, "narrow");
  EXPECT_EQ(table.Match(Ip("10.1.2.3"))->name, "host");
  EXPECT_EQ(table.Match(Ip("2001:db8::5"))->name, "narrow");
  EXPECT_EQ(table.Match(Ip("192.0.2.1")), nullptr);
  EXPECT_EQ(TrunkTable().Match(Ip("127.0.0.1")), nullptr) << "no trunks: nobody";
  EXPECT_EQ(table.FindById("host-id")->name, "host");
}

TEST(TrunkNames, AreSafeTokens) {
  EXPECT_TRUE(IsValidTrunkName("cube-east.1_a"));
  for (std::string_view bad : {std::string_view(""), std::string_view("-x"), std::string_view("a b"),
                               std::string_view("a\"b"), std::string_view("é"), std::string_view("a\0b", 3)})
    EXPECT_FALSE(IsValidTrunkName(bad)) << bad;
  EXPECT_FALSE(IsValidTrunkName(std::string(65, 'a')));
}

// --- digest authentication of INVITEs

// H() computed here with OpenSSL directly, independent of the code under test.
std::string H(sip::DigestAlgorithm alg, const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, alg == sip::DigestAlgorithm::kMd5 ? EVP_md5() : EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

struct AuthFixture {
  AuthFixture() : auth(std::chrono::seconds(300), [this] { return now; }) {
    trunk = MakeTrunk("sbc", {"198.51.100.0/24"});
    trunk.digest = TrunkDigest{"sbc", "verbatim", H(sip::DigestAlgorithm::kMd5, "sbc:verbatim:0123456789abcdef"),
                               H(sip::DigestAlgorithm::kSha256, "sbc:verbatim:0123456789abcdef")};
  }

  static std::string NonceOf(const std::string& challenge) {
    const size_t at = challenge.find("nonce=\"") + 7;
    return challenge.substr(at, challenge.find('"', at) - at);
  }

  // An INVITE whose Authorization a client computed with `password` (RFC 2617 §3.2.2.1, qop=auth).
  sip::Message Invite(const std::string& nonce, std::string_view password, uint32_t nc = 1,
                      sip::DigestAlgorithm alg = sip::DigestAlgorithm::kSha256, std::string uri = "sip:srs@192.0.2.50",
                      std::string username = "sbc") {
    char nc_hex[9];
    std::snprintf(nc_hex, sizeof nc_hex, "%08x", nc);
    const std::string ha1 = H(alg, username + ":verbatim:" + std::string(password));
    const std::string response = H(alg, ha1 + ":" + nonce + ":" + nc_hex + ":c0ffee:auth:" + H(alg, "INVITE:" + uri));
    return Parse("Digest username=\"" + username + "\", realm=\"verbatim\", nonce=\"" + nonce + "\", uri=\"" + uri +
                 "\", response=\"" + response + "\", algorithm=" + sip::ToString(alg) + ", qop=auth, nc=" + nc_hex +
                 ", cnonce=\"c0ffee\"");
  }

  sip::Message Parse(const std::string& authorization) {
    std::string wire = testing::Crlf(
                           "INVITE sip:srs@192.0.2.50 SIP/2.0\n"
                           "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-a\n"
                           "From: <sip:sbc@198.51.100.1>;tag=1\nTo: <sip:srs@192.0.2.50>\n"
                           "Call-ID: auth@x\nCSeq: 2 INVITE\n") +
                       (authorization.empty() ? "" : "Authorization: " + authorization + "\r\n") +
                       "Content-Length: 0\r\n\r\n";
    auto m = sip::ParseMessage(wire);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return *m;
  }

  DigestVerdict::Outcome Check(const sip::Message& m) { return auth.Check(trunk, m).outcome; }

  TimePoint now = FromUnixMillis(1'700'000'000'000);
  Trunk trunk;
  TrunkAuthenticator auth;
};

using Outcome = DigestVerdict::Outcome;

TEST(TrunkAuth, ChallengesWithSha256ThenMd5AndAcceptsTheRightPasswordOnce) {
  AuthFixture f;
  DigestVerdict first = f.auth.Check(f.trunk, f.Parse(""));
  ASSERT_EQ(first.outcome, Outcome::kChallenge);
  ASSERT_EQ(first.challenges.size(), 2u);
  EXPECT_NE(first.challenges[0].find("algorithm=SHA-256"), std::string::npos) << first.challenges[0];
  EXPECT_NE(first.challenges[1].find("algorithm=MD5"), std::string::npos) << first.challenges[1];
  EXPECT_NE(first.challenges[0].find("qop=\"auth\""), std::string::npos);
  const std::string nonce = AuthFixture::NonceOf(first.challenges[0]);

  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef")), Outcome::kOk);
  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef")), Outcome::kFailed) << "the same nc again is a replay";
  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef", 2)), Outcome::kOk) << "the next nc is a new request";
  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef", 3, sip::DigestAlgorithm::kMd5)), Outcome::kOk);
}

TEST(TrunkAuth, WrongCredentialsFailAndForeignNoncesAreChallengedAgain) {
  AuthFixture f;
  const std::string nonce = AuthFixture::NonceOf(f.auth.Check(f.trunk, f.Parse("")).challenges[0]);
  EXPECT_EQ(f.Check(f.Invite(nonce, "wrong-password-x")), Outcome::kFailed);
  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef", 1, sip::DigestAlgorithm::kSha256, "sip:other@192.0.2.50")),
            Outcome::kFailed)
      << "the digest uri must be the Request-URI";
  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef", 1, sip::DigestAlgorithm::kSha256, "sip:srs@192.0.2.50", "bob")),
            Outcome::kFailed);
  EXPECT_EQ(f.Check(f.Parse("Digest username=\"sbc\", realm=\"verbatim\", nonce=\"" + nonce +
                            "\", uri=\"sip:srs@192.0.2.50\", response=\"00\"")),
            Outcome::kFailed)
      << "no qop: we always offer qop=auth";
  EXPECT_EQ(f.Check(f.Parse("Digest garbage")), Outcome::kFailed);
  EXPECT_EQ(f.Check(f.Invite("bm90LW91cnM", "0123456789abcdef")), Outcome::kChallenge) << "not our nonce";

  f.trunk.digest->ha1_md5.clear();  // SHA-256 only
  EXPECT_EQ(f.Check(f.Invite(nonce, "0123456789abcdef", 5, sip::DigestAlgorithm::kMd5)), Outcome::kFailed);
  EXPECT_EQ(f.auth.Check(f.trunk, f.Parse("")).challenges.size(), 1u);
}

TEST(TrunkAuth, AStaleNonceWithTheRightPasswordGetsStaleTrue) {
  AuthFixture f;
  const std::string nonce = AuthFixture::NonceOf(f.auth.Check(f.trunk, f.Parse("")).challenges[0]);
  f.now += std::chrono::seconds(301);
  DigestVerdict v = f.auth.Check(f.trunk, f.Invite(nonce, "0123456789abcdef"));
  EXPECT_EQ(v.outcome, Outcome::kStale);
  ASSERT_FALSE(v.challenges.empty());
  EXPECT_NE(v.challenges[0].find("stale=true"), std::string::npos) << v.challenges[0];
  EXPECT_NE(AuthFixture::NonceOf(v.challenges[0]), nonce) << "a fresh nonce";
  EXPECT_EQ(f.Check(f.Invite(nonce, "not-the-password")), Outcome::kFailed) << "stale only with the right password";
  EXPECT_EQ(f.Check(f.Invite(AuthFixture::NonceOf(v.challenges[0]), "0123456789abcdef")), Outcome::kOk);
}

}  // namespace
}  // namespace verbatim::media::siprec
