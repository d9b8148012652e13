// a=crypto (RFC 4568 §9.1) parsing: what real SDES offerers send, and each
// malformed or refused case with its named error. Vendor lines are shaped
// after public captures and manuals (Cisco CUBE, Oracle/Acme Packet SBC,
// Ribbon SBC, AudioCodes, Yealink/Polycom phones, FreeSWITCH, rtpengine's
// tests); the keys are generated here, of each suite's length.
#include "media/srtp/crypto_attribute.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "media/srtp/sdes.h"

namespace verbatim::media::srtp {
namespace {

// `n` key-and-salt bytes of a recognizable pattern, base64 (padded).
std::string KeyBytes(size_t n, int seed = 1) {
  std::string k(n, '\0');
  for (size_t i = 0; i < n; ++i) k[i] = static_cast<char>((i * 31 + seed * 7) & 0xff);
  return k;
}
std::string Key(size_t n, int seed = 1) { return Base64Encode(KeyBytes(n, seed)); }
std::string Unpadded(std::string b64) {
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

std::optional<CryptoError> ErrorOf(std::string_view value) {
  auto r = ParseCryptoAttribute(value);
  if (r.ok()) return std::nullopt;
  return CryptoErrorOf(r.status());
}

TEST(CryptoAttribute, ParsesTheRfcExample) {
  // RFC 4568 §4 (its key is 40 base64 characters: 30 bytes).
  auto a = ParseCryptoAttribute("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->tag, 1u);
  EXPECT_EQ(a->suite, CryptoSuite::kAesCm128HmacSha1_80);
  EXPECT_EQ(a->key.key_salt.size(), 30u);
  EXPECT_EQ(a->key.lifetime, uint64_t{1} << 20);
  EXPECT_EQ(a->key.mki, std::string("\0\0\0\x01", 4));
  EXPECT_FALSE(a->unencrypted_srtcp);
}

TEST(CryptoAttribute, KeyLengthsFollowTheSuite) {
  struct Case {
    std::string suite;
    size_t bytes;
    CryptoSuite want;
  };
  for (const Case& c : {Case{"AES_CM_128_HMAC_SHA1_80", 30, CryptoSuite::kAesCm128HmacSha1_80},
                        Case{"AES_CM_128_HMAC_SHA1_32", 30, CryptoSuite::kAesCm128HmacSha1_32},
                        Case{"AES_256_CM_HMAC_SHA1_80", 46, CryptoSuite::kAes256CmHmacSha1_80},
                        Case{"AES_256_CM_HMAC_SHA1_32", 46, CryptoSuite::kAes256CmHmacSha1_32},
                        Case{"AEAD_AES_128_GCM", 28, CryptoSuite::kAeadAes128Gcm},
                        Case{"AEAD_AES_256_GCM", 44, CryptoSuite::kAeadAes256Gcm}}) {
    auto a = ParseCryptoAttribute("3 " + c.suite + " inline:" + Key(c.bytes));
    ASSERT_TRUE(a.ok()) << c.suite << ": " << a.status().ToString();
    EXPECT_EQ(a->suite, c.want);
    EXPECT_EQ(a->key.key_salt, KeyBytes(c.bytes));
    // One byte short, or one too many: the key of another suite.
    EXPECT_EQ(ErrorOf("3 " + c.suite + " inline:" + Key(c.bytes - 1)), CryptoError::kBadKey) << c.suite;
    EXPECT_EQ(ErrorOf("3 " + c.suite + " inline:" + Key(c.bytes + 1)), CryptoError::kBadKey) << c.suite;
  }
}

TEST(CryptoAttribute, CiscoCubeOffersGcmFirstThenAesCmWithoutLifetimes) {
  // CUBE with "voice class srtp-crypto": one line per suite, best first.
  const std::string lines[] = {"1 AEAD_AES_256_GCM inline:" + Key(44), "2 AEAD_AES_128_GCM inline:" + Key(28),
                               "3 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30),
                               "4 AES_CM_128_HMAC_SHA1_32 inline:" + Key(30)};
  std::vector<std::string_view> offered(std::begin(lines), std::end(lines));
  auto answer = AnswerSdes(offered);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->offered.tag, 1u);
  EXPECT_EQ(answer->offered.suite, CryptoSuite::kAeadAes256Gcm);
  EXPECT_EQ(answer->offered.key.lifetime, 0u) << "no lifetime: the suite's maximum";
}

TEST(CryptoAttribute, OracleAcmeLifetimeAndMki) {
  // Acme Packet / Oracle SBC manuals: "|2^31" lifetimes, and "|2^20|1:4" with an MKI.
  auto a = ParseCryptoAttribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30) + "|2^31");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->key.lifetime, uint64_t{1} << 31);
  EXPECT_TRUE(a->key.mki.empty());
  auto m = ParseCryptoAttribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30) + "|2^20|1:4");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->key.mki.size(), 4u);
}

