// ES256 keys: P-256 generation, PKCS#8 PEM, public JWK + RFC 7638 kid, and
// ECDSA-SHA256 with the JOSE raw r||s signature form (RFC 7518 §3.4).
//
// Only OpenSSL 3 EVP/provider APIs (no EC_KEY). Every OpenSSL call that can
// fail is checked; its errors become a Status and are popped from the thread's
// error queue, so an attacker-triggered failure never leaves stale errors that
// a later TLS call on the same thread would misread as its own.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/mutex.h"
#include "oauth/jwt.h"
#include "oauth/jwt_text.h"

namespace verbatim::oauth {
namespace {

constexpr size_t kCoordBytes = 32;           // P-256 field elements and scalars
constexpr size_t kSignatureBytes = 64;       // r||s
constexpr size_t kDigestBytes = 32;          // SHA-256
constexpr size_t kMaxDerBytes = 80;          // a P-256 DER signature is at most 72 bytes
constexpr size_t kMaxPemBytes = 16 * 1024;   // a P-256 PKCS#8 PEM is ~240 bytes
constexpr size_t kMaxPooledContexts = 64;    // per key and operation
constexpr char kCurveName[] = "prime256v1";  // OpenSSL's name for P-256

// P-256 group order n, big-endian (FIPS 186-4 §D.1.2.3). r and s must be in [1, n-1].
constexpr unsigned char kOrderN[kCoordBytes] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

// floor(n / 2): signatures are issued and accepted with s in [1, n/2] only
// ("low s"), so every token has exactly one valid encoding. Otherwise (r, n-s)
// verifies too, and a cache or log keyed by token bytes sees two tokens.
constexpr unsigned char kHalfOrderN[kCoordBytes] = {
    0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8};

// Pops whatever OpenSSL pushed on this thread's error queue since construction,
// leaving errors pushed by earlier, unrelated code untouched.
class ErrorScope {
 public:
  ErrorScope() { ERR_set_mark(); }
  ~ErrorScope() { ERR_pop_to_mark(); }
  ErrorScope(const ErrorScope&) = delete;
  ErrorScope& operator=(const ErrorScope&) = delete;
};

Status CryptoError(std::string_view what) {
  char buf[256] = "no OpenSSL error";
  if (unsigned long e = ERR_peek_last_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
  return Status::Internal(std::string(what) + " failed: " + buf);
}

Status InvalidKey(std::string msg) { return Status::InvalidArgument("key.invalid", std::move(msg)); }

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using CtxPtr = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using SigPtr = std::unique_ptr<ECDSA_SIG, SigFree>;

// SHA-256 into a caller's buffer: no allocation, the algorithm fetched once
// (an implicit fetch per call costs a lookup in the provider store).
bool Sha256Digest(std::string_view input, unsigned char (&out)[kDigestBytes]) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned int len = 0;
  return kSha256 && EVP_Digest(input.data(), input.size(), out, &len, kSha256, nullptr) == 1 && len == kDigestBytes;
}

// One DER INTEGER of an ECDSA-Sig-Value (positive, at most one leading zero
// byte) into 32 big-endian bytes. Only OpenSSL's own output is parsed here,
// but strictly: anything unexpected is a failure, never a guess.
bool ReadDerScalar(const unsigned char*& p, const unsigned char* end, unsigned char* out) {
  if (end - p < 2 || p[0] != 0x02) return false;
  size_t len = p[1];
  p += 2;
  if (len == 0 || len > kCoordBytes + 1 || static_cast<size_t>(end - p) < len) return false;
  if (len == kCoordBytes + 1) {
    if (p[0] != 0) return false;
    ++p;
    --len;
  }
  std::memset(out, 0, kCoordBytes - len);
  std::memcpy(out + kCoordBytes - len, p, len);
  p += len;
  return true;
}

// DER SEQUENCE { r INTEGER, s INTEGER } -> JOSE r||s (RFC 7518 §3.4), without
// the ECDSA_SIG and BIGNUM allocations of d2i_ECDSA_SIG.
bool DerToJose(const unsigned char* der, size_t der_len, unsigned char (&rs)[kSignatureBytes]) {
  if (der_len < 2 || der[0] != 0x30 || der[1] != der_len - 2 || der[1] >= 0x80) return false;
  const unsigned char* p = der + 2;
  const unsigned char* end = der + der_len;
  return ReadDerScalar(p, end, rs) && ReadDerScalar(p, end, rs + kCoordBytes) && p == end;
}

// s := n - s, big-endian, for 0 < s < n. s is public (it is in the token).
void NegateModOrder(unsigned char* s) {
  int borrow = 0;
  for (size_t i = kCoordBytes; i-- > 0;) {
    int d = int{kOrderN[i]} - s[i] - borrow;
    borrow = d < 0;
    s[i] = static_cast<unsigned char>(d + (borrow << 8));
  }
}

// A validated P-256 EVP_PKEY plus pools of initialized sign/verify contexts.
// Creating and initializing an EVP_PKEY_CTX costs ~10% of a P-256 signature
// in OpenSSL 3.0 (provider fetch, locks); an EVP_PKEY_CTX must not be shared
// between threads, so each call borrows one from the pool and gives it back.
class EcKey {
 public:
  explicit EcKey(PkeyPtr pkey) : pkey_(std::move(pkey)) {}

