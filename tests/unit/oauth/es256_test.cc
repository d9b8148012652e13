// SigningKeyPair, VerificationKey, KeySet: key formats, RFC vectors, and the
// raw r||s signature checks.
#include <gtest/gtest.h>
#include <openssl/ec.h>

#include <atomic>
#include <thread>

#include "core/crypto.h"
#include "unit/oauth/jwt_test_util.h"

namespace verbatim::oauth {
namespace {

using testing::B64;
using testing::OrderN;

// RFC 7515 Appendix A.3: an ES256 JWS, its P-256 key and the key's PKCS#8 form.
constexpr char kA3X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr char kA3Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr char kA3Pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n"
    "H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n"
    "7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kA3SigningInput[] =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr char kA3Signature[] = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
// SHA-256 thumbprint of the A.3 key, computed independently with `openssl dgst`.
constexpr char kA3Kid[] = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";

json::object PublicJwk(std::string_view x, std::string_view y) {
  return json::object{{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", y}};
}

std::string Decode(std::string_view s) { return Base64UrlDecode(s).value_or("<bad base64url>"); }

std::string Pkcs8Pem(EVP_PKEY* pkey, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pass = passphrase ? passphrase : "";
  PEM_write_bio_PKCS8PrivateKey(bio, pkey, passphrase ? EVP_aes_128_cbc() : nullptr, pass.data(),
                                static_cast<int>(pass.size()), nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

TEST(SigningKeyPair, GeneratesP256KeyWithThumbprintKidAndPublicJwk) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  json::object jwk = key->PublicJwk();
  EXPECT_EQ(testing::Str(jwk.at("kty")), "EC");
  EXPECT_EQ(testing::Str(jwk.at("crv")), "P-256");
  EXPECT_EQ(testing::Str(jwk.at("use")), "sig");
  EXPECT_EQ(testing::Str(jwk.at("alg")), "ES256");
  EXPECT_EQ(testing::Str(jwk.at("kid")), key->kid());
  EXPECT_FALSE(jwk.contains("d"));
  std::string x(jwk.at("x").as_string()), y(jwk.at("y").as_string());
  EXPECT_EQ(Decode(x).size(), 32u);
  EXPECT_EQ(Decode(y).size(), 32u);
  // RFC 7638 §3.2: required members only, in lexicographic order, no whitespace.
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + R"("})";
  EXPECT_EQ(key->kid(), Base64UrlEncode(Sha256(canonical)));
  EXPECT_EQ(key->kid().size(), 43u);
}

TEST(SigningKeyPair, TwoGeneratedKeysDiffer) {
  auto a = SigningKeyPair::Generate();
  auto b = SigningKeyPair::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->kid(), b->kid());
}

TEST(SigningKeyPair, PemRoundTripKeepsKidAndKey) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  std::string pem = key->PrivatePem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << "PKCS#8, not SEC1";
  auto again = SigningKeyPair::FromPrivatePem(pem);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->kid(), key->kid());
  EXPECT_EQ(ToJson(again->PublicJwk()), ToJson(key->PublicJwk()));
  auto sig = again->Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerificationKey::FromKeyPair(*key).Verify("hello", *sig));
}

TEST(SigningKeyPair, LoadsRfc7515AppendixA3Key) {
  auto key = SigningKeyPair::FromPrivatePem(kA3Pem);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(testing::Str(key->PublicJwk().at("x")), kA3X);
  EXPECT_EQ(testing::Str(key->PublicJwk().at("y")), kA3Y);
  EXPECT_EQ(key->kid(), kA3Kid);
}

