// PKCE S256 and redirect URI rules (oauth/pkce.h), against RFC 7636's own
// example and the open-redirect cases RFC 9700 warns about.
#include "oauth/pkce.h"

#include <gtest/gtest.h>

namespace verbatim::oauth {
namespace {

TEST(Pkce, Rfc7636AppendixBExample) {
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  EXPECT_EQ(S256Challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_TRUE(VerifyPkce(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
  EXPECT_FALSE(VerifyPkce(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
  // "plain" is not offered: the challenge itself is no verifier.
  EXPECT_FALSE(VerifyPkce("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
}

TEST(Pkce, VerifierAndChallengeShapes) {
  EXPECT_TRUE(IsValidCodeVerifier(std::string(43, 'a')));
  EXPECT_TRUE(IsValidCodeVerifier(std::string(128, '~')));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(42, 'a')));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(129, 'a')));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(42, 'a') + "+"));
  EXPECT_FALSE(VerifyPkce(std::string(42, 'a'), S256Challenge(std::string(42, 'a'))));
  EXPECT_TRUE(IsValidCodeChallenge(S256Challenge(std::string(50, 'x'))));
  EXPECT_FALSE(IsValidCodeChallenge(std::string(43, '!')));
  EXPECT_FALSE(IsValidCodeChallenge(S256Challenge("x") + "A"));
}

TEST(RedirectUri, RegistrationRefusesWhatCouldRedirectAnywhere) {
  EXPECT_EQ(RedirectUriProblem("https://app.example.com/callback"), std::nullopt);
  EXPECT_EQ(RedirectUriProblem("https://app.example.com:8443/cb?tenant=a"), std::nullopt);
  EXPECT_EQ(RedirectUriProblem("http://127.0.0.1:4000/cb"), std::nullopt);
  EXPECT_EQ(RedirectUriProblem("http://[::1]/cb"), std::nullopt);
  EXPECT_EQ(RedirectUriProblem("http://localhost:3000/cb"), std::nullopt);
  for (const char* bad : {"", "/relative", "app.example.com/cb", "http://app.example.com/cb", "https://*.example.com/cb",
                          "https://app.example.com/cb#frag", "https://user@app.example.com/cb",
                          "javascript://alert(1)", "https://app.example.com/c b", "http://127.0.0.1.evil.com/cb",
                          "https://:443/cb", "https://[::1/cb"})
    EXPECT_NE(RedirectUriProblem(bad), std::nullopt) << bad;
  EXPECT_NE(RedirectUriProblem("https://a.example/" + std::string(2048, 'x')), std::nullopt);
}

TEST(RedirectUri, MatchingIsExactButForALoopbackPort) {
  EXPECT_TRUE(RedirectUriMatches("https://app.example.com/cb", "https://app.example.com/cb"));
  for (const char* other : {"https://app.example.com/cb/", "https://app.example.com/cb?x=1", "https://APP.example.com/cb",
                            "https://app.example.com:443/cb", "https://app.example.com/cb#x", "https://app.example.com/c",
                            "https://app.example.com.evil.com/cb", "https://evil.com/?https://app.example.com/cb"})
    EXPECT_FALSE(RedirectUriMatches("https://app.example.com/cb", other)) << other;
  EXPECT_TRUE(RedirectUriMatches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
  EXPECT_TRUE(RedirectUriMatches("http://127.0.0.1:4000/cb", "http://127.0.0.1:51234/cb"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/cb", "http://127.0.0.1:51234/other"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/cb", "http://[::1]:51234/cb"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/cb", "http://evil@127.0.0.1:5/cb"));
  EXPECT_FALSE(RedirectUriMatches("https://127.0.0.1/cb", "https://127.0.0.1:8443/cb"));  // only http loopback
}

}  // namespace
}  // namespace verbatim::oauth