TEST(CryptoAttribute, RibbonUnencryptedSrtcpIsKeptAndEchoed) {
  // Ribbon SBC's crypto suite profile flag unencryptedSRTCP.
  auto a = ParseCryptoAttribute("1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30) + "|2^31 UNENCRYPTED_SRTCP");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->unencrypted_srtcp);
  const CryptoAttribute ours = OurCryptoFor(*a);
  EXPECT_EQ(FormatCryptoAttribute(ours).substr(FormatCryptoAttribute(ours).size() - 18), " UNENCRYPTED_SRTCP");
}

TEST(CryptoAttribute, AudioCodesMkiWithoutAndWithLifetime) {
  // AudioCodes symmetric MKI: "|2^31|1:1", and an MKI right after the key.
  auto a = ParseCryptoAttribute("2 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30) + "|2^31|1:1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->key.mki, std::string("\x01", 1));
  auto b = ParseCryptoAttribute("2 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30) + "|7:2");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->key.mki, std::string("\x00\x07", 2));
  EXPECT_EQ(b->key.lifetime, 0u);
}

TEST(CryptoAttribute, PhonesOfferingF8FirstGetTheFirstLineWeSupport) {
  // Yealink/Polycom list AES_CM_128 80 and 32, and F8_128 (unsupported) after or before them.
  const std::string lines[] = {"3 F8_128_HMAC_SHA1_80 inline:" + Key(30), "1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30),
                               "2 AES_CM_128_HMAC_SHA1_32 inline:" + Key(30)};
  std::vector<std::string_view> offered(std::begin(lines), std::end(lines));
  auto answer = AnswerSdes(offered);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->offered.tag, 1u);
  EXPECT_EQ(answer->ours.tag, 1u);
  EXPECT_EQ(answer->ours.suite, CryptoSuite::kAesCm128HmacSha1_80);
}

TEST(CryptoAttribute, FreeSwitchSpellingAndUnpaddedBase64) {
  // FreeSWITCH's pre-RFC 6188 name; some stacks drop the '=' padding.
  auto a = ParseCryptoAttribute("1 AES_CM_256_HMAC_SHA1_80 inline:" + Unpadded(Key(46)));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->suite, CryptoSuite::kAes256CmHmacSha1_80);
  EXPECT_EQ(a->suite_name, "AES_CM_256_HMAC_SHA1_80") << "the answer names it the way the offer did";
  EXPECT_EQ(a->key.key_salt, KeyBytes(46));
  EXPECT_EQ(ErrorOf("1 AEAD_AES_256_GCM_8 inline:" + Key(44)), CryptoError::kUnsupportedSuite);
}

TEST(CryptoAttribute, NamesAreCaseInsensitiveAndSpacingIsFree) {
  auto a = ParseCryptoAttribute("7\taes_cm_128_hmac_sha1_32   INLINE:" + Key(30) + "  wsh=128");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->suite, CryptoSuite::kAesCm128HmacSha1_32);
  EXPECT_EQ(a->window_size_hint, 128u);
}

TEST(CryptoAttribute, SessionParameters) {
  const std::string base = "1 AES_CM_128_HMAC_SHA1_80 inline:" + Key(30);
  EXPECT_TRUE(ParseCryptoAttribute(base + " KDR=0").ok());
  EXPECT_TRUE(ParseCryptoAttribute(base + " FEC_ORDER=FEC_SRTP").ok());
  EXPECT_TRUE(ParseCryptoAttribute(base + " FEC_KEY=inline:" + Key(30)).ok());
  EXPECT_TRUE(ParseCryptoAttribute(base + " -X_VENDOR_HINT=1").ok()) << "optional: ignored (RFC 4568 6.3.7)";
  EXPECT_EQ(ParseCryptoAttribute(base + " WSH=100000")->window_size_hint, 32767u) << "clamped to libsrtp2's largest";
  EXPECT_EQ(ErrorOf(base + " KDR=10"), CryptoError::kRefusedParameter);
  EXPECT_EQ(ErrorOf(base + " UNENCRYPTED_SRTP"), CryptoError::kRefusedParameter);
  EXPECT_EQ(ErrorOf(base + " UNAUTHENTICATED_SRTP"), CryptoError::kRefusedParameter);
  EXPECT_EQ(ErrorOf(base + " X_VENDOR_HINT=1"), CryptoError::kUnknownParameter);
  EXPECT_EQ(ErrorOf(base + " KDR=25"), CryptoError::kBadParameter);
  EXPECT_EQ(ErrorOf(base + " KDR=x"), CryptoError::kBadParameter);
  EXPECT_EQ(ErrorOf(base + " WSH=32"), CryptoError::kBadParameter);
  EXPECT_EQ(ErrorOf(base + " FEC_ORDER=SIDEWAYS"), CryptoError::kBadParameter);
}