  EVP_PKEY* pkey() const { return pkey_.get(); }

  // ECDSA over SHA-256(input) into `der` (at least kMaxDerBytes); returns its length, 0 on failure.
  size_t SignDer(std::string_view input, unsigned char* der) {
    unsigned char digest[kDigestBytes];
    if (!Sha256Digest(input, digest)) return 0;
    CtxPtr ctx = Borrow(/*sign=*/true);
    if (!ctx) return 0;
    size_t der_len = kMaxDerBytes;
    if (EVP_PKEY_sign(ctx.get(), der, &der_len, digest, sizeof digest) != 1) return 0;  // ctx dropped: state unknown
    GiveBack(/*sign=*/true, std::move(ctx));
    return der_len;
  }

  bool VerifyDer(std::string_view input, const unsigned char* der, size_t der_len) {
    unsigned char digest[kDigestBytes];
    if (!Sha256Digest(input, digest)) return false;
    CtxPtr ctx = Borrow(/*sign=*/false);
    if (!ctx) return false;
    int rc = EVP_PKEY_verify(ctx.get(), der, der_len, digest, sizeof digest);
    if (rc == 0 || rc == 1) GiveBack(/*sign=*/false, std::move(ctx));  // 0 = a bad signature, ctx is fine
    return rc == 1;
  }

 private:
  CtxPtr Borrow(bool sign) EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      std::vector<CtxPtr>& pool = sign ? sign_pool_ : verify_pool_;
      if (!pool.empty()) {
        CtxPtr ctx = std::move(pool.back());
        pool.pop_back();
        return ctx;
      }
    }
    CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_.get(), nullptr));
    if (!ctx) return nullptr;
    int rc = sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
    // With the digest pinned, OpenSSL also rejects a to-be-signed length other than 32.
    if (rc != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) return nullptr;
    return ctx;
  }

  void GiveBack(bool sign, CtxPtr ctx) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    std::vector<CtxPtr>& pool = sign ? sign_pool_ : verify_pool_;
    if (pool.size() < kMaxPooledContexts) pool.push_back(std::move(ctx));
  }

  const PkeyPtr pkey_;  // constant after construction; EVP_PKEY is safe for concurrent use
  Mutex mu_;
  std::vector<CtxPtr> sign_pool_ GUARDED_BY(mu_);
  std::vector<CtxPtr> verify_pool_ GUARDED_BY(mu_);
};

EcKey* AsEcKey(const std::shared_ptr<void>& p) { return static_cast<EcKey*>(p.get()); }

