// SignAccessToken / VerifyAccessToken: the happy path, claims, time and
// audience rules. Attacks live in jwt_attack_test.cc.
#include <gtest/gtest.h>

#include "unit/oauth/jwt_test_util.h"

namespace verbatim::oauth {
namespace {

using authz::TokenProblem;
using namespace std::chrono_literals;
using testing::kAudience;
using testing::kIssuer;
using testing::kNow;

class Jwt : public testing::SignedTokenTest {
 protected:
  AccessTokenClaims Claims() const {
    AccessTokenClaims c;
    c.issuer = kIssuer;
    c.subject = "client-7";
    c.audience = kAudience;
    c.client_id = "client-7";
    c.org = "org-1";
    c.jti = "5b8e6c1a-jti";
    c.scopes = {"recording:control", "recording:read"};
    c.issued_at = kNow;
    c.expires_at = kNow + 1h;
    return c;
  }

  VerifyResult Check(std::string_view token, TimePoint now = kNow) {
    return VerifyAccessToken(token, keys_, opts_, now);
  }

  // Signs a payload derived from the standard one.
  std::string WithPayload(const json::object& payload) {
    return testing::Signed(*key_, testing::StdHeader(key_->kid()), payload);
  }

  void ExpectRejected(std::string_view token, TokenProblem problem, std::string_view claim, TimePoint now = kNow) {
    VerifyResult r = Check(token, now);
    EXPECT_EQ(r.check.problem, problem) << r.check.detail;
    EXPECT_EQ(r.check.claim, claim) << r.check.detail;
    EXPECT_FALSE(r.check.detail.empty());
  }
};

TEST_F(Jwt, SignedTokenVerifiesWithAllClaims) {
  auto token = SignAccessToken(*key_, Claims());
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  VerifyResult r = Check(*token);
  ASSERT_TRUE(r.check.ok()) << r.check.detail;
  EXPECT_EQ(r.check.subject, "client-7");
  EXPECT_EQ(r.check.client_id, "client-7");
  EXPECT_EQ(r.check.jti, "5b8e6c1a-jti");
  EXPECT_EQ(r.check.scopes, (std::vector<std::string>{"recording:control", "recording:read"}));
  EXPECT_EQ(r.check.issued_at, kNow);
  EXPECT_EQ(r.check.expires_at, kNow + 1h);
  EXPECT_EQ(r.token.claims.issuer, kIssuer);
  EXPECT_EQ(r.token.claims.audience, kAudience);
  EXPECT_EQ(r.token.claims.org, "org-1");
  EXPECT_EQ(r.token.claims.scopes, r.check.scopes);
  EXPECT_EQ(testing::Str(r.token.payload.at("scope")), "recording:control recording:read");
}

TEST_F(Jwt, IssuesTheExactRfc9068HeaderAndIntegerDates) {
  auto token = SignAccessToken(*key_, Claims());
  ASSERT_TRUE(token.ok());
  size_t dot1 = token->find('.'), dot2 = token->rfind('.');
  EXPECT_EQ(*Base64UrlDecode(token->substr(0, dot1)),
            R"({"alg":"ES256","typ":"at+jwt","kid":")" + key_->kid() + R"("})");
  auto payload = ParseJsonObject(*Base64UrlDecode(token->substr(dot1 + 1, dot2 - dot1 - 1)));
  ASSERT_TRUE(payload.ok());
  const int64_t t = ToUnixSeconds(kNow);
  EXPECT_TRUE(payload->at("exp").is_int64());
  EXPECT_EQ(payload->at("exp").as_int64(), t + 3600);
  EXPECT_EQ(payload->at("iat").as_int64(), t);
  EXPECT_EQ(payload->at("nbf").as_int64(), t);
  EXPECT_EQ(testing::Str(payload->at("aud")), kAudience);
  for (const char* claim : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "org"}) {
    EXPECT_TRUE(payload->contains(claim)) << claim;
  }
  EXPECT_EQ(Base64UrlDecode(token->substr(dot2 + 1))->size(), 64u);
}

TEST_F(Jwt, SignAccessTokenRefusesClaimsThatWouldNotRoundTrip) {
  AccessTokenClaims c = Claims();
  c.scopes = {"recording:read recording:control"};  // one "scope" that is two
  EXPECT_EQ(SignAccessToken(*key_, c).status().code(), "claims.invalid");
  c.scopes = {""};
  EXPECT_FALSE(SignAccessToken(*key_, c).ok());
  c.scopes = {"a\"b"};
  EXPECT_FALSE(SignAccessToken(*key_, c).ok());
  c = Claims();
  c.subject.clear();
  EXPECT_FALSE(SignAccessToken(*key_, c).ok());
  c = Claims();
  c.expires_at = c.issued_at;
  EXPECT_FALSE(SignAccessToken(*key_, c).ok());
  c = Claims();
  c.scopes.clear();  // no scopes is fine: "scope":""
  auto token = SignAccessToken(*key_, c);
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(Check(*token).check.scopes.empty());
}

TEST_F(Jwt, AcceptsTypAtJwtInAnyCaseAndAsMediaType) {
  for (const char* typ : {"at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"}) {
    json::object h = testing::StdHeader(key_->kid());
    h["typ"] = typ;
    EXPECT_TRUE(Check(testing::Signed(*key_, h, testing::StdPayload())).check.ok()) << typ;
  }
}

TEST_F(Jwt, SplitsScopesOnSpacesAndDropsEmptyOnes) {
  json::object p = testing::StdPayload();
  p["scope"] = "  a  b ";
  EXPECT_EQ(Check(WithPayload(p)).check.scopes, (std::vector<std::string>{"a", "b"}));
  p.erase("scope");
  VerifyResult r = Check(WithPayload(p));
  ASSERT_TRUE(r.check.ok());
  EXPECT_TRUE(r.check.scopes.empty());
}

TEST_F(Jwt, ExpiryHonoursTheLeewayExactly) {
  json::object p = testing::StdPayload();
  const int64_t t = ToUnixSeconds(kNow);
  p["exp"] = t - 59;  // expired 59 s ago, inside the 60 s leeway
  EXPECT_TRUE(Check(WithPayload(p)).check.ok());
  p["exp"] = t - 60;
  ExpectRejected(WithPayload(p), TokenProblem::kExpired, "exp");
  p["exp"] = t - 3600;
  VerifyResult r = Check(WithPayload(p));
  EXPECT_EQ(r.check.problem, TokenProblem::kExpired);
  EXPECT_EQ(r.check.detail, "it expired at 2023-11-14T21:13:20.000Z.");
}

TEST_F(Jwt, LeewayIsClampedToSixtySeconds) {
  opts_.leeway = 1h;
  json::object p = testing::StdPayload();
  p["exp"] = ToUnixSeconds(kNow) - 120;
  ExpectRejected(WithPayload(p), TokenProblem::kExpired, "exp");
  opts_.leeway = -5s;  // negative acts as zero
  p["exp"] = ToUnixSeconds(kNow);
  ExpectRejected(WithPayload(p), TokenProblem::kExpired, "exp");
}

TEST_F(Jwt, NotBeforeInTheFutureIsRejectedBeyondLeeway) {
  json::object p = testing::StdPayload();
  const int64_t t = ToUnixSeconds(kNow);
  p["nbf"] = t + 60;
  EXPECT_TRUE(Check(WithPayload(p)).check.ok());
  p["nbf"] = t + 61;
  ExpectRejected(WithPayload(p), TokenProblem::kExpired, "nbf");
  EXPECT_EQ(Check(WithPayload(p)).check.detail.rfind("it is not valid before ", 0), 0u);
  p.erase("nbf");  // optional
  EXPECT_TRUE(Check(WithPayload(p)).check.ok());
}

TEST_F(Jwt, IssuedInTheFutureIsMalformed) {
  json::object p = testing::StdPayload();
  const int64_t t = ToUnixSeconds(kNow);
  p["iat"] = t + 61;
  p["nbf"] = t;
  ExpectRejected(WithPayload(p), TokenProblem::kMalformed, "iat");
  p["iat"] = t + 60;
  EXPECT_TRUE(Check(WithPayload(p)).check.ok());
}

TEST_F(Jwt, RejectsAnotherIssuer) {
  json::object p = testing::StdPayload();
  p["iss"] = "https://evil.example";
  ExpectRejected(WithPayload(p), TokenProblem::kAudience, "iss");
  p["iss"] = std::string(kIssuer) + "/";
  ExpectRejected(WithPayload(p), TokenProblem::kAudience, "iss");
}

TEST_F(Jwt, AudienceMayBeAStringOrAnArrayContainingOurs) {
  json::object p = testing::StdPayload();
  p["aud"] = "https://other.example/api";
  ExpectRejected(WithPayload(p), TokenProblem::kAudience, "aud");
  p["aud"] = json::array{"https://other.example/api", kAudience};
  VerifyResult r = Check(WithPayload(p));
  ASSERT_TRUE(r.check.ok()) << r.check.detail;
  EXPECT_EQ(r.token.claims.audience, kAudience);
  p["aud"] = json::array{"https://other.example/api", "https://third.example"};
  ExpectRejected(WithPayload(p), TokenProblem::kAudience, "aud");
  p["aud"] = json::array{};
  ExpectRejected(WithPayload(p), TokenProblem::kMalformed, "aud");
  p["aud"] = json::array{kAudience, 7};
  ExpectRejected(WithPayload(p), TokenProblem::kMalformed, "aud");
  p["aud"] = json::object{{"aud", kAudience}};
  ExpectRejected(WithPayload(p), TokenProblem::kMalformed, "aud");
}

TEST_F(Jwt, EveryRequiredClaimIsRequired) {
  for (const char* claim : {"iss", "sub", "aud", "exp", "iat", "jti", "client_id"}) {
    json::object p = testing::StdPayload();
    p.erase(claim);
    ExpectRejected(WithPayload(p), TokenProblem::kMalformed, claim);
  }
}

TEST_F(Jwt, ClaimsMustHaveTheirTypes) {
  auto expect = [&](const char* claim, json::value v) {
    json::object p = testing::StdPayload();
    p[claim] = std::move(v);
    ExpectRejected(WithPayload(p), TokenProblem::kMalformed, claim);
  };
  expect("sub", 42);
  expect("sub", "");
  expect("sub", nullptr);
  expect("iss", json::array{kIssuer});
  expect("jti", true);
  expect("client_id", json::object{});
  expect("scope", json::array{"a", "b"});
  expect("org", 1);
  const int64_t exp = ToUnixSeconds(kNow) + 3600;
  expect("exp", json::string(std::to_string(exp)));  // a string
  expect("exp", static_cast<double>(exp));  // 1.7000036e9: a JSON float, even if integral
  expect("exp", 1700003600.5);
  expect("exp", -1);
  expect("exp", uint64_t{18'000'000'000'000'000'000u});  // would overflow the clock
  expect("exp", nullptr);
  expect("iat", "now");
  expect("nbf", 1.5);
}

TEST_F(Jwt, FloatExponentNotationIsRejectedFromRawJson) {
  // The JSON text itself, not a C++ double: "1.7000036e9" is how a lax issuer writes it.
  std::string payload = R"({"iss":")" + std::string(kIssuer) + R"(","sub":"s","aud":")" + kAudience +
                        R"(","exp":1.7000036e9,"iat":1700000000,"jti":"j","client_id":"c"})";
  ExpectRejected(testing::SignedRaw(*key_, ToJson(testing::StdHeader(key_->kid())), payload),
                 TokenProblem::kMalformed, "exp");
}

TEST_F(Jwt, UnknownClaimsAndHeadersAreCarriedButNotTrusted) {
  json::object p = testing::StdPayload();
  p["cnf"] = json::object{{"jkt", "abc"}};
  json::object h = testing::StdHeader(key_->kid());
  h["cty"] = "anything";
  VerifyResult r = Check(testing::Signed(*key_, h, p));
  ASSERT_TRUE(r.check.ok()) << r.check.detail;
  EXPECT_TRUE(r.token.payload.contains("cnf"));
}

TEST_F(Jwt, VerifiesWithAnyKeyOfTheSetAfterRotation) {
  auto next = SigningKeyPair::Generate();
  ASSERT_TRUE(next.ok());
  keys_.Add(VerificationKey::FromKeyPair(*next));
  auto old_token = SignAccessToken(*key_, Claims());
  auto new_token = SignAccessToken(*next, Claims());
  ASSERT_TRUE(old_token.ok() && new_token.ok());
  EXPECT_TRUE(Check(*old_token).check.ok());
  EXPECT_TRUE(Check(*new_token).check.ok());
}

}  // namespace
}  // namespace verbatim::oauth
