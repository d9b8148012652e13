#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/status.h"

namespace verbatim {
namespace {

TEST(Status, OkHasNoCode) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, CarriesKindCodeAndMessage) {
  auto s = Status::NotFound("conversation.not.found", "No conversation abc.");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kNotFound);
  EXPECT_EQ(s.code(), "conversation.not.found");
  EXPECT_EQ(s.ToString(), "not_found [conversation.not.found]: No conversation abc.");
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> good = 7;
  Result<int> bad = Status::Internal("boom");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), "internal");
}

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    auto enc = Base64UrlEncode(data);
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.has_value()) << i;
    EXPECT_EQ(*dec, data);
    auto std_dec = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(std_dec.has_value());
    EXPECT_EQ(*std_dec, data);
    data += static_cast<char>(i * 37 + 250);
  }
}

TEST(Base64, EncodesTheRfc4648TestVectorsAndAppendsAfterExistingText) {
  const char* in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* padded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  const char* url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(Base64Encode(in[i]), padded[i]);
    EXPECT_EQ(Base64UrlEncode(in[i]), url[i]);
    std::string out = "head.";
    AppendBase64Url(out, in[i]);
    EXPECT_EQ(out, std::string("head.") + url[i]);
    EXPECT_EQ(Base64Decode(padded[i]), std::optional<std::string>(in[i]));
    EXPECT_EQ(Base64UrlDecode(url[i]), std::optional<std::string>(in[i]));
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xfe"), "-__-");  // the two characters base64url changes
  EXPECT_EQ(Base64Encode("\xfb\xff\xfe"), "+//+");
}

TEST(Base64, RejectsNonAlphabetPaddingAndNonCanonicalBits) {
  EXPECT_FALSE(Base64UrlDecode("ab+c").has_value());   // '+' is not base64url
  EXPECT_FALSE(Base64UrlDecode("abc=").has_value());   // no padding in base64url
  EXPECT_FALSE(Base64UrlDecode("a").has_value());      // impossible length
  EXPECT_FALSE(Base64UrlDecode("QR").has_value());     // 'R' leaves non-zero trailing bits
  EXPECT_TRUE(Base64UrlDecode("QQ").has_value());
  EXPECT_FALSE(Base64Decode("QQ").has_value());        // std needs padding
  EXPECT_TRUE(Base64Decode("QQ==").has_value());
}

TEST(Clock, FormatsAndParsesRfc3339) {
  auto t = FromUnixMillis(1764096763123);
  EXPECT_EQ(FormatRfc3339(t), "2025-11-25T18:52:43.123Z");
  auto back = ParseRfc3339("2025-11-25T18:52:43.123Z");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
  auto offset = ParseRfc3339("2025-11-25T20:52:43.123+02:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(*offset, t);
  EXPECT_FALSE(ParseRfc3339("2025-11-25 18:52:43Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-13-25T18:52:43Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-11-25T18:52:43Zjunk").has_value());
}

TEST(Ids, UuidsAreV4AndRecognized) {
  auto a = NewUuid();
  auto b = NewUuid();
  EXPECT_NE(a, b);
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(a[14], '4');
  EXPECT_FALSE(IsUuid("../../etc/passwd"));
  EXPECT_FALSE(IsUuid(a.substr(1)));
  EXPECT_EQ(RandomToken(32).size(), 43u);
}

TEST(Ids, StayUniqueAcrossBufferRefillsAndThreads) {
  // Ids come from a per-thread buffer of 4 KiB: 10 000 v4 ids (16 bytes) and
  // v7 ids (10 random bytes) per thread are ~40 and ~25 refills each.
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 10000; ++i) {
        out.push_back(NewUuid());
        out.push_back(NewUuidV7());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : per_thread) {
    for (const auto& id : out) {
      ASSERT_TRUE(IsUuid(id)) << id;
      ASSERT_TRUE(id[14] == '4' || id[14] == '7') << id;
      ASSERT_TRUE(all.insert(id).second) << "repeated " << id;
    }
  }
}

TEST(IdsDeathTest, AForkedChildNeverReusesTheParentsBufferedRandomness) {
  // The parent's buffer holds bytes it has not handed out yet. A child that
  // used them would repeat the parent's next ids; it draws afresh instead,
  // and libsodium's generator refuses to run in a forked child (abort), as it
  // did before ids were buffered.
  (void)NewUuid();
  ::testing::FLAGS_gtest_death_test_style = "fast";  // a plain fork of this process
  EXPECT_DEATH((void)NewUuid(), "");
}

TEST(Crypto, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_EQ(HexEncode(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Json, RejectsDuplicateKeysAtAnyDepth) {
  EXPECT_TRUE(ParseJsonStrict(R"({"a":1,"b":{"a":2}})").ok());
  auto top = ParseJsonStrict(R"({"a":1,"a":2})");
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.status().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(ParseJsonStrict(R"({"x":{"k":1,"k":1}})").ok());
  // The empty key is a key: repeating it is a duplicate too (found by json_fuzz).
  auto empty = ParseJsonStrict(R"({"":1,"":2})");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("'' more than once"), std::string::npos);
  EXPECT_FALSE(ParseJsonStrict(R"({"":1,"":1.5e+30000})").ok());
}

TEST(Json, RejectsTrailingDataCommentsAndDepth) {
  EXPECT_FALSE(ParseJsonStrict(R"({"a":1} x)").ok());
  EXPECT_FALSE(ParseJsonStrict(R"({"a":1 /* c */})").ok());
  EXPECT_FALSE(ParseJsonStrict(std::string(100, '[') + std::string(100, ']')).ok());
  EXPECT_FALSE(ParseJsonStrict("").ok());
  EXPECT_FALSE(ParseJsonObject("[1]").ok());
}

// Found by fuzz/json_fuzz.cc: boost::json turns 1e400 into infinity and
// serializes it as `Infinity`, which is not JSON.
TEST(Json, RejectsNumbersTooLargeForADouble) {
  EXPECT_TRUE(ParseJsonStrict(R"({"f":1.5e300,"u":18446744073709551615})").ok());
  auto big = ParseJsonStrict(R"({"f":1.5e+1300})");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), "bad.request");
  EXPECT_FALSE(ParseJsonStrict("-1e999").ok());
  EXPECT_FALSE(ParseJsonStrict("[184467440737095516150000000000000000000" + std::string(400, '0') + "]").ok());
}

// Found by fuzz/http_request_fuzz.cc: an error message quoting a Content-Type
// with non-UTF-8 bytes made the response body invalid JSON.
TEST(Json, ToValidUtf8ReplacesOnlyInvalidBytes) {
  EXPECT_EQ(ToValidUtf8("plain"), "plain");
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(ToValidUtf8("j\x8D\x90n"), "j\xEF\xBF\xBD\xEF\xBF\xBDn");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ToValidUtf8("a\xE2\x82"), "a\xEF\xBF\xBD\xEF\xBF\xBD");        // truncated
  json::object o;
  o["message"] = std::string("got 'application/j\x8D\x90n'");
  EXPECT_TRUE(ParseJsonStrict(ToValidUtf8(ToJson(o))).ok());
}

TEST(Json, TypedAccessorsNameTheField) {
  auto o = ParseJsonObject(R"({"name":5,"tags":["a",1],"n":3})");
  ASSERT_TRUE(o.ok());
  auto name = GetString(*o, "name");
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.status().message().find("'name'"), std::string::npos);
  EXPECT_FALSE(GetStringArray(*o, "tags").ok());
  auto n = GetInt(*o, "n");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(**n, 3);
  auto missing = GetString(*o, "absent");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace verbatim
