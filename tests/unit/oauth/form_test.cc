// Form bodies and HTTP Basic client credentials (RFC 6749 §2.3.1, §3.1).
#include "oauth/form.h"

#include <gtest/gtest.h>

#include "core/base64.h"

namespace verbatim::oauth {
namespace {

TEST(PercentDecode, CopiesPlainTextAndDecodesEscapesAnywhere) {
  EXPECT_EQ(PercentDecode("plain-value_1.2~", true), "plain-value_1.2~");
  EXPECT_EQ(PercentDecode("", true), "");
  EXPECT_EQ(PercentDecode("recording%3Aread%20recording%3acontrol", true), "recording:read recording:control");
  EXPECT_EQ(PercentDecode("%41bc", true), "Abc");       // escape first
  EXPECT_EQ(PercentDecode("abc%41", true), "abcA");     // escape last
  EXPECT_EQ(PercentDecode("a+b+", true), "a b ");       // '+' is a space in forms...
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");        // ...and only there
  EXPECT_EQ(PercentDecode("a%2Bb", true), "a+b");
  EXPECT_EQ(PercentDecode("%00%ff", true), std::string("\0\xff", 2));
}

TEST(PercentDecode, RefusesBrokenEscapes) {
  for (const char* bad : {"%", "%4", "abc%", "abc%4", "%zz", "%4g", "a%%41"}) {
    EXPECT_FALSE(PercentDecode(bad, true).has_value()) << bad;
  }
}

TEST(ParseForm, DecodesFieldsAndRefusesRepeatsAndOverflow) {
  auto f = ParseForm("grant_type=client_credentials&scope=recording%3Aread+recording%3Acontrol&&empty=&flag");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->Get("grant_type"), "client_credentials");
  EXPECT_EQ(f->Get("scope"), "recording:read recording:control");
  ASSERT_NE(f->Find("empty"), nullptr);
  EXPECT_EQ(*f->Find("empty"), "");
  ASSERT_NE(f->Find("flag"), nullptr);
  EXPECT_EQ(f->Find("absent"), nullptr);
  EXPECT_EQ(ParseForm("a=1&a=2").status().code(), "invalid_request");
  EXPECT_EQ(ParseForm("a=1&%61=2").status().code(), "invalid_request");  // the same name, encoded
  EXPECT_EQ(ParseForm("a=%zz").status().code(), "invalid_request");
  EXPECT_EQ(ParseForm("a=1&b=2&c=3", 2).status().code(), "invalid_request");
}

TEST(ParseBasicAuthorization, DecodesUrlEncodedIdAndSecret) {
  const std::string creds = "Basic " + Base64Encode("my%20client:s%3Acr+t");
  auto c = ParseBasicAuthorization(creds);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client_id, "my client");
  EXPECT_EQ(c->client_secret, "s:cr t");
  auto lower = ParseBasicAuthorization("bAsIc   " + Base64Encode("id:secret") + "  ");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ(lower->client_id, "id");
  EXPECT_EQ(lower->client_secret, "secret");
  auto colon_in_secret = ParseBasicAuthorization("Basic " + Base64Encode("id:a:b"));
  ASSERT_TRUE(colon_in_secret.has_value());
  EXPECT_EQ(colon_in_secret->client_secret, "a:b");
}

TEST(ParseBasicAuthorization, RefusesAnythingElse) {
  for (const std::string& bad :
       {std::string(""), std::string("Basic"), std::string("Bearer abc"), "Basic " + Base64Encode("no-colon"),
        std::string("Basic !!!!"), "Basic " + Base64UrlEncode("id:\xfb\xff\xfe"),  // base64url is not Basic's alphabet
        "Basic " + Base64Encode("id%zz:secret"), "Basic " + Base64Encode("id:secret%")}) {
    EXPECT_FALSE(ParseBasicAuthorization(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace verbatim::oauth