// The key must be EC on the named curve P-256 (explicit curve parameters are refused).
Status CheckP256(EVP_PKEY* pkey) {
  if (!EVP_PKEY_is_a(pkey, "EC")) return InvalidKey("Key is not an EC key; ES256 needs P-256.");
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
      std::string_view(group, len) != kCurveName) {
    return InvalidKey("Key is not on the named curve P-256.");
  }
  return Status::Ok();
}

struct Coordinates {
  std::string x;  // base64url of the 32-byte big-endian coordinate
  std::string y;
};

Result<Coordinates> PublicCoordinates(EVP_PKEY* pkey) {
  BIGNUM* raw_x = nullptr;
  BIGNUM* raw_y = nullptr;
  int ok_x = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &raw_x);
  int ok_y = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &raw_y);
  BnPtr bx(raw_x), by(raw_y);
  if (ok_x != 1 || ok_y != 1) return CryptoError("Reading the public point");
  unsigned char x[kCoordBytes], y[kCoordBytes];
  if (BN_bn2binpad(bx.get(), x, sizeof x) < 0 || BN_bn2binpad(by.get(), y, sizeof y) < 0) {
    return InvalidKey("Public point coordinates do not fit in 32 bytes.");
  }
  return Coordinates{Base64UrlEncode(std::string_view(reinterpret_cast<char*>(x), sizeof x)),
                     Base64UrlEncode(std::string_view(reinterpret_cast<char*>(y), sizeof y))};
}

// RFC 7638 §3.2: the required members only, lexicographic order, no whitespace.
// x and y are base64url, which needs no JSON escaping.
std::string Thumbprint(const Coordinates& c) {
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + c.x + R"(","y":")" + c.y + R"("})";
  return Base64UrlEncode(Sha256(canonical));
}

json::object PublicJwkFor(const Coordinates& c, const std::string& kid) {
  json::object jwk;
  jwk["kty"] = "EC";
  jwk["crv"] = "P-256";
  jwk["x"] = c.x;
  jwk["y"] = c.y;
  jwk["kid"] = kid;
  jwk["use"] = "sig";
  jwk["alg"] = "ES256";
  return jwk;
}

// A loaded private key must be P-256 and its public point must match its scalar.
Status CheckPrivateKey(EVP_PKEY* pkey) {
  VERBATIM_RETURN_IF_ERROR(CheckP256(pkey));
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_check(ctx.get()) != 1) {
    return InvalidKey("Private key is inconsistent: its public point does not match the private scalar.");
  }
  return Status::Ok();
}

// PEM input is never encrypted here; refuse instead of prompting on a terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

bool ScalarInRange(const unsigned char* v) {
  static constexpr unsigned char kZero[kCoordBytes] = {0};
  return std::memcmp(v, kZero, kCoordBytes) != 0 && std::memcmp(v, kOrderN, kCoordBytes) < 0;
}

}  // namespace

// ---- SigningKeyPair ---------------------------------------------------------

namespace {

struct KeyParts {
  std::shared_ptr<void> key;  // EcKey
  std::string kid;
  json::object jwk;
};

Result<KeyParts> MakeKeyParts(PkeyPtr pkey) {
  auto coords = PublicCoordinates(pkey.get());
  if (!coords.ok()) return coords.status();
  KeyParts parts;
  parts.kid = Thumbprint(*coords);
  parts.jwk = PublicJwkFor(*coords, parts.kid);
  parts.key = std::make_shared<EcKey>(std::move(pkey));
  return parts;
}

}  // namespace

Result<SigningKeyPair> SigningKeyPair::Generate() {
  try {
    ErrorScope errors;
    PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!pkey) return CryptoError("P-256 key generation");
    VERBATIM_RETURN_IF_ERROR(CheckP256(pkey.get()));
    auto parts = MakeKeyParts(std::move(pkey));
    if (!parts.ok()) return parts.status();
    SigningKeyPair k;
    k.pkey_ = std::move(parts->key);
    k.kid_ = std::move(parts->kid);
    k.encoded_header_ = EncodedJwsHeader(k.kid_);
    k.public_jwk_ = std::move(parts->jwk);
    return k;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("P-256 key generation failed: ") + e.what());
  }
}

