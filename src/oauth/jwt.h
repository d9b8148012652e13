// ES256 keys and RFC 9068 JWT access tokens: signing and strict verification.
//
// Verification accepts exactly what this server issues: alg ES256 (P-256,
// raw r||s signature of 64 bytes), typ "at+jwt", a kid we know; it never trusts
// jku/x5u/jwk/x5c/crit headers, rejects duplicate JSON keys and non-canonical
// base64url, checks exp/nbf with a bounded leeway, iss and aud.
// Thread-safety: SigningKeyPair and KeySet are immutable after construction.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authz/token_check.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"

namespace verbatim::oauth {

class SigningKeyPair {
 public:
  static Result<SigningKeyPair> Generate();  // fresh P-256 key
  static Result<SigningKeyPair> FromPrivatePem(std::string_view pem);

  const std::string& kid() const { return kid_; }    // RFC 7638 JWK thumbprint, base64url
  std::string PrivatePem() const;                     // PKCS#8 PEM
  json::object PublicJwk() const;                     // kty, crv, x, y, kid, use:"sig", alg:"ES256"
  // base64url of this key's JWS header {"alg":"ES256","typ":"at+jwt","kid":…},
  // encoded once (oauth/jwt_text.h).
  const std::string& encoded_header() const { return encoded_header_; }
  // Signs `input` (the JWS signing input); returns the 64-byte r||s signature
  // with s in the low half of the group order.
  Result<std::string> Sign(std::string_view input) const;
  // The same into `rs`: nothing allocated (the grant path).
  Status SignTo(std::string_view input, unsigned char (&rs)[64]) const;

 private:
  std::shared_ptr<void> pkey_;  // EVP_PKEY (+ context pools, es256.cc), opaque here to keep OpenSSL out of headers
  std::string kid_;
  std::string encoded_header_;
  json::object public_jwk_;
  friend class VerificationKey;
};

class VerificationKey {
 public:
  // Accepts only {"kty":"EC","crv":"P-256",x,y} with coordinates on the curve.
  static Result<VerificationKey> FromJwk(const json::object& jwk);
  static VerificationKey FromKeyPair(const SigningKeyPair& k);

  const std::string& kid() const { return kid_; }
  // `signature` must be exactly 64 bytes r||s; r and s in [1, n-1].
  bool Verify(std::string_view input, std::string_view signature) const;

 private:
  std::shared_ptr<void> pkey_;
  std::string kid_;
};

// The keys a verifier trusts, by kid.
class KeySet {
 public:
  void Add(VerificationKey k);
  const VerificationKey* Find(std::string_view kid) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<VerificationKey> keys_;
};

struct AccessTokenClaims {
  std::string issuer;
  std::string subject;
  std::string audience;
  std::string client_id;
  std::string org;
  std::string jti;
  std::vector<std::string> scopes;  // serialized space-separated in "scope"
  TimePoint issued_at;              // iat and nbf
  TimePoint expires_at;             // exp
  // A person's token only (sub is the user, client_id the client it signed in
  // through): "sid", the sign-in it came from, which revoking the sign-in
  // refuses; "auth_time", when the password was entered (RFC 9068 §2.2.1).
  std::string session_id;
  std::optional<TimePoint> auth_time;
};

// Compact JWS with header {"alg":"ES256","typ":"at+jwt","kid":…}.
Result<std::string> SignAccessToken(const SigningKeyPair& key, const AccessTokenClaims& claims);

struct VerifyOptions {
  std::string issuer;
  std::string audience;
  std::chrono::seconds leeway{60};  // clamped to [0, 60] s (docs/api.md §2)
  size_t max_token_bytes = 8192;
};

struct VerifiedToken {
  AccessTokenClaims claims;
  json::object payload;  // all claims as received
};

// Returns the token or why it was rejected (problem + claim + detail). Does not
// check revocation: the caller owns the revocation set.
struct VerifyResult {
  authz::TokenCheck check;       // problem == kNone on success, with scopes etc. filled
  VerifiedToken token;           // valid only on success
};
VerifyResult VerifyAccessToken(std::string_view token, const KeySet& keys, const VerifyOptions& opts, TimePoint now);

}  // namespace verbatim::oauth
