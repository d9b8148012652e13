// The appended token text (oauth/jwt_text.h, oauth/token_response.h) against
// the json::object builders it replaced: byte for byte, escaping included,
// and a token issued this way verifies.
#include <gtest/gtest.h>

#include "oauth/jwt_text.h"
#include "oauth/token_response.h"
#include "unit/oauth/jwt_test_util.h"

namespace verbatim::oauth {
namespace {

using namespace std::chrono_literals;
using testing::kAudience;
using testing::kIssuer;
using testing::kNow;

std::string Appended(std::string_view s) {
  std::string out = "x";  // appends after what is there
  AppendJsonString(out, s);
  return out.substr(1);
}

std::string Serialized(std::string_view s) { return ToJson(json::value(json::string(s))); }

// What SignAccessToken built before: a json::object in this order, serialized.
std::string ReferencePayload(const AccessTokenClaims& c) {
  std::string scope;
  for (const auto& s : c.scopes) scope += (scope.empty() ? "" : " ") + s;
  json::object p;
  p["iss"] = c.issuer;
  p["sub"] = c.subject;
  p["aud"] = c.audience;
  p["exp"] = ToUnixSeconds(c.expires_at);
  p["iat"] = ToUnixSeconds(c.issued_at);
  p["nbf"] = ToUnixSeconds(c.issued_at);
  p["jti"] = c.jti;
  p["client_id"] = c.client_id;
  p["scope"] = scope;
  p["org"] = c.org;
  return ToJson(p);
}

std::string Payload(const AccessTokenClaims& c) {
  std::string out;
  AppendAccessTokenPayload(out, c, ToUnixSeconds(c.issued_at), ToUnixSeconds(c.expires_at));
  return out;
}

AccessTokenClaims Claims() {
  AccessTokenClaims c;
  c.issuer = kIssuer;
  c.subject = "0f8b2c1e-6d1a-4c2e-9a41-2f3b5c7d9e01";
  c.audience = kAudience;
  c.client_id = c.subject;
  c.org = "org-1";
  c.jti = "5b8e6c1a-jti";
  c.scopes = {"recording:control", "recording:read"};
  c.issued_at = kNow;
  c.expires_at = kNow + 1h;
  return c;
}

TEST(JwtText, EscapesEveryByteExactlyAsBoostJsonDoes) {
  for (int b = 0; b < 256; ++b) {
    std::string s(1, static_cast<char>(b));
    EXPECT_EQ(Appended(s), Serialized(s)) << "byte " << b;
  }
  for (std::string_view s : {std::string_view(""), std::string_view("plain"), std::string_view("a\"b\\c/d"),
                             std::string_view("tab\there\nnew\r\x01\x1f\x7f end"), std::string_view("\"\"\\\\"),
                             std::string_view("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x99"),
                             std::string_view("bad \xff\xfe utf-8 \xc3"), std::string_view("nul \0 inside", 12)}) {
    EXPECT_EQ(Appended(s), Serialized(s)) << s;
  }
  // Long strings are scanned eight bytes at a time: every byte at every
  // position of a word, and next to a multi-byte UTF-8 character.
  for (int b = 0; b < 256; ++b) {
    for (size_t at = 0; at < 26; ++at) {
      std::string s = "abcdefgh\xc3\xa9ijklmnopqrstuvwxyz";
      s[at] = static_cast<char>(b);
      ASSERT_EQ(Appended(s), Serialized(s)) << "byte " << b << " at " << at;
    }
  }
}

TEST(JwtText, PayloadIsTheOldBuildersJsonByteForByte) {
  AccessTokenClaims c = Claims();
  EXPECT_EQ(Payload(c), ReferencePayload(c));
  c.scopes.clear();  // "scope":""
  EXPECT_EQ(Payload(c), ReferencePayload(c));
  c.scopes = {"a"};
  EXPECT_EQ(Payload(c), ReferencePayload(c));
  // Every string claim with bytes that need escaping (the issuer and org come
  // from configuration, ids from the store: none is trusted to be plain).
  c = Claims();
  c.issuer = "https://host/\"quoted\"\\path\n";
  c.subject = "sub\x01\x7f\xc3\xa9";
  c.audience = "aud\ttab";
  c.client_id = "id\"";
  c.jti = "jti\\";
  c.org = "org \xff";
  EXPECT_EQ(Payload(c), ReferencePayload(c));
  c.issued_at = FromUnixSeconds(0);  // the smallest and the largest dates SignAccessToken allows
  c.expires_at = FromUnixSeconds(int64_t{1} << 33);
  EXPECT_EQ(Payload(c), ReferencePayload(c));
}

TEST(JwtText, EncodedHeaderIsTheOldHeaderObject) {
  for (std::string_view kid : {std::string_view("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
                               std::string_view("k\"i\\d\n")}) {
    json::object h{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", kid}};
    EXPECT_EQ(EncodedJwsHeader(kid), Base64UrlEncode(ToJson(h)));
  }
}

class JwtTextSigned : public testing::SignedTokenTest {};

TEST_F(JwtTextSigned, IssuedTokenIsHeaderDotPayloadDotSignatureAndVerifies) {
  const AccessTokenClaims c = Claims();
  auto token = SignAccessToken(*key_, c);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const size_t dot1 = token->find('.'), dot2 = token->rfind('.');
  EXPECT_EQ(token->substr(0, dot1), key_->encoded_header());
  EXPECT_EQ(key_->encoded_header(), EncodedJwsHeader(key_->kid()));
  EXPECT_EQ(*Base64UrlDecode(token->substr(dot1 + 1, dot2 - dot1 - 1)), ReferencePayload(c));
  EXPECT_EQ(token->size() - dot2 - 1, 86u);  // 64 bytes of r||s
  VerifyResult r = VerifyAccessToken(*token, keys_, opts_, kNow);
  ASSERT_TRUE(r.check.ok()) << r.check.detail;
  EXPECT_EQ(r.check.jti, c.jti);
  EXPECT_EQ(r.check.scopes, c.scopes);
  // One flipped bit anywhere in the signed part, and it no longer verifies.
  for (size_t i : {size_t{0}, dot1 + 1, dot2 - 1}) {
    std::string bad = *token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyAccessToken(bad, keys_, opts_, kNow).check.ok()) << i;
  }
}

TEST_F(JwtTextSigned, ReusedBuffersCarryNothingFromOneTokenToTheNext) {
  // The payload buffer is per thread and reused: a long token, then a short
  // one, must not leave bytes of the first in the second.
  AccessTokenClaims longer = Claims();
  longer.org = std::string(300, 'o');
  longer.scopes = {"recording:read", "recording:control", "conversation:read"};
  AccessTokenClaims shorter = Claims();
  shorter.scopes = {"a"};
  auto first = SignAccessToken(*key_, longer);
  auto second = SignAccessToken(*key_, shorter);
  ASSERT_TRUE(first.ok() && second.ok());
  const size_t dot1 = second->find('.'), dot2 = second->rfind('.');
  EXPECT_EQ(*Base64UrlDecode(second->substr(dot1 + 1, dot2 - dot1 - 1)), ReferencePayload(shorter));
  EXPECT_TRUE(VerifyAccessToken(*second, keys_, opts_, kNow).check.ok());
}

TEST(TokenResponse, IsTheOldResponseObjectByteForByte) {
  IssuedToken t;
  t.access_token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln";
  t.expires_in = 3600;
  for (auto scopes : {std::vector<std::string>{"recording:read", "recording:control"},
                      std::vector<std::string>{}, std::vector<std::string>{"one"}}) {
    t.scopes = scopes;
    std::string joined;
    for (const auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
    json::object body;
    body["access_token"] = t.access_token;
    body["token_type"] = "Bearer";
    body["expires_in"] = t.expires_in;
    body["scope"] = joined;
    EXPECT_EQ(TokenResponseJson(t), ToJson(body));
  }
}

}  // namespace
}  // namespace verbatim::oauth