Result<SigningKeyPair> SigningKeyPair::FromPrivatePem(std::string_view pem) {
  try {
    if (pem.empty() || pem.size() > kMaxPemBytes) return InvalidKey("Private key PEM is empty or too large.");
    ErrorScope errors;
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return CryptoError("BIO_new_mem_buf");
    PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!pkey) return InvalidKey("Not an unencrypted PEM private key.");
    VERBATIM_RETURN_IF_ERROR(CheckPrivateKey(pkey.get()));
    auto parts = MakeKeyParts(std::move(pkey));
    if (!parts.ok()) return parts.status();
    SigningKeyPair k;
    k.pkey_ = std::move(parts->key);
    k.kid_ = std::move(parts->kid);
    k.encoded_header_ = EncodedJwsHeader(k.kid_);
    k.public_jwk_ = std::move(parts->jwk);
    return k;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("Loading the private key failed: ") + e.what());
  }
}

std::string SigningKeyPair::PrivatePem() const {
  if (!pkey_) return {};
  ErrorScope errors;
  // Secure-heap BIO: the buffer holding the private scalar is wiped when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), AsEcKey(pkey_)->pkey(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

json::object SigningKeyPair::PublicJwk() const { return public_jwk_; }

Status SigningKeyPair::SignTo(std::string_view input, unsigned char (&rs)[64]) const {
  if (!pkey_) return Status::FailedPrecondition("key.invalid", "Signing with an empty key.");
  ErrorScope errors;
  unsigned char der[kMaxDerBytes];
  const size_t der_len = AsEcKey(pkey_)->SignDer(input, der);
  if (der_len == 0) return CryptoError("ECDSA P-256 signing");
  if (!DerToJose(der, der_len, rs)) return Status::Internal("OpenSSL returned an ECDSA signature that is not DER r,s.");
  if (std::memcmp(rs + kCoordBytes, kHalfOrderN, kCoordBytes) > 0) NegateModOrder(rs + kCoordBytes);  // low s
  return Status::Ok();
}

Result<std::string> SigningKeyPair::Sign(std::string_view input) const {
  try {
    unsigned char rs[kSignatureBytes];
    VERBATIM_RETURN_IF_ERROR(SignTo(input, rs));
    return std::string(reinterpret_cast<const char*>(rs), sizeof rs);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("Signing failed: ") + e.what());
  }
}

// ---- VerificationKey --------------------------------------------------------