TEST(CryptoAttribute, EachMalformedCaseHasItsError) {
  const std::string k = Key(30);
  struct Case {
    std::string value;
    CryptoError want;
  };
  for (const Case& c : {
           Case{"", CryptoError::kSyntax},
           Case{"1", CryptoError::kSyntax},
           Case{"1 AES_CM_128_HMAC_SHA1_80", CryptoError::kSyntax},
           Case{"x AES_CM_128_HMAC_SHA1_80 inline:" + k, CryptoError::kBadTag},
           Case{"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + k, CryptoError::kBadTag},
           Case{"-1 AES_CM_128_HMAC_SHA1_80 inline:" + k, CryptoError::kBadTag},
           Case{"1 AES-CM AES inline:" + k, CryptoError::kSyntax},
           Case{"1 F8_128_HMAC_SHA1_80 inline:" + k, CryptoError::kUnsupportedSuite},
           Case{"1 NULL_HMAC_SHA1_80 inline:" + k, CryptoError::kUnsupportedSuite},
           Case{"1 AES_192_CM_HMAC_SHA1_80 inline:" + Key(38), CryptoError::kUnsupportedSuite},
           Case{"1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example/1", CryptoError::kBadKeyMethod},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline" + k, CryptoError::kSyntax},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:", CryptoError::kBadKey},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k.substr(0, 39) + "!", CryptoError::kBadKey},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "===", CryptoError::kBadKey},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^49", CryptoError::kBadLifetime},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^", CryptoError::kBadLifetime},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|0", CryptoError::kBadLifetime},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|281474976710657", CryptoError::kBadLifetime},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|3^10", CryptoError::kBadLifetime},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:0", CryptoError::kBadMki},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:129", CryptoError::kBadMki},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|256:1", CryptoError::kBadMki},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|:4", CryptoError::kBadMki},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:4|2^20", CryptoError::kSyntax},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|2^20", CryptoError::kSyntax},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|1:4|x", CryptoError::kSyntax},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|1:4;inline:" + k + "|2^20|2:4",
                CryptoError::kSeveralKeys},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " \x01", CryptoError::kSyntax},
           Case{"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + std::string(1100, ' '), CryptoError::kSyntax},
       }) {
    EXPECT_EQ(ErrorOf(c.value), c.want) << c.value;
  }
}

TEST(CryptoAttribute, NoErrorMessageCarriesKeyMaterial) {
  const std::string k = Key(30, 9);
  for (const std::string& value :
       {"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^49", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " inline:" + k,
        "1 F8_128_HMAC_SHA1_80 inline:" + k, "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|300:1",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + k.substr(0, 20), "1 AES_CM_128_HMAC_SHA1_80 FEC_KEY=inline:" + k}) {
    auto r = ParseCryptoAttribute(value);
    ASSERT_FALSE(r.ok()) << value;
    EXPECT_EQ(r.status().message().find(k.substr(0, 12)), std::string::npos) << r.status().message();
  }
  const std::string lines[] = {"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " UNENCRYPTED_SRTP",
                               "2 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|0"};
  std::vector<std::string_view> offered(std::begin(lines), std::end(lines));
  auto none = AnswerSdes(offered);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), "srtp.no.usable.crypto");
  EXPECT_NE(none.status().message().find("a=crypto:1 refused parameter"), std::string::npos)
      << none.status().message();
  EXPECT_NE(none.status().message().find("a=crypto:2 bad lifetime"), std::string::npos) << none.status().message();
  EXPECT_EQ(none.status().message().find(k.substr(0, 12)), std::string::npos) << none.status().message();
}

TEST(CryptoAttribute, OurAnswerHasTheOfferedTagAndSuiteAndAFreshKey) {
  auto offered = ParseCryptoAttribute("5 AEAD_AES_128_GCM inline:" + Key(28));
  ASSERT_TRUE(offered.ok());
  const CryptoAttribute a = OurCryptoFor(*offered), b = OurCryptoFor(*offered);
  EXPECT_EQ(a.key.key_salt.size(), 28u);
  EXPECT_NE(a.key.key_salt, offered->key.key_salt);
  EXPECT_NE(a.key.key_salt, b.key.key_salt) << "a new key per stream";
  auto back = ParseCryptoAttribute(FormatCryptoAttribute(a));
  ASSERT_TRUE(back.ok()) << FormatCryptoAttribute(a);
  EXPECT_EQ(back->tag, 5u);
  EXPECT_EQ(back->suite, CryptoSuite::kAeadAes128Gcm);
  EXPECT_EQ(back->key.key_salt, a.key.key_salt);
  EXPECT_EQ(AnswerSdes({}).status().code(), "srtp.no.crypto");
}

}  // namespace
}  // namespace verbatim::media::srtp
