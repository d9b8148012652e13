// Helpers for the oauth tests: hand-built tokens (any header, payload and
// signature bytes), ECDSA signatures on curves other than P-256, the P-256
// group order, and a fixture with a signing key and a verifier set up for it.
#pragma once

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "core/json.h"
#include "oauth/jwt.h"

namespace verbatim::oauth::testing {

inline const TimePoint kNow = FromUnixSeconds(1'700'000'000);
inline constexpr char kIssuer[] = "https://verbatim.test";
inline constexpr char kAudience[] = "https://verbatim.test/api";

inline std::string B64(std::string_view s) { return Base64UrlEncode(s); }
inline std::string Str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : "<not a string>"; }

inline json::object StdHeader(const std::string& kid) {
  return json::object{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", kid}};
}

inline json::object StdPayload(TimePoint now = kNow) {
  int64_t t = ToUnixSeconds(now);
  return json::object{{"iss", kIssuer},  {"sub", "client-1"},         {"aud", kAudience},
                      {"exp", t + 3600}, {"iat", t},                   {"nbf", t},
                      {"jti", "jti-1"},  {"client_id", "client-1"},    {"scope", "recording:control recording:read"},
                      {"org", "org-1"}};
}

// header.payload (raw JSON text, base64url-encoded here) + "." + base64url(sig).
inline std::string RawToken(std::string_view header_json, std::string_view payload_json, std::string_view sig) {
  return B64(header_json) + "." + B64(payload_json) + "." + B64(sig);
}

// Signs the given header and payload text with `key`: a token whose signature
// is valid, whatever its content says.
inline std::string SignedRaw(const SigningKeyPair& key, std::string_view header_json, std::string_view payload_json) {
  std::string input = B64(header_json) + "." + B64(payload_json);
  auto sig = key.Sign(input);
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
  return input + "." + B64(sig.ok() ? *sig : std::string());
}

inline std::string Signed(const SigningKeyPair& key, const json::object& header, const json::object& payload) {
  return SignedRaw(key, ToJson(header), ToJson(payload));
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

inline Pkey GenerateEc(const char* curve) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }

// ECDSA with `md` over `input` by `pkey`, in JOSE r||s form (coord_bytes each).
inline std::string JoseSign(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input, int coord_bytes) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char der[256];
  size_t der_len = sizeof der;
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, pkey) == 1 &&
            EVP_DigestSign(ctx, der, &der_len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EXPECT_TRUE(ok);
  if (!ok) return {};
  const unsigned char* p = der;
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(2 * coord_bytes, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), coord_bytes);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + coord_bytes, coord_bytes);
  ECDSA_SIG_free(sig);
  return out;
}

// SubjectPublicKeyInfo PEM of a key pair's public half: what a confused
// verifier would use as an HMAC secret.
inline std::string PublicPem(const SigningKeyPair& key) {
  std::string priv = key.PrivatePem();
  BIO* in = BIO_new_mem_buf(priv.data(), static_cast<int>(priv.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, pkey);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(out);
  EVP_PKEY_free(pkey);
  BIO_free(in);
  return pem;
}

// The order n of the P-256 group, big-endian in 32 bytes: s and n - s are both
// valid ECDSA signature halves, and r or s >= n is out of range.
inline std::string OrderN() {
  EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  std::string n(32, '\0');
  BN_bn2binpad(EC_GROUP_get0_order(g), reinterpret_cast<unsigned char*>(n.data()), 32);
  EC_GROUP_free(g);
  return n;
}

// A fixture for verifying tokens: one ES256 key generated per test suite
// (key_), a KeySet holding its public half (keys_), and VerifyOptions for
// kIssuer and kAudience (opts_).
class SignedTokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = new SigningKeyPair(*SigningKeyPair::Generate()); }
  static void TearDownTestSuite() {
    delete key_;
    key_ = nullptr;
  }

  void SetUp() override {
    keys_.Add(VerificationKey::FromKeyPair(*key_));
    opts_.issuer = kIssuer;
    opts_.audience = kAudience;
  }

  inline static SigningKeyPair* key_ = nullptr;
  KeySet keys_;
  VerifyOptions opts_;
};

}  // namespace verbatim::oauth::testing