TEST(SigningKeyPair, RejectsBadPem) {
  EXPECT_FALSE(SigningKeyPair::FromPrivatePem("").ok());
  EXPECT_FALSE(SigningKeyPair::FromPrivatePem("not a pem").ok());
  EXPECT_FALSE(SigningKeyPair::FromPrivatePem(std::string(20000, 'A')).ok());
  std::string truncated(kA3Pem);
  truncated.erase(60, 20);
  EXPECT_FALSE(SigningKeyPair::FromPrivatePem(truncated).ok());

  // A P-384 key: right format, wrong curve.
  auto p384 = testing::GenerateEc("P-384");
  auto r = SigningKeyPair::FromPrivatePem(Pkcs8Pem(p384.get()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "key.invalid");

  // Encrypted PEM: refused without ever prompting for a passphrase.
  auto p256 = testing::GenerateEc("P-256");
  ASSERT_TRUE(SigningKeyPair::FromPrivatePem(Pkcs8Pem(p256.get())).ok());
  std::string enc = Pkcs8Pem(p256.get(), "secret");
  ASSERT_NE(enc.find("ENCRYPTED"), std::string::npos);
  EXPECT_FALSE(SigningKeyPair::FromPrivatePem(enc).ok());
}

TEST(SigningKeyPair, SignaturesAreAlways64BytesAndVerify) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  VerificationKey vk = VerificationKey::FromKeyPair(*key);
  // ~1 in 128 signatures has r or s with a leading zero byte: enough rounds
  // that the left-padding is exercised.
  for (int i = 0; i < 1000; ++i) {
    std::string msg = "message " + std::to_string(i);
    auto sig = key->Sign(msg);
    ASSERT_TRUE(sig.ok());
    ASSERT_EQ(sig->size(), 64u);
    ASSERT_TRUE(vk.Verify(msg, *sig)) << i;
  }
}