Result<VerificationKey> VerificationKey::FromJwk(const json::object& jwk) {
  try {
    auto field = [&](std::string_view name) -> const json::string* {
      auto it = jwk.find(name);
      return it == jwk.end() ? nullptr : it->value().if_string();
    };
    const json::string* kty = field("kty");
    const json::string* crv = field("crv");
    if (!kty || *kty != "EC") return InvalidKey("JWK kty must be \"EC\".");
    if (!crv || *crv != "P-256") return InvalidKey("JWK crv must be \"P-256\".");
    // A verification key set must never carry private material.
    if (jwk.contains("d")) return InvalidKey("JWK contains the private member \"d\"; publish public keys only.");
    if (jwk.contains("use") && (!field("use") || *field("use") != "sig")) {
      return InvalidKey("JWK use must be \"sig\".");
    }
    if (jwk.contains("alg") && (!field("alg") || *field("alg") != "ES256")) {
      return InvalidKey("JWK alg must be \"ES256\".");
    }
    const json::string* jx = field("x");
    const json::string* jy = field("y");
    if (!jx || !jy) return InvalidKey("JWK needs string members x and y.");
    auto x = Base64UrlDecode(std::string_view(jx->data(), jx->size()));
    auto y = Base64UrlDecode(std::string_view(jy->data(), jy->size()));
    if (!x || !y || x->size() != kCoordBytes || y->size() != kCoordBytes) {
      return InvalidKey("JWK x and y must each be 32 bytes, base64url without padding.");
    }

    ErrorScope errors;
    // Uncompressed SEC1 point; OpenSSL refuses a point that is not on the curve.
    unsigned char point[1 + 2 * kCoordBytes];
    point[0] = 0x04;
    std::memcpy(point + 1, x->data(), kCoordBytes);
    std::memcpy(point + 1 + kCoordBytes, y->data(), kCoordBytes);
    OSSL_PARAM params[] = {
        // OpenSSL only reads the group name; the API just is not const-correct.
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(kCurveName), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_construct_end(),
    };
    CtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
      return InvalidKey("JWK x,y is not a point on P-256.");
    }
    PkeyPtr pkey(raw);
    // Belt and braces: full public-key validation (on curve, not infinity, order).
    CtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return InvalidKey("JWK x,y is not a valid P-256 point.");
    VERBATIM_RETURN_IF_ERROR(CheckP256(pkey.get()));

    Coordinates coords{std::string(jx->data(), jx->size()), std::string(jy->data(), jy->size())};
    std::string thumbprint = Thumbprint(coords);
    // Our kids are always thumbprints: a different kid means an edited JWK, and
    // keeping kid == key material rules out two keys answering to one kid.
    if (jwk.contains("kid")) {
      const json::string* kid = field("kid");
      if (!kid || std::string_view(kid->data(), kid->size()) != thumbprint) {
        return InvalidKey("JWK kid is not the RFC 7638 thumbprint of its key.");
      }
    }
    VerificationKey k;
    k.pkey_ = std::make_shared<EcKey>(std::move(pkey));
    k.kid_ = std::move(thumbprint);
    return k;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("Loading the JWK failed: ") + e.what());
  }
}

VerificationKey VerificationKey::FromKeyPair(const SigningKeyPair& k) {
  VerificationKey v;
  v.pkey_ = k.pkey_;  // shares the EcKey and its context pools
  v.kid_ = k.kid_;
  return v;
}

bool VerificationKey::Verify(std::string_view input, std::string_view signature) const {
  if (!pkey_ || signature.size() != kSignatureBytes) return false;
  const auto* rs = reinterpret_cast<const unsigned char*>(signature.data());
  // Checked here rather than trusted to OpenSSL: r = s = 0 is the classic
  // "psychic signature" (CVE-2022-21449) and r or s >= n must never verify.
  if (!ScalarInRange(rs) || !ScalarInRange(rs + kCoordBytes)) return false;
  if (std::memcmp(rs + kCoordBytes, kHalfOrderN, kCoordBytes) > 0) return false;  // high s: not ours
  try {
    ErrorScope errors;
    SigPtr sig(ECDSA_SIG_new());
    BnPtr r(BN_bin2bn(rs, kCoordBytes, nullptr));
    BnPtr s(BN_bin2bn(rs + kCoordBytes, kCoordBytes, nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return false;
    r.release();  // owned by sig now
    s.release();
    unsigned char der[80];  // a P-256 DER signature is at most 72 bytes
    int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (der_len <= 0 || static_cast<size_t>(der_len) > sizeof der) return false;
    unsigned char* p = der;
    if (i2d_ECDSA_SIG(sig.get(), &p) != der_len) return false;
    return AsEcKey(pkey_)->VerifyDer(input, der, static_cast<size_t>(der_len));
  } catch (const std::exception&) {
    return false;
  }
}

// ---- KeySet -----------------------------------------------------------------

void KeySet::Add(VerificationKey k) {
  // kid is the key's thumbprint, so the same kid is the same key: replace.
  for (auto& existing : keys_) {
    if (existing.kid() == k.kid()) {
      existing = std::move(k);
      return;
    }
  }
  keys_.push_back(std::move(k));
}

const VerificationKey* KeySet::Find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid() == kid) return &k;
  }
  return nullptr;
}

}  // namespace verbatim::oauth
