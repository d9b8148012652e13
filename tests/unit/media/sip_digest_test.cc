// SIP digest (RFC 3261 §22.4, RFC 8760) and RFC 4028 header values.
#include <gtest/gtest.h>

#include "media/sip/digest.h"
#include "media/sip/session_timer.h"

namespace verbatim::media::sip {
namespace {

const TimePoint kNow = FromUnixMillis(1'700'000'000'000);

// RFC 2617 §3.5's example (MD5, qop=auth), the reference every client implements.
constexpr std::string_view kRfc2617Authorization =
    R"(Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", )"
    R"(uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", )"
    R"(response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41")";

TEST(Digest, VerifiesTheRfc2617Example) {
  auto c = ParseDigestCredentials(kRfc2617Authorization);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->username, "Mufasa");
  EXPECT_EQ(c->realm, "testrealm@host.com");
  EXPECT_EQ(c->uri, "/dir/index.html");
  EXPECT_TRUE(c->qop_auth);
  EXPECT_EQ(c->nonce_count, 1u);
  EXPECT_EQ(c->algorithm, DigestAlgorithm::kMd5);
  const std::string ha1 = DigestHa1Hex(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_TRUE(DigestResponseMatches(*c, ha1, "GET"));
  EXPECT_FALSE(DigestResponseMatches(*c, ha1, "POST")) << "the method is part of HA2";
  EXPECT_FALSE(DigestResponseMatches(
      *c, DigestHa1Hex(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "circle of life"), "GET"));
  DigestCredentials upper = *c;
  for (auto& ch : upper.response) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(DigestResponseMatches(upper, ha1, "GET")) << "hex case is not a secret";
  EXPECT_FALSE(DigestResponseMatches(*c, "", "GET"));
}

TEST(Digest, Sha256CredentialsComputeWithSha256) {
  // RFC 7616 §3.9.1's SHA-256 example values.
  auto c = ParseDigestCredentials(
      R"(Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, )"
      R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", )"
      R"(qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->algorithm, DigestAlgorithm::kSha256);
  EXPECT_TRUE(DigestResponseMatches(
      *c, DigestHa1Hex(DigestAlgorithm::kSha256, "Mufasa", "http-auth@example.org", "Circle of Life"), "GET"));
}

TEST(Digest, EveryParseErrorIsReachableAndNamed) {
  struct Case {
    std::string_view header;
    DigestError error;
  };
  const Case cases[] = {
      {R"(Basic dXNlcjpwYXNz)", DigestError::kNotDigest},
      {R"(Digest username)", DigestError::kBadSyntax},
      {R"(Digest username="a", username="b", realm="r", nonce="n", uri="u", response="x")",
       DigestError::kDuplicateParam},
      {R"(Digest username="a", realm="r", nonce="n", uri="u")", DigestError::kMissingParam},
      {R"(Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=MD5-sess)",
       DigestError::kUnsupportedAlgorithm},
      {R"(Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth-int, nc=00000001, cnonce="c")",
       DigestError::kUnsupportedQop},
      {R"(Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=1, cnonce="c")",
       DigestError::kBadNonceCount},
      {R"(Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth)", DigestError::kMissingParam},
  };
  for (const auto& c : cases) {
    auto r = ParseDigestCredentials(c.header);
    ASSERT_FALSE(r.ok()) << c.header;
    EXPECT_EQ(DigestErrorOf(r.status()), c.error) << c.header << " → " << r.status().ToString();
  }
  std::string huge = "Digest username=\"" + std::string(2000, 'a') + "\", realm=\"r\"";
  EXPECT_EQ(DigestErrorOf(ParseDigestCredentials(huge).status()), DigestError::kTooLong);
  EXPECT_EQ(DigestErrorOf(ParseDigestCredentials(std::string(5000, 'x')).status()), DigestError::kTooLong);
  EXPECT_EQ(DigestErrorOf(ParseDigestCredentials(R"(Digest username="a\)").status()), DigestError::kBadSyntax);
}

TEST(Digest, ChallengeQuotesSafely) {
  EXPECT_EQ(DigestChallenge(DigestAlgorithm::kSha256, "verbatim", "abc", false),
            R"(Digest realm="verbatim", nonce="abc", algorithm=SHA-256, qop="auth")");
  EXPECT_EQ(DigestChallenge(DigestAlgorithm::kMd5, "a\"b\\c", "n", true),
            R"(Digest realm="abc", nonce="n", algorithm=MD5, qop="auth", stale=true)");
}

TEST(DigestNonces, AreOursTimeLimitedAndUnforgeable) {
  DigestNonces nonces(std::string(32, 'k'), std::chrono::seconds(300));
  const std::string n = nonces.Issue(kNow);
  EXPECT_NE(n, nonces.Issue(kNow)) << "random part";
  EXPECT_EQ(nonces.Verify(n, kNow), DigestNonces::Check::kValid);
  EXPECT_EQ(nonces.Verify(n, kNow + std::chrono::seconds(299)), DigestNonces::Check::kValid);
  EXPECT_EQ(nonces.Verify(n, kNow + std::chrono::seconds(301)), DigestNonces::Check::kStale);
  EXPECT_EQ(nonces.Verify(n, kNow - std::chrono::minutes(10)), DigestNonces::Check::kStale) << "dated in the future";
  DigestNonces other(std::string(32, 'o'), std::chrono::seconds(300));
  EXPECT_EQ(other.Verify(n, kNow), DigestNonces::Check::kInvalid) << "another key (a restart) did not make it";
  std::string tampered = n;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(nonces.Verify(tampered, kNow), DigestNonces::Check::kInvalid);
  EXPECT_EQ(nonces.Verify("", kNow), DigestNonces::Check::kInvalid);
  EXPECT_EQ(nonces.Verify("dcd98b7102dd2f0e8b11d0f600bfb0c093", kNow), DigestNonces::Check::kInvalid);
}

TEST(SessionTimer, ParsesRfc4028Values) {
  auto se = ParseSessionExpires("1800;refresher=uac");
  ASSERT_TRUE(se.ok());
  EXPECT_EQ(se->seconds, 1800u);
  EXPECT_EQ(se->refresher, Refresher::kUac);
  se = ParseSessionExpires(" 90 ; refresher=UAS ;x-ext=1");
  ASSERT_TRUE(se.ok()) << se.status().ToString();
  EXPECT_EQ(se->refresher, Refresher::kUas);
  se = ParseSessionExpires("1800");  // Ribbon/Sonus: no refresher, the UAS picks
  ASSERT_TRUE(se.ok());
  EXPECT_FALSE(se->refresher.has_value());
  EXPECT_EQ(*ParseMinSe("90"), 90u);
  EXPECT_EQ(FormatSessionExpires({1800, Refresher::kUac}), "1800;refresher=uac");

  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("").status()), SessionTimerError::kBadInterval);
  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("-5").status()), SessionTimerError::kBadInterval);
  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("99999999999").status()), SessionTimerError::kBadInterval);
  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("3000000000").status()), SessionTimerError::kBadInterval);
  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("1800x").status()), SessionTimerError::kBadInterval);
  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("1800;refresher=both").status()), SessionTimerError::kBadRefresher);
  EXPECT_EQ(SessionTimerErrorOf(ParseSessionExpires("1800;=").status()), SessionTimerError::kBadParams);
  EXPECT_EQ(SessionTimerErrorOf(ParseMinSe("ninety").status()), SessionTimerError::kBadInterval);
  EXPECT_EQ(SessionTimerErrorOf(ParseMinSe("90;\"").status()), SessionTimerError::kBadParams);
}

}  // namespace
}  // namespace verbatim::media::sip