TEST(SigningKeyPair, SignsAndVerifiesConcurrentlyWithOneSharedKey) {
  // Each call borrows its own OpenSSL context from the key's pool.
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  const VerificationKey vk = VerificationKey::FromKeyPair(*key);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string msg = std::to_string(t) + ":" + std::to_string(i);
        auto sig = key->Sign(msg);
        if (!sig.ok() || !vk.Verify(msg, *sig) || vk.Verify(msg + "x", *sig)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(VerificationKey, ThumbprintMatchesAnIndependentlyPublishedValue) {
  // Test key and SHA-256 thumbprint published by transmute-industries/jwt.vc
  // (hex 1235335b...aaf8), members deliberately out of canonical order.
  json::object jwk{{"y", "svjg0e-iAe5zElQhfqqagr4-S8k3WWgzz6JDPmRE_bk"},
                   {"x", "V8ctRWc2deLSjfOjqQm7-m33SinduQbKJVgSHFj7ZxQ"},
                   {"alg", "ES256"},
                   {"crv", "P-256"},
                   {"kty", "EC"}};
  auto vk = VerificationKey::FromJwk(jwk);
  ASSERT_TRUE(vk.ok()) << vk.status().ToString();
  EXPECT_EQ(vk->kid(), "EjUzW9FbLHXz6E9MaB2Fy8BZwA15ENG60GkKKvVmqvg");
  EXPECT_EQ(HexEncode(*Base64UrlDecode(vk->kid())), "1235335bd15b2c75f3e84f4c681d85cbc059c00d7910d1bad0690a2af566aaf8");
}

std::optional<std::string> Base16Decode(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// (r, n - s) for a 64-byte r||s signature.
std::string OtherS(const std::string& sig) {
  BIGNUM* n = BN_bin2bn(reinterpret_cast<const unsigned char*>(OrderN().data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
  BN_sub(s, n, s);
  std::string other = sig.substr(0, 32) + std::string(32, '\0');
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(other.data()) + 32, 32);
  BN_free(n);
  BN_free(s);
  return other;
}

bool HighS(const std::string& sig) {
  static const std::string half =
      *Base16Decode("7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8");  // floor(n/2)
  return sig.compare(32, 32, half) > 0;
}

TEST(VerificationKey, VerifiesRfc7515AppendixA3SignatureInItsLowSForm) {
  auto vk = VerificationKey::FromJwk(PublicJwk(kA3X, kA3Y));
  ASSERT_TRUE(vk.ok()) << vk.status().ToString();
  EXPECT_EQ(vk->kid(), kA3Kid);
  // The RFC's example happens to use the high s; we accept only s <= n/2, so
  // the RFC's bytes are refused and their low-s twin verifies.
  std::string rfc = Decode(kA3Signature);
  std::string low = HighS(rfc) ? OtherS(rfc) : rfc;
  EXPECT_TRUE(vk->Verify(kA3SigningInput, low));
  EXPECT_EQ(vk->Verify(kA3SigningInput, rfc), rfc == low);
  std::string tampered(kA3SigningInput);
  tampered.back() = 'R';
  EXPECT_FALSE(vk->Verify(tampered, low));
}

TEST(VerificationKey, JwkRoundTripKeepsKidAndVerifies) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  auto vk = VerificationKey::FromJwk(key->PublicJwk());
  ASSERT_TRUE(vk.ok()) << vk.status().ToString();
  EXPECT_EQ(vk->kid(), key->kid());
  auto sig = key->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(vk->Verify("payload", *sig));
  EXPECT_FALSE(vk->Verify("payload!", *sig));
}

TEST(VerificationKey, FromJwkRejectsAnythingButAPublicP256Point) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  const json::object good = key->PublicJwk();
  auto with = [&](std::string_view member, json::value v) {
    json::object j = good;
    j[member] = std::move(v);
    return j;
  };
  auto str = [](const std::string& v) { return json::value(json::string(v)); };
  auto without = [&](std::string_view member) {
    json::object j = good;
    j.erase(member);
    return j;
  };
  std::string x(good.at("x").as_string()), y(good.at("y").as_string());
  std::string y_bytes = Decode(y);
  y_bytes[31] ^= 1;  // no longer on the curve
  std::string x33 = Decode(x) + '\0';

  // secp256k1 coordinates labelled P-256: 32-byte, but not a P-256 point.
  auto k1 = testing::GenerateEc("secp256k1");
  BIGNUM *k1x = nullptr, *k1y = nullptr;
  EVP_PKEY_get_bn_param(k1.get(), "qx", &k1x);
  EVP_PKEY_get_bn_param(k1.get(), "qy", &k1y);
  std::string kx(32, '\0'), ky(32, '\0');
  BN_bn2binpad(k1x, reinterpret_cast<unsigned char*>(kx.data()), 32);
  BN_bn2binpad(k1y, reinterpret_cast<unsigned char*>(ky.data()), 32);
  BN_free(k1x);
  BN_free(k1y);

  const std::vector<std::pair<const char*, json::object>> bad = {
      {"kty RSA", with("kty", "RSA")},
      {"kty OKP", with("kty", "OKP")},
      {"no kty", without("kty")},
      {"crv P-384", with("crv", "P-384")},
      {"crv secp256k1", with("crv", "secp256k1")},
      {"no crv", without("crv")},
      {"no x", without("x")},
      {"x not a string", with("x", 5)},
      {"x 31 bytes", with("x", str(B64(Decode(x).substr(1))))},
      {"x 33 bytes", with("x", str(B64(x33)))},
      {"x padded", with("x", str(x + "="))},
      {"x standard base64", with("x", str(std::string(Base64Encode(Decode(x)))))},
      {"point off the curve", with("y", str(B64(y_bytes)))},
      {"all-zero point", with("x", str(B64(std::string(32, '\0'))))},
      {"secp256k1 point", PublicJwk(B64(kx), B64(ky))},
      {"private d", with("d", str(B64(std::string(32, '\1'))))},
      {"use enc", with("use", "enc")},
      {"alg ES384", with("alg", "ES384")},
      {"alg none", with("alg", "none")},
      {"kid not the thumbprint", with("kid", "my-key")},
      {"kid not a string", with("kid", 7)},
  };
  for (const auto& [name, jwk] : bad) {
    auto r = VerificationKey::FromJwk(jwk);
    EXPECT_FALSE(r.ok()) << name;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), "key.invalid") << name;
    }
  }
  EXPECT_TRUE(VerificationKey::FromJwk(without("kid")).ok());
  EXPECT_TRUE(VerificationKey::FromJwk(without("use")).ok());
  EXPECT_TRUE(VerificationKey::FromJwk(without("alg")).ok());
}

