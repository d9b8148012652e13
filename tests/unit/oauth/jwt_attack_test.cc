// The attack suite: every known way to get a forged or confused JWT accepted,
// each pinned to the exact problem code and claim it must be rejected with.
#include <gtest/gtest.h>
#include <openssl/ec.h>

#include "core/crypto.h"
#include "unit/oauth/jwt_test_util.h"

namespace verbatim::oauth {
namespace {

using authz::TokenProblem;
using namespace std::string_literals;
using testing::B64;
using testing::kNow;
using testing::OrderN;

class JwtAttack : public testing::SignedTokenTest {
 protected:
  json::object Header() const { return testing::StdHeader(key_->kid()); }
  json::object Header(std::string_view member, json::value v) const {
    json::object h = Header();
    h[member] = std::move(v);
    return h;
  }
  static std::string Payload() { return ToJson(testing::StdPayload()); }
  static std::string Input(const json::object& header) { return B64(ToJson(header)) + "." + B64(Payload()); }
  std::string Valid() const { return testing::Signed(*key_, Header(), testing::StdPayload()); }

  // A header/payload with a signature of our choosing.
  static std::string WithSig(const json::object& header, std::string_view sig) {
    return testing::RawToken(ToJson(header), Payload(), sig);
  }

  void Expect(std::string_view token, TokenProblem problem, std::string_view claim) {
    VerifyResult r = VerifyAccessToken(token, keys_, opts_, kNow);
    EXPECT_EQ(authz::Code(r.check.problem), std::string(authz::Code(problem))) << r.check.detail;
    EXPECT_EQ(r.check.claim, claim) << r.check.detail;
    EXPECT_FALSE(r.check.detail.empty());
    // The detail is for humans and logs: never the token, nor any part of it.
    if (token.size() > 20) {
      EXPECT_EQ(r.check.detail.find(token), std::string::npos);
    }
    size_t last_dot = token.rfind('.');
    if (last_dot != std::string_view::npos && token.size() - last_dot > 20) {
      EXPECT_EQ(r.check.detail.find(token.substr(last_dot + 1)), std::string::npos) << r.check.detail;
    }
    EXPECT_TRUE(r.token.claims.subject.empty()) << "no claims on failure";
  }
};

TEST_F(JwtAttack, ValidTokenIsTheBaseline) {
  VerifyResult r = VerifyAccessToken(Valid(), keys_, opts_, kNow);
  EXPECT_TRUE(r.check.ok()) << r.check.detail;
}

// ---- algorithm confusion ------------------------------------------------------

TEST_F(JwtAttack, AlgNoneWithEmptySignature) {
  std::string token = B64(ToJson(Header("alg", "none"))) + "." + B64(Payload()) + ".";
  Expect(token, TokenProblem::kSignature, "alg");
  VerifyResult r = VerifyAccessToken(token, keys_, opts_, kNow);
  EXPECT_EQ(r.check.detail, "alg 'none' is not accepted; this server only issues ES256 tokens.");
}

TEST_F(JwtAttack, AlgNoneWithGarbageSignature) {
  Expect(WithSig(Header("alg", "none"), std::string(64, 'x')), TokenProblem::kSignature, "alg");
  for (const char* alg : {"None", "NONE", "nOnE"}) {
    Expect(WithSig(Header("alg", alg), ""), TokenProblem::kSignature, "alg");
  }
}

TEST_F(JwtAttack, Hs256WithThePublicKeyPemAsHmacSecret) {
  json::object h = Header("alg", "HS256");
  std::string input = Input(h);
  std::string token = input + "." + B64(HmacSha256(testing::PublicPem(*key_), input));
  Expect(token, TokenProblem::kSignature, "alg");
}

TEST_F(JwtAttack, Hs256WithTheJwkJsonAsHmacSecret) {
  json::object h = Header("alg", "HS256");
  std::string input = Input(h);
  std::string token = input + "." + B64(HmacSha256(ToJson(key_->PublicJwk()), input));
  Expect(token, TokenProblem::kSignature, "alg");
  // Same with a 64-byte "signature", the size an ES256 check would expect.
  std::string mac = HmacSha256(ToJson(key_->PublicJwk()), input);
  Expect(input + "." + B64(mac + mac), TokenProblem::kSignature, "alg");
}

TEST_F(JwtAttack, Rs256HeaderOnARealEs256Signature) {
  json::object h = Header("alg", "RS256");
  Expect(testing::Signed(*key_, h, testing::StdPayload()), TokenProblem::kSignature, "alg");
}

TEST_F(JwtAttack, Es384AndEs512Headers) {
  for (const char* alg : {"ES384", "ES512"}) {
    Expect(testing::Signed(*key_, Header("alg", alg), testing::StdPayload()), TokenProblem::kSignature, "alg");
  }
  // And a genuine ES384 token from a P-384 key.
  auto p384 = testing::GenerateEc("P-384");
  json::object h = Header("alg", "ES384");
  Expect(Input(h) + "." + B64(testing::JoseSign(p384.get(), EVP_sha384(), Input(h), 48)), TokenProblem::kSignature,
         "alg");
}

TEST_F(JwtAttack, EveryOtherAlgName) {
  for (const std::string& alg : std::vector<std::string>{"HS384", "HS512", "RS384", "PS256", "PS512", "EdDSA", "ES256K", "es256", "ES256 ", " ES256",
                          "", "ES256\0"s}) {
    Expect(testing::Signed(*key_, Header("alg", json::string(alg)), testing::StdPayload()), TokenProblem::kSignature,
           "alg");
  }
  Expect(testing::Signed(*key_, Header("alg", json::array{"ES256"}), testing::StdPayload()), TokenProblem::kSignature,
         "alg");
  json::object no_alg = Header();
  no_alg.erase("alg");
  Expect(testing::Signed(*key_, no_alg, testing::StdPayload()), TokenProblem::kSignature, "alg");
}

// ---- key selection ------------------------------------------------------------

TEST_F(JwtAttack, UnknownKid) {
  auto other = SigningKeyPair::Generate();
  ASSERT_TRUE(other.ok());
  Expect(testing::Signed(*other, testing::StdHeader(other->kid()), testing::StdPayload()), TokenProblem::kSignature,
         "kid");
}

TEST_F(JwtAttack, KidPathTraversalAndInjectionStringsJustDoNotMatch) {
  for (const std::string& kid : std::vector<std::string>{"../../../../dev/null", "/dev/null", "..\\..\\windows\\win.ini", "' OR '1'='1",
                          "http://attacker.example/key", "*", "kid\0suffix\n\x1b[31m"s, key_->kid() + "\0"s}) {
    VerifyResult r = VerifyAccessToken(testing::Signed(*key_, Header("kid", json::string(kid)), testing::StdPayload()),
                                       keys_, opts_, kNow);
    EXPECT_EQ(r.check.problem, TokenProblem::kSignature) << kid;
    EXPECT_EQ(r.check.claim, "kid") << kid;
    for (char c : r.check.detail) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "detail is sanitized";
  }
}

TEST_F(JwtAttack, MissingOrMalformedKid) {
  json::object h = Header();
  h.erase("kid");
  Expect(testing::Signed(*key_, h, testing::StdPayload()), TokenProblem::kSignature, "kid");
  Expect(testing::Signed(*key_, Header("kid", 1), testing::StdPayload()), TokenProblem::kMalformed, "kid");
  Expect(testing::Signed(*key_, Header("kid", ""), testing::StdPayload()), TokenProblem::kMalformed, "kid");
  Expect(testing::Signed(*key_, Header("kid", json::string(std::string(129, 'k'))), testing::StdPayload()), TokenProblem::kMalformed,
         "kid");
  Expect(testing::Signed(*key_, Header("kid", nullptr), testing::StdPayload()), TokenProblem::kMalformed, "kid");
}

// ---- signature bytes ------------------------------------------------------------

TEST_F(JwtAttack, EmptySignature) {
  Expect(Input(Header()) + ".", TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, TruncatedAndOverlongSignatures) {
  auto sig = key_->Sign(Input(Header()));
  ASSERT_TRUE(sig.ok());
  Expect(WithSig(Header(), sig->substr(0, 63)), TokenProblem::kSignature, "signature");
  Expect(WithSig(Header(), *sig + '\0'), TokenProblem::kSignature, "signature");
  Expect(WithSig(Header(), *sig + *sig), TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, DerEncodedSignatureIsNotAccepted) {
  // What OpenSSL produces natively; JOSE requires raw r||s.
  auto sig = key_->Sign(Input(Header()));
  ASSERT_TRUE(sig.ok());
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(reinterpret_cast<const unsigned char*>(sig->data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(sig->data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(es, &der);
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(es);
  Expect(WithSig(Header(), der_sig), TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, ZeroRAndS) {
  Expect(WithSig(Header(), std::string(64, '\0')), TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, RorSEqualToTheCurveOrder) {
  auto sig = key_->Sign(Input(Header()));
  ASSERT_TRUE(sig.ok());
  const std::string n = OrderN();
  Expect(WithSig(Header(), n + sig->substr(32)), TokenProblem::kSignature, "signature");
  Expect(WithSig(Header(), sig->substr(0, 32) + n), TokenProblem::kSignature, "signature");
  Expect(WithSig(Header(), n + n), TokenProblem::kSignature, "signature");
  Expect(WithSig(Header(), std::string(64, '\xff')), TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, ForgedByAnotherP256KeyUnderOurKid) {
  auto forger = SigningKeyPair::Generate();
  ASSERT_TRUE(forger.ok());
  Expect(testing::Signed(*forger, Header(), testing::StdPayload()), TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, SignedOnAnotherCurveButLabelledEs256) {
  // P-384 with SHA-384: a 96-byte signature.
  auto p384 = testing::GenerateEc("P-384");
  Expect(Input(Header()) + "." + B64(testing::JoseSign(p384.get(), EVP_sha384(), Input(Header()), 48)),
         TokenProblem::kSignature, "signature");
  // secp256k1 with SHA-256: exactly 64 bytes, valid on its own curve.
  auto k1 = testing::GenerateEc("secp256k1");
  Expect(Input(Header()) + "." + B64(testing::JoseSign(k1.get(), EVP_sha256(), Input(Header()), 32)),
         TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, ModifiedPayloadAfterSigning) {
  std::string token = Valid();
  size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  json::object p = testing::StdPayload();
  p["scope"] = "admin recording:control";
  std::string forged = token.substr(0, dot1 + 1) + B64(ToJson(p)) + token.substr(dot2);
  Expect(forged, TokenProblem::kSignature, "signature");
  // Header swapped for an equivalent one: the signature covers the bytes, not the meaning.
  std::string swapped = B64(ToJson(Header("typ", "application/at+jwt"))) + token.substr(dot1);
  Expect(swapped, TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, SignatureSplicedFromAnotherToken) {
  json::object p = testing::StdPayload();
  p["sub"] = "someone-else";
  std::string other = testing::Signed(*key_, Header(), p);
  std::string token = Valid();
  Expect(token.substr(0, token.rfind('.')) + other.substr(other.rfind('.')), TokenProblem::kSignature, "signature");
}

TEST_F(JwtAttack, SignatureIsCheckedBeforeAnyClaim) {
  json::object p = testing::StdPayload();
  p["exp"] = 1;  // long expired, wrong issuer: still a signature failure first
  p["iss"] = "https://evil.example";
  Expect(testing::RawToken(ToJson(Header()), ToJson(p), std::string(64, '\x01')), TokenProblem::kSignature,
         "signature");
  Expect(testing::RawToken(ToJson(Header("kid", "nope")), ToJson(p), std::string(64, '\x01')),
         TokenProblem::kSignature, "kid");
}

// ---- headers that would make us trust someone else's key ---------------------

TEST_F(JwtAttack, KeyReferencingHeadersAreRefusedEvenWithAValidSignature) {
  const std::vector<std::pair<const char*, json::value>> headers = {
      {"jku", "https://attacker.example/jwks.json"},
      {"x5u", "https://attacker.example/cert.pem"},
      {"jwk", key_->PublicJwk()},
      {"x5c", json::array{"MIIB"}},
      {"x5t", "abc"},
      {"x5t#S256", "abc"},
      {"crit", json::array{"exp"}},
      {"zip", "DEF"},
  };
  for (const auto& [name, value] : headers) {
    Expect(testing::Signed(*key_, Header(name, value), testing::StdPayload()), TokenProblem::kMalformed, name);
  }
  VerifyResult r = VerifyAccessToken(testing::Signed(*key_, Header("jku", "https://a.example"), testing::StdPayload()),
                                     keys_, opts_, kNow);
  EXPECT_EQ(r.check.detail, "header 'jku' is not accepted: keys are never fetched from tokens.");
  // Even null counts: presence alone is refused.
  Expect(testing::Signed(*key_, Header("jwk", nullptr), testing::StdPayload()), TokenProblem::kMalformed, "jwk");
}

TEST_F(JwtAttack, EmbeddedJwkOfTheAttackersOwnKey) {
  auto attacker = SigningKeyPair::Generate();
  ASSERT_TRUE(attacker.ok());
  json::object h = testing::StdHeader(attacker->kid());
  h["jwk"] = attacker->PublicJwk();
  Expect(testing::Signed(*attacker, h, testing::StdPayload()), TokenProblem::kMalformed, "jwk");
}

// ---- typ ---------------------------------------------------------------------

TEST_F(JwtAttack, WrongOrMissingTyp) {
  for (const char* typ : {"JWT", "jwt", "at+jwt ", "application/jwt", "id_token+jwt", "dpop+jwt", ""}) {
    Expect(testing::Signed(*key_, Header("typ", typ), testing::StdPayload()), TokenProblem::kMalformed, "typ");
  }
  json::object h = Header();
  h.erase("typ");
  Expect(testing::Signed(*key_, h, testing::StdPayload()), TokenProblem::kMalformed, "typ");
  Expect(testing::Signed(*key_, Header("typ", 1), testing::StdPayload()), TokenProblem::kMalformed, "typ");
}

// ---- JSON ----------------------------------------------------------------------

TEST_F(JwtAttack, DuplicateKeysInHeader) {
  const std::string kid = key_->kid();
  // Either order: a last-wins parser would see ES256 in one, none in the other.
  Expect(testing::SignedRaw(*key_, R"({"alg":"none","typ":"at+jwt","kid":")" + kid + R"(","alg":"ES256"})", Payload()),
         TokenProblem::kMalformed, "header");
  Expect(testing::SignedRaw(*key_, R"({"alg":"ES256","typ":"at+jwt","kid":")" + kid + R"(","kid":"other"})", Payload()),
         TokenProblem::kMalformed, "header");
}

TEST_F(JwtAttack, DuplicateKeysInPayload) {
  // A naive parser keeps the last "scope" and grants admin.
  std::string payload = Payload();
  payload.insert(payload.size() - 1, R"(,"scope":"admin")");
  Expect(testing::SignedRaw(*key_, ToJson(Header()), payload), TokenProblem::kMalformed, "payload");
  VerifyResult r = VerifyAccessToken(testing::SignedRaw(*key_, ToJson(Header()), payload), keys_, opts_, kNow);
  EXPECT_NE(r.check.detail.find("'scope'"), std::string::npos) << r.check.detail;
}

TEST_F(JwtAttack, HeaderThatIsNotAJsonObject) {
  for (const char* header : {"[]", R"("ES256")", "null", "{", R"({"alg":"ES256",})", "{} {}", "\xff\xfe"}) {
    Expect(testing::RawToken(header, Payload(), std::string(64, '\1')), TokenProblem::kMalformed, "header");
  }
  std::string deep(200, '[');
  Expect(testing::RawToken(R"({"alg":"ES256","x":)" + deep, Payload(), ""), TokenProblem::kMalformed, "header");
}

TEST_F(JwtAttack, PayloadThatIsNotJsonEvenWhenSigned) {
  for (const char* payload : {"not json", "[]", "42", R"({"sub":"a",})", "{\"sub\":\"\xc3\x28\"}"}) {
    Expect(testing::SignedRaw(*key_, ToJson(Header()), payload), TokenProblem::kMalformed, "payload");
  }
}

TEST_F(JwtAttack, ExpAsStringOrFloatEvenWhenSigned) {
  json::object p = testing::StdPayload();
  p["exp"] = "9999999999";
  Expect(testing::Signed(*key_, Header(), p), TokenProblem::kMalformed, "exp");
  p["exp"] = 9999999999.0;
  Expect(testing::Signed(*key_, Header(), p), TokenProblem::kMalformed, "exp");
}

// ---- shape and encoding ---------------------------------------------------------

TEST_F(JwtAttack, OversizedToken) {
  json::object p = testing::StdPayload();
  p["pad"] = std::string(9000, 'a');
  Expect(testing::Signed(*key_, Header(), p), TokenProblem::kMalformed, "token");
  Expect(std::string(1 << 20, 'a'), TokenProblem::kMalformed, "token");
  opts_.max_token_bytes = 100;
  Expect(Valid(), TokenProblem::kMalformed, "token");
}

TEST_F(JwtAttack, NonBase64UrlCharacters) {
  std::string token = Valid();
  size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  auto replace = [&](size_t pos, char c) {
    std::string t = token;
    t[pos] = c;
    return t;
  };
  Expect(replace(3, '+'), TokenProblem::kMalformed, "header");
  Expect(replace(dot1 + 3, '/'), TokenProblem::kMalformed, "payload");
  Expect(replace(dot2 + 3, '+'), TokenProblem::kMalformed, "signature");
  Expect(token + "=", TokenProblem::kMalformed, "signature");
  Expect(token + "==", TokenProblem::kMalformed, "signature");
  Expect(replace(dot1 + 3, ' '), TokenProblem::kMalformed, "payload");
  Expect(" " + token, TokenProblem::kMalformed, "header");
  Expect(token + "\n", TokenProblem::kMalformed, "signature");
  std::string with_nul = token;
  with_nul.insert(dot1 + 3, 1, '\0');
  Expect(with_nul, TokenProblem::kMalformed, "payload");
}

TEST_F(JwtAttack, NonCanonicalBase64UrlTrailingBits) {
  // 64 bytes encode to 86 chars whose last one carries 2 bits + 4 zero bits.
  // Setting those zero bits would give a second spelling of the same
  // signature; it is refused, so one signature has exactly one token string.
  std::string token = Valid();
  std::string sig = token.substr(token.rfind('.') + 1);
  ASSERT_EQ(sig.size(), 86u);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t v = alphabet.find(token.back());
  ASSERT_EQ(v % 16, 0u);
  token.back() = alphabet[v + 1];
  Expect(token, TokenProblem::kMalformed, "signature");
}

TEST_F(JwtAttack, WrongNumberOfSegments) {
  std::string token = Valid();
  size_t dot2 = token.rfind('.');
  Expect(token.substr(0, dot2), TokenProblem::kMalformed, "token");  // 2 segments
  Expect(token + ".", TokenProblem::kMalformed, "token");            // 4 segments, last empty
  Expect(token + "." + token.substr(dot2 + 1), TokenProblem::kMalformed, "token");
  Expect("", TokenProblem::kMalformed, "token");
  Expect("abc", TokenProblem::kMalformed, "token");
  Expect("..", TokenProblem::kMalformed, "header");
  Expect("." + token.substr(token.find('.') + 1), TokenProblem::kMalformed, "header");
  Expect(token.substr(0, token.find('.') + 1) + token.substr(dot2), TokenProblem::kMalformed, "payload");
}

TEST_F(JwtAttack, ManyDotsOrHugeInputNeverCrash) {
  Expect(std::string(8000, '.'), TokenProblem::kMalformed, "token");
  std::string bytes;
  for (int i = 0; i < 8000; ++i) bytes += static_cast<char>(i * 131);
  VerifyResult r = VerifyAccessToken(bytes, keys_, opts_, kNow);
  EXPECT_EQ(r.check.problem, TokenProblem::kMalformed);
}

}  // namespace
}  // namespace verbatim::oauth