TEST(VerificationKey, RejectsOutOfRangeAndMisSizedSignatures) {
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  VerificationKey vk = VerificationKey::FromKeyPair(*key);
  auto sig = key->Sign("m");
  ASSERT_TRUE(sig.ok());
  const std::string r = sig->substr(0, 32), s = sig->substr(32);
  const std::string zero(32, '\0'), n = OrderN(), ff(32, '\xff');
  ASSERT_TRUE(vk.Verify("m", r + s));
  EXPECT_FALSE(vk.Verify("m", zero + zero));  // CVE-2022-21449
  EXPECT_FALSE(vk.Verify("m", zero + s));
  EXPECT_FALSE(vk.Verify("m", r + zero));
  EXPECT_FALSE(vk.Verify("m", n + s));
  EXPECT_FALSE(vk.Verify("m", r + n));
  EXPECT_FALSE(vk.Verify("m", n + n));
  EXPECT_FALSE(vk.Verify("m", ff + s));
  EXPECT_FALSE(vk.Verify("m", r + ff));
  EXPECT_FALSE(vk.Verify("m", ""));
  EXPECT_FALSE(vk.Verify("m", sig->substr(0, 63)));
  EXPECT_FALSE(vk.Verify("m", *sig + '\0'));
  EXPECT_FALSE(VerificationKey().Verify("m", *sig));  // empty key never verifies
}

TEST(VerificationKey, SignsLowSAndRefusesTheMalleableHighSTwin) {
  // ECDSA is malleable: (r, n-s) verifies mathematically. We issue only low s
  // and refuse high s, so each token has exactly one valid encoding.
  auto key = SigningKeyPair::Generate();
  ASSERT_TRUE(key.ok());
  auto vk = VerificationKey::FromKeyPair(*key);
  for (int i = 0; i < 64; ++i) {  // ~half of raw ECDSA signatures are high-s
    auto sig = key->Sign("m" + std::to_string(i));
    ASSERT_TRUE(sig.ok());
    EXPECT_FALSE(HighS(*sig));
    EXPECT_TRUE(vk.Verify("m" + std::to_string(i), *sig));
    EXPECT_FALSE(vk.Verify("m" + std::to_string(i), OtherS(*sig)));
  }
}

TEST(KeySet, FindsKeysByExactKidOnly) {
  auto a = SigningKeyPair::Generate();
  auto b = SigningKeyPair::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  KeySet keys;
  keys.Add(VerificationKey::FromKeyPair(*a));
  keys.Add(VerificationKey::FromKeyPair(*b));
  keys.Add(VerificationKey::FromKeyPair(*a));  // same kid: replaces, no duplicate
  EXPECT_EQ(keys.size(), 2u);
  ASSERT_NE(keys.Find(a->kid()), nullptr);
  EXPECT_EQ(keys.Find(a->kid())->kid(), a->kid());
  EXPECT_EQ(keys.Find(b->kid())->kid(), b->kid());
  EXPECT_EQ(keys.Find(""), nullptr);
  EXPECT_EQ(keys.Find("../../../../dev/null"), nullptr);
  EXPECT_EQ(keys.Find(a->kid().substr(1)), nullptr);
  EXPECT_EQ(keys.Find(a->kid() + " "), nullptr);
}

}  // namespace
}  // namespace verbatim::oauth
